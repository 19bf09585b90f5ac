// main.cc - restack-blame: stacks or dumps in, the probable culprit out
#include <cstdlib>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "blame/blame.h"
#include "common/dump_batch.h"
#include "common/exit_code.h"
#include "common/symbol_setup.h"
#include "common/usage.h"
#include "walk/walk.h"

ABSL_FLAG(std::vector<std::string>, rules, {}, "triage.ini files (comma-separated), after the built-in rules");
ABSL_FLAG(bool, builtin_rules, true, "start from the built-in rules for Windows' modules");
ABSL_FLAG(std::string, bugcheck, "", "the bugcheck code of every stack (hex, 0x44)");
ABSL_FLAG(std::string, sympath, "", "dumps: symbol path (default: $_NT_SYMBOL_PATH)");
ABSL_FLAG(std::string, images, "", "dumps: image roots (default: $_NT_EXECUTABLE_IMAGE_PATH)");
ABSL_FLAG(bool, json, false, "JSON Lines: one object per stack, then the vote");
ABSL_FLAG(int, j, 0, "inputs read at once (0: one per hardware thread)");
ABSL_FLAG(std::string, list, "", "a file of input paths, one per line ('-': stdin)");

int main(int argc, char** argv) {
  constexpr char kUsage[] =
      "restack-blame: the probable culprit of a crash, as WinDbg's !analyze names it, for\n"
      "each stack and, across several stacks, by a vote: a driver in every stack outranks\n"
      "one in a single stack. Owners come from triage.ini rules (Module[!Function]=Owner,\n"
      "trailing *, default, ignore, maybe_ and last_ owners; docs/triage-rules.md): built-in\n"
      "rules make Windows' own modules owners of last resort, --rules files add or replace.\n\n"
      "usage: restack-blame [flags] INPUT...   (none or '-': stdin)\n\n"
      "INPUT: WinDbg stack text (kv, kn, !analyze STACK_TEXT, !thread, ...), restack-walk\n"
      "JSON Lines, or a dump (.dmp, or content starting MDMP / PAGEDU64), walked as\n"
      "restack-walk walks it; a directory (its *.dmp) or a glob pattern\n\n"
      "flags:\n"
      "  --rules FILE,..     triage.ini files; a rule for the same Module!Function as an\n"
      "                      earlier one replaces it\n"
      "  --nobuiltin_rules   only the --rules files\n"
      "  --bugcheck CODE     the bugcheck code of every stack (hex: 0x44); otherwise read\n"
      "                      from the input (BugCheck / BUGCHECK_CODE lines, KeBugCheckEx's\n"
      "                      first argument, the dump header)\n"
      "  --sympath PATH      dumps: symbol path (default $_NT_SYMBOL_PATH)\n"
      "  --images ROOTS      dumps: image roots (default $_NT_EXECUTABLE_IMAGE_PATH)\n"
      "  --json              JSON Lines: one object per stack, then the vote\n"
      "                      (docs/tools.md#restack-blame, docs/schemas/)\n"
      "  -j N                inputs read at once (default: one per hardware thread);\n"
      "                      progress on stderr when it is a terminal\n"
      "  --list FILE         also the inputs listed in FILE, one per line ('-': stdin)\n\n"
      "exit: 0 done, 1 error (no stack read), 2 usage, 3 some input was bad or a stack\n"
      "      has no culprit (message on stderr; the rest blamed)\n\n"
      "example:\n"
      "  restack-blame ../shared/samples/stacktext/seed-win8-bitdefender-kv.txt \\\n"
      "      ../shared/samples/stacktext/seed-win81-tcpip-kv.txt\n"
      "  restack-blame -j 2 --sympath 'srv*tests/fixtures/kernel/store' \\\n"
      "      'tests/fixtures/kernel/scenarios/*.triage.dmp'\n";
  if (restack::tools::HandleHelp(argc, argv, kUsage)) return restack::tools::kExitOk;
  if (!restack::tools::CheckFlags(argc, argv, "restack-blame", {"json", "builtin_rules"},
                                  {"rules", "bugcheck", "sympath", "images", "j", "list"})) {
    return restack::tools::kExitUsage;
  }
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  restack::tools::BlameToolOptions options;
  options.inputs.assign(args.begin() + 1, args.end());
  options.rules = absl::GetFlag(FLAGS_rules);
  options.builtin_rules = absl::GetFlag(FLAGS_builtin_rules);
  const std::string bugcheck = absl::GetFlag(FLAGS_bugcheck);
  if (!bugcheck.empty()) {
    uint32_t code = 0;
    std::string digits = bugcheck;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
      digits = digits.substr(2);
    }
    if (digits.empty() || digits.size() > 8 || !absl::SimpleHexAtoi(digits, &code)) {
      std::cerr << "restack-blame: --bugcheck: expected a hex code such as 0x44, not " << bugcheck
                << "\n";
      return restack::tools::kExitUsage;
    }
    options.bugcheck = code;
  }
  options.sympath =
      restack::tools::FlagOrEnvironment(absl::GetFlag(FLAGS_sympath), "_NT_SYMBOL_PATH");
  const std::string images =
      restack::tools::FlagOrEnvironment(absl::GetFlag(FLAGS_images), "_NT_EXECUTABLE_IMAGE_PATH");
  options.image_paths = restack::tools::SplitPathList(images);
  options.json = absl::GetFlag(FLAGS_json);
  options.list = absl::GetFlag(FLAGS_list);
  options.jobs = absl::GetFlag(FLAGS_j) > 0 ? absl::GetFlag(FLAGS_j) : restack::tools::DefaultJobs();
  options.progress = restack::tools::StderrIsTerminal();
  return restack::tools::RunBlame(options, std::cout, std::cerr);
}
