// virtual_unwind_test.cc - one RtlVirtualUnwind step at a time on synthetic functions
//
// Every expected value is derived from Windows' unwinder as published in
// dotnet/runtime src/coreclr/unwinder/amd64/unwinder.cpp (VirtualUnwind,
// UnwindPrologue, UnwindEpilogue, SameFunction; "borrowed from
// minkernel\ntos\rtl\amd64\exdsptch.c") and Microsoft's "x64 exception
// handling" documentation, never from running restack. Each case is built so
// that the wrong path (prolog instead of epilog, scaled instead of unscaled,
// RSP instead of the establisher frame, ...) gives a different answer: e.g.
// functions save RDI with UWOP_SAVE_NONVOL, which only the prolog path
// restores, because a real epilog reloads RDI before its `add rsp`.
//
// Register values: the callee context holds 0xc0de...; saved copies in
// memory hold 0x5a5a...; so "restored" and "kept" are told apart.
#include "restack/unwind/virtual_unwind.h"

#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "fake_memory.h"
#include "gtest/gtest.h"
#include "synthetic_image.h"

namespace restack::unwind {

// gtest printer for XMM values (found by ADL).
inline void PrintTo(const Uint128& v, std::ostream* os) {
  *os << absl::StrFormat("{low 0x%x, high 0x%x}", v.low, v.high);
}

namespace {

using testing::Codes;
using testing::FakeMemory;
using testing::kFlagChainInfo;
using testing::kFlagEHandler;
using testing::kFlagUHandler;
using testing::RuntimeFunctionRow;
using testing::SyntheticImage;
using testing::UnwindInfoSpec;
using testing::UnwindSlots;
namespace uwop = testing::uwop;
namespace reg = testing::reg;

constexpr uint64_t kBase = 0x7ff6'a000'0000;   // where the image is loaded
constexpr uint64_t kStack = 0x00a0'0000'0000;  // stack area; each function gets its own

// --- Register values -------------------------------------------------------

uint64_t CalleeValue(unsigned r) { return 0xc0de'0000'0000'0000ull | (uint64_t{r} << 8); }
Uint128 CalleeXmm(unsigned x) {
  return {0xc0de'0000'0001'0000ull | x, 0xc0de'0000'0002'0000ull | x};
}
uint64_t Saved(unsigned r) { return 0x5a5a'0000'0000'0000ull | (uint64_t{r} << 8); }
Uint128 SavedXmm(unsigned x) {
  return {0x5a5a'0000'0001'0000ull | x, 0x5a5a'0000'0002'0000ull | x};
}
uint64_t ReturnAddress(int n) { return 0x7ff6'bbbb'0000ull + 0x100ull * n; }

// A callee context in which every register is known.
RegisterContext Callee(uint32_t rip_rva, uint64_t rsp) {
  RegisterContext c;
  for (unsigned r = 0; r < 16; ++r) c.SetGpr(r, CalleeValue(r));
  for (unsigned x = 0; x < 16; ++x) c.SetXmm(x, CalleeXmm(x));
  c.eflags = 0x202;
  c.cs = 0x10;
  c.ss = 0x18;
  c.known.set(kRegEflags);
  c.known.set(kRegCs);
  c.known.set(kRegSs);
  c.SetRip(kBase + rip_rva);
  c.SetRsp(rsp);
  return c;
}

void WriteXmm(FakeMemory& m, uint64_t va, Uint128 v) {
  m.WriteU64(va, v.low);
  m.WriteU64(va + 8, v.high);
}

// --- What the caller's context must look like -------------------------------

// Microsoft "x64 ABI conventions": RAX, RCX, RDX, R8-R11 and XMM0-XMM5 are
// volatile; a caller's values of them (and of the flags and segment state)
// cannot be known from the callee's frame.
constexpr unsigned kVolatileGprs[] = {0, 1, 2, 8, 9, 10, 11};
constexpr unsigned kNonvolatileGprs[] = {3, 5, 6, 7, 12, 13, 14, 15};

struct Want {
  Want(uint64_t rip, uint64_t rsp) : rip(rip), rsp(rsp) {}
  // GPR `r` restored from memory (by default: the value Saved(r) there).
  Want& Restored(unsigned r, uint64_t value) {
    gpr[r] = value;
    return *this;
  }
  Want& Restored(unsigned r) { return Restored(r, Saved(r)); }
  Want& RestoredXmm(unsigned x) {
    xmm[x] = SavedXmm(x);
    return *this;
  }
  // RegisterSet index `index` expected unknown.
  Want& Lost(unsigned index) {
    lost.insert(index);
    return *this;
  }
  // CS, EFLAGS and SS come from a machine frame (checked by the test).
  Want& SegmentsFromMachineFrame() {
    segments_from_machine_frame = true;
    return *this;
  }

  uint64_t rip;
  uint64_t rsp;
  std::map<unsigned, uint64_t> gpr;
  std::map<unsigned, Uint128> xmm;
  std::set<unsigned> lost;
  bool segments_from_machine_frame = false;
};

void ExpectCaller(const RegisterContext& callee, const RegisterContext& got, const Want& want) {
  EXPECT_EQ(got.rip, want.rip) << absl::StrFormat("rip 0x%x, want 0x%x", got.rip, want.rip);
  EXPECT_TRUE(got.IsKnown(kRegRip));
  EXPECT_EQ(got.rsp(), want.rsp) << absl::StrFormat("rsp 0x%x, want 0x%x", got.rsp(), want.rsp);
  EXPECT_TRUE(got.IsKnown(static_cast<unsigned>(Gpr::kRsp)));
  for (unsigned r : kVolatileGprs) {
    if (want.gpr.count(r) == 0) {
      EXPECT_FALSE(got.IsKnown(r)) << GprName(r) << " is volatile";
    }
  }
  for (unsigned x = 0; x < 6; ++x) EXPECT_FALSE(got.IsKnown(kRegXmm0 + x)) << "xmm" << x;
  if (!want.segments_from_machine_frame) {
    EXPECT_FALSE(got.IsKnown(kRegEflags));
    EXPECT_FALSE(got.IsKnown(kRegCs));
    EXPECT_FALSE(got.IsKnown(kRegSs));
  }
  for (unsigned r : kNonvolatileGprs) {
    if (auto it = want.gpr.find(r); it != want.gpr.end()) {
      EXPECT_TRUE(got.IsKnown(r)) << GprName(r) << " restored";
      EXPECT_EQ(got.gpr[r], it->second)
          << absl::StrFormat("%s = 0x%x, want restored 0x%x", GprName(r), got.gpr[r], it->second);
    } else if (want.lost.count(r)) {
      EXPECT_FALSE(got.IsKnown(r)) << GprName(r) << " should be unknown";
    } else {
      EXPECT_EQ(got.IsKnown(r), callee.IsKnown(r)) << GprName(r) << " kept";
      EXPECT_EQ(got.gpr[r], callee.gpr[r])
          << absl::StrFormat("%s = 0x%x, want kept 0x%x", GprName(r), got.gpr[r], callee.gpr[r]);
    }
  }
  for (unsigned x = 6; x < 16; ++x) {
    if (auto it = want.xmm.find(x); it != want.xmm.end()) {
      EXPECT_TRUE(got.IsKnown(kRegXmm0 + x)) << "xmm" << x << " restored";
      EXPECT_EQ(got.xmm[x], it->second) << "xmm" << x;
    } else if (want.lost.count(kRegXmm0 + x)) {
      EXPECT_FALSE(got.IsKnown(kRegXmm0 + x)) << "xmm" << x << " should be unknown";
    } else {
      EXPECT_EQ(got.IsKnown(kRegXmm0 + x), callee.IsKnown(kRegXmm0 + x)) << "xmm" << x;
      EXPECT_EQ(got.xmm[x], callee.xmm[x]) << "xmm" << x << " kept";
    }
  }
}

void ExpectSameContext(const RegisterContext& a, const RegisterContext& b) {
  EXPECT_EQ(a.gpr, b.gpr);
  EXPECT_EQ(a.rip, b.rip);
  EXPECT_EQ(a.eflags, b.eflags);
  EXPECT_EQ(a.cs, b.cs);
  EXPECT_EQ(a.ss, b.ss);
  EXPECT_EQ(a.xmm, b.xmm);
  EXPECT_EQ(a.known, b.known);
}

// --- The synthetic image -----------------------------------------------------
//
// One image holds every function; tests patch code bytes where they need to.
// Prolog bytes are real encodings; CodeOffset is the offset just past each
// instruction, and codes are listed last instruction first.

std::vector<uint8_t> Nops(size_t n) { return std::vector<uint8_t>(n, 0x90); }

// F1 [0x1000, 0x1080): full prolog, no frame register.
//   +0  40 53            push rbx
//   +2  56               push rsi
//   +3  41 56            push r14
//   +5  48 83 ec 40      sub rsp, 40h
//   +9  48 89 7c 24 60   mov [rsp+60h], rdi      (home slot: entry RSP + 8)
//   +14 0f 29 74 24 20   movaps [rsp+20h], xmm6
//   +19 body
constexpr uint32_t kF1 = 0x1000;
constexpr uint64_t kE1 = kStack + 0x1000;  // RSP at entry, holding the return address
constexpr uint64_t kS1 = kE1 - 0x58;       // RSP in the body: 3 pushes + 40h
const RuntimeFunctionRow kF1Row{kF1, kF1 + 0x80, 0x4000};

// F2 [0x1100, 0x1180): frame register RBP = RSP + 2 * 16, set in mid-prolog.
//   +0  40 55                      push rbp
//   +2  53                         push rbx
//   +3  48 83 ec 20                sub rsp, 20h
//   +7  48 8d 6c 24 20             lea rbp, [rsp+20h]
//   +12 48 81 ec 00 01 00 00       sub rsp, 100h
//   +19 48 89 b4 24 38 01 00 00    mov [rsp+138h], rsi  (= establisher + 38h)
//   +27 body
// F2C [0x1200, 0x1240): a chunk chained to F2 that saves R12 at +4.
constexpr uint32_t kF2 = 0x1100;
constexpr uint32_t kF2C = 0x1200;
constexpr uint64_t kE2 = kStack + 0x2000;
constexpr uint64_t kEstablisher2 = kE2 - 0x30;  // RSP after the first sub; RBP - 20h
const RuntimeFunctionRow kF2Row{kF2, kF2 + 0x80, 0x4040};
const RuntimeFunctionRow kF2CRow{kF2C, kF2C + 0x40, 0x4080};

// F3 [0x1300, 0x1380): _FAR forms.
//   +0  48 81 ec 48 23 01 00          sub rsp, 12348h
//   +7  48 89 9c 24 50 23 01 00       mov [rsp+12350h], rbx
//   +15 0f 29 b4 24 30 23 01 00       movaps [rsp+12330h], xmm6
//   +23 body; +40h: mov rbx,[rsp+12350h]; add rsp,12348h; ret
constexpr uint32_t kF3 = 0x1300;
constexpr uint64_t kE3 = kStack + 0x20000;
constexpr uint64_t kS3 = kE3 - 0x12348;
const RuntimeFunctionRow kF3Row{kF3, kF3 + 0x80, 0x40c0};

// F4 [0x1400, 0x1480): FrameOffset 15.
//   +0  55                            push rbp
//   +1  48 81 ec 00 01 00 00          sub rsp, 100h
//   +8  48 8d ac 24 f0 00 00 00       lea rbp, [rsp+0F0h]
//   +16 body
constexpr uint32_t kF4 = 0x1400;
constexpr uint64_t kE4 = kStack + 0x30000;
constexpr uint64_t kS4 = kE4 - 8 - 0x100;
const RuntimeFunctionRow kF4Row{kF4, kF4 + 0x80, 0x4100};

// M1 [0x1500, 0x1540) and M2 [0x1540, 0x1580): interrupt handlers entered
// with a machine frame (M2's with an error code), then
//   +0  55               push rbp
//   +1  48 83 ec 28      sub rsp, 28h
constexpr uint32_t kM1 = 0x1500;
constexpr uint32_t kM2 = 0x1540;
constexpr uint64_t kMachineFrame1 = kStack + 0x40000;
constexpr uint64_t kMachineFrame2 = kStack + 0x48000;
constexpr uint64_t kInterruptedRip = 0x7ff6'cccc'1234ull;
constexpr uint64_t kInterruptedRsp1 = kStack + 0x38000;  // a lower stack address
constexpr uint64_t kInterruptedRsp2 = kStack + 0x39000;
const RuntimeFunctionRow kM1Row{kM1, kM1 + 0x40, 0x4140};
const RuntimeFunctionRow kM2Row{kM2, kM2 + 0x40, 0x4180};

// EP [0x1600, 0x1660): version 1, pops of RBX and R12-R15.
//   +0  53               push rbx
//   +1  41 54            push r12
//   +3  41 55            push r13
//   +5  41 56            push r14
//   +7  41 57            push r15
//   +9  48 83 ec 20      sub rsp, 20h
//   +13 48 89 7c 24 50   mov [rsp+50h], rdi
//   +18 body
//   +40h 48 8b 7c 24 50  mov rdi, [rsp+50h]
//   +45h 48 83 c4 20     add rsp, 20h
//   +49h 41 5f           pop r15
//   +4bh 41 5e           pop r14
//   +4dh 41 5d           pop r13
//   +4fh 41 5c           pop r12
//   +51h 5b              pop rbx
//   +52h c3              ret
// G [0x1670, 0x16a0): another function. Gap [0x16a0, 0x1700).
// EPC [0x1700, 0x1740): a chunk of EP (chained to it, no codes of its own).
constexpr uint32_t kEP = 0x1600;
constexpr uint32_t kG = 0x1670;
constexpr uint32_t kGap = 0x16c0;
constexpr uint32_t kEPC = 0x1700;
constexpr uint64_t kE5 = kStack + 0x50000;
constexpr uint64_t kS5 = kE5 - 0x48;  // 5 pushes + 20h
const RuntimeFunctionRow kEPRow{kEP, kEP + 0x60, 0x41c0};
const RuntimeFunctionRow kGRow{kG, kG + 0x30, 0x4200};
const RuntimeFunctionRow kEPCRow{kEPC, kEPC + 0x40, 0x4240};

// LF [0x1800, 0x1860): frame register RBP = RSP + 20h.
//   +0  55               push rbp
//   +1  56               push rsi
//   +2  48 83 ec 30      sub rsp, 30h
//   +6  48 8d 6c 24 20   lea rbp, [rsp+20h]
//   +11 48 89 7d 28      mov [rbp+28h], rdi     (= establisher + 48h)
//   +15 body
//   +40h 48 8d 65 10     lea rsp, [rbp+10h]
//   +44h 5e              pop rsi
//   +45h 5d              pop rbp
//   +46h c3              ret
constexpr uint32_t kLF = 0x1800;
constexpr uint64_t kE6 = kStack + 0x60000;
constexpr uint64_t kS6 = kE6 - 0x40;  // establisher; RBP = kS6 + 20h
const RuntimeFunctionRow kLFRow{kLF, kLF + 0x60, 0x4280};

// LF2 [0x1900, 0x1960): frame register RBP = RSP after a 200h allocation.
//   +0  55                      push rbp
//   +1  56                      push rsi
//   +2  48 81 ec 00 02 00 00    sub rsp, 200h
//   +9  48 8b ec                mov rbp, rsp
//   +12 48 89 bd 18 02 00 00    mov [rbp+218h], rdi
//   +19 body
//   +40h 48 8d a5 00 02 00 00   lea rsp, [rbp+200h]
//   +47h 5e 5d c3               pop rsi; pop rbp; ret
constexpr uint32_t kLF2 = 0x1900;
constexpr uint64_t kE7 = kStack + 0x70000;
constexpr uint64_t kS7 = kE7 - 0x210;
const RuntimeFunctionRow kLF2Row{kLF2, kLF2 + 0x60, 0x42c0};

// V2 [0x1a00, 0x1c00): version 2 with epilogs at +39h (offset 1c7h from the
// end) and at the end, each 4 bytes (41 5e 5b c3) after `add rsp, 20h`.
//   +0  53               push rbx
//   +1  41 56            push r14
//   +3  48 83 ec 20      sub rsp, 20h
//   +7  48 89 7c 24 38   mov [rsp+38h], rdi
//   +30h  mov rdi,[rsp+38h]; +35h add rsp,20h; +39h pop r14; +3bh pop rbx; +3ch ret
//   +100h add rsp,20h; pop r14; pop rbx; ret   (not described by any UWOP_EPILOG)
//   +1f3h mov rdi,[rsp+38h]; +1f8h add rsp,20h; +1fch pop r14; pop rbx; ret
// V2N [0x1c00, 0x1c80): the same prolog, version 2, no UWOP_EPILOG codes.
// V2C [0x1d00, 0x1d40): version 2 chunk chained to V2, epilog at its end.
constexpr uint32_t kV2 = 0x1a00;
constexpr uint32_t kV2N = 0x1c00;
constexpr uint32_t kV2C = 0x1d00;
constexpr uint64_t kE8 = kStack + 0x80000;
constexpr uint64_t kS8 = kE8 - 0x30;
const RuntimeFunctionRow kV2Row{kV2, kV2 + 0x200, 0x4300};
const RuntimeFunctionRow kV2NRow{kV2N, kV2N + 0x80, 0x4340};
const RuntimeFunctionRow kV2CRow{kV2C, kV2C + 0x40, 0x4380};

// H [0x1e00, 0x1e40): UNW_FLAG_EHANDLER, handler at 1f00h.
//   +0  53               push rbx
//   +1  48 83 ec 28      sub rsp, 28h
//   +20h 48 83 c4 28 5b c3   add rsp, 28h; pop rbx; ret
// HC [0x1e80, 0x1ec0): chunk chained to H.
constexpr uint32_t kH = 0x1e00;
constexpr uint32_t kHC = 0x1e80;
constexpr uint32_t kHandlerRva = 0x1f00;
constexpr uint64_t kE9 = kStack + 0x90000;
constexpr uint64_t kS9 = kE9 - 0x30;
const RuntimeFunctionRow kHRow{kH, kH + 0x40, 0x43c0};
const RuntimeFunctionRow kHCRow{kHC, kHC + 0x40, 0x4400};

// R12F [0x2200, 0x2260): frame register R12 = RSP + 1 * 16.
//   +0  41 54            push r12
//   +2  48 83 ec 20      sub rsp, 20h
//   +6  4c 8d 64 24 10   lea r12, [rsp+10h]
//   +11 48 89 7c 24 30   mov [rsp+30h], rdi
//   +16 body
//   +40h 49 8d 64 24 10  lea rsp, [r12+10h]
//   +45h 41 5c           pop r12
//   +47h c3              ret
constexpr uint32_t kR12F = 0x2200;
constexpr uint64_t kE10 = kStack + 0xa0000;
constexpr uint64_t kS10 = kE10 - 0x28;
const RuntimeFunctionRow kR12FRow{kR12F, kR12F + 0x60, 0x4440};

// V2F [0x2000, 0x2040): version 2, pushfq; push rbx; epilog at the end:
//   +3dh 5b 59 c3        pop rbx; pop rcx; ret
constexpr uint32_t kV2F = 0x2000;
constexpr uint64_t kE11 = kStack + 0xb0000;
const RuntimeFunctionRow kV2FRow{kV2F, kV2F + 0x40, 0x4480};

// V2M [0x2100, 0x2140): version 2 interrupt entry: machine frame, push rbp;
//   +3dh 5d 48 cf        pop rbp; iretq
constexpr uint32_t kV2M = 0x2100;
constexpr uint64_t kMachineFrame3 = kStack + 0xc0000;
constexpr uint64_t kInterruptedRsp3 = kStack + 0xbf000;
const RuntimeFunctionRow kV2MRow{kV2M, kV2M + 0x40, 0x44c0};

// F2B [0x10a0, 0x10c0): a chunk chained to F2 that lies before it.
constexpr uint32_t kF2B = 0x10a0;
const RuntimeFunctionRow kF2BRow{kF2B, kF2B + 0x20, 0x4500};

// CF [0x2300, 0x2340): UNWIND_INFO with the unknown operation 11.
constexpr uint32_t kCF = 0x2300;
const RuntimeFunctionRow kCFRow{kCF, kCF + 0x40, 0x4540};

SyntheticImage UnwindImage() {
  SyntheticImage b("unwind.dll");
  // F1.
  {
    UnwindInfoSpec s;
    s.size_of_prolog = 19;
    s.codes = Codes({uwop::SaveXmm128(19, 6, 0x20), uwop::SaveNonvol(14, reg::kRdi, 0x60),
                     uwop::AllocSmall(9, 0x40), uwop::PushNonvol(5, reg::kR14),
                     uwop::PushNonvol(3, reg::kRsi), uwop::PushNonvol(2, reg::kRbx)});
    b.UnwindInfo(kF1Row.unwind_data, s)
        .Code(kF1, {0x40, 0x53, 0x56, 0x41, 0x56, 0x48, 0x83, 0xec, 0x40, 0x48, 0x89, 0x7c, 0x24,
                    0x60, 0x0f, 0x29, 0x74, 0x24, 0x20})
        .Code(kF1 + 19, Nops(0x40 - 19));
  }
  // F2 and its chunk F2C.
  {
    UnwindInfoSpec s;
    s.size_of_prolog = 27;
    s.frame_register = reg::kRbp;
    s.frame_offset = 2;
    s.codes = Codes({uwop::SaveNonvol(27, reg::kRsi, 0x38), uwop::AllocLarge16(19, 0x100),
                     uwop::SetFpreg(12), uwop::AllocSmall(7, 0x20), uwop::PushNonvol(3, reg::kRbx),
                     uwop::PushNonvol(2, reg::kRbp)});
    b.UnwindInfo(kF2Row.unwind_data, s)
        .Code(kF2,
              {0x40, 0x55, 0x53, 0x48, 0x83, 0xec, 0x20, 0x48, 0x8d, 0x6c, 0x24, 0x20, 0x48, 0x81,
               0xec, 0x00, 0x01, 0x00, 0x00, 0x48, 0x89, 0xb4, 0x24, 0x38, 0x01, 0x00, 0x00})
        .Code(kF2 + 27, Nops(0x60 - 27));
    UnwindInfoSpec c;
    c.flags = kFlagChainInfo;
    c.size_of_prolog = 4;
    c.frame_register = reg::kRbp;  // chained info repeats the primary's frame register
    c.frame_offset = 2;
    c.codes = uwop::SaveNonvol(4, reg::kR12, 0x40);
    c.chained_parent = kF2Row;
    b.UnwindInfo(kF2CRow.unwind_data, c).Code(kF2C, Nops(0x40));
  }
  // F3.
  {
    UnwindInfoSpec s;
    s.size_of_prolog = 23;
    s.codes = Codes({uwop::SaveXmm128Far(23, 6, 0x12330),
                     uwop::SaveNonvolFar(15, reg::kRbx, 0x12350), uwop::AllocLarge32(7, 0x12348)});
    b.UnwindInfo(kF3Row.unwind_data, s)
        .Code(kF3, {0x48, 0x81, 0xec, 0x48, 0x23, 0x01, 0x00, 0x48, 0x89, 0x9c, 0x24, 0x50,
                    0x23, 0x01, 0x00, 0x0f, 0x29, 0xb4, 0x24, 0x30, 0x23, 0x01, 0x00})
        .Code(kF3 + 23, Nops(0x40 - 23))
        .Code(kF3 + 0x40, {0x48, 0x8b, 0x9c, 0x24, 0x50, 0x23, 0x01, 0x00,  // mov rbx, [rsp+12350h]
                           0x48, 0x81, 0xc4, 0x48, 0x23, 0x01, 0x00,        // add rsp, 12348h
                           0xc3});
  }
  // F4.
  {
    UnwindInfoSpec s;
    s.size_of_prolog = 16;
    s.frame_register = reg::kRbp;
    s.frame_offset = 15;
    s.codes =
        Codes({uwop::SetFpreg(16), uwop::AllocLarge16(8, 0x100), uwop::PushNonvol(1, reg::kRbp)});
    b.UnwindInfo(kF4Row.unwind_data, s)
        .Code(kF4, {0x55, 0x48, 0x81, 0xec, 0x00, 0x01, 0x00, 0x00, 0x48, 0x8d, 0xac, 0x24, 0xf0,
                    0x00, 0x00, 0x00})
        .Code(kF4 + 16, Nops(0x40 - 16));
  }
  // M1, M2.
  for (auto [row, error_code] : {std::pair{kM1Row, false}, std::pair{kM2Row, true}}) {
    UnwindInfoSpec s;
    s.size_of_prolog = 5;
    s.codes = Codes({uwop::AllocSmall(5, 0x28), uwop::PushNonvol(1, reg::kRbp),
                     uwop::PushMachFrame(0, error_code)});
    b.UnwindInfo(row.unwind_data, s)
        .Code(row.begin, {0x55, 0x48, 0x83, 0xec, 0x28})
        .Code(row.begin + 5, Nops(0x30));
  }
  // EP, G, EPC.
  {
    UnwindInfoSpec s;
    s.size_of_prolog = 18;
    s.codes = Codes({uwop::SaveNonvol(18, reg::kRdi, 0x50), uwop::AllocSmall(13, 0x20),
                     uwop::PushNonvol(9, reg::kR15), uwop::PushNonvol(7, reg::kR14),
                     uwop::PushNonvol(5, reg::kR13), uwop::PushNonvol(3, reg::kR12),
                     uwop::PushNonvol(1, reg::kRbx)});
    b.UnwindInfo(kEPRow.unwind_data, s)
        .Code(kEP, {0x53, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57, 0x48, 0x83, 0xec, 0x20,
                    0x48, 0x89, 0x7c, 0x24, 0x50})
        .Code(kEP + 18, Nops(0x40 - 18))
        .Code(kEP + 0x40, {0x48, 0x8b, 0x7c, 0x24, 0x50, 0x48, 0x83, 0xc4, 0x20, 0x41, 0x5f, 0x41,
                           0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5b, 0xc3});
    b.UnwindInfo(kGRow.unwind_data, UnwindInfoSpec{}).Code(kG, {0xc3});
    UnwindInfoSpec c;
    c.flags = kFlagChainInfo;
    c.chained_parent = kEPRow;
    b.UnwindInfo(kEPCRow.unwind_data, c).Code(kEPC, Nops(0x40));
  }
  // LF.
  {
    UnwindInfoSpec s;
    s.size_of_prolog = 15;
    s.frame_register = reg::kRbp;
    s.frame_offset = 2;
    s.codes =
        Codes({uwop::SaveNonvol(15, reg::kRdi, 0x48), uwop::SetFpreg(11), uwop::AllocSmall(6, 0x30),
               uwop::PushNonvol(2, reg::kRsi), uwop::PushNonvol(1, reg::kRbp)});
    b.UnwindInfo(kLFRow.unwind_data, s)
        .Code(kLF, {0x55, 0x56, 0x48, 0x83, 0xec, 0x30, 0x48, 0x8d, 0x6c, 0x24, 0x20, 0x48, 0x89,
                    0x7d, 0x28})
        .Code(kLF + 15, Nops(0x40 - 15))
        .Code(kLF + 0x40, {0x48, 0x8d, 0x65, 0x10, 0x5e, 0x5d, 0xc3});
  }
  // LF2.
  {
    UnwindInfoSpec s;
    s.size_of_prolog = 19;
    s.frame_register = reg::kRbp;
    s.frame_offset = 0;
    s.codes = Codes({uwop::SaveNonvol(19, reg::kRdi, 0x218), uwop::SetFpreg(12),
                     uwop::AllocLarge16(9, 0x200), uwop::PushNonvol(2, reg::kRsi),
                     uwop::PushNonvol(1, reg::kRbp)});
    b.UnwindInfo(kLF2Row.unwind_data, s)
        .Code(kLF2, {0x55, 0x56, 0x48, 0x81, 0xec, 0x00, 0x02, 0x00, 0x00, 0x48, 0x8b, 0xec, 0x48,
                     0x89, 0xbd, 0x18, 0x02, 0x00, 0x00})
        .Code(kLF2 + 19, Nops(0x40 - 19))
        .Code(kLF2 + 0x40, {0x48, 0x8d, 0xa5, 0x00, 0x02, 0x00, 0x00, 0x5e, 0x5d, 0xc3});
  }
  // V2, V2N, V2C.
  {
    const std::vector<uint8_t> prolog = {0x53, 0x41, 0x56, 0x48, 0x83, 0xec,
                                         0x20, 0x48, 0x89, 0x7c, 0x24, 0x38};
    const UnwindSlots prolog_codes =
        Codes({uwop::SaveNonvol(12, reg::kRdi, 0x38), uwop::AllocSmall(7, 0x20),
               uwop::PushNonvol(3, reg::kR14), uwop::PushNonvol(1, reg::kRbx)});
    const std::vector<uint8_t> reload = {0x48, 0x8b, 0x7c, 0x24, 0x38};  // mov rdi, [rsp+38h]
    const std::vector<uint8_t> add_rsp = {0x48, 0x83, 0xc4, 0x20};
    const std::vector<uint8_t> pops_ret = {0x41, 0x5e, 0x5b, 0xc3};
    UnwindInfoSpec s;
    s.version = 2;
    s.size_of_prolog = 12;
    s.codes =
        Codes({uwop::EpilogHeader(4, /*at_end=*/true), uwop::EpilogAt(0x200 - 0x39), prolog_codes});
    b.UnwindInfo(kV2Row.unwind_data, s)
        .Code(kV2, prolog)
        .Code(kV2 + 12, Nops(0x30 - 12))
        .Code(kV2 + 0x30, reload)
        .Code(kV2 + 0x35, add_rsp)
        .Code(kV2 + 0x39, pops_ret)
        .Code(kV2 + 0x100, add_rsp)
        .Code(kV2 + 0x104, pops_ret)
        .Code(kV2 + 0x1f3, reload)
        .Code(kV2 + 0x1f8, add_rsp)
        .Code(kV2 + 0x1fc, pops_ret);
    UnwindInfoSpec n;
    n.version = 2;
    n.size_of_prolog = 12;
    n.codes = prolog_codes;
    b.UnwindInfo(kV2NRow.unwind_data, n)
        .Code(kV2N, prolog)
        .Code(kV2N + 0x40, add_rsp)
        .Code(kV2N + 0x44, pops_ret);
    UnwindInfoSpec c;
    c.version = 2;
    c.flags = kFlagChainInfo;
    c.codes = Codes({uwop::EpilogHeader(4, /*at_end=*/true), uwop::EpilogPadding()});
    c.chained_parent = kV2Row;
    b.UnwindInfo(kV2CRow.unwind_data, c).Code(kV2C, Nops(0x3c)).Code(kV2C + 0x3c, pops_ret);
  }
  // H, HC.
  {
    UnwindInfoSpec s;
    s.flags = kFlagEHandler;
    s.size_of_prolog = 5;
    s.codes = Codes({uwop::AllocSmall(5, 0x28), uwop::PushNonvol(1, reg::kRbx)});
    s.handler_rva = kHandlerRva;
    s.handler_data = {0x11, 0x22, 0x33, 0x44};
    b.UnwindInfo(kHRow.unwind_data, s)
        .Code(kH, {0x53, 0x48, 0x83, 0xec, 0x28})
        .Code(kH + 5, Nops(0x20 - 5))
        .Code(kH + 0x20, {0x48, 0x83, 0xc4, 0x28, 0x5b, 0xc3});
    UnwindInfoSpec c;
    c.flags = kFlagChainInfo;
    c.chained_parent = kHRow;
    b.UnwindInfo(kHCRow.unwind_data, c).Code(kHC, Nops(0x40));
  }
  // R12F.
  {
    UnwindInfoSpec s;
    s.size_of_prolog = 16;
    s.frame_register = reg::kR12;
    s.frame_offset = 1;
    s.codes = Codes({uwop::SaveNonvol(16, reg::kRdi, 0x30), uwop::SetFpreg(11),
                     uwop::AllocSmall(6, 0x20), uwop::PushNonvol(2, reg::kR12)});
    b.UnwindInfo(kR12FRow.unwind_data, s)
        .Code(kR12F, {0x41, 0x54, 0x48, 0x83, 0xec, 0x20, 0x4c, 0x8d, 0x64, 0x24, 0x10, 0x48, 0x89,
                      0x7c, 0x24, 0x30})
        .Code(kR12F + 16, Nops(0x40 - 16))
        .Code(kR12F + 0x40, {0x49, 0x8d, 0x64, 0x24, 0x10, 0x41, 0x5c, 0xc3});
  }
  // V2F, V2M.
  {
    UnwindInfoSpec f;
    f.version = 2;
    f.size_of_prolog = 2;
    f.codes = Codes({uwop::EpilogHeader(3, /*at_end=*/true), uwop::EpilogPadding(),
                     uwop::PushNonvol(2, reg::kRbx), uwop::AllocSmall(1, 8)});
    b.UnwindInfo(kV2FRow.unwind_data, f)
        .Code(kV2F, {0x9c, 0x53})
        .Code(kV2F + 2, Nops(0x3d - 2))
        .Code(kV2F + 0x3d, {0x5b, 0x59, 0xc3});
    UnwindInfoSpec m;
    m.version = 2;
    m.size_of_prolog = 1;
    m.codes = Codes({uwop::EpilogHeader(3, /*at_end=*/true), uwop::EpilogPadding(),
                     uwop::PushNonvol(1, reg::kRbp), uwop::PushMachFrame(0, false)});
    b.UnwindInfo(kV2MRow.unwind_data, m)
        .Code(kV2M, {0x55})
        .Code(kV2M + 1, Nops(0x3d - 1))
        .Code(kV2M + 0x3d, {0x5d, 0x48, 0xcf});
  }
  // F2B, CF.
  {
    UnwindInfoSpec c;
    c.flags = kFlagChainInfo;
    c.frame_register = reg::kRbp;
    c.frame_offset = 2;
    c.chained_parent = kF2Row;
    b.UnwindInfo(kF2BRow.unwind_data, c).Code(kF2B, Nops(0x20));
    UnwindInfoSpec bad;
    bad.size_of_prolog = 1;
    bad.codes = {testing::RawSlot(1, 11, 0)};
    b.UnwindInfo(kCFRow.unwind_data, bad).Code(kCF, Nops(0x40));
  }
  for (const RuntimeFunctionRow& r :
       {kF1Row, kF2Row,   kF2CRow, kF3Row,  kF4Row,  kM1Row,  kM2Row,  kEPRow,
        kGRow,  kEPCRow,  kLFRow,  kLF2Row, kV2Row,  kV2NRow, kV2CRow, kHRow,
        kHCRow, kR12FRow, kV2FRow, kV2MRow, kF2BRow, kCFRow}) {
    b.Function(r.begin, r.end, r.unwind_data);
  }
  return b;
}

// The stack each function's frame occupies, as its prolog left it.
void WriteStacks(FakeMemory& m) {
  // F1: ret at E; pushes below; xmm6 at S+20h; rdi in the home slot E+8.
  m.WriteU64(kE1, ReturnAddress(1));
  m.WriteU64(kE1 - 8, Saved(reg::kRbx));
  m.WriteU64(kE1 - 16, Saved(reg::kRsi));
  m.WriteU64(kE1 - 24, Saved(reg::kR14));
  WriteXmm(m, kS1 + 0x20, SavedXmm(6));
  m.WriteU64(kE1 + 8, Saved(reg::kRdi));
  // F2: rbp, rbx pushed; rsi at establisher + 38h = E + 8; r12 (F2C) at
  // establisher + 40h = E + 10h.
  m.WriteU64(kE2, ReturnAddress(2));
  m.WriteU64(kE2 - 8, Saved(reg::kRbp));
  m.WriteU64(kE2 - 16, Saved(reg::kRbx));
  m.WriteU64(kEstablisher2 + 0x38, Saved(reg::kRsi));
  m.WriteU64(kEstablisher2 + 0x40, Saved(reg::kR12));
  // F3: rbx at S + 12350h = E + 8, xmm6 at S + 12330h = E - 18h.
  m.WriteU64(kE3, ReturnAddress(3));
  m.WriteU64(kS3 + 0x12350, Saved(reg::kRbx));
  WriteXmm(m, kS3 + 0x12330, SavedXmm(6));
  // F4.
  m.WriteU64(kE4, ReturnAddress(4));
  m.WriteU64(kE4 - 8, Saved(reg::kRbp));
  // M1: RIP, CS, EFLAGS, RSP, SS (_MACHINE_FRAME) and rbp below it.
  m.WriteU64(kMachineFrame1 + 0x00, kInterruptedRip);
  m.WriteU64(kMachineFrame1 + 0x08, 0x33);
  m.WriteU64(kMachineFrame1 + 0x10, 0x10246);
  m.WriteU64(kMachineFrame1 + 0x18, kInterruptedRsp1);
  m.WriteU64(kMachineFrame1 + 0x20, 0x2b);
  m.WriteU64(kMachineFrame1 - 8, Saved(reg::kRbp));
  m.WriteU64(kInterruptedRsp1, 0xdecaf);  // what a wrong "return" pop would read
  // M2: the error code, then the machine frame.
  m.WriteU64(kMachineFrame2 + 0x00, 0xe4404);
  m.WriteU64(kMachineFrame2 + 0x08, kInterruptedRip + 0x10);
  m.WriteU64(kMachineFrame2 + 0x10, 0x33);
  m.WriteU64(kMachineFrame2 + 0x18, 0x10287);
  m.WriteU64(kMachineFrame2 + 0x20, kInterruptedRsp2);
  m.WriteU64(kMachineFrame2 + 0x28, 0x2b);
  m.WriteU64(kMachineFrame2 - 8, Saved(reg::kRbp));
  m.WriteU64(kInterruptedRsp2, 0xdecaf);
  // EP: pushes rbx, r12..r15; alloc area holds junk; rdi at E + 8.
  m.WriteU64(kE5, ReturnAddress(5));
  m.WriteU64(kE5 - 8, Saved(reg::kRbx));
  m.WriteU64(kE5 - 16, Saved(reg::kR12));
  m.WriteU64(kE5 - 24, Saved(reg::kR13));
  m.WriteU64(kE5 - 32, Saved(reg::kR14));
  m.WriteU64(kE5 - 40, Saved(reg::kR15));
  for (uint64_t a = kS5; a < kS5 + 0x20; a += 8) m.WriteU64(a, 0x7e57'0000 + a - kS5);
  m.WriteU64(kE5 + 8, Saved(reg::kRdi));
  // LF: rbp, rsi pushed; rdi at establisher + 48h = E + 8.
  m.WriteU64(kE6, ReturnAddress(6));
  m.WriteU64(kE6 - 8, Saved(reg::kRbp));
  m.WriteU64(kE6 - 16, Saved(reg::kRsi));
  m.WriteU64(kS6 + 0x48, Saved(reg::kRdi));
  // LF2.
  m.WriteU64(kE7, ReturnAddress(7));
  m.WriteU64(kE7 - 8, Saved(reg::kRbp));
  m.WriteU64(kE7 - 16, Saved(reg::kRsi));
  m.WriteU64(kS7 + 0x218, Saved(reg::kRdi));
  // V2: rbx, r14 pushed; rdi at S + 38h = E + 8.
  m.WriteU64(kE8, ReturnAddress(8));
  m.WriteU64(kE8 - 8, Saved(reg::kRbx));
  m.WriteU64(kE8 - 16, Saved(reg::kR14));
  m.WriteU64(kS8 + 0x38, Saved(reg::kRdi));
  // H.
  m.WriteU64(kE9, ReturnAddress(9));
  m.WriteU64(kE9 - 8, Saved(reg::kRbx));
  // R12F: r12 pushed; rdi at establisher + 30h = E + 8.
  m.WriteU64(kE10, ReturnAddress(10));
  m.WriteU64(kE10 - 8, Saved(reg::kR12));
  m.WriteU64(kS10 + 0x30, Saved(reg::kRdi));
  // V2F: flags then rbx pushed.
  m.WriteU64(kE11, ReturnAddress(11));
  m.WriteU64(kE11 - 8, 0x246);
  m.WriteU64(kE11 - 16, Saved(reg::kRbx));
  // V2M: machine frame, rbp below it.
  m.WriteU64(kMachineFrame3 + 0x00, kInterruptedRip + 0x20);
  m.WriteU64(kMachineFrame3 + 0x08, 0x33);
  m.WriteU64(kMachineFrame3 + 0x10, 0x10202);
  m.WriteU64(kMachineFrame3 + 0x18, kInterruptedRsp3);
  m.WriteU64(kMachineFrame3 + 0x20, 0x2b);
  m.WriteU64(kMachineFrame3 - 8, Saved(reg::kRbp));
  m.WriteU64(kInterruptedRsp3, 0xdecaf);
}

struct Harness {
  std::shared_ptr<const PeImage> image;
  std::optional<RuntimeFunctionTable> table;
  FakeMemory memory;

  // RtlLookupFunctionEntry, then one VirtualUnwind step of `ctx`.
  absl::StatusOr<UnwindStep> Unwind(RegisterContext& ctx, const UnwindOptions& options = {}) const {
    if (!table) return absl::InternalError("test setup: no table");
    absl::StatusOr<std::optional<RuntimeFunction>> entry =
        table->LookupFunctionEntry(static_cast<uint32_t>(ctx.rip - kBase));
    if (!entry.ok()) return entry.status();
    if (!entry->has_value()) return absl::InternalError("test setup: no function entry");
    return VirtualUnwind(*table, kBase, ctx.rip, **entry, ctx, memory, options);
  }
};

Harness MakeHarness(const SyntheticImage& b = UnwindImage()) {
  Harness h;
  h.image = b.Build();
  absl::StatusOr<RuntimeFunctionTable> table =
      h.image ? RuntimeFunctionTable::Create(h.image) : absl::InternalError("no image");
  EXPECT_TRUE(table.ok()) << table.status();
  if (table.ok()) h.table = *std::move(table);
  WriteStacks(h.memory);
  return h;
}

// Unwinds `callee` one step and checks the caller against `want`.
UnwindStep ExpectStep(const Harness& h, const RegisterContext& callee, const Want& want,
                      const UnwindOptions& options = {}) {
  RegisterContext ctx = callee;
  absl::StatusOr<UnwindStep> step = h.Unwind(ctx, options);
  EXPECT_TRUE(step.ok()) << step.status();
  if (!step.ok()) return UnwindStep{};
  ExpectCaller(callee, ctx, want);
  return *std::move(step);
}

// ============================================================================
// Prolog unwinding
// ============================================================================

TEST(VirtualUnwindTest, FullPrologUnwindRestoresEverySavedRegister) {
  Harness h = MakeHarness();
  RegisterContext callee = Callee(kF1 + 0x20, kS1);
  // Every code applies (body offset 20h >= every CodeOffset):
  // SAVE_XMM128 xmm6 at S + 2 * 16; SAVE_NONVOL rdi at S + 0Ch * 8;
  // ALLOC_SMALL 40h; pops of r14, rsi, rbx; then RIP = [RSP], RSP += 8.
  Want want = Want(ReturnAddress(1), kE1 + 8)
                  .Restored(reg::kRbx)
                  .Restored(reg::kRsi)
                  .Restored(reg::kR14)
                  .Restored(reg::kRdi)
                  .RestoredXmm(6);
  UnwindStep step = ExpectStep(h, callee, want);
  // No frame register: the establisher frame is RSP at control.
  EXPECT_EQ(step.establisher_frame, kS1);
  EXPECT_FALSE(step.in_epilog);
  EXPECT_FALSE(step.in_prolog);
  EXPECT_FALSE(step.machine_frame);
  EXPECT_EQ(step.primary_entry, (RuntimeFunction{kF1Row.begin, kF1Row.end, kF1Row.unwind_data}));
  EXPECT_FALSE(step.handler.has_value());
  EXPECT_TRUE(step.warnings.empty());
}

TEST(VirtualUnwindTest, PartialPrologAppliesOnlyCodesWhoseInstructionRan) {
  Harness h = MakeHarness();
  // Control at each instruction boundary of F1's prolog, with RSP where the
  // instructions executed so far put it. UnwindPrologue applies a code only
  // when PrologOffset >= CodeOffset.
  struct Case {
    uint32_t offset;
    uint64_t rsp;
  };
  const Case cases[] = {{0, kE1}, {2, kE1 - 8}, {3, kE1 - 16}, {5, kE1 - 24},
                        {9, kS1}, {14, kS1},    {19, kS1}};
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrFormat("prolog offset %u", c.offset));
    Want want = Want(ReturnAddress(1), kE1 + 8);
    if (c.offset >= 2) want.Restored(reg::kRbx);   // push rbx ends at 2
    if (c.offset >= 3) want.Restored(reg::kRsi);   // push rsi ends at 3
    if (c.offset >= 5) want.Restored(reg::kR14);   // push r14 ends at 5
    if (c.offset >= 14) want.Restored(reg::kRdi);  // mov [rsp+60h], rdi ends at 14
    if (c.offset >= 19) want.RestoredXmm(6);       // movaps ends at 19
    UnwindStep step = ExpectStep(h, Callee(kF1 + c.offset, c.rsp), want);
    EXPECT_EQ(step.establisher_frame, c.rsp);
    // SizeOfProlog is 19.
    EXPECT_EQ(step.in_prolog, c.offset < 19);
    EXPECT_FALSE(step.in_epilog);
  }
}

TEST(VirtualUnwindTest, EstablisherFrameUsesTheFrameRegisterOnlyOnceSet) {
  Harness h = MakeHarness();
  // In F2's prolog, VirtualUnwind looks for UWOP_SET_FPREG (CodeOffset 12):
  // before it the establisher frame is RSP, from it on RBP - 2 * 16. After the
  // prolog (offset >= SizeOfProlog 27) it is always RBP - 2 * 16.
  struct Case {
    uint32_t offset;
    uint64_t rsp;
    std::optional<uint64_t> rbp;  // nullopt: still the caller's (callee context value)
    uint64_t establisher;
  };
  const uint64_t fp = kEstablisher2 + 0x20;
  const Case cases[] = {
      {0, kE2, std::nullopt, kE2},
      {2, kE2 - 8, std::nullopt, kE2 - 8},
      {3, kE2 - 16, std::nullopt, kE2 - 16},
      // RBP holds the caller's value: RBP - 20h would be garbage.
      {7, kEstablisher2, std::nullopt, kEstablisher2},
      {12, kEstablisher2, fp, kEstablisher2},
      // RSP has moved on by 100h; the establisher frame has not.
      {19, kEstablisher2 - 0x100, fp, kEstablisher2},
      {27, kEstablisher2 - 0x100, fp, kEstablisher2},
      // An alloca'd area: RSP lower still.
      {0x40, kEstablisher2 - 0x180, fp, kEstablisher2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrFormat("prolog offset %u", c.offset));
    RegisterContext callee = Callee(kF2 + c.offset, c.rsp);
    if (c.rbp) callee.SetGpr(reg::kRbp, *c.rbp);
    Want want = Want(ReturnAddress(2), kE2 + 8);
    if (c.offset >= 2) want.Restored(reg::kRbp);
    if (c.offset >= 3) want.Restored(reg::kRbx);
    // SAVE_NONVOL rsi at establisher + 7 * 8 (CodeOffset 27).
    if (c.offset >= 27) want.Restored(reg::kRsi);
    UnwindStep step = ExpectStep(h, callee, want);
    EXPECT_EQ(step.establisher_frame, c.establisher)
        << absl::StrFormat("0x%x, want 0x%x", step.establisher_frame, c.establisher);
    EXPECT_EQ(step.in_prolog, c.offset < 27);
  }
}

TEST(VirtualUnwindTest, SaveNonvolIsRelativeToTheEstablisherFrameNotRsp) {
  Harness h = MakeHarness();
  // F2's body after an alloca of 80h: RSP = establisher - 180h. The save of
  // RSI is at establisher + 38h (UnwindPrologue's FrameBase); RSP + 38h holds
  // nothing, so a wrong base would lose RSI.
  RegisterContext callee = Callee(kF2 + 0x50, kEstablisher2 - 0x180);
  callee.SetGpr(reg::kRbp, kEstablisher2 + 0x20);
  Want want =
      Want(ReturnAddress(2), kE2 + 8).Restored(reg::kRbp).Restored(reg::kRbx).Restored(reg::kRsi);
  UnwindStep step = ExpectStep(h, callee, want);
  EXPECT_EQ(step.establisher_frame, kEstablisher2);
  EXPECT_TRUE(step.warnings.empty());
}

TEST(VirtualUnwindTest, ChainedInfoUsesTheFrameRegisterEvenInsideItsProlog) {
  Harness h = MakeHarness();
  // Control at F2C + 0, inside F2C's own 4-byte prolog. VirtualUnwind takes
  // the frame register whenever the info has UNW_FLAG_CHAININFO: the
  // establisher frame is RBP - 20h, not RSP.
  RegisterContext callee = Callee(kF2C, kEstablisher2 - 0x180);
  callee.SetGpr(reg::kRbp, kEstablisher2 + 0x20);
  // F2C's SAVE_NONVOL r12 has CodeOffset 4 > 0: not applied. F2's codes all
  // apply (PrologOffset = F2C - F2 = 100h): rsi from establisher + 38h, RSP
  // from RBP - 20h, then alloc, pushes, return.
  Want want =
      Want(ReturnAddress(2), kE2 + 8).Restored(reg::kRbp).Restored(reg::kRbx).Restored(reg::kRsi);
  UnwindStep step = ExpectStep(h, callee, want);
  EXPECT_EQ(step.establisher_frame, kEstablisher2)
      << absl::StrFormat("0x%x", step.establisher_frame);
  EXPECT_EQ(step.primary_entry, (RuntimeFunction{kF2Row.begin, kF2Row.end, kF2Row.unwind_data}));
  EXPECT_TRUE(step.in_prolog);  // F2C's SizeOfProlog is 4
  EXPECT_FALSE(step.in_epilog);
}

TEST(VirtualUnwindTest, ChainedParentCodesAreAppliedAfterTheChunksOwn) {
  Harness h = MakeHarness();
  // Past F2C's prolog its SAVE_NONVOL r12 (establisher + 8 * 8) applies,
  // then every code of F2.
  RegisterContext callee = Callee(kF2C + 8, kEstablisher2 - 0x180);
  callee.SetGpr(reg::kRbp, kEstablisher2 + 0x20);
  Want want = Want(ReturnAddress(2), kE2 + 8)
                  .Restored(reg::kRbp)
                  .Restored(reg::kRbx)
                  .Restored(reg::kRsi)
                  .Restored(reg::kR12);
  UnwindStep step = ExpectStep(h, callee, want);
  EXPECT_EQ(step.establisher_frame, kEstablisher2);
  EXPECT_EQ(step.primary_entry, (RuntimeFunction{kF2Row.begin, kF2Row.end, kF2Row.unwind_data}));
  EXPECT_FALSE(step.in_prolog);
}

TEST(VirtualUnwindTest, FarFormsAreUnscaled) {
  Harness h = MakeHarness();
  // UWOP_ALLOC_LARGE OpInfo 1: 12348h bytes, not 12348h * 8.
  // UWOP_SAVE_NONVOL_FAR: rbx at S + 12350h, not S + 12350h * 8.
  // UWOP_SAVE_XMM128_FAR: xmm6 at S + 12330h, not S + 12330h * 16.
  Want want = Want(ReturnAddress(3), kE3 + 8).Restored(reg::kRbx).RestoredXmm(6);
  UnwindStep step = ExpectStep(h, Callee(kF3 + 0x20, kS3), want);
  EXPECT_EQ(step.establisher_frame, kS3);
  EXPECT_TRUE(step.warnings.empty());
}

TEST(VirtualUnwindTest, PartialFarPrologRestoresOnlyWhatWasSaved) {
  Harness h = MakeHarness();
  // At offset 15 the movaps (CodeOffset 23) has not run: xmm6 is kept.
  Want want = Want(ReturnAddress(3), kE3 + 8).Restored(reg::kRbx);
  UnwindStep step = ExpectStep(h, Callee(kF3 + 15, kS3), want);
  EXPECT_TRUE(step.in_prolog);
}

TEST(VirtualUnwindTest, SetFpregWithFrameOffsetFifteenIs240Bytes) {
  Harness h = MakeHarness();
  // RBP = S + 0F0h; RSP lower after an alloca. UWOP_SET_FPREG: RSP = RBP -
  // FrameOffset * 16 = RBP - 240; then + 100h, pop rbp, return.
  RegisterContext callee = Callee(kF4 + 0x20, kS4 - 0x40);
  callee.SetGpr(reg::kRbp, kS4 + 0xf0);
  Want want = Want(ReturnAddress(4), kE4 + 8).Restored(reg::kRbp);
  UnwindStep step = ExpectStep(h, callee, want);
  EXPECT_EQ(step.establisher_frame, kS4);
}

// ============================================================================
// Machine frames
// ============================================================================

TEST(VirtualUnwindTest, MachineFrameWithoutErrorCode) {
  Harness h = MakeHarness();
  // ALLOC_SMALL 28h, pop rbp, then UWOP_PUSH_MACHFRAME (OpInfo 0): RIP = [RSP],
  // RSP = [RSP + 18h] (_MACHINE_FRAME: Rip 0, SegCs 8, EFlags 10h, Rsp 18h,
  // SegSs 20h). No return address is popped afterwards.
  RegisterContext callee = Callee(kM1 + 0x10, kMachineFrame1 - 0x30);
  RegisterContext ctx = callee;
  absl::StatusOr<UnwindStep> step = h.Unwind(ctx);
  ASSERT_TRUE(step.ok()) << step.status();
  Want want =
      Want(kInterruptedRip, kInterruptedRsp1).Restored(reg::kRbp).SegmentsFromMachineFrame();
  ExpectCaller(callee, ctx, want);
  // The interrupted context's CS, EFLAGS and SS come from the frame.
  EXPECT_TRUE(ctx.IsKnown(kRegCs));
  EXPECT_TRUE(ctx.IsKnown(kRegEflags));
  EXPECT_TRUE(ctx.IsKnown(kRegSs));
  EXPECT_EQ(ctx.cs, 0x33);
  EXPECT_EQ(ctx.eflags, 0x10246u);
  EXPECT_EQ(ctx.ss, 0x2b);
  EXPECT_TRUE(step->machine_frame);
  EXPECT_FALSE(step->in_epilog);
}

TEST(VirtualUnwindTest, MachineFrameWithErrorCode) {
  Harness h = MakeHarness();
  // OpInfo 1: an error code sits at [RSP]; the machine frame is 8 bytes up.
  RegisterContext callee = Callee(kM2 + 0x10, kMachineFrame2 - 0x30);
  RegisterContext ctx = callee;
  absl::StatusOr<UnwindStep> step = h.Unwind(ctx);
  ASSERT_TRUE(step.ok()) << step.status();
  Want want =
      Want(kInterruptedRip + 0x10, kInterruptedRsp2).Restored(reg::kRbp).SegmentsFromMachineFrame();
  ExpectCaller(callee, ctx, want);
  EXPECT_EQ(ctx.cs, 0x33);
  EXPECT_EQ(ctx.eflags, 0x10287u);
  EXPECT_EQ(ctx.ss, 0x2b);
  EXPECT_TRUE(ctx.IsKnown(kRegCs));
  EXPECT_TRUE(ctx.IsKnown(kRegEflags));
  EXPECT_TRUE(ctx.IsKnown(kRegSs));
  EXPECT_TRUE(step->machine_frame);
}

TEST(VirtualUnwindTest, MachineFrameAtTheFirstInstruction) {
  Harness h = MakeHarness();
  // Offset 0: only UWOP_PUSH_MACHFRAME (CodeOffset 0) applies; RSP is at the
  // frame itself and rbp is kept.
  RegisterContext callee = Callee(kM1, kMachineFrame1);
  RegisterContext ctx = callee;
  absl::StatusOr<UnwindStep> step = h.Unwind(ctx);
  ASSERT_TRUE(step.ok()) << step.status();
  Want want = Want(kInterruptedRip, kInterruptedRsp1).SegmentsFromMachineFrame();
  ExpectCaller(callee, ctx, want);
  EXPECT_TRUE(step->machine_frame);
  EXPECT_TRUE(step->in_prolog);
}

// ============================================================================
// Version 1 epilogs (detected by decoding the instructions at control)
// ============================================================================

// The caller as EP's epilog leaves it, from control at +offset: the pops not
// yet executed restore their registers; RDI is never touched (the epilog
// reloaded it before `add rsp`, which only a prolog unwind would redo).
Want EpCallerFrom(uint32_t offset) {
  Want want = Want(ReturnAddress(5), kE5 + 8);
  if (offset <= 0x49) want.Restored(reg::kR15);
  if (offset <= 0x4b) want.Restored(reg::kR14);
  if (offset <= 0x4d) want.Restored(reg::kR13);
  if (offset <= 0x4f) want.Restored(reg::kR12);
  if (offset <= 0x51) want.Restored(reg::kRbx);
  return want;
}

// EP's caller from a prolog unwind of the body (RSP = S).
Want EpCallerByProlog() {
  return Want(ReturnAddress(5), kE5 + 8)
      .Restored(reg::kRbx)
      .Restored(reg::kR12)
      .Restored(reg::kR13)
      .Restored(reg::kR14)
      .Restored(reg::kR15)
      .Restored(reg::kRdi);
}

TEST(VirtualUnwindTest, Version1EpilogAddRspImm8AndPopsAtEachInstruction) {
  Harness h = MakeHarness();
  struct Case {
    uint32_t offset;
    uint64_t rsp;
  };
  // add rsp, 20h (48 83 c4 20); pop r15..r12 (41 5x); pop rbx (5b); ret (c3).
  const Case cases[] = {{0x45, kS5},        {0x49, kS5 + 0x20}, {0x4b, kS5 + 0x28},
                        {0x4d, kS5 + 0x30}, {0x4f, kS5 + 0x38}, {0x51, kS5 + 0x40},
                        {0x52, kS5 + 0x48}};
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrFormat("EP + 0x%x", c.offset));
    UnwindStep step = ExpectStep(h, Callee(kEP + c.offset, c.rsp), EpCallerFrom(c.offset));
    EXPECT_TRUE(step.in_epilog);
    EXPECT_FALSE(step.in_prolog);
    EXPECT_FALSE(step.machine_frame);
    EXPECT_EQ(step.establisher_frame, c.rsp);
  }
}

TEST(VirtualUnwindTest, Version1InstructionBeforeTheAddRspIsNotAnEpilog) {
  Harness h = MakeHarness();
  // mov rdi, [rsp+50h] (48 8b ...) matches none of add/lea/pop/ret/jmp: the
  // prolog is unwound, restoring rdi too.
  UnwindStep step = ExpectStep(h, Callee(kEP + 0x40, kS5), EpCallerByProlog());
  EXPECT_FALSE(step.in_epilog);
}

TEST(VirtualUnwindTest, DetectEpilogFalseAlwaysUnwindsTheProlog) {
  Harness h = MakeHarness();
  // The caller vouches that control is not in an epilog: even on `add rsp`
  // the prolog is unwound.
  UnwindOptions options;
  options.detect_epilog = false;
  UnwindStep step = ExpectStep(h, Callee(kEP + 0x45, kS5), EpCallerByProlog(), options);
  EXPECT_FALSE(step.in_epilog);
}

TEST(VirtualUnwindTest, Version1EpilogAddRspImm32) {
  Harness h = MakeHarness();
  // F3 + 48h: add rsp, 12348h (48 81 c4 48 23 01 00): RSP += 12348h, then
  // ret. rbx and xmm6 were reloaded before; only the prolog path would read
  // them from the stack.
  Want want = Want(ReturnAddress(3), kE3 + 8);
  UnwindStep step = ExpectStep(h, Callee(kF3 + 0x48, kS3), want);
  EXPECT_TRUE(step.in_epilog);
  // On the `ret`: just the return.
  step = ExpectStep(h, Callee(kF3 + 0x4f, kE3), want);
  EXPECT_TRUE(step.in_epilog);
}

TEST(VirtualUnwindTest, Version1EpilogLeaRspDisp8AtEachInstruction) {
  Harness h = MakeHarness();
  const uint64_t fp = kS6 + 0x20;
  struct Case {
    uint32_t offset;
    uint64_t rsp;
    uint64_t rbp;
  };
  // lea rsp, [rbp+10h] (48 8d 65 10): RSP = RBP + 10h = E - 10h, whatever
  // RSP was (an alloca'd area here); then pop rsi, pop rbp, ret.
  const Case cases[] = {{0x40, kS6 - 0x80, fp},
                        {0x44, kE6 - 16, fp},
                        {0x45, kE6 - 8, fp},
                        {0x46, kE6, CalleeValue(reg::kRbp)}};
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrFormat("LF + 0x%x", c.offset));
    RegisterContext callee = Callee(kLF + c.offset, c.rsp);
    callee.SetGpr(reg::kRbp, c.rbp);
    Want want = Want(ReturnAddress(6), kE6 + 8);
    if (c.offset <= 0x44) want.Restored(reg::kRsi);
    if (c.offset <= 0x45) want.Restored(reg::kRbp);
    UnwindStep step = ExpectStep(h, callee, want);
    EXPECT_TRUE(step.in_epilog);
    if (c.offset == 0x40) {
      // Past the prolog with a frame register: RBP - 2 * 16.
      EXPECT_EQ(step.establisher_frame, kS6);
    }
  }
}

