// virtual_unwind.h - one step of x64 unwinding with RtlVirtualUnwind semantics
//
// Given the context of a frame, compute its caller's context exactly as
// Windows' RtlVirtualUnwind does: epilogs emulated forward (version 1 by
// instruction decoding, version 2 from UWOP_EPILOG descriptors), otherwise the
// prolog's unwind codes undone backward, including partial prologs, chained
// parents and machine frames. Deviations: docs/unwinding.md#deviations.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "restack/unwind/memory_reader.h"
#include "restack/unwind/register_context.h"
#include "restack/unwind/runtime_function_table.h"
#include "restack/unwind/warning.h"

namespace restack::unwind {

struct UnwindOptions {
  // UNW_FLAG_EHANDLER and/or UNW_FLAG_UHANDLER: report the language handler
  // of the function, as RtlVirtualUnwind's HandlerType does. 0: none.
  uint8_t handler_type = 0;
  // false: the caller knows control is not in an epilog (Windows'
  // UNWIND_HISTORY/"no epilog" hint); the prolog is always unwound.
  bool detect_epilog = true;
};

// What one unwind step found, beside the updated context.
struct UnwindStep {
  // RSP, or frame register - FrameOffset*16 (0 when an epilog was unwound
  // without a known frame register).
  uint64_t establisher_frame = 0;
  bool in_epilog = false;          // control was in an epilog, emulated forward
  bool in_prolog = false;          // control was inside function_entry's prolog
  bool machine_frame = false;      // UWOP_PUSH_MACHFRAME restored RIP/RSP (no return pop)
  uint64_t machine_frame_address = 0;  // where that machine frame (its RIP) was
  // The chain root reached by a prolog unwind; after an epilog, the entry
  // whose epilog it was.
  RuntimeFunction primary_entry;
  std::optional<uint64_t> handler;      // language handler address (see handler_type)
  std::optional<uint64_t> handler_data;  // its data
  absl::InlinedVector<Warning, 1> warnings;  // saved registers not in memory, reserved codes
};

// Unwinds one frame. `function_entry` is what RtlLookupFunctionEntry returns
// for the frame (indirect entries already resolved; see
// RuntimeFunctionTable::LookupFunctionEntry); `table` belongs to the image
// loaded at `image_base`, which contains `control_pc`.
//
// On success `context` holds the caller's registers: RIP and RSP always; the
// nonvolatile registers restored from the stack or preserved from the callee;
// volatile registers, EFLAGS, CS and SS are marked unknown unless this step
// restored them (an epilog pop, a machine frame). A saved register that memory does not hold is marked
// unknown with a warning. Failing to read the return address or using an
// unknown frame register is an error, and `context` is left unchanged.
absl::StatusOr<UnwindStep> VirtualUnwind(const RuntimeFunctionTable& table, uint64_t image_base,
                                         uint64_t control_pc,
                                         const RuntimeFunction& function_entry,
                                         RegisterContext& context, const MemoryReader& memory,
                                         const UnwindOptions& options = {});

}  // namespace restack::unwind
