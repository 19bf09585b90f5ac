// epilog_shape.h - Windows' version-1 epilog grammar, matched with Zydis (internal)
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "absl/container/inlined_vector.h"

namespace restack::unwind::internal {

// What the instructions at a control PC do, if they have the shape of an
// epilog as Windows' unwinder recognises it (minkernel exdsptch.c, as copied
// in dotnet's unwinder.cpp):
//   [add rsp, imm | lea rsp, [frame register + disp]]
//   pop r64 ...
//   [repne] ret | ret imm16 | rep ret | jmp rel | jmp [rip+disp32] | REX.W jmp r/m64
struct EpilogShape {
  enum class Adjust { kNone, kAddRsp, kLeaRsp };
  enum class Exit { kRet, kJmpRelative, kJmpRipIndirect, kJmpRexW };

  Adjust adjust = Adjust::kNone;
  int64_t displacement = 0;  // imm of add rsp, disp of lea rsp
  uint8_t lea_base = 0;      // register number (Windows order) of lea rsp's base
  absl::InlinedVector<uint8_t, 8> pops;  // popped registers, in order
  Exit exit = Exit::kRet;
  uint64_t jmp_target = 0;   // absolute target of a relative jmp
};

// Decodes `code`, which starts at virtual address `address`. `frame_register`
// is UNWIND_INFO.FrameRegister (0 = none): `lea rsp, [reg+disp]` counts only
// with that register, as in Windows. nullopt when the shape does not match.
std::optional<EpilogShape> MatchEpilogShape(std::span<const uint8_t> code, uint64_t address,
                                            uint8_t frame_register);

}  // namespace restack::unwind::internal
