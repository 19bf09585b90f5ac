// main.cc - restack-sym: stack text -> the same text with call sites re-resolved
#include <cstdlib>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "common/exit_code.h"
#include "common/symbol_setup.h"
#include "common/usage.h"
#include "sym/sym.h"
#include "walk/walk.h"

ABSL_FLAG(std::string, sympath, "",
          "symbol path for PDBs and images, _NT_SYMBOL_PATH syntax (default: $_NT_SYMBOL_PATH)");
ABSL_FLAG(std::string, images, "",
          "image paths for --dump's modules, ';'-separated (default: $_NT_EXECUTABLE_IMAGE_PATH)");
ABSL_FLAG(std::vector<std::string>, image, {}, "image files, named by their file name (comma-separated)");
ABSL_FLAG(std::vector<std::string>, load, {}, "module bases: NAME=BASE (hex), comma-separated");
ABSL_FLAG(std::string, dump, "", "take module bases, sizes and images from this dump's module list");
ABSL_FLAG(bool, json, false, "JSON Lines: one object per stack or per address line");
ABSL_FLAG(bool, raw_names, false, "keep symbol names decorated (no demangling)");
ABSL_FLAG(bool, lines, false, "add [file @ line] to the call sites it resolves (PDBs with lines)");
ABSL_FLAG(bool, no_inlines, false, "plain lines: no inline frames before the answer");
ABSL_FLAG(bool, inline_rows, false,
          "stack text: insert (Inline Function) rows before frames in inlined code");

int main(int argc, char** argv) {
  constexpr char kUsage[] =
      "restack-sym: re-resolves the call sites of WinDbg stack text (k, kv, kn, kP, !thread,\n"
      "!analyze STACK_TEXT, restack-walk output) with images and PDBs: separated chunks are\n"
      "named after their function, changed call sites marked [was: old]; every other\n"
      "line passes through untouched. Lines holding just module+0xRVA, module!Function+0xOFF\n"
      "or an address are answered like llvm-symbolizer.\n\n"
      "usage: restack-sym [flags] [TEXT...]   (none or '-': stdin)\n\n"
      "flags:\n"
      "  --sympath PATH   symbol path (srv*store, cache*dir, plain directories; ';'-separated;\n"
      "                   default $_NT_SYMBOL_PATH): PDBs, and images of --dump's modules\n"
      "  --image FILE,..  image files (their PDB is looked for along --sympath and next to\n"
      "                   them); a module is named by its file name (amdppm.sys: amdppm)\n"
      "  --load NAME=BASE,..  module bases (hex); otherwise inferred from each stack's RetAddr\n"
      "                   column and its module+0xOFF / module!Function+0xOFF call sites\n"
      "  --dump FILE      module list (bases, sizes, identities) of a dump; images from\n"
      "                   --images and --sympath\n"
      "  --images ROOTS   image stores or directories for --dump (default\n"
      "                   $_NT_EXECUTABLE_IMAGE_PATH)\n"
      "  --json           JSON Lines: one object per stack (docs/stack-text.md, plus \"was\"\n"
      "                   per frame) and one per address line\n"
      "  --raw_names      keep names decorated\n"
      "  --lines          add [file @ line] where the PDB has line numbers\n"
      "  --no_inlines     plain lines: the answer only; by default the functions inlined\n"
      "                   at the address come first, innermost first, as\n"
      "                   \"(Inline Function) module!Inlinee+0xOFF\" lines\n"
      "  --inline_rows    stack text: insert WinDbg's \"(Inline Function)\" rows before\n"
      "                   rows in inlined code that have none (kn rows renumbered);\n"
      "                   off by default: pasted rows are otherwise left as they are\n\n"
      "exit: 0 done, 1 error, 2 usage, 3 some call sites could not be resolved\n\n"
      "example:\n"
      "  restack-sym --sympath 'srv*tests/fixtures/pdb/store-publics' \\\n"
      "      --image tests/fixtures/pdb/store-publics/restack_chunks.dll/8E7D24127000/restack_chunks.dll \\\n"
      "      tests/fixtures/pdb/chunks_windbg.txt\n"
      "  echo 'restack_chunks+0x11a0' | restack-sym --image .../restack_chunks.dll -\n";
  if (restack::tools::HandleHelp(argc, argv, kUsage)) return restack::tools::kExitOk;
  if (!restack::tools::CheckFlags(argc, argv, "restack-sym", {"json", "raw_names", "lines", "no_inlines", "inline_rows"},
                                  {"sympath", "images", "image", "load", "dump"})) {
    return restack::tools::kExitUsage;
  }
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  restack::tools::SymToolOptions options;
  options.inputs.assign(args.begin() + 1, args.end());
  options.sympath =
      restack::tools::FlagOrEnvironment(absl::GetFlag(FLAGS_sympath), "_NT_SYMBOL_PATH");
  const std::string images =
      restack::tools::FlagOrEnvironment(absl::GetFlag(FLAGS_images), "_NT_EXECUTABLE_IMAGE_PATH");
  options.image_paths = restack::tools::SplitPathList(images);
  options.image_files = absl::GetFlag(FLAGS_image);
  options.loads = absl::GetFlag(FLAGS_load);
  options.dump = absl::GetFlag(FLAGS_dump);
  options.json = absl::GetFlag(FLAGS_json);
  options.raw_names = absl::GetFlag(FLAGS_raw_names);
  options.lines = absl::GetFlag(FLAGS_lines);
  options.inlines = !absl::GetFlag(FLAGS_no_inlines);
  options.inline_rows = absl::GetFlag(FLAGS_inline_rows);
  if (options.inline_rows && !options.inlines) {
    std::cerr << "restack-sym: --inline_rows and --no_inlines exclude one another\n";
    return restack::tools::kExitUsage;
  }
  return restack::tools::RunSym(options, std::cout, std::cerr);
}
