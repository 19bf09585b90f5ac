// synthetic_image.cc - byte-by-byte writer of synthetic x64 PE images
#include "synthetic_image.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace restack::unwind::testing {
namespace {

void Put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v);
  b[at + 1] = static_cast<uint8_t>(v >> 8);
}
void Put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
void Put64(std::vector<uint8_t>& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
void Append16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
void Append32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// UWOP_* numbers (Microsoft "x64 exception handling", UNWIND_CODE).
constexpr uint8_t kPushNonvol = 0, kAllocLarge = 1, kAllocSmall = 2, kSetFpreg = 3, kSaveNonvol = 4,
                  kSaveNonvolFar = 5, kEpilog = 6, kSaveXmm128 = 8, kSaveXmm128Far = 9,
                  kPushMachFrame = 10;

// PE header offsets used below (Microsoft "PE Format").
constexpr uint32_t kLfanew = 0x80;                      // IMAGE_NT_HEADERS64 here
constexpr uint32_t kFileHeader = kLfanew + 4;           // IMAGE_FILE_HEADER
constexpr uint32_t kOptionalHeader = kFileHeader + 20;  // IMAGE_OPTIONAL_HEADER64
constexpr uint32_t kOptionalHeaderSize = 112 + 16 * 8;  // fixed part + 16 directories
constexpr uint32_t kSectionTable = kOptionalHeader + kOptionalHeaderSize;
constexpr uint32_t kSizeOfHeaders = 0x400;

}  // namespace

uint16_t RawSlot(uint8_t code_offset, uint8_t unwind_op, uint8_t op_info) {
  return static_cast<uint16_t>(code_offset | ((unwind_op & 0xf) | (op_info & 0xf) << 4) << 8);
}

namespace uwop {
UnwindSlots PushNonvol(uint8_t code_offset, uint8_t reg) {
  return {RawSlot(code_offset, kPushNonvol, reg)};
}
UnwindSlots AllocLarge16(uint8_t code_offset, uint32_t bytes) {
  return {RawSlot(code_offset, kAllocLarge, 0), static_cast<uint16_t>(bytes / 8)};
}
UnwindSlots AllocLarge32(uint8_t code_offset, uint32_t bytes) {
  return {RawSlot(code_offset, kAllocLarge, 1), static_cast<uint16_t>(bytes),
          static_cast<uint16_t>(bytes >> 16)};
}
UnwindSlots AllocSmall(uint8_t code_offset, uint32_t bytes) {
  return {RawSlot(code_offset, kAllocSmall, static_cast<uint8_t>((bytes - 8) / 8))};
}
UnwindSlots SetFpreg(uint8_t code_offset) { return {RawSlot(code_offset, kSetFpreg, 0)}; }
UnwindSlots SaveNonvol(uint8_t code_offset, uint8_t reg, uint32_t offset) {
  return {RawSlot(code_offset, kSaveNonvol, reg), static_cast<uint16_t>(offset / 8)};
}
UnwindSlots SaveNonvolFar(uint8_t code_offset, uint8_t reg, uint32_t offset) {
  return {RawSlot(code_offset, kSaveNonvolFar, reg), static_cast<uint16_t>(offset),
          static_cast<uint16_t>(offset >> 16)};
}
UnwindSlots SaveXmm128(uint8_t code_offset, uint8_t reg, uint32_t offset) {
  return {RawSlot(code_offset, kSaveXmm128, reg), static_cast<uint16_t>(offset / 16)};
}
UnwindSlots SaveXmm128Far(uint8_t code_offset, uint8_t reg, uint32_t offset) {
  return {RawSlot(code_offset, kSaveXmm128Far, reg), static_cast<uint16_t>(offset),
          static_cast<uint16_t>(offset >> 16)};
}
UnwindSlots PushMachFrame(uint8_t code_offset, bool error_code) {
  return {RawSlot(code_offset, kPushMachFrame, error_code ? 1 : 0)};
}
UnwindSlots EpilogHeader(uint8_t size, bool at_end) {
  return {RawSlot(size, kEpilog, at_end ? 1 : 0)};
}
UnwindSlots EpilogAt(uint16_t offset_from_end) {
  return {RawSlot(static_cast<uint8_t>(offset_from_end), kEpilog,
                  static_cast<uint8_t>(offset_from_end >> 8))};
}
UnwindSlots EpilogPadding() { return {RawSlot(0, kEpilog, 0)}; }
}  // namespace uwop

