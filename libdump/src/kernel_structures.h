// kernel_structures.h - kernel facts read through a dump's virtual memory (internal)
//
// KDDEBUGGER_DATA64, the PsLoadedModuleList walk, MmUnloadedDrivers and the
// per-processor contexts behind KiProcessorBlock. Every walk is bounded and
// cycle-safe; what cannot be read becomes a warning and is left out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "restack/dump/address_space.h"
#include "restack/dump/kernel_dump.h"
#include "restack/dump/warning.h"

namespace restack::dump {

// Most entries a module list walk follows before it calls the list cyclic.
inline constexpr uint32_t kMaxKernelModules = 16384;
// Most processors whose contexts are looked up.
inline constexpr uint32_t kMaxProcessors = 4096;

// Collects warnings with the dump's name and a target address.
class KernelWarnings {
 public:
  KernelWarnings(std::string_view name, std::vector<Warning>& out) : name_(name), out_(out) {}
  void Add(uint64_t address, std::string what);

 private:
  std::string_view name_;
  std::vector<Warning>& out_;
};

// KDDEBUGGER_DATA64 at `address`; nullopt (with a warning) when unreadable.
std::optional<DebuggerData> ReadDebuggerData(const AddressSpace& memory, uint64_t address,
                                             KernelWarnings& warnings);

// The modules of the list whose LIST_ENTRY head is at `head`. `build` is the
// OS build: it decides where KLDR_DATA_TABLE_ENTRY keeps TimeDateStamp when
// the image's own header is not in the dump.
std::vector<KernelModule> WalkModuleList(const AddressSpace& memory, uint64_t head,
                                         uint32_t build, KernelWarnings& warnings);

// MmUnloadedDrivers as `kdbg` locates it.
std::vector<UnloadedDriver> ReadMmUnloadedDrivers(const AddressSpace& memory,
                                                  const DebuggerData& kdbg,
                                                  KernelWarnings& warnings);

// Contexts of processors 0..count-1 via KiProcessorBlock.
std::vector<ProcessorContext> ReadProcessorContexts(const AddressSpace& memory,
                                                    const DebuggerData& kdbg, uint32_t count,
                                                    KernelWarnings& warnings);

// A UNICODE_STRING's text (at most 0x1000 bytes); nullopt if unreadable.
std::optional<std::string> ReadUnicodeString(const AddressSpace& memory, uint16_t length,
                                             uint64_t buffer);

}  // namespace restack::dump
