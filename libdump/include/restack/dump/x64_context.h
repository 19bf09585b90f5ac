// x64_context.h - a parsed, layout-free x64 CONTEXT and its parser
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"

namespace restack::dump {

// One 128-bit register (M128A): low and high 64-bit halves.
struct Uint128 {
  uint64_t low = 0;
  uint64_t high = 0;
  friend bool operator==(const Uint128&, const Uint128&) = default;
};

// Indexes into X64Context::gpr, in Windows register order: the numbering that
// UNWIND_CODE.OpInfo uses (0 = RAX, 1 = RCX, ... 4 = RSP, 5 = RBP, ... 15 = R15).
enum X64Gpr : size_t {
  kRax = 0,
  kRcx = 1,
  kRdx = 2,
  kRbx = 3,
  kRsp = 4,
  kRbp = 5,
  kRsi = 6,
  kRdi = 7,
  kR8 = 8,
  kR9 = 9,
  kR10 = 10,
  kR11 = 11,
  kR12 = 12,
  kR13 = 13,
  kR14 = 14,
  kR15 = 15,
};

// "rax".."r15" for an X64Gpr index; "?" for an index >= 16.
std::string_view X64GprName(size_t index);

// An x64 CONTEXT without its on-disk layout. Values of parts that context_flags does
// not mark valid are copied as found (usually zero) and must not be trusted.
struct X64Context {
  uint32_t context_flags = 0;        // CONTEXT.ContextFlags as stored
  std::array<uint64_t, 16> gpr{};    // indexed by X64Gpr
  uint64_t rip = 0;
  uint32_t eflags = 0;
  uint16_t seg_cs = 0;
  uint16_t seg_ds = 0;
  uint16_t seg_es = 0;
  uint16_t seg_fs = 0;
  uint16_t seg_gs = 0;
  uint16_t seg_ss = 0;
  uint32_t mxcsr = 0;                // CONTEXT.MxCsr (0x34)
  std::array<Uint128, 16> xmm{};     // Xmm0..Xmm15 (FltSave.XmmRegisters, 0x1A0)

  // CONTEXT_CONTROL: rip, rsp, eflags, seg_cs and seg_ss are valid.
  bool HasControl() const;
  // CONTEXT_INTEGER: every gpr except rsp is valid.
  bool HasInteger() const;
  // CONTEXT_SEGMENTS: seg_ds, seg_es, seg_fs and seg_gs are valid.
  bool HasSegments() const;
  // CONTEXT_FLOATING_POINT: xmm and mxcsr are valid.
  bool HasFloatingPoint() const;
  // Whether gpr[index] is valid: rsp comes with CONTROL, the others with INTEGER.
  bool IsGprValid(size_t index) const;

  uint64_t rsp() const { return gpr[kRsp]; }
  uint64_t rbp() const { return gpr[kRbp]; }
};

// Parses an x64 CONTEXT (0x4D0 bytes; longer input, e.g. with an XSTATE tail, is
// accepted and the tail ignored). `file` and `file_offset` only label error messages.
// Errors: kOutOfRange if fewer than 0x4D0 bytes; kUnimplemented for an x86 CONTEXT
// (CONTEXT_i386 set); kInvalidArgument if CONTEXT_AMD64 is not set in ContextFlags.
absl::StatusOr<X64Context> ParseX64Context(std::span<const uint8_t> bytes,
                                           std::string_view file = "CONTEXT",
                                           uint64_t file_offset = 0);

}  // namespace restack::dump
