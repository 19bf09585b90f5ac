// scenario_walk_test.cc - restack's walker on every scenario dump, frame by frame
// against the emulator's truth
//
// Each dump is opened as restack-walk opens it (truth_walk.h: images from the fixture
// store, the user-mode image the truth lists added, the bugcheck processor's context
// walked with the truth's stacks as WalkOptions::stacks). A walk matches when it ends at
// the zero return address (kRipZero) after exactly the truth's frames, each with the
// truth's RIP and Child-SP. The comparison is never relaxed:
// a scenario the walker cannot complete yet has its test DISABLED_ with the feature it
// needs.
#include "gtest/gtest.h"
#include "tests/kernel/scenario_fixture.h"
#include "tests/kernel/truth_walk.h"

namespace restack::test {
namespace {

absl::StatusOr<TruthWalk> WalkDump(const ScenarioTruth& truth, const std::string& kind) {
  return WalkDumpOfTruth(truth, ScenarioFile(truth.dumps.at(kind)),
                         CommittedFixtureFiles().store);
}

// Every dump of `scenario` walks to exactly the truth's frames (`complete`), or at least
// never produces a frame the truth lacks (WalkMatchesTruth). A complete walk's frames
// are also checked for how they were found (CheckFrameTrust), at least `min_scanned`
// of them from a scan.
void CheckWalks(const std::string& scenario, bool complete, size_t min_scanned = 0) {
  const ScenarioTruth truth = CommittedTruth(scenario);
  for (const std::string& kind : DumpKinds()) {
    SCOPED_TRACE(scenario + " " + kind);
    absl::StatusOr<TruthWalk> w = WalkDump(truth, kind);
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_TRUE(WalkMatchesTruth(truth, w->walk, complete)) << TruthWalkTable(truth, w->walk);
    if (!complete) continue;
    SCOPED_TRACE("trust");
    EXPECT_GE(CheckFrameTrust(truth, *w), min_scanned) << TruthWalkTable(truth, w->walk);
  }
}

void ExpectWalksMatchTruth(const std::string& scenario, size_t min_scanned = 0) {
  CheckWalks(scenario, true, min_scanned);
}
void ExpectNoFalseFrames(const std::string& scenario) { CheckWalks(scenario, false); }

// (a) user -> syscall -> KTRAP_FRAME -> kernel -> rsdrv -> cold chunk -> KeBugCheckEx.
TEST(ScenarioWalkTest, SyscallThroughTheTrapFrameIntoUserMode) { ExpectWalksMatchTruth("syscall"); }

// (b) KeExpandKernelStackAndCallout's switch through a machine frame.
TEST(ScenarioWalkTest, ExpandStackThroughTheMachineFrame) { ExpectWalksMatchTruth("expand_stack"); }

// (c) The DPC stack: no unwind description of the switch, the old RSP at the DPC
// stack's base - 8.
TEST(ScenarioWalkTest, DpcStackThroughTheSavedRsp) { ExpectWalksMatchTruth("dpc_stack"); }

// (d) rsham.sys (no PDB) and rsfpo.sys's frame-pointer functions without .pdata.
TEST(ScenarioWalkTest, DriversWithoutPdbAndWithoutPdata) { ExpectWalksMatchTruth("no_pdb_fpo"); }

// Adversarial: FpPlant (no .pdata, no frame pointer) has eight values pointing into
// code, none after a CALL, between its RSP and its return address, and RBP at a fake
// frame record.
// FpPlant's caller can only come from the scan, which must say so.
TEST(ScenarioWalkTest, PlantedReturnAddressesAreSkipped) {
  ExpectWalksMatchTruth("fake_returns", /*min_scanned=*/1);
}

// Adversarial: FpLoopInner's saved RBP points at itself, so the frame-pointer step from
// FpLoopOuter (no .pdata) is refused (RBP below RSP), and the zero at its [RSP] (its
// zeroed home area) must not be taken for the end of the stack: the scan from
// FpLoopOuter's Child-SP finds the return into rsham!HamLoop right after its CALL.
TEST(ScenarioWalkTest, FramePointerLoopIsLeftByTheScan) {
  ExpectWalksMatchTruth("fp_loop", /*min_scanned=*/1);
}

// The adversarial rule for every scenario: no false frame, and an end.
TEST(ScenarioWalkTest, NoWalkProducesAFrameTheTruthLacks) {
  for (const std::string& name : ScenarioNames()) ExpectNoFalseFrames(name);
}

}  // namespace
}  // namespace restack::test
