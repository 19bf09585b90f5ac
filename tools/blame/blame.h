// blame.h - restack-blame: stacks or dumps in, the probable culprit of each and of the set out
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace restack::tools {

struct BlameToolOptions {
  // Stack text, JSON Lines or dump files; directories (their *.dmp) and glob
  // patterns as restack-walk takes them; "-" for stdin (none: stdin).
  std::vector<std::string> inputs;
  std::string list;                  // a file of input paths, one a line ("-": stdin)
  std::vector<std::string> rules;    // triage.ini files, after the built-in rules
  bool builtin_rules = true;         // start from BuiltInTriageRules()
  std::optional<uint32_t> bugcheck;  // the failure code of every stack (overrides the inputs')
  std::string sympath;               // for dumps: as restack-walk's --sympath
  std::vector<std::string> image_paths;  // for dumps: restack-walk's --images
  bool json = false;                 // JSON Lines (docs/tools.md#restack-blame)
  int jobs = 1;                      // inputs read at once; output stays in input order
  bool progress = false;             // "[k/n] input" on `err`
};

// Runs the tool; returns an ExitCode: 0 when every input gave stacks and each
// stack a culprit; 3 when some input, stack or rules line had a problem (each
// named on `err` as "restack-blame: <input>: ...") but stacks were blamed;
// 1 when no stack could be read or a rules file could not be opened.
int RunBlame(const BlameToolOptions& options, std::ostream& out, std::ostream& err);

}  // namespace restack::tools
