// pe_image.cc - PE32+ header, section, debug-directory and export parsing
#include "restack/unwind/pe_image.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "byte_reader.h"
#include "errors.h"

namespace restack::unwind {
namespace {

using internal::InputError;
using internal::ReadStruct;

constexpr uint32_t kPageSize = 0x1000;
constexpr uint32_t kMaxStringLength = 4096;
constexpr uint32_t kMaxDebugEntries = 64;

// Anonymous read-write mapping that owns an image copied out of target memory.
// Only pages actually copied are touched, so a lying SizeOfImage does not
// commit memory.
struct AnonymousMapping {
  uint8_t* data = nullptr;
  size_t size = 0;
  ~AnonymousMapping() {
    if (data != nullptr) ::munmap(data, size);
  }
};

}  // namespace

std::string CodeViewRecord::GuidString() const {
  uint32_t data1;
  uint16_t data2, data3;
  std::memcpy(&data1, guid.data(), 4);
  std::memcpy(&data2, guid.data() + 4, 2);
  std::memcpy(&data3, guid.data() + 6, 2);
  std::string out = absl::StrFormat("%08X%04X%04X", data1, data2, data3);
  for (int i = 8; i < 16; ++i) absl::StrAppendFormat(&out, "%02X", guid[i]);
  return out;
}

std::string CodeViewRecord::StoreKey() const {
  return absl::StrFormat("%s%X", GuidString(), age);
}

absl::StatusOr<PeImage> PeImage::Create(std::span<const uint8_t> bytes, PeLayout layout,
                                        std::string name,
                                        std::shared_ptr<const void> keep_alive) {
  PeImage image;
  image.name_ = std::move(name);
  image.layout_ = layout;
  image.bytes_ = bytes;
  image.keep_alive_ = std::move(keep_alive);
  if (absl::Status status = image.Parse(); !status.ok()) return status;
  return image;
}

absl::StatusOr<PeImage> PeImage::FromMemory(const MemoryReader& memory, uint64_t base,
                                            std::string name) {
  // The headers tell SizeOfImage; read the first page, then parse it alone to
  // learn the size before copying the rest page by page.
  std::vector<uint8_t> first(kPageSize);
  if (absl::Status status = memory.Read(base, first); !status.ok()) {
    return absl::NotFoundError(absl::StrFormat(
        "%s: image headers at 0x%x not in memory: %s", name, base, status.message()));
  }
  absl::StatusOr<PeImage> headers =
      Create(first, PeLayout::kMapped, name, nullptr);
  if (!headers.ok()) return headers.status();
  const uint32_t size_of_image = headers->size_of_image();
  const uint64_t size_field = headers->OffsetOfSizeOfImage();
  if (size_of_image > kMaxImageFromMemory) {
    return InputError(absl::StatusCode::kDataLoss, name, size_field,
                      absl::StrFormat("IMAGE_OPTIONAL_HEADER64.SizeOfImage: 0x%x exceeds "
                                      "the limit for images read from memory (0x%x)",
                                      size_of_image, kMaxImageFromMemory));
  }
  if (size_of_image < headers->size_of_headers() || size_of_image == 0) {
    return InputError(absl::StatusCode::kDataLoss, name, size_field,
                      absl::StrFormat("IMAGE_OPTIONAL_HEADER64.SizeOfImage: 0x%x is smaller "
                                      "than the headers (SizeOfHeaders 0x%x)",
                                      size_of_image, headers->size_of_headers()));
  }
  const size_t mapped_size =
      (static_cast<size_t>(size_of_image) + kPageSize - 1) / kPageSize * kPageSize;
  auto owner = std::make_shared<AnonymousMapping>();
  void* p = ::mmap(nullptr, mapped_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("%s: cannot reserve 0x%x bytes for the image", name, mapped_size));
  }
  owner->data = static_cast<uint8_t*>(p);
  owner->size = mapped_size;
  // Pages the memory lacks are never touched, so they cost no memory.
  auto present = std::make_shared<std::vector<bool>>(mapped_size / kPageSize, false);
  std::vector<uint8_t> page_buffer(kPageSize);
  for (size_t page = 0; page < present->size(); ++page) {
    if (memory.Read(base + page * kPageSize, page_buffer).ok()) {
      std::memcpy(owner->data + page * kPageSize, page_buffer.data(), kPageSize);
      (*present)[page] = true;
    }
  }
  PeImage image;
  image.name_ = std::move(name);
  image.layout_ = PeLayout::kMapped;
  image.bytes_ = std::span<const uint8_t>(owner->data, size_of_image);
  image.present_pages_ = std::move(present);
  image.keep_alive_ = std::move(owner);
  if (absl::Status status = image.Parse(); !status.ok()) return status;
  return image;
}

