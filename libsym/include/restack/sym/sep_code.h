// sep_code.h - S_SEPCODE records (separated code blocks), decoded by hand
//
// LLVM 19 knows the kind (0x1132) but has no record class for it. Layout, as
// Microsoft's cvinfo.h SEPCODESYM: u16 reclen, u16 rectyp, then pParent,
// pEnd, length, flags (CV_SEPCODEFLAGS), off, offParent, sect, sectParent.
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/statusor.h"

namespace restack::sym {

inline constexpr uint16_t kSymbolKindSepCode = 0x1132;  // S_SEPCODE

// One separated block of a procedure.
struct SepCodeRecord {
  uint32_t parent = 0;  // pParent: offset of the parent S_*PROC32 in the module stream
  uint32_t end = 0;     // pEnd: offset of the block's S_END
  uint32_t length = 0;  // bytes of code in the block
  uint32_t flags = 0;   // CV_SEPCODEFLAGS: 1 fIsLexicalScope, 2 fReturnsToParent
  uint32_t offset = 0;         // the block's start within `section`
  uint32_t parent_offset = 0;  // the parent's start within `parent_section`
  uint16_t section = 0;
  uint16_t parent_section = 0;

  bool IsLexicalScope() const { return (flags & 1) != 0; }
  bool ReturnsToParent() const { return (flags & 2) != 0; }
};

// Decodes a whole record (starting at its u16 length). Errors: a record
// shorter than 0x20 bytes or of another kind (kDataLoss / kInvalidArgument,
// with the offset of the field in the record).
absl::StatusOr<SepCodeRecord> DecodeSepCode(std::span<const uint8_t> record);

}  // namespace restack::sym