UnwindSlots Codes(std::initializer_list<UnwindSlots> groups) {
  UnwindSlots out;
  for (const UnwindSlots& g : groups) out.insert(out.end(), g.begin(), g.end());
  return out;
}

std::vector<uint8_t> EncodeRuntimeFunction(const RuntimeFunctionRow& row) {
  std::vector<uint8_t> b;
  Append32(b, row.begin);
  Append32(b, row.end);
  Append32(b, row.unwind_data);
  return b;
}

std::vector<uint8_t> EncodeUnwindInfo(const UnwindInfoSpec& spec) {
  std::vector<uint8_t> b;
  b.push_back(static_cast<uint8_t>((spec.version & 0x7) | (spec.flags & 0x1f) << 3));
  b.push_back(spec.size_of_prolog);
  b.push_back(spec.count_of_codes.value_or(static_cast<uint8_t>(spec.codes.size())));
  b.push_back(static_cast<uint8_t>((spec.frame_register & 0xf) | (spec.frame_offset & 0xf) << 4));
  for (uint16_t slot : spec.codes) Append16(b, slot);
  const bool trailer = spec.chained_parent || spec.handler_rva;
  if (trailer && spec.codes.size() % 2 != 0) Append16(b, 0);  // align to a DWORD
  if (spec.chained_parent) {
    std::vector<uint8_t> row = EncodeRuntimeFunction(*spec.chained_parent);
    b.insert(b.end(), row.begin(), row.end());
  }
  if (spec.handler_rva) {
    Append32(b, *spec.handler_rva);
    b.insert(b.end(), spec.handler_data.begin(), spec.handler_data.end());
  }
  return b;
}

SyntheticImage& SyntheticImage::Bytes(uint32_t rva, std::vector<uint8_t> bytes) {
  patches_.emplace_back(rva, std::move(bytes));
  return *this;
}

