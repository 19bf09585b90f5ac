// main.cc - restack-walk: dump -> stacks
#include <cstdlib>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/dump_batch.h"
#include "common/exit_code.h"
#include "common/symbol_setup.h"
#include "common/usage.h"
#include "walk.h"

ABSL_FLAG(std::string, images, "",
          "image paths, ';'-separated: symbol-store roots or plain directories "
          "(default: $_NT_EXECUTABLE_IMAGE_PATH)");
ABSL_FLAG(std::string, sympath, "",
          "symbol path for PDBs (and images after --images), _NT_SYMBOL_PATH syntax "
          "(default: $_NT_SYMBOL_PATH)");
ABSL_FLAG(bool, raw_names, false, "keep symbol names decorated (no demangling)");
ABSL_FLAG(bool, no_inlines, false, "no inline frames (PDB inline sites) before the frames");
ABSL_FLAG(bool, all, false, "walk every thread, not only the exception thread");
ABSL_FLAG(std::string, thread, "", "walk only this thread id (hex, e.g. 0x1a30)");
ABSL_FLAG(int, cpu, -1, "kernel dumps: walk this processor's context");
ABSL_FLAG(std::string, cxr, "", "start from the CONTEXT record at this address (hex), as .cxr");
ABSL_FLAG(bool, header, false, "kernel dumps: walk DUMP_HEADER64.ContextRecord");
ABSL_FLAG(bool, json, false, "JSON Lines: one object per stack (docs/tools.md)");
ABSL_FLAG(bool, registers, false, "with --json: the known registers' values per frame");
ABSL_FLAG(int, max_frames, 1024, "stop a stack after this many frames");
ABSL_FLAG(bool, verbose, false, "list every module whose image was not found or did not match");
ABSL_FLAG(bool, all_cpus, false, "kernel dumps: every processor (as --all)");
ABSL_FLAG(int, j, 0, "dumps walked at once (0: one per hardware thread)");
ABSL_FLAG(std::string, list, "", "a file of dump paths, one per line ('-': stdin)");
ABSL_FLAG(std::string, format, "kn", "text form: kn (numbered), kv (WinDbg kv, with Args to Child), kc (call sites)");