TEST(VirtualUnwindTest, Version1EpilogLeaRspDisp32) {
  Harness h = MakeHarness();
  // lea rsp, [rbp+200h] (48 8d a5 00 02 00 00): a disp8 misreading would give
  // RBP + 0.
  RegisterContext callee = Callee(kLF2 + 0x40, kS7 - 0x40);
  callee.SetGpr(reg::kRbp, kS7);
  Want want = Want(ReturnAddress(7), kE7 + 8).Restored(reg::kRsi).Restored(reg::kRbp);
  UnwindStep step = ExpectStep(h, callee, want);
  EXPECT_TRUE(step.in_epilog);
  EXPECT_EQ(step.establisher_frame, kS7);
}

TEST(VirtualUnwindTest, LeaRspWithAnotherBaseThanTheFrameRegisterIsNotAnEpilog) {
  // lea rsp, [rbx+10h] (48 8d 63 10) in LF, whose frame register is RBP:
  // VirtualUnwind requires the lea's base to be UNWIND_INFO.FrameRegister.
  Harness h =
      MakeHarness(UnwindImage().Code(kLF + 0x40, {0x48, 0x8d, 0x63, 0x10, 0x5e, 0x5d, 0xc3}));
  RegisterContext callee = Callee(kLF + 0x40, kS6 - 0x80);
  callee.SetGpr(reg::kRbp, kS6 + 0x20);
  callee.SetGpr(reg::kRbx, kE6 - 0x20);  // so that, taken as an epilog, it would "work"
  Want want =
      Want(ReturnAddress(6), kE6 + 8).Restored(reg::kRbp).Restored(reg::kRsi).Restored(reg::kRdi);
  UnwindStep step = ExpectStep(h, callee, want);
  EXPECT_FALSE(step.in_epilog);
}

