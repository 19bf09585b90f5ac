// scenario_live_test.cc - the scenarios run live on the emulated CPU (Unicorn), in CI
//
// Each scenario is run again from the committed store and maps; its truth must be the
// committed truth, byte for byte, and the dumps written from the run the committed
// dumps: what is committed is what the runner produces now.
#include "gtest/gtest.h"
#include "tests/kernel/scenario_fixture.h"
#include "tests/support/file_read.h"
#include "tests/support/scenario_dumps.h"

namespace restack::test {
namespace {

std::vector<uint8_t> FileBytes(const std::string& path) {
  absl::StatusOr<std::vector<uint8_t>> bytes = ReadFileBytes(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *std::move(bytes) : std::vector<uint8_t>{};
}

TEST(ScenarioLiveTest, RunsReproduceTheCommittedTruthAndDumps) {
  for (const KernelScenarioSpec& spec : KernelScenarios()) {
    SCOPED_TRACE(spec.name);
    absl::StatusOr<KernelScenarioRun> run = RunKernelScenario(spec, CommittedFixtureFiles());
    ASSERT_TRUE(run.ok()) << run.status();
    const std::vector<uint8_t> committed = FileBytes(ScenarioFile(spec.name + ".truth.json"));
    const std::string json = TruthToJson(run->truth);
    EXPECT_EQ(json, std::string(committed.begin(), committed.end()))
        << "the runner's truth differs from the committed one: rerun "
           "tests/fixtures/kernel/regenerate.sh";
    absl::StatusOr<std::map<std::string, std::vector<uint8_t>>> dumps = WriteScenarioDumps(*run);
    ASSERT_TRUE(dumps.ok()) << dumps.status();
    for (const std::string& kind : DumpKinds()) {
      EXPECT_TRUE(dumps->at(kind) == FileBytes(ScenarioFile(run->truth.dumps.at(kind))))
          << kind << " dump differs from the committed one";
    }
  }
}

// The truth comes from the CPU: rerunning gives the same frames, and the context the
// fixture's own KeBugCheckEx saved (RunKernelScenario checks it) is frame 0.
TEST(ScenarioLiveTest, FrameZeroIsKeBugCheckExsEntryContext) {
  const KernelScenarioSpec* spec = FindKernelScenario("syscall");
  ASSERT_NE(spec, nullptr);
  absl::StatusOr<KernelScenarioRun> run = RunKernelScenario(*spec, CommittedFixtureFiles());
  ASSERT_TRUE(run.ok()) << run.status();
  const LoadedImage* nt = run->machine->Image("rsnt.exe");
  ASSERT_NE(nt, nullptr);
  EXPECT_EQ(run->bugcheck_context.rip, nt->ExportAddress("KeBugCheckEx"));
  EXPECT_EQ(run->truth.frames[0].rsp, run->bugcheck_context.rsp());
  // The syscall's user state: RCX and R11 as the CPU set them are in the KTRAP_FRAME.
  const TruthFrame* user = nullptr;
  for (const TruthFrame& f : run->truth.frames) {
    if (f.how == TruthHow::kTrap) user = &f;
  }
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(run->machine->ReadU64(*user->trap_frame + 0x168), user->rip);
  EXPECT_EQ(run->machine->ReadU64(*user->trap_frame + 0x180), user->rsp);
  EXPECT_EQ(run->machine->ReadU64(*user->trap_frame + 0x170), 0x33u);
  EXPECT_EQ(run->machine->ReadU64(*user->trap_frame + 0x188), 0x2Bu);
  // KTRAP_FRAME.Rbp (0x158) holds the user's RBP, which the truth recorded.
  uint64_t rbp = 0;
  for (const auto& [reg, value] : user->regs) {
    if (reg == "rbp") rbp = value;
  }
  EXPECT_EQ(run->machine->ReadU64(*user->trap_frame + 0x158), rbp);
}

}  // namespace
}  // namespace restack::test
