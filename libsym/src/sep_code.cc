// sep_code.cc - S_SEPCODE decoding
#include "restack/sym/sep_code.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace restack::sym {

absl::StatusOr<SepCodeRecord> DecodeSepCode(std::span<const uint8_t> record) {
  constexpr size_t kSize = 4 + 6 * 4 + 2 * 2;  // header, six u32, two u16
  if (record.size() < kSize) {
    return absl::DataLossError(absl::StrFormat(
        "S_SEPCODE: record of 0x%x bytes is shorter than 0x%x", record.size(), kSize));
  }
  uint16_t kind;
  std::memcpy(&kind, record.data() + 2, 2);
  if (kind != kSymbolKindSepCode) {
    return absl::InvalidArgumentError(
        absl::StrFormat("offset 0x2: record kind 0x%x is not S_SEPCODE (0x1132)", kind));
  }
  SepCodeRecord r;
  const uint8_t* p = record.data() + 4;
  std::memcpy(&r.parent, p + 0, 4);
  std::memcpy(&r.end, p + 4, 4);
  std::memcpy(&r.length, p + 8, 4);
  std::memcpy(&r.flags, p + 12, 4);
  std::memcpy(&r.offset, p + 16, 4);
  std::memcpy(&r.parent_offset, p + 20, 4);
  std::memcpy(&r.section, p + 24, 2);
  std::memcpy(&r.parent_section, p + 26, 2);
  return r;
}

}  // namespace restack::sym
