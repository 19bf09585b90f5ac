// symbol_setup.cc - one reading of --sympath for every tool
#include "common/symbol_setup.h"

#include <cstdlib>

namespace restack::tools {

std::optional<SymbolSetup> MakeSymbolSetup(std::string_view tool, const std::string& sympath,
                                           const std::vector<std::string>& image_paths,
                                           bool raw_names, bool always_resolver, std::ostream& err) {
  SymbolSetup setup;
  setup.image_roots = image_paths;
  const sym::SymbolResolverOptions options{.raw_names = raw_names};
  if (!sympath.empty()) {
    absl::StatusOr<sym::SymbolPath> path = sym::SymbolPath::Parse(sympath);
    if (!path.ok()) {
      err << tool << ": --sympath: " << path.status().message() << "\n";
      return std::nullopt;
    }
    for (const std::string& w : path->warnings()) err << tool << ": warning: " << w << "\n";
    for (const sym::SymbolPlace& place : path->places()) setup.image_roots.push_back(place.entry);
    setup.resolver.emplace(*std::move(path), options);
  } else if (always_resolver) {
    setup.resolver.emplace(sym::SymbolPath{}, options);
  }
  return setup;
}

std::string FlagOrEnvironment(const std::string& flag, const char* variable) {
  if (!flag.empty()) return flag;
  const char* value = std::getenv(variable);
  return value != nullptr ? std::string(value) : std::string();
}

}  // namespace restack::tools
