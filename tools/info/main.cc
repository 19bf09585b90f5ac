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
ABSL_FLAG(std::string, status, "", "decode this NTSTATUS (0xC0000005, 3221225477 or -1073741819); no FILE");

int main(int argc, char** argv) {
  constexpr char kUsage[] =
      "restack-info: describes a Windows x64 PE image or user minidump\n\n"
      "usage: restack-info [flags] FILE   ('-' reads stdin)\n"
      "       restack-info --status VALUE [--json]\n\n"
      "flags:\n"
      "  --unwind   images: every RUNTIME_FUNCTION with its unwind info (as dumpbin\n"
      "             /unwindinfo), its kind and chain root, then the counts\n"
      "  --json     one JSON object instead of text (docs/tools.md)\n"
      "  --status   decode an NTSTATUS (0xC0000005, 3221225477 or -1073741819):\n"
      "             name, severity, C and N bits, facility, code, NT_SUCCESS/...\n\n"
      "exit: 0 complete, 1 error, 2 usage, 3 printed but incomplete\n\n"
      "example:\n"
      "  restack-info --unwind ../shared/real/symbols/amdppm.sys/c9c030003b000/amdppm.sys\n";
  if (restack::tools::HandleHelp(argc, argv, kUsage)) return restack::tools::kExitOk;
  if (!restack::tools::CheckFlags(argc, argv, "restack-info", {"unwind", "json"}, {"status"})) {
    return restack::tools::kExitUsage;
  }
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  restack::tools::InfoToolOptions options;
  options.status = absl::GetFlag(FLAGS_status);
  if (args.size() != (options.status.empty() ? 2u : 1u)) {
    std::cerr << (options.status.empty() ? "restack-info: give exactly one FILE (see --help)\n"
                                         : "restack-info: --status takes no FILE (see --help)\n");
    return restack::tools::kExitUsage;
  }
  if (options.status.empty()) options.path = args[1];
  options.unwind = absl::GetFlag(FLAGS_unwind);
  options.json = absl::GetFlag(FLAGS_json);
  return restack::tools::RunInfo(options, std::cout, std::cerr);
}