std::vector<uint8_t> SyntheticImage::Serialize() const {
  std::vector<uint8_t> b(std::max(size_of_image_, kSizeOfHeaders), 0);
  auto section_bytes = [&](uint32_t rva, uint32_t size) {
    return rva >= b.size() ? 0u : std::min<uint32_t>(size, static_cast<uint32_t>(b.size()) - rva);
  };
  // .text is int3 where no code was placed: never mistaken for an epilog.
  std::fill(b.begin() + std::min<size_t>(kTextRva, b.size()),
            b.begin() + std::min<size_t>(kTextRva + kTextSize, b.size()), 0xCC);

  // IMAGE_DOS_HEADER: e_magic 'MZ', e_lfanew at 0x3c.
  b[0] = 'M';
  b[1] = 'Z';
  Put32(b, 0x3c, kLfanew);
  // IMAGE_NT_HEADERS64.Signature 'PE\0\0'.
  b[kLfanew] = 'P';
  b[kLfanew + 1] = 'E';
  // IMAGE_FILE_HEADER: Machine AMD64, three sections, SizeOfOptionalHeader,
  // Characteristics EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE | DLL.
  Put16(b, kFileHeader + 0, 0x8664);
  Put16(b, kFileHeader + 2, 3);
  Put32(b, kFileHeader + 4, 0x5eed0001);  // TimeDateStamp
  Put16(b, kFileHeader + 16, kOptionalHeaderSize);
  Put16(b, kFileHeader + 18, 0x2022);
  // IMAGE_OPTIONAL_HEADER64.
  const uint32_t o = kOptionalHeader;
  Put16(b, o + 0, 0x20b);            // Magic: PE32+
  Put32(b, o + 4, kTextSize);        // SizeOfCode
  Put32(b, o + 20, kTextRva);        // BaseOfCode
  Put64(b, o + 24, 0x180000000ull);  // ImageBase
  Put32(b, o + 32, 0x1000);          // SectionAlignment
  Put32(b, o + 36, 0x200);           // FileAlignment
  Put16(b, o + 40, 6);               // MajorOperatingSystemVersion
  Put16(b, o + 48, 6);               // MajorSubsystemVersion
  Put32(b, o + 56, size_of_image_);  // SizeOfImage
  Put32(b, o + 60, kSizeOfHeaders);  // SizeOfHeaders
  Put16(b, o + 68, 3);               // Subsystem: WINDOWS_CUI
  Put32(b, o + 108, 16);             // NumberOfRvaAndSizes
  // DataDirectory[3] = IMAGE_DIRECTORY_ENTRY_EXCEPTION.
  if (exception_directory_ && !rows_.empty()) {
    Put32(b, o + 112 + 3 * 8, kPdataRva);
    Put32(b, o + 112 + 3 * 8 + 4, static_cast<uint32_t>(rows_.size() * 12));
  }
  // IMAGE_SECTION_HEADER x 3: Name[8], VirtualSize, VirtualAddress,
  // SizeOfRawData, PointerToRawData, ..., Characteristics at +36.
  struct Section {
    const char* name;
    uint32_t rva, size, characteristics;
  };
  const Section sections[] = {
      {".text", kTextRva, kTextSize, 0x60000020},     // CODE | EXECUTE | READ
      {".rdata", kRdataRva, kRdataSize, 0x40000040},  // INITIALIZED_DATA | READ
      {".pdata", kPdataRva, kPdataSize, 0x40000040},
  };
  for (size_t i = 0; i < 3; ++i) {
    const uint32_t at = kSectionTable + static_cast<uint32_t>(i) * 40;
    for (size_t c = 0; sections[i].name[c] != '\0'; ++c) b[at + c] = sections[i].name[c];
    const uint32_t backed = section_bytes(sections[i].rva, sections[i].size);
    Put32(b, at + 8, sections[i].size);
    Put32(b, at + 12, sections[i].rva);
    Put32(b, at + 16, backed);
    Put32(b, at + 20, backed ? sections[i].rva : 0);
    Put32(b, at + 36, sections[i].characteristics);
  }
  // .pdata rows, in the order given.
  for (size_t i = 0; i < rows_.size(); ++i) {
    const uint32_t at = PdataRowRva(i);
    if (at + 12 > b.size()) break;
    Put32(b, at, rows_[i].begin);
    Put32(b, at + 4, rows_[i].end);
    Put32(b, at + 8, rows_[i].unwind_data);
  }
  for (const auto& [rva, bytes] : patches_) {
    for (size_t i = 0; i < bytes.size() && rva + i < b.size(); ++i) b[rva + i] = bytes[i];
  }
  return b;
}

absl::StatusOr<std::shared_ptr<const PeImage>> SyntheticImage::TryBuild() const {
  auto bytes = std::make_shared<const std::vector<uint8_t>>(Serialize());
  absl::StatusOr<PeImage> image = PeImage::Create(*bytes, PeLayout::kMapped, name_, bytes);
  if (!image.ok()) return image.status();
  return std::make_shared<const PeImage>(*std::move(image));
}

std::shared_ptr<const PeImage> SyntheticImage::Build() const {
  absl::StatusOr<std::shared_ptr<const PeImage>> image = TryBuild();
  if (!image.ok()) {
    ADD_FAILURE() << "synthetic image " << name_ << ": " << image.status();
    return nullptr;
  }
  return *std::move(image);
}

}  // namespace restack::unwind::testing
