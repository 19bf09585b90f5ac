// dump_target.h - a dump (user minidump or kernel dump) wired to the unwinder
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "restack/dump/kernel_dump.h"
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

// A dump of either kind, with its modules' images attached where found.
struct DumpTarget {
  std::optional<dump::Minidump> minidump;  // exactly one of these is set
  std::optional<dump::KernelDump> kernel;
  std::unique_ptr<DumpMemory> memory;
  unwind::ModuleMap modules;
  std::vector<std::string> warnings;       // modules without images, image oddities (--verbose)
  std::vector<std::string> module_errors;  // modules that could not be used at all (always shown)

  const dump::AddressSpace& space() const;
  const std::string& name() const;
  // Warnings libdump recorded while reading the file.
  const std::vector<dump::Warning>& dump_warnings() const;
};

// Recognises `bytes` by content (MDMP or PAGEDU64), parses it and attaches an
// image to each module `locator` can find.
absl::StatusOr<std::unique_ptr<DumpTarget>> OpenDumpTarget(std::span<const uint8_t> bytes,
                                                           std::shared_ptr<const void> owner,
                                                           const std::string& name,
                                                           const sym::ImageLocator& locator);

// The stack bounds of a minidump thread: its captured stack memory.
std::vector<unwind::StackBounds> ThreadStackBounds(const dump::Thread& thread);

// Reads and parses the x64 CONTEXT at `address` of the target (WinDbg's .cxr).
absl::StatusOr<dump::X64Context> ReadContextRecord(const DumpTarget& target, uint64_t address);

}  // namespace restack::tools
