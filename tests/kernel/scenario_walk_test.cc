// scenario_walk_test.cc - restack's walker on every scenario dump, frame by frame
// against the emulator's truth
//
// Each dump is opened as restack-walk opens it (tools::OpenDumpTarget, images from the
// fixture store), the user-mode image the truth lists is added to the module map (a
// kernel dump lists kernel modules only), and the bugcheck processor's context is
// walked with unwind::WalkStack, the truth's stacks as WalkOptions::stacks. A walk
// matches when it ends at the zero return address (kRipZero) after exactly the truth's
// frames, each with the truth's RIP and Child-SP. The comparison is never relaxed:
// a scenario the walker cannot complete yet has its test DISABLED_ with the feature it
// needs.
#include <memory>
#include <sstream>

#include "absl/strings/str_format.h"
#include "common/dump_target.h"
#include "gtest/gtest.h"
#include "restack/sym/image_locator.h"
#include "restack/unwind/stack_walker.h"
#include "restack/unwind/trap_frame.h"
#include "tests/kernel/scenario_fixture.h"
#include "tests/support/file_read.h"

namespace restack::test {
namespace {

struct Walked {
  std::unique_ptr<tools::DumpTarget> target;
  unwind::StackWalk walk;
};

absl::StatusOr<Walked> WalkDump(const ScenarioTruth& truth, const std::string& kind) {
  const std::string path = ScenarioFile(truth.dumps.at(kind));
  absl::StatusOr<std::vector<uint8_t>> file = ReadFileBytes(path);
  if (!file.ok()) return file.status();
  auto bytes = std::make_shared<std::vector<uint8_t>>(*std::move(file));
  const sym::ImageLocator locator({CommittedFixtureFiles().store});
  absl::StatusOr<std::unique_ptr<tools::DumpTarget>> target =
      tools::OpenDumpTarget(*bytes, bytes, path, locator);
  if (!target.ok()) return target.status();
  Walked w;
  w.target = *std::move(target);
  for (const TruthModule& m : truth.modules) {
    if (!m.user) continue;
    unwind::Module module;
    module.base = m.base;
    module.size = m.size;
    module.name = m.name;
    module.timestamp = m.timestamp;
    absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
        locator.Open(m.name, m.timestamp, m.size);
    if (!image.ok()) return image.status();
    if (absl::Status st = module.AttachImage(*image); !st.ok()) return st;
    if (absl::Status st = w.target->modules.Add(std::move(module)); !st.ok()) return st;
  }
  const dump::KernelDump& dump = *w.target->kernel;
  const std::optional<uint32_t> cpu = dump.bugcheck_processor();
  if (!cpu) return absl::NotFoundError("no bugcheck processor");
  const dump::ProcessorContext* context = nullptr;
  for (const dump::ProcessorContext& p : dump.processor_contexts()) {
    if (p.processor == *cpu) context = &p;
  }
  if (context == nullptr) return absl::NotFoundError("no context for the bugcheck processor");
  unwind::WalkOptions options;
  for (const TruthStack& s : truth.stacks) options.stacks.push_back({s.limit, s.base});
  w.walk = unwind::WalkStack(tools::ToRegisterContext(context->context), *w.target->memory,
                             w.target->modules, options);
  return w;
}

// Both columns side by side, for failure messages.
std::string Table(const ScenarioTruth& truth, const unwind::StackWalk& walk) {
  std::ostringstream out;
  out << absl::StrFormat("walk ended %s (%s)\n", unwind::WalkEndName(walk.end), walk.status.ToString());
  out << " #  truth RIP          Child-SP           how           | walk RIP           Child-SP           trust\n";
  for (size_t i = 0; i < std::max(truth.frames.size(), walk.frames.size()); ++i) {
    std::string left(54, ' '), right;
    if (i < truth.frames.size()) {
      const TruthFrame& f = truth.frames[i];
      left = absl::StrFormat("%-18x %-18x %-13s", f.rip, f.rsp, TruthHowName(f.how));
    }
    if (i < walk.frames.size()) {
      const unwind::StackFrame& f = walk.frames[i];
      right = absl::StrFormat("%-18x %-18x %s", f.rip, f.rsp, unwind::FrameTrustName(f.trust));
    }
    const bool same = i < truth.frames.size() && i < walk.frames.size() &&
                      truth.frames[i].rip == walk.frames[i].rip &&
                      truth.frames[i].rsp == walk.frames[i].rsp;
    out << absl::StrFormat("%2u%s %s| %s  %s\n", i, same ? " " : "*", left, right,
                           i < truth.frames.size() ? truth.frames[i].function : "");
  }
  return out.str();
}

// Every dump of `scenario` walks to exactly the truth's frames (`complete`), or at least
// never produces a frame the truth lacks: each walk a prefix of the truth, frame for
// frame, ending on its own rather than at the frame limit.
void CheckWalks(const std::string& scenario, bool complete) {
  const ScenarioTruth truth = CommittedTruth(scenario);
  for (const std::string& kind : DumpKinds()) {
    SCOPED_TRACE(scenario + " " + kind);
    absl::StatusOr<Walked> w = WalkDump(truth, kind);
    ASSERT_TRUE(w.ok()) << w.status();
    const unwind::StackWalk& walk = w->walk;
    bool ok = walk.frames.size() <= truth.frames.size() &&
              (complete ? walk.end == unwind::WalkEnd::kRipZero &&
                              walk.frames.size() == truth.frames.size()
                        : walk.end != unwind::WalkEnd::kFrameLimit);
    for (size_t i = 0; ok && i < walk.frames.size(); ++i) {
      ok = walk.frames[i].rip == truth.frames[i].rip && walk.frames[i].rsp == truth.frames[i].rsp;
    }
    EXPECT_TRUE(ok) << Table(truth, walk);
  }
}

// How each frame of a complete walk was found, against what the truth and the
// images say: the user frame behind a system call comes from the KTRAP_FRAME (whose
// machine frame holds that frame's RIP and RSP), and the caller of code without .pdata
// is never credited to unwind data. Returns how many frames came from a scan.
size_t CheckTrust(const ScenarioTruth& truth, const Walked& w) {
  size_t scanned = 0;
  const unwind::StackWalk& walk = w.walk;
  for (size_t i = 1; i < walk.frames.size() && i < truth.frames.size(); ++i) {
    SCOPED_TRACE(absl::StrFormat("frame %u (%s)", i, truth.frames[i].function));
    const unwind::StackFrame& callee = walk.frames[i - 1];
    const unwind::StackFrame& f = walk.frames[i];
    if (truth.frames[i].how == TruthHow::kTrap) {
      EXPECT_EQ(f.trust, unwind::FrameTrust::kTrapFrame);
      EXPECT_TRUE(callee.trap_frame.has_value());
      if (!callee.trap_frame) continue;
      absl::StatusOr<uint64_t> rip =
          w.target->memory->ReadU64(*callee.trap_frame + unwind::KtrapFrame::kRip);
      absl::StatusOr<uint64_t> rsp =
          w.target->memory->ReadU64(*callee.trap_frame + unwind::KtrapFrame::kRsp);
      EXPECT_TRUE(rip.ok() && rsp.ok());
      if (rip.ok() && rsp.ok()) {
        EXPECT_EQ(*rip, truth.frames[i].rip);
        EXPECT_EQ(*rsp, truth.frames[i].rsp);
      }
    } else {
      EXPECT_FALSE(callee.trap_frame.has_value());
    }
    if (!callee.function.has_value()) {
      EXPECT_TRUE(f.trust == unwind::FrameTrust::kLeaf ||
                  f.trust == unwind::FrameTrust::kFramePointer ||
                  f.trust == unwind::FrameTrust::kScan)
          << unwind::FrameTrustName(f.trust);
    } else if (truth.frames[i].how != TruthHow::kTrap) {
      EXPECT_EQ(f.trust, unwind::FrameTrust::kUnwindInfo);
    }
    scanned += f.trust == unwind::FrameTrust::kScan;
  }
  return scanned;
}

void ExpectWalksMatchTruth(const std::string& scenario, size_t min_scanned = 0) {
  CheckWalks(scenario, true);
  const ScenarioTruth truth = CommittedTruth(scenario);
  for (const std::string& kind : DumpKinds()) {
    SCOPED_TRACE(scenario + " " + kind + " (trust)");
    absl::StatusOr<Walked> w = WalkDump(truth, kind);
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_GE(CheckTrust(truth, *w), min_scanned) << Table(truth, w->walk);
  }
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