TEST(VirtualUnwindTest, LeaRspInAFunctionWithoutFrameRegisterIsNotAnEpilog) {
  // EP has no frame register: lea rsp, [rbp+10h] cannot start its epilog.
  Harness h = MakeHarness(UnwindImage().Code(kEP + 0x40, {0x48, 0x8d, 0x65, 0x10, 0x5b, 0xc3}));
  RegisterContext callee = Callee(kEP + 0x40, kS5);
  callee.SetGpr(reg::kRbp, kE5 - 0x18);
  UnwindStep step = ExpectStep(h, callee, EpCallerByProlog());
  EXPECT_FALSE(step.in_epilog);
}

// An instruction sequence placed at EP + 40h (or EPC + 20h).
struct CodeCase {
  const char* name;
  uint32_t at;  // RVA
  std::vector<uint8_t> bytes;
};

// rel32 from the end of a 5-byte jmp at `at` to `target`.
std::vector<uint8_t> JmpRel32(uint32_t at, uint32_t target, std::vector<uint8_t> prefix = {}) {
  const uint32_t next = at + static_cast<uint32_t>(prefix.size()) + 5;
  const uint32_t rel = target - next;
  std::vector<uint8_t> b = prefix;
  b.push_back(0xe9);
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(rel >> (8 * i)));
  return b;
}
std::vector<uint8_t> JmpRel8(uint32_t at, uint32_t target) {
  const int32_t rel = static_cast<int32_t>(target) - static_cast<int32_t>(at + 2);
  EXPECT_TRUE(rel >= -128 && rel <= 127) << "test setup: rel8 out of range";
  return {0xeb, static_cast<uint8_t>(static_cast<int8_t>(rel))};
}

