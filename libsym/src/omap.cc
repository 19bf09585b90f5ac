// omap.cc - OMAP decoding and lookup
#include "restack/sym/omap.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"

namespace restack::sym {

absl::StatusOr<Omap> Omap::FromBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() % 8 != 0) {
    return absl::DataLossError(absl::StrFormat(
        "OMAP stream of 0x%x bytes is not a whole number of 8-byte entries", bytes.size()));
  }
  Omap m;
  m.entries_.resize(bytes.size() / 8);
  for (size_t i = 0; i < m.entries_.size(); ++i) {
    std::memcpy(&m.entries_[i].rva, bytes.data() + i * 8, 4);
    std::memcpy(&m.entries_[i].rva_to, bytes.data() + i * 8 + 4, 4);
  }
  if (!std::is_sorted(m.entries_.begin(), m.entries_.end(),
                      [](const Entry& a, const Entry& b) { return a.rva < b.rva; })) {
    std::stable_sort(m.entries_.begin(), m.entries_.end(),
                     [](const Entry& a, const Entry& b) { return a.rva < b.rva; });
  }
  return m;
}

std::optional<uint32_t> Omap::Map(uint32_t rva) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), rva,
                             [](uint32_t v, const Entry& e) { return v < e.rva; });
  if (it == entries_.begin()) return std::nullopt;
  --it;
  if (it->rva_to == 0 || (it->rva_to & 0x80000000u) != 0) return std::nullopt;
  return it->rva_to + (rva - it->rva);
}

}  // namespace restack::sym
