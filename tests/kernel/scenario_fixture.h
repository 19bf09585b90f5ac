// scenario_fixture.h - the committed emulated kernel scenarios (tests/fixtures/kernel/),
// as the tests in tests/kernel/ read them
#pragma once

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/kernel_scenarios.h"
#include "tests/support/scenario_truth.h"

namespace restack::test {

inline constexpr char kKernelFixtureDir[] = "tests/fixtures/kernel";

// The three dump kinds every scenario is committed as.
inline const std::vector<std::string>& DumpKinds() {
  static const std::vector<std::string> kinds = {"full", "bitmap", "triage"};
  return kinds;
}

// tests/fixtures/kernel/scenarios/<file>.
inline std::string ScenarioFile(const std::string& file) {
  return std::string(kKernelFixtureDir) + "/scenarios/" + file;
}

inline KernelFixtureFiles CommittedFixtureFiles() {
  return KernelFixtureFiles::In(kKernelFixtureDir);
}

// The committed truth of `scenario`; a test failure (and an empty truth) if unreadable.
inline ScenarioTruth CommittedTruth(const std::string& scenario) {
  absl::StatusOr<ScenarioTruth> t = ReadTruthFile(ScenarioFile(scenario + ".truth.json"));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : ScenarioTruth{};
}

// Every scenario's name, in KernelScenarios() order.
inline std::vector<std::string> ScenarioNames() {
  std::vector<std::string> names;
  for (const KernelScenarioSpec& s : KernelScenarios()) names.push_back(s.name);
  return names;
}

}  // namespace restack::test
