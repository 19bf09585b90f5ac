// sym.h - restack-sym: stack text in, the same text with call sites re-resolved out
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace restack::tools {

struct SymToolOptions {
  std::vector<std::string> inputs;       // files, or "-" for stdin (none: stdin)
  std::string sympath;                   // _NT_SYMBOL_PATH syntax: PDBs and images
  std::vector<std::string> image_paths;  // --images roots (a --dump's images)
  std::vector<std::string> image_files;  // --image FILE: images named by their file
  std::vector<std::string> loads;        // --load NAME=BASE
  std::string dump;                      // --dump FILE: module list and images
  bool json = false;                     // JSON Lines instead of text
  bool raw_names = false;                // keep decorated names
  bool lines = false;                    // add [file @ line] where the PDB has lines
  // Plain lines: the inline chain too, "(Inline Function) module!Inlinee+0xOFF"
  // lines before the answer (llvm-symbolizer --inlines). Off: the answer only.
  bool inlines = true;
  // Stack text: insert "(Inline Function)" rows before rows whose address is
  // in inlined code (and none are shown yet), renumbering kn rows.
  bool inline_rows = false;
};

// Runs the tool; returns an ExitCode. Errors and warnings go to `err` as
// "restack-sym: ...".
int RunSym(const SymToolOptions& options, std::ostream& out, std::ostream& err);

}  // namespace restack::tools
