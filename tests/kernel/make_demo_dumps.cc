// make_demo_dumps.cc - demo_fixture_gen: runs the bundled demo's machines and writes
// their dumps and truth (tests/fixtures/demo/regenerate.sh runs it).
//
//   demo_fixture_gen SYMBOLS MAPS OUT_DIR [MACHINE...]
//
// SYMBOLS is the demo's symbol store (the images), MAPS the images' lld-link maps; for
// each machine (default: all) OUT_DIR/<machine>/ gets MEMORY.DMP (bitmap), the triage
// dump (Mini<date>-01.dmp) and truth.json. Exit status 1 on any failure.
#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/demo_scenarios.h"
#include "tests/support/scenario_dumps.h"

namespace {

int Run(const restack::test::KernelFixtureFiles& files, const std::string& out_dir,
        const restack::test::DemoMachine& machine) {
  using namespace restack::test;
  absl::StatusOr<KernelScenarioRun> run = RunDemoMachine(machine, files);
  if (!run.ok()) {
    std::fprintf(stderr, "%s: %s\n", machine.name.c_str(), run.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::map<std::string, std::vector<uint8_t>>> dumps = WriteDemoDumps(*run, machine);
  if (!dumps.ok()) {
    std::fprintf(stderr, "%s: %s\n", machine.name.c_str(), dumps.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::string> written =
      WriteScenarioFiles(out_dir + "/" + machine.name, kDemoTruthFile, run->truth, *dumps);
  if (!written.ok()) {
    std::fprintf(stderr, "%s: %s\n", machine.name.c_str(), written.status().ToString().c_str());
    return 1;
  }
  std::printf("%s: %2zu frames, %llu instructions;%s\n", machine.name.c_str(),
              run->truth.frames.size(), static_cast<unsigned long long>(run->truth.instructions),
              written->c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s SYMBOLS MAPS OUT_DIR [MACHINE...]\n", argv[0]);
    return 2;
  }
  const restack::test::KernelFixtureFiles files{argv[1], argv[2]};
  const std::string out_dir = argv[3];
  std::vector<const restack::test::DemoMachine*> chosen;
  for (int i = 4; i < argc; ++i) {
    const restack::test::DemoMachine* m = restack::test::FindDemoMachine(argv[i]);
    if (m == nullptr) {
      std::fprintf(stderr, "unknown machine %s\n", argv[i]);
      return 2;
    }
    chosen.push_back(m);
  }
  if (chosen.empty()) {
    for (const restack::test::DemoMachine& m : restack::test::DemoMachines()) chosen.push_back(&m);
  }
  int rc = 0;
  for (const restack::test::DemoMachine* m : chosen) rc |= Run(files, out_dir, *m);
  return rc;
}
