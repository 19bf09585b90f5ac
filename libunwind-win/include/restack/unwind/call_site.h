// call_site.h - whether a value is a return address: the CALL that ends right before it
//
// The frame-pointer and stack-scan fallbacks of the walker (stack_walker.h)
// accept a candidate return address only when the bytes before it decode
// (Zydis) to a CALL instruction ending exactly there, and they prefer one
// whose call target leads to the code being unwound.
#pragma once

#include <cstdint>
#include <optional>

#include "restack/unwind/memory_reader.h"
#include "restack/unwind/module_map.h"

namespace restack::unwind {

// The CALL instruction that ends at a return address.
struct CallSite {
  uint64_t address = 0;  // the CALL's first byte
  uint8_t length = 0;    // return address - address
  // Where it calls, when that can be known: a direct call (E8 rel32), or an
  // indirect one through RIP-relative memory (an import slot) that memory holds.
  std::optional<uint64_t> target;
};

// The CALL ending exactly at `return_address`, or nullopt. Code bytes come
// from target memory, else from the module's image (a triage dump rarely
// holds code pages). Only addresses inside an executable section of a module
// whose image is held can qualify. From the file, an import call that Windows
// 10 shortened at load (file: FF 15 disp32 ending one byte after the return
// address) counts as the 5-byte call it became.
std::optional<CallSite> CallBefore(uint64_t return_address, const MemoryReader& memory,
                                   const ModuleMap& modules);

}  // namespace restack::unwind
