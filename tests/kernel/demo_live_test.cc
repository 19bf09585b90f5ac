// demo_live_test.cc - the bundled demo's machines run live on the emulated CPU (Unicorn),
// in CI: each machine's truth and dumps must be the committed ones under demo/, byte
// for byte (tests/fixtures/demo/regenerate.sh rewrites them).
#include "gtest/gtest.h"
#include "tests/support/demo_scenarios.h"
#include "tests/support/file_read.h"

namespace restack::test {
namespace {

std::string Committed(const DemoMachine& m, const std::string& file) {
  absl::StatusOr<std::string> text = ReadFileText("demo/" + m.name + "/" + file);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *std::move(text) : std::string();
}

TEST(DemoLiveTest, MachinesReproduceTheCommittedTruthAndDumps) {
  for (const DemoMachine& m : DemoMachines()) {
    SCOPED_TRACE(m.name);
    absl::StatusOr<KernelScenarioRun> run = RunDemoMachine(m, DemoFixtureFiles("."));
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(TruthToJson(run->truth), Committed(m, kDemoTruthFile))
        << "the runner's truth differs from the committed one: rerun "
           "tests/fixtures/demo/regenerate.sh";
    absl::StatusOr<std::map<std::string, std::vector<uint8_t>>> dumps = WriteDemoDumps(*run, m);
    ASSERT_TRUE(dumps.ok()) << dumps.status();
    ASSERT_EQ(dumps->size(), 2u);
    for (const auto& [kind, bytes] : *dumps) {
      const std::string committed = Committed(m, run->truth.dumps.at(kind));
      EXPECT_TRUE(std::string(bytes.begin(), bytes.end()) == committed)
          << kind << " dump differs from the committed one";
    }
  }
}

}  // namespace
}  // namespace restack::test