TEST(VirtualUnwindTest, Version1ReturnFormsAreEpilogs) {
  const uint32_t at = kEP + 0x40;
  const CodeCase cases[] = {
      {"ret", at, {0xc3}},
      // ret imm16 (C2): VirtualUnwind emulates a plain return, RSP += 8;
      // the immediate is not added.
      {"ret 10h", at, {0xc2, 0x10, 0x00}},
      {"rep ret", at, {0xf3, 0xc3}},
      // A REPNE (BND) prefix may precede the control transfer.
      {"repne ret", at, {0xf2, 0xc3}},
  };
  for (const CodeCase& c : cases) {
    SCOPED_TRACE(c.name);
    Harness h = MakeHarness(UnwindImage().Code(c.at, c.bytes));
    // RSP at the return address: RIP = [RSP], RSP += 8, nothing restored.
    UnwindStep step = ExpectStep(h, Callee(c.at, kE5), EpCallerFrom(0x52));
    EXPECT_TRUE(step.in_epilog);
  }
}

TEST(VirtualUnwindTest, Version1JumpsThatEndAnEpilog) {
  const uint32_t at = kEP + 0x40;
  const uint32_t chunk_at = kEPC + 0x20;
  const CodeCase cases[] = {
      // jmp rel to outside the function: a tail call.
      {"jmp rel8 to another function", at, JmpRel8(at, kG)},
      {"jmp rel32 to another function", at, JmpRel32(at, kG)},
      // SameFunction finds no entry for the target: a different function.
      {"jmp rel32 to code without .pdata", at, JmpRel32(at, kGap)},
      // Target == BeginAddress of an entry without UNW_FLAG_CHAININFO:
      // "A branch to the start of self implies a recursive call".
      {"jmp rel8 to its own start", at, JmpRel8(at, kEP)},
      // From a chained chunk to the primary's start: outside the chunk,
      // SameFunction gives EP, and the target is EP's BeginAddress.
      {"jmp rel32 from a chunk to the function start", chunk_at, JmpRel32(chunk_at, kEP)},
      {"jmp rel32 from a chunk to another function", chunk_at, JmpRel32(chunk_at, kG)},
      // jmp [rip+disp32] (FF 25): a tail call through an import.
      {"jmp [rip+disp32]", at, {0xff, 0x25, 0x00, 0x10, 0x00, 0x00}},
      // REX.W FF /4: the redundant REX.W marks a tail call.
      {"rex.w jmp rax", at, {0x48, 0xff, 0xe0}},
      {"rex.w jmp [rip+disp32]", at, {0x48, 0xff, 0x25, 0x00, 0x10, 0x00, 0x00}},
      {"rex.wb jmp r11", at, {0x49, 0xff, 0xe3}},
      // REPNE before the jmp.
      {"repne jmp rel32 to another function", at, JmpRel32(at, kG, {0xf2})},
  };
  for (const CodeCase& c : cases) {
    SCOPED_TRACE(c.name);
    Harness h = MakeHarness(UnwindImage().Code(c.at, c.bytes));
    // All pops done: the emulated return reads [RSP].
    UnwindStep step = ExpectStep(h, Callee(c.at, kE5), EpCallerFrom(0x52));
    EXPECT_TRUE(step.in_epilog);
  }
}

