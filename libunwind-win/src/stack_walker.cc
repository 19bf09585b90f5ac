// stack_walker.cc - repeated virtual unwinding with per-segment sanity checks
#include "restack/unwind/stack_walker.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "frame_fallback.h"
#include "restack/unwind/call_site.h"
#include "restack/unwind/trap_frame.h"

namespace restack::unwind {
namespace {

constexpr unsigned kRsp = static_cast<unsigned>(Gpr::kRsp);
// Index of the stack segment holding `rsp`, -1 when none does, -2 when the
// walk has no bounds.
int SegmentOf(const WalkOptions& options, uint64_t rsp) {
  if (options.stacks.empty()) return -2;
  for (size_t i = 0; i < options.stacks.size(); ++i) {
    if (options.stacks[i].Contains(rsp)) return static_cast<int>(i);
  }
  return -1;
}

// A stack switched without unwind data describing it (a DPC stack: the
// switching function stored its RSP at the top of the new stack and moved
// RSP there): unwinding the switching function `fn` then reads the saved RSP
// where its return address would be. Each candidate saved RSP (the value
// taken as a return address, and the top slot of RSP's segment) is tried as
// the function's RSP on the old stack; one is accepted only when unwinding
// from there gives a return address after a CALL of this very function.
// docs/unwinding.md#stack-switches.
std::optional<RegisterContext> FollowSavedStackPointer(const StackFrame& cur, const Module& module,
                                                       const FunctionResolution& fn,
                                                       uint64_t taken_as_return,
                                                       const MemoryReader& memory,
                                                       const ModuleMap& modules,
                                                       const WalkOptions& options,
                                                       const UnwindOptions& unwind_options) {
  std::vector<uint64_t> candidates = {taken_as_return};
  const int here = SegmentOf(options, cur.rsp);
  if (here >= 0 && options.stacks[here].high >= 8) {
    if (absl::StatusOr<uint64_t> top = memory.ReadU64(options.stacks[here].high - 8); top.ok()) {
      candidates.push_back(*top);
    }
  }
  for (uint64_t saved : candidates) {
    if (saved == 0 || saved % 8 != 0 || saved == cur.rsp) continue;
    const int there = SegmentOf(options, saved);
    if (there == -1 || (there >= 0 && there == here)) continue;
    RegisterContext old = cur.context;
    old.SetRsp(saved);
    absl::StatusOr<UnwindStep> step = VirtualUnwind(*module.unwind, module.base, cur.rip,
                                                    fn.function_entry, old, memory, unwind_options);
    if (!step.ok() || step->machine_frame) continue;
    std::optional<CallSite> site = CallBefore(old.rip, memory, modules);
    if (!site || !site->target || *site->target != module.base + fn.primary.begin) continue;
    return old;
  }
  return std::nullopt;
}

}  // namespace

std::string_view FrameTrustName(FrameTrust trust) {
  switch (trust) {
    case FrameTrust::kContext: return "context";
    case FrameTrust::kUnwindInfo: return "unwind_info";
    case FrameTrust::kLeaf: return "leaf";
    case FrameTrust::kTrapFrame: return "trap_frame";
    case FrameTrust::kFramePointer: return "frame_pointer";
    case FrameTrust::kScan: return "scan";
  }
  return "?";
}

std::string_view FrameTrustDescription(FrameTrust trust) {
  switch (trust) {
    case FrameTrust::kContext: return "given by the thread or exception context";
    case FrameTrust::kUnwindInfo: return "found by the callee's unwind data (.pdata/.xdata)";
    case FrameTrust::kLeaf: return "callee had no unwind data: taken as a leaf ([RSP])";
    case FrameTrust::kTrapFrame: return "restored from a trap frame";
    case FrameTrust::kFramePointer: return "found by following the frame pointer";
    case FrameTrust::kScan: return "found by scanning the stack: may be wrong";
  }
  return "?";
}

std::string_view WalkEndName(WalkEnd end) {
  switch (end) {
    case WalkEnd::kRipZero: return "rip_zero";
    case WalkEnd::kOutsideModules: return "outside_modules";
    case WalkEnd::kImageMissing: return "image_missing";
    case WalkEnd::kOutsideStack: return "outside_stack";
    case WalkEnd::kNoProgress: return "no_progress";
    case WalkEnd::kFrameLimit: return "frame_limit";
    case WalkEnd::kUnwindFailed: return "unwind_failed";
  }
  return "?";
}

StackWalk WalkStack(const RegisterContext& context, const MemoryReader& memory,
                    const ModuleMap& modules, const WalkOptions& options) {
  StackWalk walk;
  StackFrame first;
  first.rip = context.rip;
  first.rsp = context.rsp();
  first.context = context;
  first.trust = FrameTrust::kContext;
  first.exact_rip = true;
  walk.frames.push_back(std::move(first));

  auto stop = [&](WalkEnd end, absl::Status status) {
    walk.end = end;
    walk.status = std::move(status);
    return std::move(walk);
  };

  for (;;) {
    StackFrame& cur = walk.frames.back();
    // A return address points after its CALL, possibly at the start of the
    // next function when the call was the last instruction: look up RIP - 1.
    const uint64_t lookup_pc = cur.exact_rip ? cur.rip : cur.rip - 1;
    const Module* module = modules.Find(lookup_pc);
    cur.module = module;
    if (walk.frames.size() >= options.max_frames) {
      return stop(WalkEnd::kFrameLimit,
                  absl::ResourceExhaustedError(
                      absl::StrFormat("stopped after %u frames", options.max_frames)));
    }
    if (!cur.context.IsKnown(kRsp)) {
      return stop(WalkEnd::kUnwindFailed,
                  absl::FailedPreconditionError(absl::StrFormat(
                      "frame %u at 0x%x: RSP unknown", walk.frames.size() - 1, cur.rip)));
    }
    if (module == nullptr) {
      return stop(WalkEnd::kOutsideModules,
                  absl::NotFoundError(absl::StrFormat("0x%x is in no known module", cur.rip)));
    }
    if (module->image == nullptr) {
      return stop(WalkEnd::kImageMissing,
                  absl::NotFoundError(absl::StrFormat(
                      "no image for %s: %s", module->name,
                      module->image_problem.empty() ? "not available" : module->image_problem)));
    }
    const uint64_t rva64 = lookup_pc - module->base;
    if (rva64 > UINT32_MAX) {
      return stop(WalkEnd::kOutsideModules,
                  absl::OutOfRangeError(absl::StrFormat(
                      "0x%x is more than 4 GiB into %s", cur.rip, module->name)));
    }
    absl::StatusOr<std::optional<FunctionResolution>> resolved =
        module->unwind->Resolve(static_cast<uint32_t>(rva64));
    if (!resolved.ok()) return stop(WalkEnd::kUnwindFailed, resolved.status());

    RegisterContext next = cur.context;
    FrameTrust trust;
    bool machine_frame = false;
    bool switched_stack = false;  // followed a saved stack pointer
    if (resolved->has_value()) {
      const FunctionResolution& fn = **resolved;
      cur.function = fn;
      UnwindOptions unwind_options;
      // A return address just past the function (a call as its last
      // instruction) cannot be in this function's epilog.
      unwind_options.detect_epilog =
          cur.exact_rip || fn.found.Contains(static_cast<uint32_t>(cur.rip - module->base));
      absl::StatusOr<UnwindStep> step = VirtualUnwind(*module->unwind, module->base, cur.rip,
                                                      fn.function_entry, next, memory,
                                                      unwind_options);
      if (!step.ok()) return stop(WalkEnd::kUnwindFailed, step.status());
      cur.unwound_in_epilog = step->in_epilog;
      cur.unwound_in_prolog = step->in_prolog;
      cur.unwound_machine_frame = step->machine_frame;
      for (Warning& w : step->warnings) cur.warnings.push_back(std::move(w));
      machine_frame = step->machine_frame;
      trust = FrameTrust::kUnwindInfo;
      if (machine_frame && IsKernelAddress(cur.rip) && IsUserModeSelector(next.cs) &&
          step->machine_frame_address >= KtrapFrame::kRip) {
        // Kernel code entered from user mode: the machine frame ends a
        // KTRAP_FRAME, which holds more of the interrupted context than RIP
        // and RSP, and nothing else of the kernel's registers belongs to user
        // mode. (A machine frame pushed by user-mode code is left to
        // RtlVirtualUnwind's rules.)
        const uint64_t base = step->machine_frame_address - KtrapFrame::kRip;
        absl::StatusOr<RegisterContext> trapped = ContextFromTrapFrame(base, memory);
        if (!trapped.ok()) return stop(WalkEnd::kUnwindFailed, trapped.status());
        next = *trapped;
        cur.trap_frame = base;
        trust = FrameTrust::kTrapFrame;
      } else if (!machine_frame && next.rip != 0 && modules.Find(next.rip - 1) == nullptr) {
        // The "return address" is in no module: perhaps a saved stack pointer.
        if (std::optional<RegisterContext> old = FollowSavedStackPointer(
                cur, *module, fn, next.rip, memory, modules, options, unwind_options)) {
          cur.warnings.push_back(
              {0, absl::StrFormat("stack switch: %s continues on the stack at 0x%x (its RSP saved "
                                  "in the new stack)",
                                  module->name, old->rsp())});
          next = *old;
          switched_stack = true;
        }
      }
    } else {
      // No .pdata entry for an address inside an image: a leaf, or code built
      // without unwind data (frame-pointer functions): docs/unwinding.md#fallbacks.
      std::optional<StackBounds> segment;
      if (const int s = SegmentOf(options, cur.rsp); s >= 0) segment = options.stacks[s];
      std::optional<internal::RecoveredCaller> caller = internal::RecoverCaller(
          cur.context, lookup_pc, memory, modules, segment, options.scan_limit);
      if (!caller) {
        return stop(WalkEnd::kUnwindFailed,
                    absl::NotFoundError(absl::StrFormat(
                        "0x%x has no unwind data, and no return address after a CALL was found "
                        "at [RSP 0x%x], through RBP, or in 0x%x bytes of stack",
                        cur.rip, cur.rsp, options.scan_limit)));
      }
      next = caller->context;
      trust = caller->trust;
    }

    if (next.rip == 0) {
      walk.end_caller_rsp = next.rsp();
      return stop(WalkEnd::kRipZero, absl::OkStatus());
    }
    const int segment = SegmentOf(options, next.rsp());
    if (segment == -1) {
      return stop(WalkEnd::kOutsideStack,
                  absl::OutOfRangeError(absl::StrFormat(
                      "caller's RSP 0x%x is outside the stack", next.rsp())));
    }
    // Within one segment the stack only grows towards its base, except
    // across a machine frame, which may switch anywhere.
    const bool same_segment = segment == SegmentOf(options, cur.rsp);
    if (!machine_frame && !switched_stack && same_segment && next.rsp() <= cur.rsp) {
      return stop(WalkEnd::kNoProgress,
                  absl::DataLossError(absl::StrFormat(
                      "caller's RSP 0x%x is not above the callee's 0x%x", next.rsp(), cur.rsp)));
    }
    const bool repeats = std::any_of(walk.frames.begin(), walk.frames.end(),
                                     [&](const StackFrame& f) {
                                       return f.rip == next.rip && f.rsp == next.rsp();
                                     });
    if (repeats) {
      return stop(WalkEnd::kNoProgress,
                  absl::DataLossError(absl::StrFormat(
                      "frame RIP 0x%x RSP 0x%x repeats", next.rip, next.rsp())));
    }

    StackFrame frame;
    frame.rip = next.rip;
    frame.rsp = next.rsp();
    frame.context = next;
    frame.trust = trust;
    frame.exact_rip = machine_frame;  // a trap frame's RIP too
    walk.frames.push_back(std::move(frame));
  }
}

}  // namespace restack::unwind
