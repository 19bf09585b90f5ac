// diff.h - restack-diff: two or more stacks in, their alignment and what they share out
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "common/stack_input.h"

namespace restack::tools {

struct DiffToolOptions {
  std::vector<std::string> inputs;  // stack text or JSON Lines files; "-" for stdin (none: stdin)
  bool json = false;                // one JSON object (docs/tools.md#restack-diff)
};

// Writes the comparison of `stacks` (at least two): for exactly two, the
// side-by-side alignment, then the consistency report.
void PrintDiff(const std::vector<InputStack>& stacks, std::ostream& out);

// The same as one JSON object, on one line.
std::string DiffJson(const std::vector<InputStack>& stacks);

// Runs the tool: every stack of every input is compared. Problems go to `err`
// as "restack-diff: <input>: line N: ..."; returns an ExitCode (3 when some
// input had problems but two or more stacks remained, 1 when fewer remained).
int RunDiff(const DiffToolOptions& options, std::ostream& out, std::ostream& err);

}  // namespace restack::tools
