// truth_walk.h - restack's walker on a dump of an emulated run, against the run's truth
//
// Shared by the scenario walks (scenario_walk_test.cc) and the bundled demo's
// (demo_walk_test.cc). The dump is opened as restack-walk opens it
// (tools::OpenDumpTarget, images from a symbol store), the user-mode image the truth
// lists is added to the module map (a kernel dump lists kernel modules only), and the
// bugcheck processor's context is walked with unwind::WalkStack, the truth's stacks as
// WalkOptions::stacks.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/dump_target.h"
#include "restack/unwind/stack_walker.h"
#include "tests/support/scenario_truth.h"

namespace restack::test {

struct TruthWalk {
  std::unique_ptr<tools::DumpTarget> target;
  unwind::StackWalk walk;
};

absl::StatusOr<TruthWalk> WalkDumpOfTruth(const ScenarioTruth& truth, const std::string& dump,
                                          const std::string& store);

// Whether `walk` has exactly the truth's frames (RIP and Child-SP) and ends at the zero
// return address (`complete`), or at least never produces a frame the truth lacks: a
// prefix of the truth, frame for frame, ending on its own rather than at the frame limit.
bool WalkMatchesTruth(const ScenarioTruth& truth, const unwind::StackWalk& walk, bool complete);

// Both columns side by side, for failure messages.
std::string TruthWalkTable(const ScenarioTruth& truth, const unwind::StackWalk& walk);

// How each frame of a complete walk was found, against what the truth and the images
// say (gtest expectations): the user frame behind a system call comes from the
// KTRAP_FRAME (whose machine frame holds that frame's RIP and RSP), the caller of code
// without .pdata is never credited to unwind data, every other caller is. Returns how
// many frames came from a scan.
size_t CheckFrameTrust(const ScenarioTruth& truth, const TruthWalk& w);

}  // namespace restack::test
