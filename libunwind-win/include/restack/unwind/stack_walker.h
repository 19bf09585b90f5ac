// stack_walker.h - frames from a thread context by repeated virtual unwinding
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "restack/unwind/memory_reader.h"
#include "restack/unwind/module_map.h"
#include "restack/unwind/register_context.h"
#include "restack/unwind/runtime_function_table.h"
#include "restack/unwind/virtual_unwind.h"
#include "restack/unwind/warning.h"

namespace restack::unwind {

// How a frame was found. The JSON names (FrameTrustName) never change.
enum class FrameTrust {
  kContext,       // "context": the thread or exception context itself
  kUnwindInfo,    // "unwind_info": the callee's .pdata/.xdata
  kLeaf,          // "leaf": the callee had no .pdata; RIP = [RSP], RSP += 8
  kTrapFrame,     // "trap_frame": a KTRAP_FRAME (kernel walks)
  kFramePointer,  // "frame_pointer": the RBP chain (no unwind data)
  kScan,          // "scan": a stack value that follows a CALL
};
std::string_view FrameTrustName(FrameTrust trust);
std::string_view FrameTrustDescription(FrameTrust trust);

// Why a walk stopped. The JSON names (WalkEndName) never change.
enum class WalkEnd {
  kRipZero,         // "rip_zero": the caller's RIP is 0: the bottom of the stack
  kOutsideModules,  // "outside_modules": RIP is in no known module
  kImageMissing,    // "image_missing": the module's image is not available
  kOutsideStack,    // "outside_stack": the caller's RSP left the stack bounds
  kNoProgress,      // "no_progress": the caller repeats a frame or RSP went backwards
  kFrameLimit,      // "frame_limit": WalkOptions::max_frames reached
  kUnwindFailed,    // "unwind_failed": bad unwind data or unreadable stack
};
std::string_view WalkEndName(WalkEnd end);
// Whether `end` is a normal end of a stack (kRipZero) rather than a cut.
inline bool IsCompleteEnd(WalkEnd end) { return end == WalkEnd::kRipZero; }

// A stack segment [low, high] (a thread stack, a DPC stack, ...).
struct StackBounds {
  uint64_t low = 0;
  uint64_t high = 0;
  bool Contains(uint64_t va) const { return va >= low && va <= high; }
};

struct WalkOptions {
  size_t max_frames = 1024;
  // Where RSP may be; empty = no bound (memory reads still have to succeed).
  std::vector<StackBounds> stacks;
  // How many bytes above RSP a stack scan reads at most (docs/unwinding.md#fallbacks).
  uint64_t scan_limit = 0x2000;
};

// One frame of a walk.
struct StackFrame {
  uint64_t rip = 0;
  uint64_t rsp = 0;          // Child-SP
  RegisterContext context;   // this frame's registers; context.known tells which
  FrameTrust trust = FrameTrust::kContext;
  // RIP is where execution continues (a context or machine frame) rather
  // than a return address; return addresses are looked up at RIP - 1.
  bool exact_rip = true;
  // The containing module, owned by the ModuleMap (valid while the map is not
  // changed); null outside modules.
  const Module* module = nullptr;
  std::optional<FunctionResolution> function;  // .pdata of this frame, if any
  // How this frame was unwound to reach its caller (set except on the last).
  bool unwound_in_epilog = false;
  bool unwound_in_prolog = false;
  bool unwound_machine_frame = false;
  // The KTRAP_FRAME this frame's unwinding went through (an entry from user
  // mode: WinDbg's "(TrapFrame @ ...)"); the caller came from it.
  std::optional<uint64_t> trap_frame;
  std::vector<Warning> warnings;
};

// A walked stack: the frames, why it ended, and what went wrong on the way.
struct StackWalk {
  std::vector<StackFrame> frames;
  WalkEnd end = WalkEnd::kRipZero;
  // kRipZero: the RSP the last frame's unwinding gave along with RIP 0 (the
  // last frame's return-address slot + 8).
  std::optional<uint64_t> end_caller_rsp;
  absl::Status status;  // detail for kUnwindFailed / kImageMissing / ...
  std::vector<Warning> warnings;
};

// Walks from `context` until RIP is 0, outside every module or stack, or a
// limit; see docs/unwinding.md#walking. Never fails: a cut walk keeps the
// frames found so far and says why it ended.
StackWalk WalkStack(const RegisterContext& context, const MemoryReader& memory,
                    const ModuleMap& modules, const WalkOptions& options = {});

}  // namespace restack::unwind
