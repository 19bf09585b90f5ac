// omap.h - OMAP address maps of a PDB (OmapToSrc, OmapFromSrc)
//
// Images rearranged after linking (BBT, PGO) carry OMAP streams in their PDB:
// sorted {rva, rvaTo} pairs; an address maps to rvaTo + (address - rva) of the
// last pair at or below it. rvaTo 0 means the range has no counterpart; the
// 0x80000000 bit marks an entry that is not mapped either.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace restack::sym {

class Omap {
 public:
  struct Entry {
    uint32_t rva = 0;
    uint32_t rva_to = 0;
  };
  Omap() = default;
  // Decodes a stream of 8-byte entries. A stream whose size is not a multiple
  // of 8 is kDataLoss; unsorted entries are sorted (stable).
  static absl::StatusOr<Omap> FromBytes(std::span<const uint8_t> bytes);

  // The mapped address, or nullopt when `rva` has no counterpart.
  std::optional<uint32_t> Map(uint32_t rva) const;
  bool empty() const { return entries_.empty(); }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

}  // namespace restack::sym
