// module_map.h - the loaded modules of a target, with their images when available
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "restack/unwind/pe_image.h"
#include "restack/unwind/runtime_function_table.h"

namespace restack::unwind {

// One loaded module as the walker sees it.
struct Module {
  uint64_t base = 0;
  uint64_t size = 0;
  std::string name;        // file name as the target lists it, e.g. "ntdll.dll"
  uint32_t timestamp = 0;  // TimeDateStamp the target recorded (0 if unknown)
  std::shared_ptr<const PeImage> image;                // null when unavailable
  std::shared_ptr<const RuntimeFunctionTable> unwind;  // set together with image
  std::string image_problem;  // why `image` is null, for messages

  bool Contains(uint64_t va) const { return va >= base && va - base < size; }
  // The module's name without its extension ("ntdll"), as WinDbg shows it:
  // the kernel (ntoskrnl.exe, ntkrnlmp.exe, ...) is "nt", the HAL (hal.dll,
  // halmacpi.dll, ...) "hal".
  std::string ShortName() const;
  // Attaches `image` and builds its runtime function table.
  absl::Status AttachImage(std::shared_ptr<const PeImage> image);
};

// Modules sorted by base address, found by address in O(log n).
class ModuleMap {
 public:
  // Adds `module`. A module overlapping one already present is refused.
  absl::Status Add(Module module);
  // The module containing `va`, or nullptr.
  const Module* Find(uint64_t va) const;
  std::span<const Module> modules() const { return modules_; }

 private:
  std::vector<Module> modules_;
};

}  // namespace restack::unwind
