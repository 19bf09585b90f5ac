// symbol_setup.h - --sympath and --images as the tools use them
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "restack/sym/symbol_resolver.h"

namespace restack::tools {

// What a tool searches: images along `image_roots` (--images, then the symbol
// path's places, as WinDbg falls back to the symbol path), PDBs through
// `resolver`.
struct SymbolSetup {
  std::vector<std::string> image_roots;
  std::optional<sym::SymbolResolver> resolver;  // unset without a symbol path (unless asked)
};

// The flag's value, or else the environment variable's (WinDbg's
// _NT_SYMBOL_PATH, _NT_EXECUTABLE_IMAGE_PATH), or else "".
std::string FlagOrEnvironment(const std::string& flag, const char* variable);

// Parses `sympath` (may be empty); prints its warnings as "<tool>: warning: ...".
// `always_resolver`: build a resolver even without a symbol path (PDBs next to
// images, exports). nullopt after printing "<tool>: --sympath: ..." on bad text.
std::optional<SymbolSetup> MakeSymbolSetup(std::string_view tool, const std::string& sympath,
                                           const std::vector<std::string>& image_paths,
                                           bool raw_names, bool always_resolver, std::ostream& err);

}  // namespace restack::tools
