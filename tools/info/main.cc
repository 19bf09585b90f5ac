// main.cc - restack-info: describe a dump or a PE image
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/exit_code.h"
#include "common/usage.h"
#include "info.h"

ABSL_FLAG(bool, unwind, false, "images: list every RUNTIME_FUNCTION and its unwind info");
ABSL_FLAG(bool, json, false, "one JSON object instead of text");

int main(int argc, char** argv) {
  constexpr char kUsage[] =
      "restack-info: describes a Windows x64 PE image or user minidump\n\n"
      "usage: restack-info [flags] FILE   ('-' reads stdin)\n\n"
      "flags:\n"
      "  --unwind   images: every RUNTIME_FUNCTION with its unwind info (as dumpbin\n"
      "             /unwindinfo), its kind and chain root, then the counts\n"
      "  --json     one JSON object instead of text (docs/tools.md)\n\n"
      "exit: 0 complete, 1 error, 2 usage, 3 printed but incomplete\n\n"
      "example:\n"
      "  restack-info --unwind ../shared/real/symbols/amdppm.sys/c9c030003b000/amdppm.sys\n";
  if (restack::tools::HandleHelp(argc, argv, kUsage)) return restack::tools::kExitOk;
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::cerr << "restack-info: give exactly one FILE (see --help)\n";
    return restack::tools::kExitUsage;
  }
  restack::tools::InfoToolOptions options;
  options.path = args[1];
  options.unwind = absl::GetFlag(FLAGS_unwind);
  options.json = absl::GetFlag(FLAGS_json);
  return restack::tools::RunInfo(options, std::cout, std::cerr);
}
