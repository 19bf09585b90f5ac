// link_map.cc - lld-link /map parsing (see link_map.h)
#include "tests/support/link_map.h"

#include <algorithm>
#include <sstream>

#include "absl/strings/numbers.h"
#include "tests/support/file_read.h"

namespace restack::test {

const MapSymbol* LinkMap::Covering(uint32_t rva, bool (*accept)(const MapSymbol&)) const {
  const MapSymbol* best = nullptr;
  for (const MapSymbol& s : symbols) {
    if (s.rva > rva) break;
    if (accept == nullptr || accept(s)) best = &s;
  }
  return best;
}

const MapSymbol* LinkMap::Find(std::string_view name) const {
  for (const MapSymbol& s : symbols) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

absl::StatusOr<LinkMap> ParseLinkMap(std::string_view text) {
  LinkMap map;
  enum { kHeader, kPublics, kStatics } part = kHeader;
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.empty()) continue;
    if (map.module.empty()) {
      map.module = f[0];
      continue;
    }
    if (f.size() == 5 && f[0] == "Preferred" && f[3] == "is") {
      if (!absl::SimpleHexAtoi(f[4], &map.preferred_base)) {
        return absl::InvalidArgumentError("map: bad preferred load address");
      }
      continue;
    }
    if (f[0] == "Address") {
      part = kPublics;
      continue;
    }
    if (f.size() == 2 && f[0] == "Static" && f[1] == "symbols") {
      part = kStatics;
      continue;
    }
    // " 0001:000000a0       Name                 00000001400010a0     object.obj"
    if (part == kHeader || f.size() < 3 || f[0].find(':') == std::string::npos) continue;
    uint64_t va = 0;
    if (!absl::SimpleHexAtoi(f[2], &va) || va < map.preferred_base) {
      return absl::InvalidArgumentError("map: bad address in: " + line);
    }
    map.symbols.push_back({f[1], static_cast<uint32_t>(va - map.preferred_base), part == kPublics});
  }
  if (map.preferred_base == 0) return absl::InvalidArgumentError("map: no preferred load address");
  std::stable_sort(map.symbols.begin(), map.symbols.end(), [](const MapSymbol& a, const MapSymbol& b) {
    return a.rva != b.rva ? a.rva < b.rva : a.is_public > b.is_public;
  });
  return map;
}

absl::StatusOr<LinkMap> ReadLinkMap(const std::string& path) {
  return ParseTextFile<LinkMap>(path, ParseLinkMap);
}

}  // namespace restack::test
