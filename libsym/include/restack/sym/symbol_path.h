// symbol_path.h - _NT_SYMBOL_PATH parsing: the ordered local places to search
//
// The syntax is WinDbg's (docs/symbol-path.md): ';'-separated entries, each a
// plain directory, "srv*Store1*...*StoreN", "symsrv*symsrv.dll*Store1*...",
// or "cache*Dir". restack never uses the network: http(s):// and UNC
// (\\server\share) locations are skipped with a warning, as is WinDbg's
// default downstream store ("srv**..."), which restack does not have.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace restack::sym {

// How a place is searched (docs/symbol-path.md#places).
enum class PlaceKind {
  kDirectory,  // <dir>/symbols/<ext>/<file>, <dir>/<ext>/<file>, <dir>/<file>
  kStore,      // <store>[/<first two chars>]/<file>/<key>/{<file>, <fil_>, file.ptr}
};

// One local place of a symbol path, in search order.
struct SymbolPlace {
  PlaceKind kind = PlaceKind::kDirectory;
  std::string path;   // as written: Windows paths are kept (they just do not exist here)
  std::string entry;  // the trimmed ';'-separated entry it came from, for messages
};

// A parsed symbol path: the local places to search and what was left out.
class SymbolPath {
 public:
  // Parses `text` (the value of _NT_SYMBOL_PATH or --sympath). Only text that
  // cannot be a path list fails (InvalidArgument: a NUL character, or more
  // than kMaxTextLength characters); everything else gives places plus warnings.
  static absl::StatusOr<SymbolPath> Parse(std::string_view text);
  static constexpr size_t kMaxTextLength = 1 << 20;

  // A path of the given places, searched in this order (duplicates dropped).
  static SymbolPath FromPlaces(std::vector<SymbolPlace> places);

  // Adds `other`'s places after this path's, and its warnings and skipped locations.
  void Append(const SymbolPath& other);

  // The same path with every plain directory also searched as a store, just
  // before it (how `--images` roots are read: see image_locator.h).
  SymbolPath WithDirectoriesAsStores() const;

  // Local places in search order; the same (kind, path) appears once.
  const std::vector<SymbolPlace>& places() const { return places_; }
  // One warning per entry (or per problem of an entry) that was not fully used,
  // e.g. "symbol path entry 'srv*c:\s*https://x': skipped https://x: restack
  // never uses the network".
  const std::vector<std::string>& warnings() const { return warnings_; }
  // The locations named but not searched (URLs, UNC paths, "<default downstream
  // store>"), for "not found" messages.
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  void AddPlace(SymbolPlace place);
  void ParseEntry(std::string_view entry);
  // Adds the store tokens of a srv*/symsrv*/cache* entry.
  void AddStores(std::string_view entry, const std::vector<std::string_view>& tokens);

  std::vector<SymbolPlace> places_;
  std::vector<std::string> warnings_;
  std::vector<std::string> skipped_;
};

// Whether `location` names a network location restack does not touch: a URL
// ("scheme://...") or a UNC or device path ("\\server\share", "\\?\...").
bool IsNetworkLocation(std::string_view location);

}  // namespace restack::sym
