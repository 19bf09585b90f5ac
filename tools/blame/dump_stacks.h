// dump_stacks.h - the stacks of a dump for restack-blame, walked by restack-walk's core
//
// A dump is walked as restack-walk walks it by default (the bugchecking
// processor of a kernel dump, the exception thread of a minidump): RunWalk
// writes its JSON Lines into a string, which is read back as any other
// restack-walk JSON. The failure code comes from the dump itself: the
// bugcheck of DUMP_HEADER64, or the minidump's exception code.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/stack_input.h"

namespace restack::tools {

// Where the walk finds images and symbols (restack-walk's --images, --sympath).
struct DumpWalkOptions {
  std::string sympath;
  std::vector<std::string> image_paths;
};

// Whether an input is a dump: content starting "MDMP" or "PAGEDU64", or a
// name ending in ".dmp" (which then must be a readable dump).
bool IsDumpInput(const std::string& name, std::span<const uint8_t> bytes);

// Walks the dump `name` whose bytes are `bytes` (a file path, or "<stdin>"
// for bytes read from standard input). The walk's messages become problems
// ("NAME: ..."); a dump that cannot be read gives no stacks.
StackInput WalkDumpStacks(const std::string& name, std::span<const uint8_t> bytes,
                          const DumpWalkOptions& options);

}  // namespace restack::tools
