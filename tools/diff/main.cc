// main.cc - restack-diff: stacks in, alignment and consistency report out
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/exit_code.h"
#include "common/usage.h"
#include "diff/diff.h"

ABSL_FLAG(bool, json, false, "one JSON object: the stacks, the alignment, the report");

int main(int argc, char** argv) {
  constexpr char kUsage[] =
      "restack-diff: compares two or more stacks (from different machines, OS builds and\n"
      "load addresses) frame by frame, on normalised frames: module!Function (offset\n"
      "dropped), module+0xRVA without symbols, module!<chunk> for code WinDbg named after\n"
      "a string literal. Two stacks: side by side, aligned from the top\n"
      "  (=: same frame, ~: same function at another offset, <: only in 1, >: only in 2);\n"
      "then, for any number: the frames and modules common to all stacks, to some, to one.\n\n"
      "usage: restack-diff [--json] STACKS...   (none or '-': stdin)\n\n"
      "STACKS: WinDbg stack text (k, kv, kn, kP, kc, !thread, !analyze STACK_TEXT,\n"
      "restack-walk text) or restack-walk / restack-sym JSON Lines; every stack of every\n"
      "file is compared\n\n"
      "flags:\n"
      "  --json    one JSON object (docs/tools.md#restack-diff, docs/schemas/)\n\n"
      "exit: 0 done, 1 error (fewer than two stacks), 2 usage, 3 some input was bad\n"
      "      (message on stderr; the rest compared)\n\n"
      "example:\n"
      "  restack-diff ../shared/samples/stacktext/seed-win8-bitdefender-kv.txt \\\n"
      "      ../shared/samples/stacktext/seed-win81-tcpip-kv.txt\n";
  if (restack::tools::HandleHelp(argc, argv, kUsage)) return restack::tools::kExitOk;
  if (!restack::tools::CheckFlags(argc, argv, "restack-diff", {"json"}, {})) {
    return restack::tools::kExitUsage;
  }
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  restack::tools::DiffToolOptions options;
  options.inputs.assign(args.begin() + 1, args.end());
  options.json = absl::GetFlag(FLAGS_json);
  return restack::tools::RunDiff(options, std::cout, std::cerr);
}