TEST(VirtualUnwindTest, Version1PopsThenTailCall) {
  // pop rbx; jmp G (5b e9 rel32) at EP + 51h, control on the pop.
  const uint32_t at = kEP + 0x51;
  std::vector<uint8_t> bytes = {0x5b};
  std::vector<uint8_t> jmp = JmpRel32(at + 1, kG);
  bytes.insert(bytes.end(), jmp.begin(), jmp.end());
  Harness h = MakeHarness(UnwindImage().Code(at, bytes));
  UnwindStep step = ExpectStep(h, Callee(at, kS5 + 0x40), EpCallerFrom(0x51));
  EXPECT_TRUE(step.in_epilog);
}

TEST(VirtualUnwindTest, Version1JumpsAndLookalikesThatAreNotEpilogs) {
  const uint32_t at = kEP + 0x40;
  const uint32_t chunk_at = kEPC + 0x20;
  const CodeCase cases[] = {
      // Inside [BeginAddress, EndAddress) but not at the start: a branch.
      {"jmp rel8 inside the function", at, JmpRel8(at, kEP + 0x20)},
      // Outside the entry but in a chunk of the same function (SameFunction
      // gives EP) and not at its start: a branch.
      {"jmp rel32 to a chained chunk", at, JmpRel32(at, kEPC)},
      {"jmp rel32 into a chained chunk", at, JmpRel32(at, kEPC + 0x10)},
      {"jmp rel32 from a chunk into the function body", chunk_at, JmpRel32(chunk_at, kEP + 0x20)},
      // To the entry's own start, but the entry is chained: not an epilog.
      {"jmp rel8 from a chunk to the chunk start", chunk_at, JmpRel8(chunk_at, kEPC)},
      // FF /4 without REX.W and not [rip+disp32]: a switch jump.
      {"jmp rax", at, {0xff, 0xe0}},
      {"rex.b jmp r11", at, {0x41, 0xff, 0xe3}},
      {"jmp [abs32] through a SIB byte", at, {0xff, 0x24, 0x25, 0x00, 0x10, 0x00, 0x00}},
      {"call rel32", at, {0xe8, 0x00, 0x00, 0x00, 0x00}},
      {"pop; nop; ret", at, {0x5b, 0x90, 0xc3}},
      {"add rsp; nop; ret", at, {0x48, 0x83, 0xc4, 0x20, 0x90, 0xc3}},
      {"sub rsp, imm8", at, {0x48, 0x83, 0xec, 0x20, 0x5b, 0xc3}},
      // 49 83 c4 is add r12, not add rsp.
      {"add r12, imm8; pop; ret", at, {0x49, 0x83, 0xc4, 0x20, 0x5b, 0xc3}},
      {"add rax, imm8; ret", at, {0x48, 0x83, 0xc0, 0x20, 0xc3}},
      {"o16 ret", at, {0x66, 0xc3}},
      {"int3", at, {0xcc}},
  };
  for (const CodeCase& c : cases) {
    SCOPED_TRACE(c.name);
    Harness h = MakeHarness(UnwindImage().Code(c.at, c.bytes));
    // RSP as in the body: the prolog unwind gives the true caller (EPC has no
    // codes of its own; EP's all apply).
    UnwindStep step = ExpectStep(h, Callee(c.at, kS5), EpCallerByProlog());
    EXPECT_FALSE(step.in_epilog);
  }
}