int main(int argc, char** argv) {
  constexpr char kUsage[] =
      "restack-walk: walks the stacks of Windows x64 user minidumps and kernel dumps\n\n"
      "usage: restack-walk [flags] DUMP...   ('-' reads a dump from stdin)\n\n"
      "DUMP: a file, a directory (its *.dmp files) or a glob pattern ('crashes/*.dmp');\n"
      "many dumps are walked in parallel and printed in the order given\n\n"
      "flags:\n"
      "  --images ROOTS     ';'-separated symbol-store roots or plain directories holding\n"
      "                     the images (default: $_NT_EXECUTABLE_IMAGE_PATH)\n"
      "  --sympath PATH     symbol path (srv*store, cache*dir, plain directories; ';'-\n"
      "                     separated; default $_NT_SYMBOL_PATH): PDBs, then images;\n"
      "                     frames become module!Function+0xOFF, chunks marked\n"
      "                     (Chunk @ start), source lines [file @ line]\n"
      "  --raw_names        keep names decorated, as the PDB has them\n"
      "  --no_inlines       no (Inline Function) rows: with a PDB that has inline sites,\n"
      "                     the functions inlined at a frame's address are listed above\n"
      "                     it by default, as WinDbg does\n"
      "  --all              every thread (kernel dumps: every processor)\n"
      "  --all_cpus         kernel dumps: every processor (the same as --all)\n"
      "  --thread TID       only this thread (hex id, e.g. 0x1a30)\n"
      "  --cpu N            kernel dumps: processor N's context (default: the processor\n"
      "                     that bugchecked, as WinDbg's first k; --all: every processor)\n"
      "  --header           kernel dumps: the dump header's ContextRecord\n"
      "  --cxr ADDR         start from the CONTEXT record at ADDR (as WinDbg's .cxr;\n"
      "                     bugcheck 0x7E/0x1000007E gives it as parameter 4)\n"
      "  --format F         text form, after WinDbg's k variants: kn (default: numbered\n"
      "                     Child-SP, RetAddr, Call Site), kv (Child-SP, RetAddr, Args\n"
      "                     to Child, Call Site, (TrapFrame @ ...)), kc (call sites)\n"
      "  --json             JSON Lines, one object per stack (docs/tools.md)\n"
      "  --registers        with --json: the known registers' values per frame\n"
      "  --max_frames N     stop a stack after N frames (default 1024)\n"
      "  --verbose          list every module whose image was not found\n"
      "  -j N               dumps walked at once (default: one per hardware thread);\n"
      "                     progress on stderr when it is a terminal\n"
      "  --list FILE        also walk the dumps listed in FILE, one path per line\n"
      "                     ('-': standard input)\n\n"
      "exit: 0 complete, 1 error, 2 usage, 3 printed but incomplete\n\n"
      "example:\n"
      "  restack-walk --images tests/fixtures/store tests/fixtures/wine/exception.dmp\n"
      "  restack-walk --sympath 'srv*../shared/real/symbols' --cxr 0xffff850429891720 \\\n"
      "      ../shared/real/dumps/triage_x64.dmp\n"
      "  restack-walk -j 2 --json --sympath 'srv*tests/fixtures/kernel/store' \\\n"
      "      'tests/fixtures/kernel/scenarios/*.triage.dmp'\n"
      "  restack-walk --format kv --all_cpus --images ../shared/real/symbols \\\n"
      "      ../shared/real/dumps/triage_x64.dmp\n";
  if (restack::tools::HandleHelp(argc, argv, kUsage)) return restack::tools::kExitOk;
  if (!restack::tools::CheckFlags(argc, argv, "restack-walk",
                                  {"all", "header", "json", "registers", "verbose", "raw_names",
                                   "no_inlines", "all_cpus"},
                                  {"images", "sympath", "thread", "cpu", "cxr", "max_frames",
                                   "format", "j", "list"})) {
    return restack::tools::kExitUsage;
  }
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  restack::tools::WalkToolOptions options;
  options.dumps.assign(args.begin() + 1, args.end());
  const std::string images =
      restack::tools::FlagOrEnvironment(absl::GetFlag(FLAGS_images), "_NT_EXECUTABLE_IMAGE_PATH");
  options.image_paths = restack::tools::SplitPathList(images);
  options.sympath =
      restack::tools::FlagOrEnvironment(absl::GetFlag(FLAGS_sympath), "_NT_SYMBOL_PATH");
  options.raw_names = absl::GetFlag(FLAGS_raw_names);
  options.inlines = !absl::GetFlag(FLAGS_no_inlines);
  options.all_threads = absl::GetFlag(FLAGS_all) || absl::GetFlag(FLAGS_all_cpus);
  options.list = absl::GetFlag(FLAGS_list);
  options.jobs = absl::GetFlag(FLAGS_j) > 0 ? absl::GetFlag(FLAGS_j) : restack::tools::DefaultJobs();
  options.progress = restack::tools::StderrIsTerminal();
  if (std::optional<restack::tools::StackFormat> f =
          restack::tools::ParseStackFormat(absl::GetFlag(FLAGS_format))) {
    options.format = *f;
  } else {
    std::cerr << "restack-walk: --format: expected kn, kv or kc, not " << absl::GetFlag(FLAGS_format)
              << "\n";
    return restack::tools::kExitUsage;
  }
  options.json = absl::GetFlag(FLAGS_json);
  options.registers = absl::GetFlag(FLAGS_registers);
  options.verbose = absl::GetFlag(FLAGS_verbose);
  options.header_context = absl::GetFlag(FLAGS_header);
  options.max_frames = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_max_frames)));
  if (std::string t = absl::GetFlag(FLAGS_thread); !t.empty()) {
    char* end = nullptr;
    const unsigned long long id = std::strtoull(t.c_str(), &end, 16);
    options.thread_id = static_cast<uint32_t>(id);
    if (end == t.c_str() || *end != '\0' || id > UINT32_MAX) {
      std::cerr << "restack-walk: --thread: not a hex thread id: " << t << "\n";
      return restack::tools::kExitUsage;
    }
  }
  if (int cpu = absl::GetFlag(FLAGS_cpu); cpu >= 0) options.cpu = static_cast<uint32_t>(cpu);
  if (std::string c = absl::GetFlag(FLAGS_cxr); !c.empty()) {
    char* end = nullptr;
    options.cxr = std::strtoull(c.c_str(), &end, 16);
    if (end == c.c_str() || *end != '\0') {
      std::cerr << "restack-walk: --cxr: not a hex address: " << c << "\n";
      return restack::tools::kExitUsage;
    }
  }
  // Start points exclude one another.
  const int starts = (options.thread_id ? 1 : 0) + (options.cpu ? 1 : 0) + (options.cxr ? 1 : 0) +
                     (options.header_context ? 1 : 0) + (options.all_threads ? 1 : 0);
  if (starts > 1) {
    std::cerr << "restack-walk: --all, --thread, --cpu, --header and --cxr exclude one "
                 "another\n";
    return restack::tools::kExitUsage;
  }
  if (options.dumps.empty() && options.list.empty()) {
    std::cerr << "restack-walk: no dump given (see --help)\n";
    return restack::tools::kExitUsage;
  }
  return restack::tools::RunWalk(options, std::cout, std::cerr);
}
