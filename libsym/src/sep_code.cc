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
  // The record's own length (after the u16 itself) must cover the fields and
  // stay within the bytes given.
  uint16_t length;
  std::memcpy(&length, record.data(), 2);
  if (length + size_t{2} < kSize) {
    return absl::DataLossError(absl::StrFormat(
        "offset 0x0: S_SEPCODE.reclen: shorter than the record's fields (expected at least 0x%x, "
        "got 0x%x)",
        kSize - 2, length));
  }
  if (length + size_t{2} > record.size()) {
    return absl::DataLossError(absl::StrFormat(
        "offset 0x0: S_SEPCODE.reclen: the record runs past its 0x%x bytes (got 0x%x)",
        record.size(), length));
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
