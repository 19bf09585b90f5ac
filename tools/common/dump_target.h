// dump_target.h - a minidump wired to the unwinder: memory, contexts, modules with images
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "restack/dump/minidump.h"
#include "restack/sym/image_locator.h"
#include "restack/unwind/memory_reader.h"
#include "restack/unwind/module_map.h"
#include "restack/unwind/register_context.h"
#include "restack/unwind/stack_walker.h"

namespace restack::tools {

// libdump's address space seen through libunwind-win's MemoryReader seam.
class DumpMemory final : public unwind::MemoryReader {
 public:
  explicit DumpMemory(const dump::AddressSpace& space) : space_(space) {}
  absl::Status Read(uint64_t va, std::span<uint8_t> out) const override {
    return space_.ReadVirtual(va, out);
  }

 private:
  const dump::AddressSpace& space_;
};

// A dump CONTEXT as unwinder registers; `known` follows CONTEXT_FLAGS.
unwind::RegisterContext ToRegisterContext(const dump::X64Context& context);

// The file name part of a module path ("C:\windows\system32\ntdll.dll" -> "ntdll.dll").
std::string ModuleFileName(const std::string& path);

// A minidump ready to walk.
struct MinidumpTarget {
  dump::Minidump dump;
  std::unique_ptr<DumpMemory> memory;
  unwind::ModuleMap modules;
  std::vector<std::string> warnings;  // modules without images, bad module entries
};

// Parses `bytes` as a minidump and attaches an image to each module that
// `locator` can find.
absl::StatusOr<std::unique_ptr<MinidumpTarget>> OpenMinidumpTarget(
    std::span<const uint8_t> bytes, std::shared_ptr<const void> owner, const std::string& name,
    const sym::ImageLocator& locator);

// The stack bounds of a minidump thread: its captured stack memory.
std::vector<unwind::StackBounds> ThreadStackBounds(const dump::Thread& thread);

}  // namespace restack::tools
