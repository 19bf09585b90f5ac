// register_context.cc - register names and the nonvolatile set
#include "restack/unwind/register_context.h"

#include <array>

namespace restack::unwind {
namespace {

constexpr std::array<std::string_view, kRegisterCount> kNames = {
    "rax",   "rcx",   "rdx",   "rbx",   "rsp",   "rbp",   "rsi",   "rdi",   "r8",
    "r9",    "r10",   "r11",   "r12",   "r13",   "r14",   "r15",   "rip",   "eflags",
    "cs",    "ss",    "xmm0",  "xmm1",  "xmm2",  "xmm3",  "xmm4",  "xmm5",  "xmm6",
    "xmm7",  "xmm8",  "xmm9",  "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
};

}  // namespace

std::string_view GprName(unsigned number) { return number < 16 ? kNames[number] : "?"; }

std::string_view RegisterName(unsigned index) {
  return index < kRegisterCount ? kNames[index] : "?";
}

RegisterSet NonvolatileRegisters() {
  RegisterSet set;
  for (Gpr r : {Gpr::kRbx, Gpr::kRbp, Gpr::kRdi, Gpr::kRsi, Gpr::kRsp, Gpr::kR12, Gpr::kR13,
                Gpr::kR14, Gpr::kR15}) {
    set.set(static_cast<unsigned>(r));
  }
  for (unsigned x = 6; x < 16; ++x) set.set(kRegXmm0 + x);
  return set;
}

}  // namespace restack::unwind
