// frame_fallback.h - the caller of a frame that has no unwind data
//
// Used by WalkStack for code inside an image but outside every
// RUNTIME_FUNCTION: a leaf function, or a function built without .pdata
// (frame-pointer code). See docs/unwinding.md#fallbacks.
#pragma once

#include <cstdint>
#include <optional>

#include "restack/unwind/memory_reader.h"
#include "restack/unwind/module_map.h"
#include "restack/unwind/register_context.h"
#include "restack/unwind/stack_walker.h"

namespace restack::unwind::internal {

// A caller found without unwind data.
struct RecoveredCaller {
  RegisterContext context;  // RIP, RSP, and what the method can vouch for
  FrameTrust trust = FrameTrust::kLeaf;
};

// Candidates, best first: [RSP] as a leaf's return address and [RBP + 8] as a
// frame-pointer frame's, each accepted only after a CALL that ends at it, first
// those whose call target leads to `pc`, then the others; last a scan of the
// segment holding RSP for such a value (`scan_limit` bytes at most). nullopt
// when nothing qualifies. `segment`: the bounds of RSP's stack, if known.
std::optional<RecoveredCaller> RecoverCaller(const RegisterContext& callee, uint64_t pc,
                                             const MemoryReader& memory, const ModuleMap& modules,
                                             std::optional<StackBounds> segment,
                                             uint64_t scan_limit);

}  // namespace restack::unwind::internal
