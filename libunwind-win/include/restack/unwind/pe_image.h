// pe_image.h - a PE32+ image: headers, sections, directories, CodeView, exports
//
// Reads images in file layout (as on disk), in mapped layout (as loaded, RVA ==
// offset) or straight out of target memory. Every offset and size read from the
// image is bounds-checked; errors name the image, the file offset and the field.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "restack/unwind/memory_reader.h"
#include "restack/unwind/pe_layout.h"
#include "restack/unwind/warning.h"

namespace restack::unwind {

// How the bytes handed to PeImage::Create are laid out.
enum class PeLayout {
  kFile,    // as stored on disk: sections at PointerToRawData
  kMapped,  // as loaded: sections at VirtualAddress (offset == RVA)
};

// One IMAGE_SECTION_HEADER, decoded.
struct PeSection {
  std::string name;  // up to 8 characters, NULs stripped
  uint32_t virtual_address = 0;
  uint32_t virtual_size = 0;
  uint32_t raw_offset = 0;  // PointerToRawData
  uint32_t raw_size = 0;    // SizeOfRawData
  uint32_t characteristics = 0;

  // Extent in memory: VirtualSize, or SizeOfRawData when VirtualSize is 0.
  uint32_t MemorySize() const { return virtual_size ? virtual_size : raw_size; }
  bool ContainsRva(uint32_t rva) const {
    return rva >= virtual_address && rva - virtual_address < MemorySize();
  }
  // IMAGE_SCN_MEM_EXECUTE or IMAGE_SCN_CNT_CODE.
  bool IsExecutable() const {
    return (characteristics & (kImageScnMemExecute | kImageScnCntCode)) != 0;
  }
};

// The CodeView RSDS record of the debug directory: which PDB matches the image.
struct CodeViewRecord {
  std::array<uint8_t, 16> guid{};  // as stored (Data1..Data3 little-endian)
  uint32_t age = 0;
  std::string pdb_path;

  // GUID as a symbol store writes it: %08X%04X%04X then 8 x %02X.
  std::string GuidString() const;
  // Symbol-store key of the PDB: GuidString() + age as %X.
  std::string StoreKey() const;
};

// One exported function.
struct PeExport {
  uint32_t ordinal = 0;
  uint32_t rva = 0;        // 0 for a forwarder
  std::string name;        // empty when exported by ordinal only
  std::string forwarder;   // "DLL.Function" when forwarded
};

// A parsed PE32+ (x64) image. Cheap to copy: the bytes are shared.
class PeImage {
 public:
  // Parses headers and section table of `bytes` laid out as `layout`. `name`
  // is used in messages (usually the file path). `keep_alive` owns `bytes`.
  static absl::StatusOr<PeImage> Create(std::span<const uint8_t> bytes, PeLayout layout,
                                        std::string name,
                                        std::shared_ptr<const void> keep_alive = nullptr);

  // Reads the image loaded at `base` out of target memory (mapped layout).
  // Pages that memory does not hold are holes: reads touching them fail with
  // NotFound. SizeOfImage is bounded by kMaxImageFromMemory.
  static absl::StatusOr<PeImage> FromMemory(const MemoryReader& memory, uint64_t base,
                                            std::string name);
  static constexpr uint32_t kMaxImageFromMemory = 1u << 30;

  const std::string& name() const { return name_; }
  PeLayout layout() const { return layout_; }
  uint16_t machine() const { return machine_; }
  uint32_t timestamp() const { return timestamp_; }
  uint32_t size_of_image() const { return size_of_image_; }
  uint32_t size_of_headers() const { return size_of_headers_; }
  uint32_t checksum() const { return checksum_; }
  uint64_t preferred_base() const { return preferred_base_; }
  uint32_t entry_point() const { return entry_point_; }
  uint16_t characteristics() const { return characteristics_; }
  uint16_t subsystem() const { return subsystem_; }

  // Symbol-store key of the image: TimeDateStamp as %08X + SizeOfImage as %x.
  std::string StoreKey() const;

  const std::vector<PeSection>& sections() const { return sections_; }
  // The section containing `rva`, or nullptr.
  const PeSection* SectionForRva(uint32_t rva) const;
  // Whether `rva` lies in an executable section.
  bool IsExecutableRva(uint32_t rva) const;

  // A data directory entry ({0, 0} when the image has fewer entries).
  ImageDataDirectory directory(DataDirectoryIndex index) const;

  // The bytes at [rva, rva + size): OutOfRange unless wholly backed by image
  // data (file data for kFile, present pages for FromMemory).
  absl::StatusOr<std::span<const uint8_t>> ReadRva(uint32_t rva, uint32_t size) const;
  // Up to `max` bytes at `rva`, fewer where backing data ends (maybe none).
  std::span<const uint8_t> BytesAt(uint32_t rva, uint32_t max) const;
  // Offset of IMAGE_OPTIONAL_HEADER64.SizeOfImage in the headers, for messages.
  uint64_t OffsetOfSizeOfImage() const { return size_of_image_offset_; }
  // File offset of `rva` (kFile layout), for messages; the RVA itself otherwise.
  std::optional<uint64_t> OffsetOfRva(uint32_t rva) const;

  // The CodeView RSDS record, if the debug directory has one.
  const std::optional<CodeViewRecord>& codeview() const { return codeview_; }

  // The export table (parsed on each call; cheap for the sizes seen).
  absl::StatusOr<std::vector<PeExport>> Exports() const;

  // Non-fatal findings made while parsing (bad debug directory, ...).
  const std::vector<Warning>& warnings() const { return warnings_; }

 private:
  PeImage() = default;
  absl::Status Parse();
  absl::Status ParseDebugDirectory();
  // Offset of [rva, rva+size) in bytes_, if wholly backed.
  std::optional<uint64_t> BackedOffset(uint32_t rva, uint32_t size) const;

  std::string name_;
  PeLayout layout_ = PeLayout::kFile;
  std::span<const uint8_t> bytes_;
  std::shared_ptr<const void> keep_alive_;
  std::shared_ptr<const std::vector<bool>> present_pages_;  // FromMemory only

  uint16_t machine_ = 0;
  uint32_t timestamp_ = 0;
  uint32_t size_of_image_ = 0;
  uint32_t size_of_headers_ = 0;
  uint32_t checksum_ = 0;
  uint64_t preferred_base_ = 0;
  uint32_t entry_point_ = 0;
  uint16_t characteristics_ = 0;
  uint16_t subsystem_ = 0;
  std::vector<PeSection> sections_;
  std::vector<size_t> sections_by_address_;  // indexes into sections_, by VirtualAddress
  uint64_t size_of_image_offset_ = 0;
  std::vector<ImageDataDirectory> directories_;
  std::optional<CodeViewRecord> codeview_;
  std::vector<Warning> warnings_;
};

}  // namespace restack::unwind
