// link_map.h - the symbols of an lld-link /map file (link.exe's map format)
//
// The fixture images' own knowledge of where their labels are: lld-link-19 writes
// "Publics by Value" and "Static symbols" (non-global labels such as a cold chunk's)
// with their address at the preferred base. The scenario runner names truth frames
// from these, never from PDBs or unwind data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace restack::test {

struct MapSymbol {
  std::string name;
  uint32_t rva = 0;
  bool is_public = false;  // "Publics by Value" (else "Static symbols")
};

struct LinkMap {
  std::string module;  // the first line: the image name without extension
  uint64_t preferred_base = 0;
  std::vector<MapSymbol> symbols;  // sorted by rva (publics first at equal rva)

  // The last symbol at or below `rva` whose name `accept` allows (nullptr: any), or
  // nullptr when there is none.
  const MapSymbol* Covering(uint32_t rva, bool (*accept)(const MapSymbol&) = nullptr) const;
  // The first symbol named `name`, or nullptr.
  const MapSymbol* Find(std::string_view name) const;
};

absl::StatusOr<LinkMap> ParseLinkMap(std::string_view text);
absl::StatusOr<LinkMap> ReadLinkMap(const std::string& path);

}  // namespace restack::test