absl::Status PeImage::Parse() {
  // The headers are read from the start of `bytes_` in both layouts.
  const std::span<const uint8_t> b = bytes_;
  std::optional<ImageDosHeader> dos = ReadStruct<ImageDosHeader>(b, 0);
  if (!dos) {
    return InputError(absl::StatusCode::kOutOfRange, name_, 0,
                      absl::StrFormat("IMAGE_DOS_HEADER: truncated (need 0x40 bytes, have 0x%x)",
                                      b.size()));
  }
  if (dos->e_magic != kImageDosSignature) {
    return InputError(absl::StatusCode::kInvalidArgument, name_, 0,
                      absl::StrFormat("IMAGE_DOS_HEADER.e_magic: not a PE image (expected "
                                      "0x5A4D 'MZ', got 0x%04X)",
                                      dos->e_magic));
  }
  const uint64_t nt = dos->e_lfanew;
  std::optional<uint32_t> signature = ReadStruct<uint32_t>(b, nt);
  if (!signature) {
    return InputError(absl::StatusCode::kOutOfRange, name_, 0x3c,
                      absl::StrFormat("IMAGE_DOS_HEADER.e_lfanew: 0x%x points past the end "
                                      "(size 0x%x)",
                                      nt, b.size()));
  }
  if (*signature != kImageNtSignature) {
    return InputError(absl::StatusCode::kInvalidArgument, name_, nt,
                      absl::StrFormat("IMAGE_NT_HEADERS64.Signature: bad signature (expected "
                                      "0x4550 'PE', got 0x%x)",
                                      *signature));
  }
  std::optional<ImageFileHeader> file = ReadStruct<ImageFileHeader>(b, nt + 4);
  if (!file) {
    return InputError(absl::StatusCode::kOutOfRange, name_, nt + 4,
                      "IMAGE_FILE_HEADER: truncated");
  }
  if (file->Machine != kImageFileMachineAmd64) {
    return InputError(absl::StatusCode::kUnimplemented, name_, nt + 4,
                      absl::StrFormat("IMAGE_FILE_HEADER.Machine: unsupported machine 0x%x "
                                      "(restack reads x64 images, 0x8664)",
                                      file->Machine));
  }
  const uint64_t opt_offset = nt + 4 + sizeof(ImageFileHeader);
  if (file->SizeOfOptionalHeader < sizeof(ImageOptionalHeader64)) {
    return InputError(absl::StatusCode::kDataLoss, name_, nt + 4 + 16,
                      absl::StrFormat("IMAGE_FILE_HEADER.SizeOfOptionalHeader: 0x%x is too "
                                      "small for IMAGE_OPTIONAL_HEADER64 (0x70)",
                                      file->SizeOfOptionalHeader));
  }
  std::optional<ImageOptionalHeader64> opt = ReadStruct<ImageOptionalHeader64>(b, opt_offset);
  if (!opt) {
    return InputError(absl::StatusCode::kOutOfRange, name_, opt_offset,
                      "IMAGE_OPTIONAL_HEADER64: truncated");
  }
  if (opt->Magic != kImageNtOptionalHdr64Magic) {
    return InputError(absl::StatusCode::kUnimplemented, name_, opt_offset,
                      absl::StrFormat("IMAGE_OPTIONAL_HEADER64.Magic: 0x%x is not PE32+ (0x20b)",
                                      opt->Magic));
  }
  size_of_image_offset_ = opt_offset + offsetof(ImageOptionalHeader64, SizeOfImage);
  machine_ = file->Machine;
  timestamp_ = file->TimeDateStamp;
  characteristics_ = file->Characteristics;
  size_of_image_ = opt->SizeOfImage;
  size_of_headers_ = opt->SizeOfHeaders;
  checksum_ = opt->CheckSum;
  preferred_base_ = opt->ImageBase;
  entry_point_ = opt->AddressOfEntryPoint;
  subsystem_ = opt->Subsystem;

  // Data directories: as many as both NumberOfRvaAndSizes and the optional
  // header's size allow (the loader uses at most 16).
  const uint32_t room =
      (file->SizeOfOptionalHeader - sizeof(ImageOptionalHeader64)) / sizeof(ImageDataDirectory);
  uint32_t count = std::min<uint32_t>({opt->NumberOfRvaAndSizes, room, 16});
  if (opt->NumberOfRvaAndSizes > room) {
    warnings_.push_back({opt_offset + 108,
                         absl::StrFormat("IMAGE_OPTIONAL_HEADER64.NumberOfRvaAndSizes: %u "
                                         "entries do not fit the optional header; using %u",
                                         opt->NumberOfRvaAndSizes, count)});
  }
  const uint64_t dir_offset = opt_offset + sizeof(ImageOptionalHeader64);
  for (uint32_t i = 0; i < count; ++i) {
    std::optional<ImageDataDirectory> d =
        ReadStruct<ImageDataDirectory>(b, dir_offset + i * sizeof(ImageDataDirectory));
    if (!d) {
      return InputError(absl::StatusCode::kOutOfRange, name_,
                        dir_offset + i * sizeof(ImageDataDirectory),
                        absl::StrFormat("IMAGE_DATA_DIRECTORY[%u]: truncated", i));
    }
    directories_.push_back(*d);
  }

  // Section table.
  const uint64_t sec_offset = opt_offset + file->SizeOfOptionalHeader;
  sections_.reserve(file->NumberOfSections);
  for (uint32_t i = 0; i < file->NumberOfSections; ++i) {
    const uint64_t at = sec_offset + uint64_t{i} * sizeof(ImageSectionHeader);
    std::optional<ImageSectionHeader> s = ReadStruct<ImageSectionHeader>(b, at);
    if (!s) {
      return InputError(absl::StatusCode::kOutOfRange, name_, at,
                        absl::StrFormat("IMAGE_SECTION_HEADER[%u]: truncated (NumberOfSections "
                                        "is %u)",
                                        i, file->NumberOfSections));
    }
    PeSection section;
    section.name.assign(s->Name, strnlen(s->Name, sizeof(s->Name)));
    section.virtual_address = s->VirtualAddress;
    section.virtual_size = s->VirtualSize;
    section.raw_offset = s->PointerToRawData;
    section.raw_size = s->SizeOfRawData;
    section.characteristics = s->Characteristics;
    if (layout_ == PeLayout::kFile && section.raw_size != 0 &&
        (section.raw_offset > b.size() || b.size() - section.raw_offset < section.raw_size)) {
      warnings_.push_back({at, absl::StrFormat("section %s: raw data 0x%x+0x%x extends past the "
                                               "end of the file (0x%x); image is truncated",
                                               section.name, section.raw_offset,
                                               section.raw_size, b.size())});
    }
    sections_.push_back(std::move(section));
  }

  // Section lookup by binary search: sections sorted by address, as the PE
  // format requires them to be; an image that breaks this is warned about.
  sections_by_address_.resize(sections_.size());
  for (size_t i = 0; i < sections_.size(); ++i) sections_by_address_[i] = i;
  std::stable_sort(sections_by_address_.begin(), sections_by_address_.end(),
                   [this](size_t a, size_t b) {
                     return sections_[a].virtual_address < sections_[b].virtual_address;
                   });
  for (size_t i = 1; i < sections_by_address_.size(); ++i) {
    const PeSection& prev = sections_[sections_by_address_[i - 1]];
    const PeSection& next = sections_[sections_by_address_[i]];
    if (uint64_t{prev.virtual_address} + prev.MemorySize() > next.virtual_address) {
      warnings_.push_back({sec_offset, absl::StrFormat("sections %s and %s overlap; addresses in "
                                                       "both are read from %s",
                                                       prev.name, next.name, next.name)});
      break;
    }
  }
  // Headers end where the first section begins, whatever SizeOfHeaders says.
  if (!sections_by_address_.empty() &&
      size_of_headers_ > sections_[sections_by_address_.front()].virtual_address) {
    warnings_.push_back({opt_offset + offsetof(ImageOptionalHeader64, SizeOfHeaders),
                         absl::StrFormat("IMAGE_OPTIONAL_HEADER64.SizeOfHeaders: 0x%x reaches "
                                         "into the first section (at 0x%x); clamped",
                                         size_of_headers_,
                                         sections_[sections_by_address_.front()].virtual_address)});
    size_of_headers_ = sections_[sections_by_address_.front()].virtual_address;
  }

  if (absl::Status status = ParseDebugDirectory(); !status.ok()) {
    const ImageDataDirectory dir = directory(DataDirectoryIndex::kDebug);
    warnings_.push_back({OffsetOfRva(dir.VirtualAddress).value_or(dir.VirtualAddress),
                         absl::StrFormat("IMAGE_DIRECTORY_ENTRY_DEBUG: ignored: %s",
                                         status.message())});
  }
  return absl::OkStatus();
}

