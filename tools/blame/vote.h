// vote.h - the culprit of a set of stacks: each module's evidence across them
//
// One stack is weak evidence (a 0x44 names the second of two completers, not
// necessarily the faulty one); a driver present in every stack of a crash is
// strong. Every module with an owner (not ignored) gets a vote entry: how
// many stacks have a frame in it, how many blame it, and at which frames.
// Modules are ranked by the strength of their owner (definite, maybe_,
// last_), then by the stacks they are in, then by the stacks blaming them,
// then by how near the top their frames are.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "blame/culprit.h"
#include "common/stack_input.h"

namespace restack::tools {

// A module's frames in one stack.
struct ModuleEvidence {
  size_t stack = 0;            // index into the stacks voted on
  std::vector<size_t> frames;  // frame indices, top first
  bool blamed = false;         // the stack's culprit is one of them
};

struct ModuleVote {
  std::string module;   // as first seen ("Hamdrv")
  std::string image;    // IMAGE_NAME as first seen ("Hamdrv.sys")
  const TriageRule* rule = nullptr;  // the strongest rule its frames matched
  size_t stacks_present = 0;         // stacks with an owned frame in the module
  size_t stacks_blamed = 0;          // stacks whose culprit is in the module
  std::vector<ModuleEvidence> evidence;  // one per stack it is in, in stack order
  double mean_top_frame = 0;  // over those stacks, the index of its topmost frame
};

// The ranked vote (strongest first); `blames[i]` is BlameStack(stacks[i]).
std::vector<ModuleVote> Vote(const std::vector<InputStack>& stacks,
                             const std::vector<StackBlame>& blames);

// The verdict of a vote: its first module, named by the frame most often
// blamed in it (else its topmost frame in the first stack it is in), with the
// failure code most stacks state. nullopt for an empty vote.
struct Verdict {
  const ModuleVote* vote = nullptr;
  size_t stack = 0;  // the stack whose frame names the verdict
  size_t frame = 0;
  AnalyzeNames names;
};
std::optional<Verdict> VerdictOf(const std::vector<ModuleVote>& votes,
                                 const std::vector<InputStack>& stacks,
                                 const std::vector<StackBlame>& blames);

}  // namespace restack::tools
