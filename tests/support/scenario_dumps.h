// scenario_dumps.h - kernel dumps of a finished emulated scenario
//
// Turns a KernelScenarioRun (kernel_scenarios.h) into the dump writer's
// KernelScenario (kernel_dump_writer.h) and writes the three committed kinds: full
// (DumpType 1), bitmap (SDMP, DumpType 6) and triage (4). Only needed pages are
// mapped: every image page that is not wholly discardable (.reloc), and each stack
// from the page of its lowest live frame up to its base. The bugcheck processor's
// KPRCB context is its context at KeBugCheckEx's entry (as Windows' KeBugCheckEx saves
// it); the other processor's is its context halted in KiIdleLoop. The triage dump
// holds the bugcheck stack as its stack window and every other live stack (the user
// stack, the stack a switch left) as data blocks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/kernel_dump_writer.h"
#include "tests/support/kernel_scenarios.h"

namespace restack::test {

// The KPRCB layout the scenario dumps advertise in their KDBG: compact (0x600 bytes)
// so that triage dumps stay small; docs/scenarios.md.
SynthKdbgOffsets ScenarioKdbgOffsets();

// The writer's input for `run`.
absl::StatusOr<KernelScenario> BuildDumpScenario(const KernelScenarioRun& run);

// "full", "bitmap", "triage" -> dump bytes. Full and bitmap dumps describe exactly the
// physical pages the writer allocated (one run from PFN 1).
absl::StatusOr<std::map<std::string, std::vector<uint8_t>>> WriteScenarioDumps(
    const KernelScenarioRun& run);
// The same from a writer input built by BuildDumpScenario and then adjusted (e.g. the
// build number or the crash time the header states).
absl::StatusOr<std::map<std::string, std::vector<uint8_t>>> WriteScenarioDumps(
    const KernelScenario& scenario);

// The generators' output (kernel_fixture_gen, demo_fixture_gen): `truth` as JSON in
// dir/truth_file and each of `dumps` in dir/<the file truth.dumps names for its kind>,
// `dir` created if missing. Returns " <file> <size>" per file written, for a progress
// line.
absl::StatusOr<std::string> WriteScenarioFiles(
    const std::string& dir, const std::string& truth_file, const ScenarioTruth& truth,
    const std::map<std::string, std::vector<uint8_t>>& dumps);

}  // namespace restack::test
