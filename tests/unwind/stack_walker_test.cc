// stack_walker_test.cc - whole walks over a synthetic image, a ModuleMap and a fake stack
//
// Each step is an RtlVirtualUnwind (see virtual_unwind_test.cc for the step
// semantics); these tests check what the walker adds: how frames are looked
// up (return addresses at RIP - 1, exact RIPs after a machine frame), which
// registers carry over, and why a walk ends.
#include "restack/unwind/stack_walker.h"
#include "restack/unwind/trap_frame.h"

#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "fake_memory.h"
#include "gtest/gtest.h"
#include "synthetic_image.h"

namespace restack::unwind {
namespace {

using testing::Codes;
using testing::FakeMemory;
using testing::SyntheticImage;
using testing::UnwindInfoSpec;
namespace uwop = testing::uwop;
namespace reg = testing::reg;

constexpr uint64_t kBase = 0x7ff6'a000'0000;
constexpr uint64_t kOtherBase = 0x7ff6'b000'0000;  // a module without an image
constexpr uint64_t kStackLow = 0x00b0'0000'0000;
constexpr uint64_t kStackHigh = kStackLow + 0x10000;
// The same image loaded as a kernel module, and a kernel stack.
constexpr uint64_t kKernelBase = 0xfffff805'1000'0000;
constexpr uint64_t kKernelStackLow = 0xffffd000'2000'0000;
constexpr uint64_t kKernelStackHigh = kKernelStackLow + 0x6000;

// Functions of walk.dll (RVAs). Each body is nops from +10h.
//   Z [1000, 1040): sub rsp, 60h            ALLOC_SMALL 60h @4
//   A [1040, 1080): push rbx; sub rsp, 20h  PUSH rbx @1, ALLOC_SMALL 20h @5
//   B [1100, 1140): push rsi; sub rsp, 30h  PUSH rsi @1, ALLOC_SMALL 30h @5
//   C [1200, 1240): sub rsp, 28h            ALLOC_SMALL 28h @4
//   P [1300, 1320): sub rsp, 28h; ...; call (E8) as its last instruction
//   Q [1320, 1330): ret                     (its own UNWIND_INFO, no codes)
//   M [1400, 1440): interrupt entry: machine frame, sub rsp, 28h
//   L [1500, 1540): push rbp; mov rbp, rsp  PUSH rbp @1, SET_FPREG @4 (rbp, 0)
//   no .pdata at [1800, ...): a leaf; B calls it (E8 ending at B + 20h)
//   no .pdata at [1900, 1940): F, frame-pointer code: push rbp; mov rbp, rsp;
//     sub rsp, 40h; ...; call Leaf (ending at F + 25h); C calls F (E8 ending
//     at C + 30h)
constexpr uint32_t kZ = 0x1000, kA = 0x1040, kB = 0x1100, kC = 0x1200, kP = 0x1300, kQ = 0x1320,
                   kM = 0x1400, kL = 0x1500, kLeaf = 0x1800, kF = 0x1900;
// A direct call (E8 rel32) at `at`, to `target`.
std::vector<uint8_t> CallTo(uint32_t at, uint32_t target) {
  const uint32_t rel = target - (at + 5);
  return {0xe8, static_cast<uint8_t>(rel), static_cast<uint8_t>(rel >> 8),
          static_cast<uint8_t>(rel >> 16), static_cast<uint8_t>(rel >> 24)};
}

std::shared_ptr<const PeImage> WalkImage() {
  SyntheticImage b("walk.dll");
  auto function = [&](uint32_t begin, uint32_t end, uint32_t info, UnwindInfoSpec spec,
                      std::vector<uint8_t> prolog) {
    b.UnwindInfo(info, spec).Code(begin, prolog);
    b.Code(begin + 0x10, std::vector<uint8_t>(end - begin - 0x10, 0x90));
    b.Function(begin, end, info);
  };
  UnwindInfoSpec z;
  z.size_of_prolog = 4;
  z.codes = uwop::AllocSmall(4, 0x60);
  function(kZ, kZ + 0x40, 0x4000, z, {0x48, 0x83, 0xec, 0x60});
  UnwindInfoSpec a;
  a.size_of_prolog = 5;
  a.codes = Codes({uwop::AllocSmall(5, 0x20), uwop::PushNonvol(1, reg::kRbx)});
  function(kA, kA + 0x40, 0x4040, a, {0x53, 0x48, 0x83, 0xec, 0x20});
  UnwindInfoSpec bb;
  bb.size_of_prolog = 5;
  bb.codes = Codes({uwop::AllocSmall(5, 0x30), uwop::PushNonvol(1, reg::kRsi)});
  function(kB, kB + 0x40, 0x4080, bb, {0x56, 0x48, 0x83, 0xec, 0x30});
  UnwindInfoSpec c;
  c.size_of_prolog = 4;
  c.codes = uwop::AllocSmall(4, 0x28);
  function(kC, kC + 0x40, 0x40c0, c, {0x48, 0x83, 0xec, 0x28});
  UnwindInfoSpec p;
  p.size_of_prolog = 4;
  p.codes = uwop::AllocSmall(4, 0x28);
  b.UnwindInfo(0x4100, p)
      .Code(kP, {0x48, 0x83, 0xec, 0x28})
      .Code(kP + 4, std::vector<uint8_t>(0x17, 0x90))
      .Code(kP + 0x1b, {0xe8, 0x00, 0x10, 0x00, 0x00})  // call: ends at kP + 20h = kQ
      .Function(kP, kQ, 0x4100);
  // Q's first byte is a `ret`: seen from P's end it would look like an epilog.
  b.UnwindInfo(0x4140, UnwindInfoSpec{}).Code(kQ, {0xc3, 0x90}).Function(kQ, kQ + 0x10, 0x4140);
  UnwindInfoSpec m;
  m.size_of_prolog = 4;
  m.codes = Codes({uwop::AllocSmall(4, 0x28), uwop::PushMachFrame(0, false)});
  function(kM, kM + 0x40, 0x4180, m, {0x48, 0x83, 0xec, 0x28});
  UnwindInfoSpec l;
  l.size_of_prolog = 4;
  l.frame_register = reg::kRbp;
  l.codes = Codes({uwop::SetFpreg(4), uwop::PushNonvol(1, reg::kRbp)});
  function(kL, kL + 0x40, 0x41c0, l, {0x55, 0x48, 0x8b, 0xec});
  // The code without .pdata, and the calls into it.
  b.Code(kLeaf, std::vector<uint8_t>(0x40, 0x90)).Code(kLeaf + 0x40, {0xc3});
  b.Code(kB + 0x1b, CallTo(kB + 0x1b, kLeaf));
  b.Code(kF, {0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xec, 0x40})
      .Code(kF + 8, std::vector<uint8_t>(0x18, 0x90))
      .Code(kF + 0x20, CallTo(kF + 0x20, kLeaf))
      .Code(kF + 0x25, std::vector<uint8_t>(0x1b, 0x90));
  b.Code(kC + 0x2b, CallTo(kC + 0x2b, kF));
  b.Code(kZ + 0x1b, CallTo(kZ + 0x1b, kA));  // Z calls A (ending at Z + 20h)
  return b.Build();
}

uint64_t CalleeValue(unsigned r) { return 0xc0de'0000'0000'0000ull | (uint64_t{r} << 8); }

RegisterContext Context(uint64_t rip, uint64_t rsp) {
  RegisterContext c;
  for (unsigned r = 0; r < 16; ++r) c.SetGpr(r, CalleeValue(r));
  for (unsigned x = 0; x < 16; ++x) c.SetXmm(x, {x, x});
  c.eflags = 0x202;
  c.cs = 0x10;
  c.ss = 0x18;
  c.known.set(kRegEflags);
  c.known.set(kRegCs);
  c.known.set(kRegSs);
  c.SetRip(rip);
  c.SetRsp(rsp);
  return c;
}

struct World {
  ModuleMap modules;
  FakeMemory memory;
  WalkOptions options;

  World() {
    Module walk;
    walk.base = kBase;
    walk.size = SyntheticImage::kSizeOfImage;
    walk.name = "walk.dll";
    std::shared_ptr<const PeImage> image = WalkImage();
    EXPECT_NE(image, nullptr);
    if (image != nullptr) {
      EXPECT_TRUE(walk.AttachImage(std::move(image)).ok());
    }
    EXPECT_TRUE(modules.Add(std::move(walk)).ok());
    Module other;
    other.base = kOtherBase;
    other.size = 0x10000;
    other.name = "other.dll";
    other.image_problem = "not in the symbol store";
    EXPECT_TRUE(modules.Add(std::move(other)).ok());
    Module kernel;
    kernel.base = kKernelBase;
    kernel.size = SyntheticImage::kSizeOfImage;
    kernel.name = "kwalk.sys";
    if (std::shared_ptr<const PeImage> k = WalkImage(); k != nullptr) {
      EXPECT_TRUE(kernel.AttachImage(std::move(k)).ok());
    }
    EXPECT_TRUE(modules.Add(std::move(kernel)).ok());
    options.stacks = {{kStackLow, kStackHigh}, {kKernelStackLow, kKernelStackHigh}};
  }
  const Module* walk_module() const { return modules.Find(kBase); }
  StackWalk Walk(const RegisterContext& context) const {
    return WalkStack(context, memory, modules, options);
  }
};

// The ordinary chain A -> B -> C -> 0, with A's body RSP at `sa`:
//   A: [sa+20h] saved rbx, [sa+28h] return into B + 20h; caller RSP sa+30h
//   B: [sb+30h] saved rsi, [sb+38h] return into C + 20h; caller RSP sb+40h
//   C: [sc+28h] 0
struct Chain {
  uint64_t sa, sb, sc;
};
Chain WriteChain(FakeMemory& m, uint64_t sa, uint64_t base = kBase) {
  Chain c{sa, sa + 0x30, sa + 0x70};
  m.WriteU64(c.sa + 0x20, 0x5a5a'0003);
  m.WriteU64(c.sa + 0x28, base + kB + 0x20);
  m.WriteU64(c.sb + 0x30, 0x5a5a'0006);
  m.WriteU64(c.sb + 0x38, base + kC + 0x20);
  m.WriteU64(c.sc + 0x28, 0);
  return c;
}

TEST(StackWalkerTest, ThreeFramesEndingWithRipZero) {
  World w;
  const Chain chain = WriteChain(w.memory, kStackLow + 0x1000);
  StackWalk walk = w.Walk(Context(kBase + kA + 0x20, chain.sa));
  EXPECT_EQ(walk.end, WalkEnd::kRipZero) << walk.status;
  EXPECT_TRUE(walk.status.ok()) << walk.status;
  EXPECT_TRUE(IsCompleteEnd(walk.end));
  // The RIP-0 "caller" of C is the end of the stack, not a frame.
  ASSERT_EQ(walk.frames.size(), 3u);
  const StackFrame& a = walk.frames[0];
  const StackFrame& b = walk.frames[1];
  const StackFrame& c = walk.frames[2];
  EXPECT_EQ(a.rip, kBase + kA + 0x20);
  EXPECT_EQ(a.rsp, chain.sa);
  EXPECT_EQ(a.trust, FrameTrust::kContext);
  EXPECT_TRUE(a.exact_rip);
  // A: ALLOC_SMALL 20h, pop rbx, return.
  EXPECT_EQ(b.rip, kBase + kB + 0x20);
  EXPECT_EQ(b.rsp, chain.sb);
  EXPECT_EQ(b.trust, FrameTrust::kUnwindInfo);
  EXPECT_FALSE(b.exact_rip);  // a return address
  // B: ALLOC_SMALL 30h, pop rsi, return.
  EXPECT_EQ(c.rip, kBase + kC + 0x20);
  EXPECT_EQ(c.rsp, chain.sc);
  EXPECT_EQ(c.trust, FrameTrust::kUnwindInfo);
  for (const StackFrame& f : walk.frames) {
    EXPECT_EQ(f.module, w.walk_module());
    ASSERT_TRUE(f.function.has_value());
    EXPECT_FALSE(f.unwound_in_epilog);
    EXPECT_FALSE(f.unwound_in_prolog);
    EXPECT_FALSE(f.unwound_machine_frame);
  }
  EXPECT_EQ(a.function->function_entry.begin, kA);
  EXPECT_EQ(b.function->function_entry.begin, kB);
  EXPECT_EQ(c.function->function_entry.begin, kC);
}

TEST(StackWalkerTest, KnownRegistersPropagateAcrossFrames) {
  World w;
  const Chain chain = WriteChain(w.memory, kStackLow + 0x1000);
  StackWalk walk = w.Walk(Context(kBase + kA + 0x20, chain.sa));
  ASSERT_EQ(walk.frames.size(), 3u);
  const RegisterContext& b = walk.frames[1].context;
  const RegisterContext& c = walk.frames[2].context;
  // B's context: rbx restored by A's unwind; rsi, r12 (nonvolatile, not
  // saved by A) carried over; volatile registers unknown.
  EXPECT_TRUE(b.IsKnown(reg::kRbx));
  EXPECT_EQ(b.gpr[reg::kRbx], 0x5a5a'0003u);
  EXPECT_TRUE(b.IsKnown(reg::kRsi));
  EXPECT_EQ(b.gpr[reg::kRsi], CalleeValue(reg::kRsi));
  EXPECT_TRUE(b.IsKnown(reg::kR12));
  EXPECT_EQ(b.gpr[reg::kR12], CalleeValue(reg::kR12));
  EXPECT_FALSE(b.IsKnown(reg::kRax));
  EXPECT_FALSE(b.IsKnown(reg::kR10));
  EXPECT_FALSE(b.IsKnown(kRegXmm0));
  EXPECT_TRUE(b.IsKnown(kRegXmm0 + 6));
  // C's context: rsi restored by B's unwind; rbx from A's unwind carried on;
  // r12 still the context's; rax stays unknown.
  EXPECT_TRUE(c.IsKnown(reg::kRsi));
  EXPECT_EQ(c.gpr[reg::kRsi], 0x5a5a'0006u);
  EXPECT_TRUE(c.IsKnown(reg::kRbx));
  EXPECT_EQ(c.gpr[reg::kRbx], 0x5a5a'0003u);
  EXPECT_TRUE(c.IsKnown(reg::kR12));
  EXPECT_EQ(c.gpr[reg::kR12], CalleeValue(reg::kR12));
  EXPECT_FALSE(c.IsKnown(reg::kRax));
  EXPECT_FALSE(c.IsKnown(kRegEflags));
  EXPECT_TRUE(c.IsKnown(kRegRip));
  EXPECT_TRUE(c.IsKnown(reg::kRsp));
}

TEST(StackWalkerTest, LeafWithoutPdataInsideAnImage) {
  World w;
  // RIP in .text with no RUNTIME_FUNCTION: a leaf, whose return address is
  // at [RSP]. Then B and C as usual.
  const uint64_t sl = kStackLow + 0x2000;
  w.memory.WriteU64(sl, kBase + kB + 0x20);
  const uint64_t sb = sl + 8;
  w.memory.WriteU64(sb + 0x30, 0x5a5a'0006);
  w.memory.WriteU64(sb + 0x38, kBase + kC + 0x20);
  w.memory.WriteU64(sb + 0x40 + 0x28, 0);
  StackWalk walk = w.Walk(Context(kBase + kLeaf, sl));
  EXPECT_EQ(walk.end, WalkEnd::kRipZero) << walk.status;
  ASSERT_EQ(walk.frames.size(), 3u);
  EXPECT_FALSE(walk.frames[0].function.has_value());
  EXPECT_EQ(walk.frames[0].module, w.walk_module());
  const StackFrame& b = walk.frames[1];
  EXPECT_EQ(b.trust, FrameTrust::kLeaf);
  EXPECT_EQ(b.rip, kBase + kB + 0x20);
  EXPECT_EQ(b.rsp, sl + 8);
  // A leaf saves nothing: nonvolatile registers carry over, volatile ones
  // are unknown.
  EXPECT_TRUE(b.context.IsKnown(reg::kRbx));
  EXPECT_EQ(b.context.gpr[reg::kRbx], CalleeValue(reg::kRbx));
  EXPECT_FALSE(b.context.IsKnown(reg::kRax));
  EXPECT_FALSE(b.context.IsKnown(reg::kRcx));
  EXPECT_EQ(walk.frames[2].trust, FrameTrust::kUnwindInfo);
  EXPECT_EQ(walk.frames[2].rip, kBase + kC + 0x20);
}

TEST(StackWalkerTest, ReturnAddressOutsideEveryModuleIsListedThenEnds) {
  World w;
  const Chain chain = WriteChain(w.memory, kStackLow + 0x1000);
  w.memory.WriteU64(chain.sa + 0x28, 0x1234);  // A returns nowhere known
  StackWalk walk = w.Walk(Context(kBase + kA + 0x20, chain.sa));
  EXPECT_EQ(walk.end, WalkEnd::kOutsideModules);
  EXPECT_FALSE(IsCompleteEnd(walk.end));
  ASSERT_EQ(walk.frames.size(), 2u);
  EXPECT_EQ(walk.frames[1].rip, 0x1234u);
  EXPECT_EQ(walk.frames[1].rsp, chain.sb);
  EXPECT_EQ(walk.frames[1].module, nullptr);
}

TEST(StackWalkerTest, ModuleWithoutImageEndsTheWalk) {
  World w;
  const Chain chain = WriteChain(w.memory, kStackLow + 0x1000);
  w.memory.WriteU64(chain.sa + 0x28, kOtherBase + 0x1234);
  StackWalk walk = w.Walk(Context(kBase + kA + 0x20, chain.sa));
  EXPECT_EQ(walk.end, WalkEnd::kImageMissing);
  ASSERT_EQ(walk.frames.size(), 2u);
  EXPECT_EQ(walk.frames[1].rip, kOtherBase + 0x1234);
  ASSERT_NE(walk.frames[1].module, nullptr);
  EXPECT_EQ(walk.frames[1].module->name, "other.dll");
}

TEST(StackWalkerTest, CallerRspOutsideTheStackBoundsEndsTheWalk) {
  World w;
  const Chain chain = WriteChain(w.memory, kStackLow + 0x1000);
  // The stack ends between B's RSP and C's: C's frame cannot be trusted.
  w.options.stacks = {{chain.sa, chain.sb + 0x10}};
  StackWalk walk = w.Walk(Context(kBase + kA + 0x20, chain.sa));
  EXPECT_EQ(walk.end, WalkEnd::kOutsideStack);
  ASSERT_EQ(walk.frames.size(), 2u);
  EXPECT_EQ(walk.frames[1].rsp, chain.sb);
}

TEST(StackWalkerTest, CallerWithTheSameRspIsNoProgress) {
  World w;
  // L's body: RSP = RBP + 10h after UWOP_SET_FPREG (RSP = RBP), the pop of
  // rbp and the return; RBP = RSP - 10h makes the caller's RSP equal the
  // callee's, and its RIP is L's body again: without a check this would loop.
  const uint64_t sl = kStackLow + 0x3000;
  w.memory.WriteU64(sl - 0x10, sl - 0x10);          // saved rbp: itself
  w.memory.WriteU64(sl - 0x08, kBase + kL + 0x20);  // "return address": L again
  RegisterContext ctx = Context(kBase + kL + 0x20, sl);
  ctx.SetGpr(reg::kRbp, sl - 0x10);
  StackWalk walk = w.Walk(ctx);
  EXPECT_EQ(walk.end, WalkEnd::kNoProgress);
  EXPECT_EQ(walk.frames.size(), 1u);
}

TEST(StackWalkerTest, CallerRspBelowTheCalleesIsNoProgress) {
  World w;
  // Same function, RBP far below RSP: the caller's RSP would go backwards.
  const uint64_t sl = kStackLow + 0x3000;
  const uint64_t fp = sl - 0x100;
  w.memory.WriteU64(fp, fp);
  w.memory.WriteU64(fp + 8, kBase + kC + 0x20);
  RegisterContext ctx = Context(kBase + kL + 0x20, sl);
  ctx.SetGpr(reg::kRbp, fp);
  StackWalk walk = w.Walk(ctx);
  EXPECT_EQ(walk.end, WalkEnd::kNoProgress);
  EXPECT_EQ(walk.frames.size(), 1u);
}

TEST(StackWalkerTest, MachineFrameRepeatingTheFrameIsNoProgress) {
  World w;
  // M's machine frame names M's own RIP and RSP: a loop that the
  // RSP-must-grow rule does not catch (machine frames may switch stacks).
  const uint64_t sm = kStackLow + 0x4000;
  const uint64_t frame = sm + 0x28;
  w.memory.WriteU64(frame + 0x00, kBase + kM + 0x20);
  w.memory.WriteU64(frame + 0x08, 0x10);
  w.memory.WriteU64(frame + 0x10, 0x202);
  w.memory.WriteU64(frame + 0x18, sm);
  w.memory.WriteU64(frame + 0x20, 0x18);
  StackWalk walk = w.Walk(Context(kBase + kM + 0x20, sm));
  EXPECT_EQ(walk.end, WalkEnd::kNoProgress);
  EXPECT_EQ(walk.frames.size(), 1u);
}

TEST(StackWalkerTest, MaxFramesCutsTheWalk) {
  World w;
  const Chain chain = WriteChain(w.memory, kStackLow + 0x1000);
  w.options.max_frames = 2;
  StackWalk walk = w.Walk(Context(kBase + kA + 0x20, chain.sa));
  EXPECT_EQ(walk.end, WalkEnd::kFrameLimit);
  EXPECT_EQ(walk.frames.size(), 2u);
}

TEST(StackWalkerTest, ReturnAddressAfterATrailingCallIsLookedUpAtRipMinusOne) {
  World w;
  // The callee is C; its caller is P, whose last instruction is a call, so
  // the return address is P's EndAddress, which is Q's BeginAddress. Looking
  // up RIP - 1 finds P, and P's ALLOC_SMALL 28h is undone. (Q's entry, or an
  // epilog reading of Q's `ret`, would take [RSP] directly, which holds 0.)
  const uint64_t sc = kStackLow + 0x5000;
  w.memory.WriteU64(sc + 0x28, kBase + kQ);
  const uint64_t sp = sc + 0x30;
  w.memory.WriteU64(sp, 0);  // what a wrong unwind of P's frame would return to
  w.memory.WriteU64(sp + 0x28, kBase + kC + 0x20);
  const uint64_t sc2 = sp + 0x30;
  w.memory.WriteU64(sc2 + 0x28, 0);
  StackWalk walk = w.Walk(Context(kBase + kC + 0x20, sc));
  EXPECT_EQ(walk.end, WalkEnd::kRipZero) << walk.status;
  ASSERT_EQ(walk.frames.size(), 3u);
  const StackFrame& p = walk.frames[1];
  EXPECT_EQ(p.rip, kBase + kQ);
  EXPECT_FALSE(p.exact_rip);
  ASSERT_TRUE(p.function.has_value());
  EXPECT_EQ(p.function->function_entry.begin, kP);
  EXPECT_FALSE(p.unwound_in_epilog);
  EXPECT_EQ(walk.frames[2].rip, kBase + kC + 0x20);
  EXPECT_EQ(walk.frames[2].rsp, sc2);
}

TEST(StackWalkerTest, MachineFrameMaySwitchToALowerStackAddress) {
  World w;
  // M at the top of the stack; its machine frame resumes A at its first
  // byte on a lower part of the same stack.
  const uint64_t sm = kStackHigh - 0x100;
  const uint64_t frame = sm + 0x28;
  const uint64_t low = kStackLow + 0x200;
  w.memory.WriteU64(frame + 0x00, kBase + kA);  // A + 0: an exact RIP
  w.memory.WriteU64(frame + 0x08, 0x33);
  w.memory.WriteU64(frame + 0x10, 0x246);
  w.memory.WriteU64(frame + 0x18, low);
  w.memory.WriteU64(frame + 0x20, 0x2b);
  // A at offset 0 has run nothing: return to B from [low].
  w.memory.WriteU64(low, kBase + kB + 0x20);
  const uint64_t sb = low + 8;
  w.memory.WriteU64(sb + 0x30, 0x5a5a'0006);
  w.memory.WriteU64(sb + 0x38, 0);
  StackWalk walk = w.Walk(Context(kBase + kM + 0x20, sm));
  EXPECT_EQ(walk.end, WalkEnd::kRipZero) << walk.status;
  ASSERT_EQ(walk.frames.size(), 3u);
  EXPECT_TRUE(walk.frames[0].unwound_machine_frame);
  const StackFrame& a = walk.frames[1];
  EXPECT_EQ(a.rip, kBase + kA);
  EXPECT_EQ(a.rsp, low);
  // Where the CPU was interrupted, not a return address: looked up at RIP
  // itself (RIP - 1 would be Z, whose 60h allocation would misplace the
  // return address).
  EXPECT_TRUE(a.exact_rip);
  ASSERT_TRUE(a.function.has_value());
  EXPECT_EQ(a.function->function_entry.begin, kA);
  EXPECT_TRUE(a.unwound_in_prolog);
  EXPECT_TRUE(a.context.IsKnown(kRegCs));
  EXPECT_EQ(a.context.cs, 0x33);
  EXPECT_EQ(walk.frames[2].rip, kBase + kB + 0x20);
  EXPECT_EQ(walk.frames[2].rsp, low + 8);
}

// ---- without unwind data: leaf, frame pointer, scan (docs/unwinding.md#fallbacks)

// A value pointing into code, but not after a CALL (A's body is nops).
constexpr uint64_t kFakeReturn = kBase + kA + 0x18;

TEST(StackWalkerTest, FramePointerFunctionWithoutPdata) {
  World w;
  // F (no .pdata) was called by C; its frame: [rbp] saved rbp, [rbp+8] the
  // return into C + 30h. [RSP] holds a code pointer that follows no CALL:
  // not taken for a leaf's return address.
  const uint64_t sf = kStackLow + 0x2000;
  const uint64_t fp = sf + 0x40;
  w.memory.WriteU64(sf, kFakeReturn);
  w.memory.WriteU64(fp, 0xb0b0'0000);               // C's rbp (a value)
  w.memory.WriteU64(fp + 8, kBase + kC + 0x30);     // C + 30h: after C's call of F
  w.memory.WriteU64(fp + 16 + 0x28, 0);             // C's caller: the end
  RegisterContext ctx = Context(kBase + kF + 0x25, sf);
  ctx.SetGpr(reg::kRbp, fp);
  StackWalk walk = w.Walk(ctx);
  EXPECT_EQ(walk.end, WalkEnd::kRipZero) << walk.status;
  ASSERT_EQ(walk.frames.size(), 2u);
  const StackFrame& c = walk.frames[1];
  EXPECT_EQ(c.trust, FrameTrust::kFramePointer);
  EXPECT_EQ(c.rip, kBase + kC + 0x30);
  EXPECT_EQ(c.rsp, fp + 16);
  EXPECT_EQ(c.context.gpr[reg::kRbp], 0xb0b0'0000u);
  // What F saved besides RBP is not known: nothing is inherited.
  EXPECT_FALSE(c.context.IsKnown(reg::kRbx));
  EXPECT_FALSE(c.context.IsKnown(reg::kR12));
  EXPECT_FALSE(c.context.IsKnown(kRegXmm0 + 6));
}

TEST(StackWalkerTest, LeafWhoseCallLeadsHereBeatsTheFramePointer) {
  World w;
  // In the leaf (called by B, E8 ending at B + 20h) with RBP pointing at a
  // plausible frame whose CALL (C's, to F) does not lead to the leaf.
  const uint64_t sl = kStackLow + 0x2000;
  const uint64_t fp = sl + 0x100;
  w.memory.WriteU64(sl, kBase + kB + 0x20);
  w.memory.WriteU64(fp, 0);
  w.memory.WriteU64(fp + 8, kBase + kC + 0x30);
  RegisterContext ctx = Context(kBase + kLeaf + 4, sl);
  ctx.SetGpr(reg::kRbp, fp);
  StackWalk walk = w.Walk(ctx);
  ASSERT_GE(walk.frames.size(), 2u);
  EXPECT_EQ(walk.frames[1].trust, FrameTrust::kLeaf);
  EXPECT_EQ(walk.frames[1].rip, kBase + kB + 0x20);
  EXPECT_EQ(walk.frames[1].rsp, sl + 8);
}

TEST(StackWalkerTest, ScanSkipsPlantedValuesAndTakesAReturnAfterACall) {
  World w;
  // In F with RBP useless (below RSP): the scan reads up the stack. Planted:
  // code pointers after no CALL, a pointer outside every module, a pointer
  // into the module without an image; then the real return into C + 30h.
  const uint64_t sf = kStackLow + 0x2000;
  w.memory.WriteU64(sf, kFakeReturn);
  w.memory.WriteU64(sf + 0x08, kBase + kF + 0x10);  // F's own nops
  w.memory.WriteU64(sf + 0x10, 0x1234'5678);
  w.memory.WriteU64(sf + 0x18, kOtherBase + 0x1005);
  w.memory.WriteU64(sf + 0x20, kBase + kZ);         // a function start
  w.memory.WriteU64(sf + 0x48, kBase + kC + 0x30);
  w.memory.WriteU64(sf + 0x50 + 0x28, 0);
  RegisterContext ctx = Context(kBase + kF + 0x25, sf);
  ctx.SetGpr(reg::kRbp, sf - 0x100);
  StackWalk walk = w.Walk(ctx);
  EXPECT_EQ(walk.end, WalkEnd::kRipZero) << walk.status;
  ASSERT_EQ(walk.frames.size(), 2u);
  EXPECT_EQ(walk.frames[1].trust, FrameTrust::kScan);
  EXPECT_EQ(walk.frames[1].rip, kBase + kC + 0x30);
  EXPECT_EQ(walk.frames[1].rsp, sf + 0x50);
  EXPECT_FALSE(walk.frames[1].context.IsKnown(reg::kRbx));
}

TEST(StackWalkerTest, ScanFindingNothingEndsTheWalkWithAReason) {
  World w;
  const uint64_t sf = kStackLow + 0x2000;
  for (uint64_t a = sf; a < sf + 0x100; a += 8) w.memory.WriteU64(a, kFakeReturn);
  RegisterContext ctx = Context(kBase + kF + 0x25, sf);
  ctx.known.reset(reg::kRbp);
  w.options.scan_limit = 0x80;
  StackWalk walk = w.Walk(ctx);
  EXPECT_EQ(walk.end, WalkEnd::kUnwindFailed);
  EXPECT_EQ(walk.frames.size(), 1u);
  EXPECT_TRUE(absl::StrContains(walk.status.message(), "no return address after a CALL"))
      << walk.status;
}

TEST(StackWalkerTest, FramePointerLoopTerminates) {
  World w;
  // F's frame points at itself: [fp] = fp, [fp+8] = F + 25h (F's own call of
  // the leaf, a genuine return address). The second frame's RBP is then below
  // its RSP: not followed; nothing else qualifies and the walk ends there.
  const uint64_t sf = kStackLow + 0x2000;
  const uint64_t fp = sf + 0x40;
  w.memory.WriteU64(sf, kFakeReturn);
  w.memory.WriteU64(fp, fp);
  w.memory.WriteU64(fp + 8, kBase + kF + 0x25);
  RegisterContext ctx = Context(kBase + kF + 0x25, sf);
  ctx.SetGpr(reg::kRbp, fp);
  StackWalk walk = w.Walk(ctx);
  EXPECT_NE(walk.end, WalkEnd::kRipZero) << walk.status;
  ASSERT_EQ(walk.frames.size(), 2u);
  EXPECT_EQ(walk.frames[1].trust, FrameTrust::kFramePointer);
  EXPECT_EQ(walk.frames[1].rsp, fp + 16);
}

// ---- stack switches without unwind data (docs/unwinding.md#stack-switches)

// A (push rbx; sub rsp, 20h) switched to a DPC stack the way KxRetireDpcList
// does: its RSP saved at [top - 8], RSP moved to top - 30h, then a call.
// Unwinding A on the DPC stack reads the saved RSP as its return address.
struct DpcSwitch {
  uint64_t top = kStackHigh + 0x9000;    // the DPC stack: [top - 0x1000, top)
  uint64_t old_rsp = kStackLow + 0x2000;  // A's body RSP on the thread stack
};

DpcSwitch WriteDpcSwitch(FakeMemory& m) {
  DpcSwitch d;
  m.WriteU64(d.top - 8, d.old_rsp);
  m.WriteU64(d.top - 0x10, 0);
  m.WriteU64(d.old_rsp + 0x20, 0x5a5a'0003);        // A's saved rbx
  m.WriteU64(d.old_rsp + 0x28, kBase + kZ + 0x20);  // after Z's call of A
  m.WriteU64(d.old_rsp + 0x30 + 0x60, 0);           // Z's caller: the end
  return d;
}

TEST(StackWalkerTest, DpcStackSwitchFollowsTheSavedStackPointer) {
  for (const bool bounds : {true, false}) {
    SCOPED_TRACE(bounds ? "with stack bounds" : "without stack bounds");
    World w;
    const DpcSwitch d = WriteDpcSwitch(w.memory);
    if (bounds) {
      w.options.stacks.push_back({d.top - 0x1000, d.top});
    } else {
      w.options.stacks.clear();
    }
    StackWalk walk = w.Walk(Context(kBase + kA + 0x20, d.top - 0x30));
    EXPECT_EQ(walk.end, WalkEnd::kRipZero) << walk.status;
    ASSERT_EQ(walk.frames.size(), 2u);
    EXPECT_EQ(walk.frames[1].rip, kBase + kZ + 0x20);
    EXPECT_EQ(walk.frames[1].rsp, d.old_rsp + 0x30);
    EXPECT_EQ(walk.frames[1].trust, FrameTrust::kUnwindInfo);
    EXPECT_EQ(walk.frames[1].context.gpr[reg::kRbx], 0x5a5a'0003u);
    ASSERT_EQ(walk.frames[0].warnings.size(), 1u);
    EXPECT_TRUE(absl::StrContains(walk.frames[0].warnings[0].what, "stack switch"));
  }
}

TEST(StackWalkerTest, SavedStackPointerWhoseCallDoesNotLeadHereIsRefused) {
  World w;
  DpcSwitch d = WriteDpcSwitch(w.memory);
  // The old stack's return address follows C's call of F, not a call of A.
  w.memory.WriteU64(d.old_rsp + 0x28, kBase + kC + 0x30);
  w.options.stacks.push_back({d.top - 0x1000, d.top});
  StackWalk walk = w.Walk(Context(kBase + kA + 0x20, d.top - 0x30));
  EXPECT_EQ(walk.end, WalkEnd::kOutsideModules) << walk.status;
  EXPECT_EQ(walk.frames.size(), 2u);  // the last one is the saved RSP, in no module
  EXPECT_TRUE(walk.frames[0].warnings.empty());
}

// ---- trap frames (docs/unwinding.md#trap-frames)

// M (machine frame, sub rsp 28h) in the kernel module, entered from user
// mode: the machine frame is the tail of a KTRAP_FRAME.
TEST(StackWalkerTest, KernelEntryFromUserModeRestoresTheTrapFrame) {
  World w;
  const uint64_t sm = kKernelStackLow + 0x5000;
  const uint64_t machine = sm + 0x28;
  const uint64_t trap = machine - KtrapFrame::kRip;
  const uint64_t user_rsp = kStackLow + 0x3000;
  w.memory.WriteU64(machine + 0x00, kBase + kZ + 0x20);  // user RIP
  w.memory.WriteU64(machine + 0x08, 0x33);
  w.memory.WriteU64(machine + 0x10, 0x246);
  w.memory.WriteU64(machine + 0x18, user_rsp);
  w.memory.WriteU64(machine + 0x20, 0x2b);
  for (unsigned i = 0; i < 7; ++i) w.memory.WriteU64(trap + KtrapFrame::kRax + 8 * i, 0x7a00 + i);
  w.memory.WriteU64(trap + KtrapFrame::kRbx, 0x7b01);
  w.memory.WriteU64(trap + KtrapFrame::kRdi, 0x7b02);
  w.memory.WriteU64(trap + KtrapFrame::kRsi, 0x7b03);
  w.memory.WriteU64(trap + KtrapFrame::kRbp, 0x7b04);
  for (unsigned i = 0; i < 12; ++i) w.memory.WriteU64(trap + KtrapFrame::kXmm0 + 8 * i, 0x7c00 + i);
  w.memory.WriteU64(user_rsp + 0x60, 0);  // Z's caller: the end
  StackWalk walk = w.Walk(Context(kKernelBase + kM + 0x20, sm));
  EXPECT_EQ(walk.end, WalkEnd::kRipZero) << walk.status;
  ASSERT_EQ(walk.frames.size(), 2u);
  ASSERT_TRUE(walk.frames[0].trap_frame.has_value());
  EXPECT_EQ(*walk.frames[0].trap_frame, trap);
  const StackFrame& user = walk.frames[1];
  EXPECT_EQ(user.trust, FrameTrust::kTrapFrame);
  EXPECT_TRUE(user.exact_rip);
  EXPECT_EQ(user.rip, kBase + kZ + 0x20);
  EXPECT_EQ(user.rsp, user_rsp);
  EXPECT_EQ(user.context.cs, 0x33);
  EXPECT_EQ(user.context.gpr[reg::kRax], 0x7a00u);
  EXPECT_EQ(user.context.gpr[reg::kR11], 0x7a06u);
  EXPECT_EQ(user.context.gpr[reg::kRbx], 0x7b01u);
  EXPECT_EQ(user.context.gpr[reg::kRbp], 0x7b04u);
  EXPECT_EQ(user.context.xmm[5].high, 0x7c0bu);
  // The kernel's other registers are not user mode's: unknown, not inherited.
  EXPECT_FALSE(user.context.IsKnown(reg::kR12));
  EXPECT_FALSE(user.context.IsKnown(reg::kR15));
  EXPECT_FALSE(user.context.IsKnown(kRegXmm0 + 6));
}

TEST(StackWalkerTest, KernelMachineFrameToKernelModeIsNotATrapFrame) {
  World w;
  // A stack switch: the machine frame names kernel code (CS 10h) on another
  // part of the kernel stack; registers follow RtlVirtualUnwind's rules.
  const uint64_t sm = kKernelStackLow + 0x1000;
  const uint64_t machine = sm + 0x28;
  const Chain chain = WriteChain(w.memory, kKernelStackLow + 0x3000, kKernelBase);
  w.memory.WriteU64(machine + 0x00, kKernelBase + kA + 0x20);
  w.memory.WriteU64(machine + 0x08, 0x10);
  w.memory.WriteU64(machine + 0x10, 0x246);
  w.memory.WriteU64(machine + 0x18, chain.sa);
  w.memory.WriteU64(machine + 0x20, 0x18);
  StackWalk walk = w.Walk(Context(kKernelBase + kM + 0x20, sm));
  ASSERT_GE(walk.frames.size(), 2u);
  EXPECT_FALSE(walk.frames[0].trap_frame.has_value());
  EXPECT_EQ(walk.frames[1].trust, FrameTrust::kUnwindInfo);
  EXPECT_EQ(walk.frames[1].rip, kKernelBase + kA + 0x20);
  EXPECT_TRUE(walk.frames[1].context.IsKnown(reg::kR12));
}

TEST(StackWalkerTest, NamesNeverChange) {
  // JSON strings (FrameTrustName, WalkEndName) are part of the output format.
  EXPECT_EQ(FrameTrustName(FrameTrust::kContext), "context");
  EXPECT_EQ(FrameTrustName(FrameTrust::kUnwindInfo), "unwind_info");
  EXPECT_EQ(FrameTrustName(FrameTrust::kLeaf), "leaf");
  EXPECT_EQ(FrameTrustName(FrameTrust::kTrapFrame), "trap_frame");
  EXPECT_EQ(FrameTrustName(FrameTrust::kFramePointer), "frame_pointer");
  EXPECT_EQ(FrameTrustName(FrameTrust::kScan), "scan");
  EXPECT_EQ(WalkEndName(WalkEnd::kRipZero), "rip_zero");
  EXPECT_EQ(WalkEndName(WalkEnd::kOutsideModules), "outside_modules");
  EXPECT_EQ(WalkEndName(WalkEnd::kImageMissing), "image_missing");
  EXPECT_EQ(WalkEndName(WalkEnd::kOutsideStack), "outside_stack");
  EXPECT_EQ(WalkEndName(WalkEnd::kNoProgress), "no_progress");
  EXPECT_EQ(WalkEndName(WalkEnd::kFrameLimit), "frame_limit");
  EXPECT_EQ(WalkEndName(WalkEnd::kUnwindFailed), "unwind_failed");
}

}  // namespace
}  // namespace restack::unwind
