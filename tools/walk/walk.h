// walk.h - restack-walk: dumps in, walked stacks out (testable core of the tool)
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/dump_target.h"
#include "common/frame_symbols.h"
#include "common/stack_output.h"

namespace restack::tools {

struct WalkToolOptions {
  std::vector<std::string> dumps;        // paths, or "-" for stdin
  std::vector<std::string> image_paths;  // store roots or plain directories
  // Symbol path (_NT_SYMBOL_PATH syntax): PDBs, and images after image_paths.
  // Empty: frames are module+0xRVA.
  std::string sympath;
  bool raw_names = false;                // keep decorated names
  bool inlines = true;                   // inline frames from the PDBs' inline sites
  bool all_threads = false;              // every thread, not just the exception thread
  std::optional<uint32_t> thread_id;     // only this thread
  std::optional<uint32_t> cpu;           // kernel dumps: this processor's context
  std::optional<uint64_t> cxr;           // start from the CONTEXT record at this address
  bool header_context = false;           // kernel dumps: DUMP_HEADER64.ContextRecord
  bool json = false;                     // JSON Lines instead of text
  StackFormat format = StackFormat::kKn; // the text form
  bool registers = false;                // JSON: register values per frame
  size_t max_frames = 1024;
  bool verbose = false;                  // also report modules whose image is missing
  // More dumps: `dumps` may hold directories and glob patterns
  // (ExpandDumpArguments); `list` names a file of paths ("-": stdin).
  std::string list;
  int jobs = 1;           // dumps walked at once; output stays in input order
  bool progress = false;  // "[k/n] dump" on `err` (main.cc: when stderr is a terminal)
};

// Runs the tool; returns an ExitCode (exit_code.h). Errors go to `err` as
// "restack-walk: <message>".
int RunWalk(const WalkToolOptions& options, std::ostream& out, std::ostream& err);

// Walks the stacks of one opened dump as RunWalk walks each of its dumps
// (`options.dumps`, `list`, `jobs` and `progress` aside): stacks to `out`,
// messages to `err` as "restack-walk: ..."; returns the dump's ExitCode.
// restack-blame walks its dumps through this, with the batch's resolver.
int WalkDumpTarget(const DumpTarget& target, const WalkToolOptions& options,
                   FrameSymbolizer& symbolizer, std::ostream& out, std::ostream& err);

// Splits an image path list at ';' (as _NT_EXECUTABLE_IMAGE_PATH) and ','.
std::vector<std::string> SplitPathList(const std::string& list);

}  // namespace restack::tools
