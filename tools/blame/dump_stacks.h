// dump_stacks.h - the stacks of a dump for restack-blame, walked by restack-walk's core
//
// A dump is walked as restack-walk walks it by default (the bugchecking
// processor of a kernel dump, the exception thread of a minidump):
// WalkDumpTarget writes its JSON Lines into a string, which is read back as
// any other restack-walk JSON. The failure code comes from the dump itself:
// the bugcheck of DUMP_HEADER64, or the minidump's exception code.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/input_file.h"
#include "common/stack_input.h"
#include "common/symbol_setup.h"
#include "restack/sym/image_locator.h"

namespace restack::tools {

// Whether an input is a dump: content starting "MDMP" or "PAGEDU64", or a
// name ending in ".dmp" (which then must be a readable dump).
bool IsDumpInput(const std::string& name, std::span<const uint8_t> bytes);

// What every dump of a batch is walked with, made once: the image locator
// and one symbol resolver (thread-safe, it keeps each image's symbols by
// identity, so a PDB is read once however many dumps need it).
class DumpStackWalker {
 public:
  // Where the walk finds images and symbols (restack-walk's --sympath, --images).
  DumpStackWalker(const std::string& sympath, const std::vector<std::string>& image_paths);

  // Walks the dump `file` (its name a path, or "<stdin>"). The walk's
  // messages become problems ("NAME: ..."); a dump that cannot be read gives
  // no stacks. Safe to call from several threads.
  StackInput Walk(const InputFile& file);

 private:
  std::string setup_messages_;        // reading --sympath: "restack-walk: ..." lines
  std::optional<SymbolSetup> setup_;  // nullopt: --sympath could not be read
  std::optional<sym::ImageLocator> locator_;
};

}  // namespace restack::tools