TEST(VirtualUnwindTest, Version1EpilogPopIntoAVolatileRegisterRestoresIt) {
  // pop rcx; ret (59 c3) at EP + 40h, RSP one slot below the return address.
  // The reference loads Rcx from the stack, and that is the value the caller
  // sees after the return: docs/unwinding.md step 5 keeps a volatile register
  // known when the step itself restored it.
  const uint32_t at = kEP + 0x40;
  Harness h = MakeHarness(UnwindImage().Code(at, {0x59, 0xc3}));
  // The slot below EP's return address holds the first push, rbx's value.
  UnwindStep step = ExpectStep(h, Callee(at, kE5 - 8),
                               EpCallerFrom(0x52).Restored(reg::kRcx, Saved(reg::kRbx)));
  EXPECT_TRUE(step.in_epilog);
}

TEST(VirtualUnwindTest, Version1RepRetImm16IsAnEpilogAsTheCpuRunsIt) {
  // The system unwinder accepts F3 only as `rep ret` (F3 C3), so for F3 C2 it
  // would unwind the prolog. The CPU ignores the F3 and returns: restack
  // follows the CPU (docs/unwinding.md, deviation 1) and emulates a return.
  const uint32_t at = kEP + 0x40;
  Harness h = MakeHarness(UnwindImage().Code(at, {0xf3, 0xc2, 0x08, 0x00}));
  UnwindStep step = ExpectStep(h, Callee(at, kE5), EpCallerFrom(0x52));
  EXPECT_TRUE(step.in_epilog);
}

