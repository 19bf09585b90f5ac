// trap_frame.h - Windows x64 KTRAP_FRAME: the registers a kernel entry saved
//
// A kernel entry from user mode (a system call, an interrupt, an exception)
// pushes a machine frame and builds a KTRAP_FRAME around it; the entry's
// unwind data says UWOP_PUSH_MACHFRAME, and the machine frame is the
// KTRAP_FRAME's tail. Offsets: the x64 KTRAP_FRAME of Windows 10 (size
// 0x190), as published in public symbol dumps (docs/unwinding.md#trap-frames).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "restack/unwind/memory_reader.h"
#include "restack/unwind/register_context.h"

namespace restack::unwind {

// KTRAP_FRAME field offsets (x64).
struct KtrapFrame {
  static constexpr uint32_t kRax = 0x30;  // then Rcx, Rdx, R8, R9, R10, R11, 8 bytes apart
  static constexpr uint32_t kXmm0 = 0x70;  // Xmm0..Xmm5, 16 bytes apart
  static constexpr uint32_t kRbx = 0x140;
  static constexpr uint32_t kRdi = 0x148;
  static constexpr uint32_t kRsi = 0x150;
  static constexpr uint32_t kRbp = 0x158;
  static constexpr uint32_t kErrorCode = 0x160;
  static constexpr uint32_t kRip = 0x168;  // the machine frame: Rip, SegCs, EFlags, Rsp, SegSs
  static constexpr uint32_t kSegCs = 0x170;
  static constexpr uint32_t kEFlags = 0x178;
  static constexpr uint32_t kRsp = 0x180;
  static constexpr uint32_t kSegSs = 0x188;
  static constexpr uint32_t kSize = 0x190;
};

// Whether a machine frame whose CS is `cs` was pushed by an entry from user
// mode (requested privilege level 3): such a frame is a KTRAP_FRAME's tail.
inline bool IsUserModeSelector(uint16_t cs) { return (cs & 3) == 3; }
// Whether `va` is in the kernel half of the x64 address space.
inline bool IsKernelAddress(uint64_t va) { return va >= 0xFFFF800000000000ull; }

// The interrupted context a KTRAP_FRAME at `base` holds: RIP, RSP, CS, SS,
// EFLAGS, the volatile RAX, RCX, RDX, R8-R11 and XMM0-XMM5, and RBX, RDI,
// RSI, RBP. Every other register (R12-R15, XMM6-XMM15) is unknown: the frame
// does not hold it. NotFound when memory lacks the machine frame; a field
// memory lacks otherwise stays unknown.
absl::StatusOr<RegisterContext> ContextFromTrapFrame(uint64_t base, const MemoryReader& memory);

}  // namespace restack::unwind
