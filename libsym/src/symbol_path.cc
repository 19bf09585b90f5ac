// symbol_path.cc - _NT_SYMBOL_PATH entries to local directories and stores
#include "restack/sym/symbol_path.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace restack::sym {
namespace {

constexpr char kDefaultDownstreamStore[] = "<default downstream store>";

absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Without leading and trailing blanks (spaces, tabs, line breaks).
std::string_view Trim(std::string_view s) {
  constexpr std::string_view kBlank = " \t\r\n\v\f";
  const size_t first = s.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  const size_t last = s.find_last_not_of(kBlank);
  return s.substr(first, last - first + 1);
}

// `s` cut at every `sep`, each piece trimmed; empty pieces are kept.
std::vector<std::string_view> SplitTrimmed(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(sep, start);
    out.push_back(Trim(s.substr(start, end == std::string_view::npos ? end : end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace

bool IsNetworkLocation(std::string_view location) {
  // UNC (\\server\share) and device paths (\\?\, \\.\).
  if (location.size() >= 2 && location[0] == '\\' && location[1] == '\\') return true;
  // scheme "://": at least two characters, so that "c://x" stays a drive path.
  const size_t colon = location.find("://");
  if (colon == std::string_view::npos || colon < 2) return false;
  if (!absl::ascii_isalpha(static_cast<unsigned char>(location[0]))) return false;
  for (size_t i = 1; i < colon; ++i) {
    const unsigned char c = static_cast<unsigned char>(location[i]);
    if (!absl::ascii_isalnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

absl::StatusOr<SymbolPath> SymbolPath::Parse(std::string_view text) {
  if (text.size() > kMaxTextLength) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "symbol path: 0x%x characters, more than the 0x%x restack reads", text.size(),
        kMaxTextLength));
  }
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrFormat("symbol path: offset 0x%x: NUL character (not a path list)", nul));
  }
  SymbolPath path;
  for (std::string_view entry : SplitTrimmed(text, ';')) {
    if (!entry.empty()) path.ParseEntry(entry);  // empty entries (";;", trailing ';') are nothing
  }
  return path;
}

SymbolPath SymbolPath::FromPlaces(std::vector<SymbolPlace> places) {
  SymbolPath path;
  for (SymbolPlace& place : places) path.AddPlace(std::move(place));
  return path;
}

void SymbolPath::Append(const SymbolPath& other) {
  for (const SymbolPlace& place : other.places_) AddPlace(place);
  warnings_.insert(warnings_.end(), other.warnings_.begin(), other.warnings_.end());
  for (const std::string& s : other.skipped_) {
    if (std::find(skipped_.begin(), skipped_.end(), s) == skipped_.end()) skipped_.push_back(s);
  }
}

SymbolPath SymbolPath::WithDirectoriesAsStores() const {
  SymbolPath out;
  for (const SymbolPlace& place : places_) {
    if (place.kind == PlaceKind::kDirectory) {
      out.AddPlace({PlaceKind::kStore, place.path, place.entry});
    }
    out.AddPlace(place);
  }
  out.warnings_ = warnings_;
  out.skipped_ = skipped_;
  return out;
}

void SymbolPath::AddPlace(SymbolPlace place) {
  // The same place twice would only be searched twice; the first one stays.
  for (const SymbolPlace& p : places_) {
    if (p.kind == place.kind && p.path == place.path) return;
  }
  places_.push_back(std::move(place));
}

void SymbolPath::ParseEntry(std::string_view entry) {
  if (entry.find('*') == std::string_view::npos) {
    if (IsNetworkLocation(entry)) {
      warnings_.push_back(absl::StrFormat(
          "symbol path entry '%s': skipped %s: restack never uses the network", entry, entry));
      skipped_.emplace_back(entry);
      return;
    }
    AddPlace({PlaceKind::kDirectory, std::string(entry), std::string(entry)});
    return;
  }
  std::vector<std::string_view> tokens = SplitTrimmed(entry, '*');
  const std::string prefix = absl::AsciiStrToLower(ToAbsl(tokens[0]));
  if (prefix == "srv" || prefix == "cache") {
    // srv*A*B*url: downstream stores, then (usually) a server; cache*dir: a
    // local cache of the entries after it. Both are stores to search here.
    AddStores(entry, {tokens.begin() + 1, tokens.end()});
  } else if (prefix == "symsrv") {
    // symsrv*<server DLL>*A*B*url: srv* spelled out.
    if (tokens.size() < 2 || tokens[1].empty()) {
      warnings_.push_back(absl::StrFormat(
          "symbol path entry '%s': symsrv* names no server DLL; entry skipped", entry));
      return;
    }
    if (!absl::EqualsIgnoreCase(ToAbsl(tokens[1]), "symsrv.dll")) {
      warnings_.push_back(absl::StrFormat(
          "symbol path entry '%s': server DLL '%s' is not symsrv.dll; its stores are read as "
          "symsrv stores",
          entry, tokens[1]));
    }
    AddStores(entry, {tokens.begin() + 2, tokens.end()});
  } else {
    warnings_.push_back(absl::StrFormat(
        "symbol path entry '%s': unknown prefix '%s*' (expected srv*, symsrv* or cache*); "
        "entry skipped",
        entry, tokens[0]));
  }
}

void SymbolPath::AddStores(std::string_view entry, const std::vector<std::string_view>& tokens) {
  if (tokens.empty()) {
    warnings_.push_back(
        absl::StrFormat("symbol path entry '%s': names no store; entry skipped", entry));
    return;
  }
  bool default_store = false;
  std::vector<std::string> network;
  for (std::string_view token : tokens) {
    if (token.empty()) {
      default_store = true;
    } else if (IsNetworkLocation(token)) {
      network.emplace_back(token);
    } else {
      AddPlace({PlaceKind::kStore, std::string(token), std::string(entry)});
    }
  }
  if (default_store) {
    warnings_.push_back(absl::StrFormat(
        "symbol path entry '%s': empty store (WinDbg's default downstream store) skipped: "
        "restack has none; name a directory instead",
        entry));
    if (std::find(skipped_.begin(), skipped_.end(), kDefaultDownstreamStore) == skipped_.end()) {
      skipped_.emplace_back(kDefaultDownstreamStore);
    }
  }
  if (!network.empty()) {
    warnings_.push_back(
        absl::StrFormat("symbol path entry '%s': skipped %s: restack never uses the network",
                        entry, absl::StrJoin(network, ", ")));
    for (const std::string& n : network) {
      if (std::find(skipped_.begin(), skipped_.end(), n) == skipped_.end()) skipped_.push_back(n);
    }
  }
}

}  // namespace restack::sym
