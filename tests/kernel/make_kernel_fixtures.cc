// make_kernel_fixtures.cc - kernel_fixture_gen: runs the emulated kernel scenarios and
// writes their truth and dumps (tests/fixtures/kernel/regenerate.sh runs it).
//
//   kernel_fixture_gen FIXTURE_DIR OUT_DIR [SCENARIO...]
//
// FIXTURE_DIR holds store/ (the images) and maps/ (their lld-link maps); for each
// scenario (default: all) OUT_DIR gets <name>.truth.json, <name>.full.dmp,
// <name>.bitmap.dmp and <name>.triage.dmp. Exit status 1 on any failure.
#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/kernel_scenarios.h"
#include "tests/support/scenario_dumps.h"
#include "tests/support/scenario_truth.h"

namespace {

int Run(const std::string& fixtures, const std::string& out_dir,
        const restack::test::KernelScenarioSpec& spec) {
  using namespace restack::test;
  absl::StatusOr<KernelScenarioRun> run =
      RunKernelScenario(spec, KernelFixtureFiles::In(fixtures));
  if (!run.ok()) {
    std::fprintf(stderr, "%s: %s\n", spec.name.c_str(), run.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::map<std::string, std::vector<uint8_t>>> dumps = WriteScenarioDumps(*run);
  if (!dumps.ok()) {
    std::fprintf(stderr, "%s: %s\n", spec.name.c_str(), dumps.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::string> written =
      WriteScenarioFiles(out_dir, spec.name + ".truth.json", run->truth, *dumps);
  if (!written.ok()) {
    std::fprintf(stderr, "%s: %s\n", spec.name.c_str(), written.status().ToString().c_str());
    return 1;
  }
  std::printf("%-13s %2zu frames, %zu decoys, %llu instructions;%s\n", spec.name.c_str(),
              run->truth.frames.size(), run->truth.decoys.size(),
              static_cast<unsigned long long>(run->truth.instructions), written->c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FIXTURE_DIR OUT_DIR [SCENARIO...]\n", argv[0]);
    return 2;
  }
  const std::string fixtures = argv[1], out_dir = argv[2];
  std::vector<const restack::test::KernelScenarioSpec*> chosen;
  for (int i = 3; i < argc; ++i) {
    const restack::test::KernelScenarioSpec* s = restack::test::FindKernelScenario(argv[i]);
    if (s == nullptr) {
      std::fprintf(stderr, "unknown scenario %s\n", argv[i]);
      return 2;
    }
    chosen.push_back(s);
  }
  if (chosen.empty()) {
    for (const restack::test::KernelScenarioSpec& s : restack::test::KernelScenarios()) {
      chosen.push_back(&s);
    }
  }
  int rc = 0;
  for (const restack::test::KernelScenarioSpec* s : chosen) rc |= Run(fixtures, out_dir, *s);
  return rc;
}
