// shadow_stack_test.cc - the shadow stack's rules on hand-made event sequences
#include "tests/support/shadow_stack.h"

#include <map>

#include "gtest/gtest.h"

namespace restack::test {
namespace {

constexpr uint64_t kOldBase = 0x10000, kNewBase = 0x20000;

std::vector<StackSegment> Segments() {
  return {{"old", kOldBase - 0x4000, kOldBase, false}, {"new", kNewBase - 0x4000, kNewBase, false}};
}

struct Memory {
  std::map<uint64_t, uint64_t> q;
  QwordReader reader() const {
    return [this](uint64_t va) -> std::optional<uint64_t> {
      auto it = q.find(va);
      if (it == q.end()) return std::nullopt;
      return it->second;
    };
  }
};

TEST(ShadowStackTest, CallsGiveReturnAddressAndSlotPlusEight) {
  ShadowStack s(Segments());
  s.Start(kOldBase - 0x38);
  s.OnCall(0x1000, 0x1005, kOldBase - 0x60);
  s.OnCall(0x2000, 0x2006, kOldBase - 0x90);
  Memory m;
  absl::StatusOr<std::vector<TruthFrame>> f = s.Frames(0x3000, kOldBase - 0x98, m.reader());
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ((*f)[0].how, TruthHow::kContext);
  EXPECT_EQ((*f)[1].rip, 0x2006u);
  EXPECT_EQ((*f)[1].rsp, kOldBase - 0x90);
  EXPECT_EQ((*f)[1].call_site, 0x2000u);
  EXPECT_EQ((*f)[2].rip, 0x1005u);
  EXPECT_EQ((*f)[2].stack, "old");
  EXPECT_TRUE(s.OnReturn(0x2100, kOldBase - 0x98).ok());
  EXPECT_TRUE(s.OnReturn(0x1100, kOldBase - 0x68).ok());
}

TEST(ShadowStackTest, AReturnToAnotherSlotIsAnError) {
  ShadowStack s(Segments());
  s.Start(kOldBase - 0x38);
  s.OnCall(0x1000, 0x1005, kOldBase - 0x60);
  EXPECT_FALSE(s.OnReturn(0x1100, kOldBase - 0x70).ok());
}

TEST(ShadowStackTest, MachineFrameSwitchTakesTheOldRsp) {
  ShadowStack s(Segments());
  s.Start(kOldBase - 0x38);
  s.OnCall(0x1000, 0x1005, kOldBase - 0x60);  // into the switching function
  s.OnStackMoved(0x2010, kOldBase - 0x90, kNewBase - 0x20);
  s.OnCall(0x2020, 0x2025, kNewBase - 0x20);  // slot kNewBase - 0x28
  Memory m;
  m.q = {{kNewBase - 0x28, 0x2025}, {kNewBase - 0x20, 0x10}, {kNewBase - 0x18, 0x202},
         {kNewBase - 0x10, kOldBase - 0x90}, {kNewBase - 0x08, 0x18}};
  absl::StatusOr<std::vector<TruthFrame>> f = s.Frames(0x3000, kNewBase - 0x60, m.reader());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)[1].how, TruthHow::kStackSwitch);
  EXPECT_EQ((*f)[1].rsp, kOldBase - 0x90);
  EXPECT_EQ((*f)[1].machine_frame, kNewBase - 0x28);
  EXPECT_EQ((*f)[1].stack, "old");
  EXPECT_EQ((*f)[2].how, TruthHow::kCall);
}

// A call into a function that moves RSP to the new stack and calls on from there.
ShadowStack SwitchedToNewStack() {
  ShadowStack s(Segments());
  s.Start(kOldBase - 0x38);
  s.OnCall(0x1000, 0x1005, kOldBase - 0x60);
  s.OnStackMoved(0x2010, kOldBase - 0x88, kNewBase - 0x30);
  s.OnCall(0x2020, 0x2025, kNewBase - 0x30);
  return s;
}

TEST(ShadowStackTest, SavedRspSwitchMarksTheSwitchersCaller) {
  const ShadowStack s = SwitchedToNewStack();
  Memory m;
  m.q = {{kNewBase - 8, kOldBase - 0x88}};
  absl::StatusOr<std::vector<TruthFrame>> f = s.Frames(0x3000, kNewBase - 0x60, m.reader());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)[1].how, TruthHow::kCall);
  EXPECT_EQ((*f)[1].rsp, kNewBase - 0x30);
  EXPECT_EQ((*f)[2].how, TruthHow::kStackSwitch);
  EXPECT_EQ((*f)[2].saved_rsp_slot, kNewBase - 8);
  EXPECT_EQ((*f)[2].rsp, kOldBase - 0x60);
}

TEST(ShadowStackTest, AnUndocumentedSwitchIsAnError) {
  const ShadowStack s = SwitchedToNewStack();
  Memory m;  // neither a machine frame nor the saved RSP
  EXPECT_FALSE(s.Frames(0x3000, kNewBase - 0x60, m.reader()).ok());
}

TEST(ShadowStackTest, SyscallGivesTheUserFrameAndChecksTheTrapFrame) {
  ShadowStack s({{"user", 0x8000, 0x10000, true}, {"kernel", kNewBase - 0x4000, kNewBase, false}});
  s.Start(0xFFC8);
  s.OnCall(0x1000, 0x1005, 0xFF90);  // user: into the stub; slot 0xFF88
  std::array<uint64_t, 16> gpr{};
  gpr[5] = 0xBB;  // rbp
  s.OnSyscall(0x1100, 0x1102, 0xFF88, gpr);
  s.OnStackMoved(0x9000, 0xFF88, kNewBase);
  s.OnCall(0x9100, 0x9105, kNewBase - 0x190);
  Memory m;
  const uint64_t tf = kNewBase - kTrapFrameLength;
  m.q = {{tf + kTrapFrameRip, 0x1102}, {tf + kTrapFrameSegCs, 0x33}, {tf + kTrapFrameRsp, 0xFF88},
         {tf + kTrapFrameSegSs, 0x2B}};
  absl::StatusOr<std::vector<TruthFrame>> f = s.Frames(0x3000, kNewBase - 0x1A0, m.reader());
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->size(), 4u);
  EXPECT_EQ((*f)[1].rsp, kNewBase - 0x190);
  EXPECT_EQ((*f)[2].how, TruthHow::kTrap);
  EXPECT_EQ((*f)[2].rip, 0x1102u);
  EXPECT_EQ((*f)[2].rsp, 0xFF88u);
  EXPECT_EQ((*f)[2].trap_frame, tf);
  EXPECT_EQ((*f)[2].stack, "user");
  EXPECT_EQ((*f)[3].rip, 0x1005u);
  // A KTRAP_FRAME that does not hold the user state is an error.
  m.q[tf + kTrapFrameRsp] = 0xFF00;
  EXPECT_FALSE(s.Frames(0x3000, kNewBase - 0x1A0, m.reader()).ok());
}

}  // namespace
}  // namespace restack::test
