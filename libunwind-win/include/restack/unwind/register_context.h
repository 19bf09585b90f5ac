// register_context.h - x64 register state with a record of which values are known
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string_view>

namespace restack::unwind {

// General-purpose registers in Windows' numbering: the order of CONTEXT.Rax..R15
// and of the register field of UNWIND_CODE.OpInfo / UNWIND_INFO.FrameRegister.
enum class Gpr : uint8_t {
  kRax = 0, kRcx, kRdx, kRbx, kRsp, kRbp, kRsi, kRdi,
  kR8, kR9, kR10, kR11, kR12, kR13, kR14, kR15,
};

// Lower-case name of a general-purpose register ("rbx"), by number 0..15.
std::string_view GprName(unsigned number);

// A 128-bit XMM value: low and high quadwords.
struct Uint128 {
  uint64_t low = 0;
  uint64_t high = 0;
  friend bool operator==(const Uint128&, const Uint128&) = default;
};

// Indices into RegisterSet: 0..15 GPRs, then RIP, EFLAGS, CS, SS, XMM0..15.
inline constexpr unsigned kRegRip = 16;
inline constexpr unsigned kRegEflags = 17;
inline constexpr unsigned kRegCs = 18;
inline constexpr unsigned kRegSs = 19;
inline constexpr unsigned kRegXmm0 = 20;
inline constexpr unsigned kRegisterCount = 36;

// Which registers hold known values.
using RegisterSet = std::bitset<kRegisterCount>;

// Name of a RegisterSet index ("rbx", "rip", "xmm6").
std::string_view RegisterName(unsigned index);

// The registers Windows x64 callees preserve: RBX, RBP, RDI, RSI, RSP, R12-R15,
// XMM6-XMM15 (Microsoft "x64 ABI conventions").
RegisterSet NonvolatileRegisters();

// x64 register state. Unwinding updates values and the `known` set together.
struct RegisterContext {
  std::array<uint64_t, 16> gpr{};
  uint64_t rip = 0;
  uint32_t eflags = 0;
  uint16_t cs = 0;
  uint16_t ss = 0;
  std::array<Uint128, 16> xmm{};
  RegisterSet known;

  uint64_t rsp() const { return gpr[static_cast<unsigned>(Gpr::kRsp)]; }
  uint64_t& rsp_ref() { return gpr[static_cast<unsigned>(Gpr::kRsp)]; }
  uint64_t& operator[](Gpr r) { return gpr[static_cast<unsigned>(r)]; }
  uint64_t operator[](Gpr r) const { return gpr[static_cast<unsigned>(r)]; }

  // Sets a GPR and marks it known.
  void SetGpr(unsigned number, uint64_t value) {
    gpr[number] = value;
    known.set(number);
  }
  void SetXmm(unsigned number, Uint128 value) {
    xmm[number] = value;
    known.set(kRegXmm0 + number);
  }
  void SetRip(uint64_t value) {
    rip = value;
    known.set(kRegRip);
  }
  void SetRsp(uint64_t value) { SetGpr(static_cast<unsigned>(Gpr::kRsp), value); }
  // RIP, CS, EFLAGS, RSP and SS from a machine frame's five quadwords (the
  // order an interrupt pushes them, lowest address first); all marked known.
  void SetFromMachineFrame(const uint64_t (&words)[5]) {
    SetRip(words[0]);
    cs = static_cast<uint16_t>(words[1]);
    eflags = static_cast<uint32_t>(words[2]);
    SetRsp(words[3]);
    ss = static_cast<uint16_t>(words[4]);
    known.set(kRegCs);
    known.set(kRegEflags);
    known.set(kRegSs);
  }
  bool IsKnown(unsigned index) const { return known.test(index); }
};

}  // namespace restack::unwind