absl::Status PeImage::ParseDebugDirectory() {
  const ImageDataDirectory dir = directory(DataDirectoryIndex::kDebug);
  if (dir.VirtualAddress == 0 || dir.Size == 0) return absl::OkStatus();
  const uint32_t entries = std::min<uint32_t>(dir.Size / sizeof(ImageDebugDirectory),
                                              kMaxDebugEntries);
  absl::StatusOr<std::span<const uint8_t>> table =
      ReadRva(dir.VirtualAddress, entries * sizeof(ImageDebugDirectory));
  if (!table.ok()) return table.status();
  for (uint32_t i = 0; i < entries; ++i) {
    ImageDebugDirectory entry =
        *ReadStruct<ImageDebugDirectory>(*table, i * sizeof(ImageDebugDirectory));
    if (entry.Type != kImageDebugTypeCodeView || entry.SizeOfData < sizeof(CvInfoPdb70)) {
      continue;
    }
    std::span<const uint8_t> record;
    uint64_t where = 0;
    if (entry.AddressOfRawData != 0) {
      absl::StatusOr<std::span<const uint8_t>> r =
          ReadRva(entry.AddressOfRawData, entry.SizeOfData);
      if (!r.ok()) return r.status();
      record = *r;
      where = OffsetOfRva(entry.AddressOfRawData).value_or(entry.AddressOfRawData);
    } else if (layout_ == PeLayout::kFile) {
      std::optional<std::span<const uint8_t>> r =
          internal::SubSpan(bytes_, entry.PointerToRawData, entry.SizeOfData);
      if (!r) {
        return InputError(absl::StatusCode::kOutOfRange, name_, entry.PointerToRawData,
                          "IMAGE_DEBUG_DIRECTORY.PointerToRawData: CodeView record past the "
                          "end of the file");
      }
      record = *r;
      where = entry.PointerToRawData;
    } else {
      continue;
    }
    CvInfoPdb70 cv = *ReadStruct<CvInfoPdb70>(record, 0);
    if (cv.CvSignature != kCvSignatureRsds) continue;  // NB10 and others: not used
    CodeViewRecord out;
    std::memcpy(out.guid.data(), cv.Signature, 16);
    out.age = cv.Age;
    std::span<const uint8_t> path = record.subspan(sizeof(CvInfoPdb70));
    auto nul = std::find(path.begin(), path.end(), uint8_t{0});
    if (nul == path.end()) {
      warnings_.push_back({where + sizeof(CvInfoPdb70),
                           "CV_INFO_PDB70.PdbFileName: not NUL-terminated within SizeOfData"});
    }
    out.pdb_path.assign(path.begin(), nul);
    codeview_ = std::move(out);
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

std::string PeImage::StoreKey() const {
  return absl::StrFormat("%08X%x", timestamp_, size_of_image_);
}

const PeSection* PeImage::SectionForRva(uint32_t rva) const {
  // The last section starting at or below `rva`.
  auto it = std::upper_bound(sections_by_address_.begin(), sections_by_address_.end(), rva,
                             [this](uint32_t v, size_t i) {
                               return v < sections_[i].virtual_address;
                             });
  if (it == sections_by_address_.begin()) return nullptr;
  const PeSection& s = sections_[*std::prev(it)];
  return s.ContainsRva(rva) ? &s : nullptr;
}

bool PeImage::IsExecutableRva(uint32_t rva) const {
  const PeSection* s = SectionForRva(rva);
  return s != nullptr && s->IsExecutable();
}

ImageDataDirectory PeImage::directory(DataDirectoryIndex index) const {
  const auto i = static_cast<uint32_t>(index);
  return i < directories_.size() ? directories_[i] : ImageDataDirectory{0, 0};
}

std::optional<uint64_t> PeImage::BackedOffset(uint32_t rva, uint32_t size) const {
  const uint64_t end = uint64_t{rva} + size;
  if (layout_ == PeLayout::kMapped) {
    if (end > bytes_.size()) return std::nullopt;
    if (present_pages_ != nullptr && size > 0) {
      for (uint64_t page = rva / kPageSize; page <= (end - 1) / kPageSize; ++page) {
        if (!(*present_pages_)[page]) return std::nullopt;
      }
    }
    return rva;
  }
  // File layout: the headers map 1:1, sections at PointerToRawData.
  if (end <= size_of_headers_ && end <= bytes_.size()) return rva;
  const PeSection* s = SectionForRva(rva);
  if (s == nullptr) return std::nullopt;
  const uint64_t within = rva - s->virtual_address;
  if (within + size > s->raw_size) return std::nullopt;  // zero-fill is not backed
  const uint64_t offset = uint64_t{s->raw_offset} + within;
  if (offset + size > bytes_.size()) return std::nullopt;
  return offset;
}

absl::StatusOr<std::span<const uint8_t>> PeImage::ReadRva(uint32_t rva, uint32_t size) const {
  if (size == 0) return std::span<const uint8_t>();
  std::optional<uint64_t> offset = BackedOffset(rva, size);
  if (!offset) {
    if (present_pages_ != nullptr && uint64_t{rva} + size <= bytes_.size()) {
      return absl::NotFoundError(absl::StrFormat(
          "%s: rva 0x%x+0x%x: image page not in memory", name_, rva, size));
    }
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: rva 0x%x+0x%x: not backed by image data", name_, rva, size));
  }
  return bytes_.subspan(*offset, size);
}

std::span<const uint8_t> PeImage::BytesAt(uint32_t rva, uint32_t max) const {
  // Where `rva` lies in bytes_ and how many bytes from it on are backed,
  // without asking for each length.
  uint64_t offset = rva;
  uint64_t backed = 0;
  if (layout_ == PeLayout::kMapped) {
    if (rva >= bytes_.size()) return {};
    backed = bytes_.size() - rva;
    if (present_pages_ != nullptr) {
      uint64_t page = rva / kPageSize;
      if (!(*present_pages_)[page]) return {};
      uint64_t end = (page + 1) * kPageSize;
      while (end < rva + std::min<uint64_t>(backed, max) && (*present_pages_)[++page]) {
        end += kPageSize;
      }
      backed = std::min<uint64_t>(backed, end - rva);
    }
  } else if (rva < size_of_headers_ && rva < bytes_.size()) {
    backed = std::min<uint64_t>(size_of_headers_, bytes_.size()) - rva;
  } else if (const PeSection* s = SectionForRva(rva)) {
    const uint64_t within = rva - s->virtual_address;
    offset = s->raw_offset + within;
    if (within >= s->raw_size || offset >= bytes_.size()) return {};
    backed = std::min<uint64_t>(s->raw_size - within, bytes_.size() - offset);
  }
  const uint32_t size = static_cast<uint32_t>(std::min<uint64_t>(backed, max));
  if (size == 0) return {};
  return bytes_.subspan(offset, size);
}

std::optional<uint64_t> PeImage::OffsetOfRva(uint32_t rva) const {
  if (layout_ == PeLayout::kMapped) return rva;
  return BackedOffset(rva, 0);
}

absl::StatusOr<std::vector<PeExport>> PeImage::Exports() const {
  std::vector<PeExport> out;
  const ImageDataDirectory dir = directory(DataDirectoryIndex::kExport);
  if (dir.VirtualAddress == 0 || dir.Size == 0) return out;
  absl::StatusOr<std::span<const uint8_t>> hdr =
      ReadRva(dir.VirtualAddress, sizeof(ImageExportDirectory));
  if (!hdr.ok()) return hdr.status();
  const ImageExportDirectory ed = *ReadStruct<ImageExportDirectory>(*hdr, 0);
  const uint64_t where = OffsetOfRva(dir.VirtualAddress).value_or(dir.VirtualAddress);
  // Both arrays must lie in the image, which bounds the counts.
  if (ed.NumberOfFunctions > size_of_image_ / 4 || ed.NumberOfNames > size_of_image_ / 4) {
    return InputError(absl::StatusCode::kDataLoss, name_, where + 20,
                      absl::StrFormat("IMAGE_EXPORT_DIRECTORY.NumberOfFunctions/NumberOfNames: "
                                      "%u/%u cannot fit an image of 0x%x bytes",
                                      ed.NumberOfFunctions, ed.NumberOfNames, size_of_image_));
  }
  absl::StatusOr<std::span<const uint8_t>> functions =
      ReadRva(ed.AddressOfFunctions, ed.NumberOfFunctions * 4);
  if (!functions.ok()) return functions.status();
  absl::StatusOr<std::span<const uint8_t>> names =
      ReadRva(ed.AddressOfNames, ed.NumberOfNames * 4);
  if (!names.ok()) return names.status();
  absl::StatusOr<std::span<const uint8_t>> ordinals =
      ReadRva(ed.AddressOfNameOrdinals, ed.NumberOfNames * 2);
  if (!ordinals.ok()) return ordinals.status();

  auto read_string = [&](uint32_t rva) -> absl::StatusOr<std::string> {
    std::span<const uint8_t> s = BytesAt(rva, kMaxStringLength);
    auto nul = std::find(s.begin(), s.end(), uint8_t{0});
    if (nul == s.end()) {
      return InputError(absl::StatusCode::kDataLoss, name_, OffsetOfRva(rva).value_or(rva),
                        absl::StrFormat("export name at rva 0x%x is not NUL-terminated within "
                                        "the image data (%u bytes)",
                                        rva, s.size()));
    }
    return std::string(s.begin(), nul);
  };

  out.resize(ed.NumberOfFunctions);
  for (uint32_t i = 0; i < ed.NumberOfFunctions; ++i) {
    const uint32_t rva = *ReadStruct<uint32_t>(*functions, i * 4);
    out[i].ordinal = ed.Base + i;
    if (rva >= dir.VirtualAddress && rva - dir.VirtualAddress < dir.Size) {
      absl::StatusOr<std::string> fwd = read_string(rva);
      if (!fwd.ok()) return fwd.status();
      out[i].forwarder = *std::move(fwd);
    } else {
      out[i].rva = rva;
    }
  }
  for (uint32_t i = 0; i < ed.NumberOfNames; ++i) {
    const uint16_t index = *ReadStruct<uint16_t>(*ordinals, i * 2);
    if (index >= out.size()) {
      return InputError(absl::StatusCode::kDataLoss, name_,
                        OffsetOfRva(ed.AddressOfNameOrdinals).value_or(0) + i * 2,
                        absl::StrFormat("AddressOfNameOrdinals[%u]: index %u past "
                                        "NumberOfFunctions (%u)",
                                        i, index, ed.NumberOfFunctions));
    }
    absl::StatusOr<std::string> name = read_string(*ReadStruct<uint32_t>(*names, i * 4));
    if (!name.ok()) return name.status();
    if (out[index].name.empty()) out[index].name = *std::move(name);
  }
  // Unused slots (RVA 0, no name, no forwarder) are not exports.
  std::erase_if(out, [](const PeExport& e) {
    return e.rva == 0 && e.forwarder.empty() && e.name.empty();
  });
  return out;
}

}  // namespace restack::unwind