TEST(VirtualUnwindTest, Version1RepJmpToAnotherFunctionIsATailCall) {
  // Windows checks the byte after an optional F2 for E9, so F3 E9 is not an
  // epilog there; the CPU runs it as jmp rel32, a tail call (deviation 1).
  const uint32_t at = kEP + 0x40;
  Harness h = MakeHarness(UnwindImage().Code(at, JmpRel32(at, kG, {0xf3})));
  UnwindStep step = ExpectStep(h, Callee(at, kE5), EpCallerFrom(0x52));
  EXPECT_TRUE(step.in_epilog);
}

TEST(VirtualUnwindTest, Version1EquivalentEncodingsAreDecodedAsTheCpuRunsThem) {
  // docs/unwinding.md, deviation 1: Windows matches bytes (pops only as
  // [REX] 58+r, returns only as [F2] C3 / C2 / F3 C3, `add rsp` only after
  // 48h); restack decodes instructions, so these equivalent encodings are
  // epilogs although the system unwinder would unwind the prolog.
  const uint32_t at = kEP + 0x40;
  const CodeCase at_return[] = {
      {"rex.w ret", at, {0x48, 0xc3}},
      {"two repne prefixes; ret", at, {0xf2, 0xf2, 0xc3}},
  };
  for (const CodeCase& c : at_return) {
    SCOPED_TRACE(c.name);
    Harness h = MakeHarness(UnwindImage().Code(c.at, c.bytes));
    UnwindStep step = ExpectStep(h, Callee(c.at, kE5), EpCallerFrom(0x52));
    EXPECT_TRUE(step.in_epilog);
  }
  {
    SCOPED_TRACE("pop rbx as 8F /0; ret");
    Harness h = MakeHarness(UnwindImage().Code(at, {0x8f, 0xc3, 0xc3}));
    UnwindStep step = ExpectStep(h, Callee(at, kS5 + 0x40), EpCallerFrom(0x51));
    EXPECT_TRUE(step.in_epilog);
  }
  {
    // add rsp, 20h with REX 4Ch (W and the ignored R) instead of 48h.
    SCOPED_TRACE("4c 83 c4 20: add rsp, 20h");
    Harness h = MakeHarness(UnwindImage().Code(kEP + 0x45, {0x4c, 0x83, 0xc4, 0x20}));
    UnwindStep step = ExpectStep(h, Callee(kEP + 0x45, kS5), EpCallerFrom(0x45));
    EXPECT_TRUE(step.in_epilog);
  }
}

TEST(VirtualUnwindTest, Version1LeaRspWithR12FrameRegisterNeedsItsSibByte) {
  // docs/unwinding.md, deviation 1: lea rsp, [r12+10h] is 49 8d 64 24 10;
  // Windows' matcher would take the SIB byte 24h for the displacement and
  // then find no pop or return. Decoded properly it is an epilog: RSP =
  // R12 + 10h = E - 8, pop r12, ret. (RDI, saved by UWOP_SAVE_NONVOL, is
  // restored only by a prolog unwind.)
  Harness h = MakeHarness();
  RegisterContext callee = Callee(kR12F + 0x40, kS10 - 0x40);
  callee.SetGpr(reg::kR12, kS10 + 0x10);
  Want want = Want(ReturnAddress(10), kE10 + 8).Restored(reg::kR12);
  UnwindStep step = ExpectStep(h, callee, want);
  EXPECT_TRUE(step.in_epilog);
  // Establisher frame: R12 - 1 * 16.
  EXPECT_EQ(step.establisher_frame, kS10);
}

// ============================================================================
// Version 2 epilogs (UWOP_EPILOG descriptors)
// ============================================================================

// V2's caller from control `k` bytes into a 4-byte epilog (41 5e | 5b | c3).
// UnwindEpilogue walks the push codes (r14, then rbx): a pop is emulated when
// its byte offset in the epilog (r14: 0, rbx: 2, after the 2-byte REX pop) is
// >= k. RDI is never restored: it was reloaded before the epilog region.
Want V2CallerFrom(uint32_t k) {
  Want want = Want(ReturnAddress(8), kE8 + 8);
  if (k == 0) want.Restored(reg::kR14);
  if (k <= 2) want.Restored(reg::kRbx);
  return want;
}
// RSP at control `k` bytes into the epilog (k = 1 is inside `pop r14`; the
// instruction counts as executed for the stack).
uint64_t V2RspAt(uint32_t k) { return k == 0 ? kS8 + 0x20 : k <= 2 ? kS8 + 0x28 : kS8 + 0x30; }
Want V2CallerByProlog() {
  return Want(ReturnAddress(8), kE8 + 8)
      .Restored(reg::kRbx)
      .Restored(reg::kR14)
      .Restored(reg::kRdi);
}

TEST(VirtualUnwindTest, Version2EpilogAtEachByteOfAnEpilogGivenByOffset) {
  Harness h = MakeHarness();
  // UWOP_EPILOG offset 1c7h (OffsetLow c7h, OffsetHigh 1): the epilog starts
  // at EndAddress - 1c7h = V2 + 39h and is 4 bytes long.
  for (uint32_t k = 0; k < 4; ++k) {
    SCOPED_TRACE(absl::StrFormat("V2 + 0x39 + %u", k));
    UnwindStep step = ExpectStep(h, Callee(kV2 + 0x39 + k, V2RspAt(k)), V2CallerFrom(k));
    EXPECT_TRUE(step.in_epilog);
    EXPECT_FALSE(step.in_prolog);
  }
}

TEST(VirtualUnwindTest, Version2EpilogAtEachByteOfTheEpilogAtTheEnd) {
  Harness h = MakeHarness();
  // The first UWOP_EPILOG has OpInfo bit 0 set: an epilog occupies the last
  // 4 bytes, [EndAddress - 4, EndAddress).
  for (uint32_t k = 0; k < 4; ++k) {
    SCOPED_TRACE(absl::StrFormat("V2 + 0x1fc + %u", k));
    UnwindStep step = ExpectStep(h, Callee(kV2 + 0x1fc + k, V2RspAt(k)), V2CallerFrom(k));
    EXPECT_TRUE(step.in_epilog);
  }
}

TEST(VirtualUnwindTest, Version2AddRspBeforeTheEpilogRegionUnwindsTheProlog) {
  Harness h = MakeHarness();
  // `add rsp, 20h` lies before the described region: "cleanup of fixed and
  // dynamic stack allocations ... considered to be outside of the epilogue
  // region". The prolog is unwound (RDI included).
  for (uint32_t offset : {0x35u, 0x1f8u}) {
    SCOPED_TRACE(absl::StrFormat("V2 + 0x%x", offset));
    UnwindStep step = ExpectStep(h, Callee(kV2 + offset, kS8), V2CallerByProlog());
    EXPECT_FALSE(step.in_epilog);
  }
  // Just past the region (the int3 filler after the first epilog's ret).
  UnwindStep step = ExpectStep(h, Callee(kV2 + 0x3d, kS8), V2CallerByProlog());
  EXPECT_FALSE(step.in_epilog);
}

TEST(VirtualUnwindTest, Version2IgnoresEpilogShapedCodeOutsideDescribedEpilogs) {
  Harness h = MakeHarness();
  // V2 + 100h holds add rsp; pop r14; pop rbx; ret, which version 1 would
  // take for an epilog. Version 2 does not decode instructions.
  UnwindStep step = ExpectStep(h, Callee(kV2 + 0x100, kS8), V2CallerByProlog());
  EXPECT_FALSE(step.in_epilog);
}

TEST(VirtualUnwindTest, Version2WithoutEpilogCodesUnwindsTheProlog) {
  Harness h = MakeHarness();
  // V2N's first code is not UWOP_EPILOG: "the current function entry does not
  // contain any epilogues". Epilog-shaped code at +40h is unwound as body.
  RegisterContext callee = Callee(kV2N + 0x40, kS8);
  UnwindStep step = ExpectStep(h, callee, V2CallerByProlog());
  EXPECT_FALSE(step.in_epilog);
}

TEST(VirtualUnwindTest, Version2EpilogInAChainedEntryUsesTheParentsPushCodes) {
  Harness h = MakeHarness();
  // V2C has an epilog at its end but no push codes: UnwindEpilogue follows
  // UNW_FLAG_CHAININFO to V2 for them.
  UnwindStep step = ExpectStep(h, Callee(kV2C + 0x3c, V2RspAt(0)), V2CallerFrom(0));
  EXPECT_TRUE(step.in_epilog);
  step = ExpectStep(h, Callee(kV2C + 0x3e, V2RspAt(2)), V2CallerFrom(2));
  EXPECT_TRUE(step.in_epilog);
}

TEST(VirtualUnwindTest, Version2EpilogPopsTheFlagsPushedAsAllocSmallEight) {
  Harness h = MakeHarness();
  // V2F: pushfq (UWOP_ALLOC_SMALL 8), push rbx; epilog at the end: pop rbx
  // (offset 0), pop rcx (offset 1, the flags), ret. UnwindEpilogue undoes an
  // ALLOC_SMALL with OpInfo 0 after the pushes as one more 8-byte pop.
  struct Case {
    uint32_t k;
    uint64_t rsp;
  };
  const Case cases[] = {{0, kE11 - 16}, {1, kE11 - 8}, {2, kE11}};
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrFormat("V2F epilog + %u", c.k));
    Want want = Want(ReturnAddress(11), kE11 + 8);
    if (c.k == 0) want.Restored(reg::kRbx);
    UnwindStep step = ExpectStep(h, Callee(kV2F + 0x3d + c.k, c.rsp), want);
    EXPECT_TRUE(step.in_epilog);
  }
}

TEST(VirtualUnwindTest, Version2EpilogEndingInAMachineFrame) {
  Harness h = MakeHarness();
  // V2M: entered with a machine frame, push rbp; epilog at the end: pop rbp,
  // iretq. After the pops UnwindEpilogue meets UWOP_PUSH_MACHFRAME: RIP =
  // [RSP], RSP = [RSP + 18h], no return pop.
  struct Case {
    uint32_t k;
    uint64_t rsp;
  };
  const Case cases[] = {{0, kMachineFrame3 - 8}, {1, kMachineFrame3}};
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrFormat("V2M epilog + %u", c.k));
    RegisterContext callee = Callee(kV2M + 0x3d + c.k, c.rsp);
    RegisterContext ctx = callee;
    absl::StatusOr<UnwindStep> step = h.Unwind(ctx);
    ASSERT_TRUE(step.ok()) << step.status();
    Want want = Want(kInterruptedRip + 0x20, kInterruptedRsp3).SegmentsFromMachineFrame();
    if (c.k == 0) want.Restored(reg::kRbp);
    ExpectCaller(callee, ctx, want);
    EXPECT_TRUE(step->in_epilog);
    // virtual_unwind.h: machine_frame = "UWOP_PUSH_MACHFRAME restored RIP/RSP
    // (no return pop)"; docs/unwinding.md deviation 3: CS, EFLAGS, SS too.
    EXPECT_TRUE(step->machine_frame);
    EXPECT_TRUE(ctx.IsKnown(kRegCs));
    EXPECT_EQ(ctx.cs, 0x33);
    EXPECT_TRUE(ctx.IsKnown(kRegEflags));
    EXPECT_EQ(ctx.eflags, 0x10202u);
    EXPECT_TRUE(ctx.IsKnown(kRegSs));
    EXPECT_EQ(ctx.ss, 0x2b);
  }
}

TEST(VirtualUnwindTest, ChunkBeforeItsParentAppliesAllParentCodes) {
  Harness h = MakeHarness();
  // F2B lies below F2: UnwindPrologue's PrologOffset = ControlPc - F2's
  // BeginAddress is negative, i.e. huge as a ULONG, so every F2 code applies.
  RegisterContext callee = Callee(kF2B + 0x10, kEstablisher2 - 0x180);
  callee.SetGpr(reg::kRbp, kEstablisher2 + 0x20);
  Want want =
      Want(ReturnAddress(2), kE2 + 8).Restored(reg::kRbp).Restored(reg::kRbx).Restored(reg::kRsi);
  UnwindStep step = ExpectStep(h, callee, want);
  EXPECT_EQ(step.establisher_frame, kEstablisher2);
  EXPECT_EQ(step.primary_entry, (RuntimeFunction{kF2Row.begin, kF2Row.end, kF2Row.unwind_data}));
}

// ============================================================================
// Errors and partial results
// ============================================================================

TEST(VirtualUnwindTest, ReturnAddressNotInMemoryLeavesTheContextUnchanged) {
  Harness h = MakeHarness();
  // F1's body with RSP far from any written stack: the pops and the return
  // address cannot be read.
  const RegisterContext callee = Callee(kF1 + 0x20, kStack + 0xf0'0000);
  RegisterContext ctx = callee;
  absl::StatusOr<UnwindStep> step = h.Unwind(ctx);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kNotFound) << step.status();
  ExpectSameContext(ctx, callee);
}

TEST(VirtualUnwindTest, ReturnAddressAloneMissingIsNotFound) {
  Harness h = MakeHarness();
  h.memory.Clear();
  // Only the saved registers are there; [E] is not.
  h.memory.WriteU64(kE1 - 8, Saved(reg::kRbx));
  h.memory.WriteU64(kE1 - 16, Saved(reg::kRsi));
  h.memory.WriteU64(kE1 - 24, Saved(reg::kR14));
  WriteXmm(h.memory, kS1 + 0x20, SavedXmm(6));
  h.memory.WriteU64(kE1 + 8, Saved(reg::kRdi));
  const RegisterContext callee = Callee(kF1 + 0x20, kS1);
  RegisterContext ctx = callee;
  absl::StatusOr<UnwindStep> step = h.Unwind(ctx);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kNotFound) << step.status();
  ExpectSameContext(ctx, callee);
}

TEST(VirtualUnwindTest, UnknownFrameRegisterIsAFailedPrecondition) {
  Harness h = MakeHarness();
  // F2's body: the establisher frame and UWOP_SET_FPREG need RBP.
  RegisterContext callee = Callee(kF2 + 0x40, kEstablisher2 - 0x180);
  callee.SetGpr(reg::kRbp, kEstablisher2 + 0x20);
  callee.known.reset(reg::kRbp);
  RegisterContext ctx = callee;
  absl::StatusOr<UnwindStep> step = h.Unwind(ctx);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kFailedPrecondition) << step.status();
  ExpectSameContext(ctx, callee);
}

TEST(VirtualUnwindTest, SavedRegisterNotInMemoryBecomesUnknownWithAWarning) {
  Harness h = MakeHarness();
  h.memory.Clear();
  h.memory.WriteU64(kE1, ReturnAddress(1));
  h.memory.WriteU64(kE1 - 8, Saved(reg::kRbx));
  h.memory.WriteU64(kE1 - 16, Saved(reg::kRsi));
  h.memory.WriteU64(kE1 - 24, Saved(reg::kR14));
  // Neither rdi's home slot (E + 8) nor xmm6's (S + 20h) is in the dump.
  Want want = Want(ReturnAddress(1), kE1 + 8)
                  .Restored(reg::kRbx)
                  .Restored(reg::kRsi)
                  .Restored(reg::kR14)
                  .Lost(reg::kRdi)
                  .Lost(kRegXmm0 + 6);
  UnwindStep step = ExpectStep(h, Callee(kF1 + 0x20, kS1), want);
  ASSERT_EQ(step.warnings.size(), 2u);
  std::set<uint64_t> where;
  for (const Warning& w : step.warnings) where.insert(w.offset);
  // Each warning names the address that could not be read.
  EXPECT_TRUE(where.count(kE1 + 8));
  EXPECT_TRUE(where.count(kS1 + 0x20));
}

TEST(VirtualUnwindTest, RejectsAnIndirectFunctionEntry) {
  Harness h = MakeHarness();
  // RtlVirtualUnwind takes what RtlLookupFunctionEntry returns: never an
  // entry whose UnwindData has bit 0 set.
  const RuntimeFunction indirect{kF1, kF1 + 0x80, SyntheticImage::PdataRowRva(0) + 1};
  const RegisterContext callee = Callee(kF1 + 0x20, kS1);
  RegisterContext ctx = callee;
  absl::StatusOr<UnwindStep> step =
      VirtualUnwind(*h.table, kBase, ctx.rip, indirect, ctx, h.memory);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kInvalidArgument) << step.status();
  ExpectSameContext(ctx, callee);
}

TEST(VirtualUnwindTest, CorruptUnwindInfoIsAnErrorAndLeavesTheContextUnchanged) {
  Harness h = MakeHarness();
  // CF's only code is operation 11: UnwindPrologue returns E_UNEXPECTED.
  const RegisterContext callee = Callee(kCF + 0x10, kS1);
  RegisterContext ctx = callee;
  absl::StatusOr<UnwindStep> step = h.Unwind(ctx);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kDataLoss) << step.status();
  EXPECT_TRUE(absl::StrContains(step.status().message(), "offset 0x")) << step.status();
  ExpectSameContext(ctx, callee);
}

// ============================================================================
// Language handlers
// ============================================================================

Want HCaller() { return Want(ReturnAddress(9), kE9 + 8).Restored(reg::kRbx); }

TEST(VirtualUnwindTest, HandlerReportedPastThePrologForAMatchingType) {
  Harness h = MakeHarness();
  UnwindOptions options;
  options.handler_type = kFlagEHandler;
  UnwindStep step = ExpectStep(h, Callee(kH + 0x10, kS9), HCaller(), options);
  // The ULONG after the (even-aligned) codes, plus the image base; the data
  // follows it: H's info at 43c0h, 2 codes, so 43c8h and 43cch.
  ASSERT_TRUE(step.handler.has_value());
  EXPECT_EQ(*step.handler, kBase + kHandlerRva);
  ASSERT_TRUE(step.handler_data.has_value());
  EXPECT_EQ(*step.handler_data, kBase + kHRow.unwind_data + 8 + 4);
  // PrologOffset == SizeOfProlog (5) is already past the prolog.
  step = ExpectStep(h, Callee(kH + 5, kS9), HCaller(), options);
  EXPECT_TRUE(step.handler.has_value());
}

TEST(VirtualUnwindTest, NoHandlerInsideTheProlog) {
  Harness h = MakeHarness();
  UnwindOptions options;
  options.handler_type = kFlagEHandler;
  // Offset 1: push rbx has run, sub rsp has not.
  Want want = Want(ReturnAddress(9), kE9 + 8).Restored(reg::kRbx);
  UnwindStep step = ExpectStep(h, Callee(kH + 1, kE9 - 8), want, options);
  EXPECT_FALSE(step.handler.has_value());
  EXPECT_FALSE(step.handler_data.has_value());
}

TEST(VirtualUnwindTest, NoHandlerOfAnotherTypeOrWhenNotAsked) {
  Harness h = MakeHarness();
  UnwindOptions options;
  // H has UNW_FLAG_EHANDLER only.
  options.handler_type = kFlagUHandler;
  UnwindStep step = ExpectStep(h, Callee(kH + 0x10, kS9), HCaller(), options);
  EXPECT_FALSE(step.handler.has_value());
  options.handler_type = 0;
  step = ExpectStep(h, Callee(kH + 0x10, kS9), HCaller(), options);
  EXPECT_FALSE(step.handler.has_value());
}

TEST(VirtualUnwindTest, NoHandlerInAnEpilog) {
  Harness h = MakeHarness();
  UnwindOptions options;
  options.handler_type = kFlagEHandler;
  // H + 20h: add rsp, 28h; pop rbx; ret. An epilog returns no handler.
  UnwindStep step = ExpectStep(h, Callee(kH + 0x20, kS9), HCaller(), options);
  EXPECT_TRUE(step.in_epilog);
  EXPECT_FALSE(step.handler.has_value());
}

TEST(VirtualUnwindTest, HandlerOfAChainedChunkIsThePrimarys) {
  Harness h = MakeHarness();
  UnwindOptions options;
  options.handler_type = kFlagEHandler | kFlagUHandler;
  // VirtualUnwind looks the handler up in the final (primary) entry after
  // UnwindPrologue, with PrologOffset = ControlPc - its BeginAddress.
  UnwindStep step = ExpectStep(h, Callee(kHC + 0x10, kS9), HCaller(), options);
  ASSERT_TRUE(step.handler.has_value());
  EXPECT_EQ(*step.handler, kBase + kHandlerRva);
  EXPECT_EQ(step.primary_entry, (RuntimeFunction{kHRow.begin, kHRow.end, kHRow.unwind_data}));
}

}  // namespace
}  // namespace restack::unwind
