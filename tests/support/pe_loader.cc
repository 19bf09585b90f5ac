// pe_loader.cc - map, relocate, read exports and imports, bind (see pe_loader.h)
#include "tests/support/pe_loader.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"

namespace restack::test {
namespace {

// "PE Format": offsets used below.
constexpr uint32_t kDosLfanew = 0x3C;
constexpr uint32_t kPeSignature = 0x00004550;  // "PE\0\0"
constexpr uint16_t kMachineAmd64 = 0x8664;
constexpr uint16_t kMagicPe32Plus = 0x20B;
// IMAGE_FILE_HEADER, after the signature.
constexpr uint32_t kFhMachine = 0x00, kFhNumberOfSections = 0x02, kFhTimeDateStamp = 0x04,
                   kFhSizeOfOptionalHeader = 0x10, kFhCharacteristics = 0x12, kFileHeaderSize = 0x14;
constexpr uint16_t kFileRelocsStripped = 0x0001;
// IMAGE_OPTIONAL_HEADER64.
constexpr uint32_t kOhMagic = 0x00, kOhAddressOfEntryPoint = 0x10, kOhImageBase = 0x18,
                   kOhSizeOfImage = 0x38, kOhSizeOfHeaders = 0x3C, kOhCheckSum = 0x40,
                   kOhNumberOfRvaAndSizes = 0x6C, kOhDataDirectory = 0x70;
constexpr uint32_t kDirExport = 0, kDirImport = 1, kDirBaseReloc = 5;
// IMAGE_SECTION_HEADER (0x28 bytes).
constexpr uint32_t kShName = 0x00, kShVirtualSize = 0x08, kShVirtualAddress = 0x0C,
                   kShSizeOfRawData = 0x10, kShPointerToRawData = 0x14,
                   kShCharacteristics = 0x24, kSectionHeaderSize = 0x28;
// IMAGE_EXPORT_DIRECTORY.
constexpr uint32_t kExNumberOfNames = 0x18, kExAddressOfFunctions = 0x1C,
                   kExAddressOfNames = 0x20, kExAddressOfNameOrdinals = 0x24;
// IMAGE_IMPORT_DESCRIPTOR (0x14 bytes).
constexpr uint32_t kImOriginalFirstThunk = 0x00, kImName = 0x0C, kImFirstThunk = 0x10,
                   kImportDescriptorSize = 0x14;
constexpr uint64_t kOrdinalFlag64 = 1ull << 63;
// Base relocation block: PageRVA u32, BlockSize u32, then u16 entries (type << 12 | offset).
constexpr uint16_t kRelAbsolute = 0, kRelDir64 = 10;

uint16_t U16(std::span<const uint8_t> b, size_t at) {
  uint16_t v;
  std::memcpy(&v, b.data() + at, 2);
  return v;
}
uint32_t U32(std::span<const uint8_t> b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
uint64_t U64(std::span<const uint8_t> b, size_t at) {
  uint64_t v;
  std::memcpy(&v, b.data() + at, 8);
  return v;
}

absl::Status Bad(const std::string& name, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s", name, what));
}

// Bounds-checked reads of the mapped image.
class Mapped {
 public:
  Mapped(const LoadedImage& image) : image_(image) {}
  bool Has(uint64_t rva, uint64_t size) const {
    return rva <= image_.memory.size() && size <= image_.memory.size() - rva;
  }
  absl::StatusOr<uint32_t> U32At(uint64_t rva) const {
    if (!Has(rva, 4)) return Bad(image_.name, absl::StrFormat("RVA 0x%x out of image", rva));
    return U32(image_.memory, rva);
  }
  absl::StatusOr<uint64_t> U64At(uint64_t rva) const {
    if (!Has(rva, 8)) return Bad(image_.name, absl::StrFormat("RVA 0x%x out of image", rva));
    return U64(image_.memory, rva);
  }
  absl::StatusOr<std::string> StringAt(uint64_t rva) const {
    std::string s;
    for (uint64_t at = rva; Has(at, 1); ++at) {
      const char c = static_cast<char>(image_.memory[at]);
      if (c == 0) return s;
      s.push_back(c);
    }
    return Bad(image_.name, absl::StrFormat("unterminated string at RVA 0x%x", rva));
  }

 private:
  const LoadedImage& image_;
};

absl::Status ReadExports(LoadedImage& image, uint32_t rva, uint32_t size) {
  if (rva == 0 || size == 0) return absl::OkStatus();
  const Mapped m(image);
  absl::StatusOr<uint32_t> count = m.U32At(rva + kExNumberOfNames);
  absl::StatusOr<uint32_t> functions = m.U32At(rva + kExAddressOfFunctions);
  absl::StatusOr<uint32_t> names = m.U32At(rva + kExAddressOfNames);
  absl::StatusOr<uint32_t> ordinals = m.U32At(rva + kExAddressOfNameOrdinals);
  for (const auto* s : {&count, &functions, &names, &ordinals}) {
    if (!s->ok()) return s->status();
  }
  for (uint32_t i = 0; i < *count; ++i) {
    absl::StatusOr<uint32_t> name_rva = m.U32At(*names + 4ull * i);
    if (!name_rva.ok()) return name_rva.status();
    if (!m.Has(*ordinals + 2ull * i, 2)) return Bad(image.name, "export ordinal table truncated");
    const uint16_t ordinal = U16(image.memory, *ordinals + 2ull * i);
    absl::StatusOr<uint32_t> function = m.U32At(*functions + 4ull * ordinal);
    absl::StatusOr<std::string> name = m.StringAt(*name_rva);
    if (!function.ok()) return function.status();
    if (!name.ok()) return name.status();
    if (*function >= rva && *function < rva + size) {
      return Bad(image.name, "forwarded export " + *name + " (not supported)");
    }
    image.exports.push_back({*name, *function});
  }
  return absl::OkStatus();
}

absl::Status ReadImports(LoadedImage& image, uint32_t rva, uint32_t size) {
  if (rva == 0 || size == 0) return absl::OkStatus();
  const Mapped m(image);
  for (uint64_t d = rva;; d += kImportDescriptorSize) {
    absl::StatusOr<uint32_t> lookup = m.U32At(d + kImOriginalFirstThunk);
    absl::StatusOr<uint32_t> dll_rva = m.U32At(d + kImName);
    absl::StatusOr<uint32_t> iat = m.U32At(d + kImFirstThunk);
    for (const auto* s : {&lookup, &dll_rva, &iat}) {
      if (!s->ok()) return s->status();
    }
    if (*dll_rva == 0 && *iat == 0) return absl::OkStatus();
    absl::StatusOr<std::string> dll = m.StringAt(*dll_rva);
    if (!dll.ok()) return dll.status();
    const uint32_t names = *lookup != 0 ? *lookup : *iat;
    for (uint64_t i = 0;; ++i) {
      absl::StatusOr<uint64_t> entry = m.U64At(names + 8 * i);
      if (!entry.ok()) return entry.status();
      if (*entry == 0) break;
      if (*entry & kOrdinalFlag64) return Bad(image.name, "import by ordinal from " + *dll);
      // IMAGE_IMPORT_BY_NAME: Hint u16, then the name.
      absl::StatusOr<std::string> name = m.StringAt((*entry & 0x7FFFFFFF) + 2);
      if (!name.ok()) return name.status();
      image.imports.push_back({*dll, *name, static_cast<uint32_t>(*iat + 8 * i)});
    }
  }
}

absl::Status Relocate(LoadedImage& image, uint32_t rva, uint32_t size) {
  const uint64_t delta = image.base - image.preferred_base;
  const Mapped m(image);
  for (uint64_t block = rva; block < static_cast<uint64_t>(rva) + size;) {
    absl::StatusOr<uint32_t> page = m.U32At(block);
    absl::StatusOr<uint32_t> block_size = m.U32At(block + 4);
    if (!page.ok()) return page.status();
    if (!block_size.ok()) return block_size.status();
    if (*block_size < 8 || !m.Has(block, *block_size)) {
      return Bad(image.name, absl::StrFormat("bad relocation block at RVA 0x%x", block));
    }
    for (uint64_t e = block + 8; e + 2 <= block + *block_size; e += 2) {
      const uint16_t entry = U16(image.memory, e);
      const uint16_t type = entry >> 12;
      const uint64_t at = *page + (entry & 0xFFF);
      if (type == kRelAbsolute) continue;
      if (type != kRelDir64) {
        return Bad(image.name, absl::StrFormat("relocation type %u at RVA 0x%x", type, at));
      }
      absl::StatusOr<uint64_t> value = m.U64At(at);
      if (!value.ok()) return value.status();
      const uint64_t moved = *value + delta;
      std::memcpy(image.memory.data() + at, &moved, 8);
    }
    block += *block_size;
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<uint64_t> LoadedImage::ExportAddress(std::string_view wanted) const {
  for (const LoadedExport& e : exports) {
    if (e.name == wanted) return base + e.rva;
  }
  return std::nullopt;
}

const LoadedSection* LoadedImage::SectionAt(uint32_t rva) const {
  for (const LoadedSection& s : sections) {
    if (rva >= s.rva && rva - s.rva < s.size) return &s;
  }
  return nullptr;
}

bool LoadedImage::IsCode(uint64_t va) const {
  if (!Contains(va)) return false;
  const LoadedSection* s = SectionAt(static_cast<uint32_t>(va - base));
  return s != nullptr && s->executable();
}

absl::StatusOr<LoadedImage> LoadImage(std::span<const uint8_t> file, std::string name,
                                      uint64_t base) {
  LoadedImage image;
  image.name = std::move(name);
  image.base = base;
  if ((base & 0xFFFF) != 0) return Bad(image.name, "base not 64 KiB aligned");
  const auto need = [&](uint64_t at, uint64_t size) { return at + size <= file.size(); };
  if (!need(0, 0x40) || file[0] != 'M' || file[1] != 'Z') return Bad(image.name, "no MZ header");
  const uint32_t pe = U32(file, kDosLfanew);
  if (!need(pe, 4 + kFileHeaderSize) || U32(file, pe) != kPeSignature) {
    return Bad(image.name, "no PE signature");
  }
  const uint32_t fh = pe + 4;
  if (U16(file, fh + kFhMachine) != kMachineAmd64) return Bad(image.name, "not an x64 image");
  const uint16_t sections = U16(file, fh + kFhNumberOfSections);
  const uint16_t oh_size = U16(file, fh + kFhSizeOfOptionalHeader);
  image.timestamp = U32(file, fh + kFhTimeDateStamp);
  const uint32_t oh = fh + kFileHeaderSize;
  if (oh_size < kOhDataDirectory || !need(oh, oh_size) || U16(file, oh + kOhMagic) != kMagicPe32Plus) {
    return Bad(image.name, "not PE32+");
  }
  image.entry_rva = U32(file, oh + kOhAddressOfEntryPoint);
  image.preferred_base = U64(file, oh + kOhImageBase);
  image.size_of_image = U32(file, oh + kOhSizeOfImage);
  image.checksum = U32(file, oh + kOhCheckSum);
  const uint32_t size_of_headers = U32(file, oh + kOhSizeOfHeaders);
  const uint32_t directories = U32(file, oh + kOhNumberOfRvaAndSizes);
  if (image.size_of_image == 0 || image.size_of_image > (64u << 20) ||
      size_of_headers > image.size_of_image || !need(0, size_of_headers)) {
    return Bad(image.name, "bad SizeOfImage / SizeOfHeaders");
  }
  const auto directory = [&](uint32_t index) -> std::pair<uint32_t, uint32_t> {
    const uint32_t at = oh + kOhDataDirectory + 8 * index;
    if (index >= directories || at + 8 > oh + oh_size) return {0, 0};
    return {U32(file, at), U32(file, at + 4)};
  };

  image.memory.assign(image.size_of_image, 0);
  std::memcpy(image.memory.data(), file.data(), size_of_headers);
  const uint32_t table = oh + oh_size;
  if (!need(table, uint64_t{kSectionHeaderSize} * sections)) {
    return Bad(image.name, "section table truncated");
  }
  for (uint16_t i = 0; i < sections; ++i) {
    const uint32_t sh = table + kSectionHeaderSize * i;
    LoadedSection s;
    const char* raw_name = reinterpret_cast<const char*>(file.data() + sh + kShName);
    s.name.assign(raw_name, strnlen(raw_name, 8));
    s.rva = U32(file, sh + kShVirtualAddress);
    const uint32_t virtual_size = U32(file, sh + kShVirtualSize);
    const uint32_t raw_size = U32(file, sh + kShSizeOfRawData);
    const uint32_t raw_offset = U32(file, sh + kShPointerToRawData);
    s.size = virtual_size != 0 ? virtual_size : raw_size;
    s.characteristics = U32(file, sh + kShCharacteristics);
    const uint32_t copy = std::min(raw_size, s.size);
    if (uint64_t{s.rva} + s.size > image.size_of_image || !need(raw_offset, copy)) {
      return Bad(image.name, "section " + s.name + " outside the image or the file");
    }
    std::memcpy(image.memory.data() + s.rva, file.data() + raw_offset, copy);
    image.sections.push_back(std::move(s));
  }

  // An image without relocations moves as it is, unless its relocations were stripped.
  const auto [reloc_rva, reloc_size] = directory(kDirBaseReloc);
  if (image.base != image.preferred_base) {
    if (U16(file, fh + kFhCharacteristics) & kFileRelocsStripped) {
      return Bad(image.name, "must move but its relocations are stripped");
    }
    if (absl::Status st = Relocate(image, reloc_rva, reloc_size); !st.ok()) return st;
  }
  const auto [export_rva, export_size] = directory(kDirExport);
  if (absl::Status st = ReadExports(image, export_rva, export_size); !st.ok()) return st;
  const auto [import_rva, import_size] = directory(kDirImport);
  if (absl::Status st = ReadImports(image, import_rva, import_size); !st.ok()) return st;
  return image;
}

absl::Status BindImports(std::vector<LoadedImage>& images) {
  for (LoadedImage& image : images) {
    for (const LoadedImport& import : image.imports) {
      const LoadedImage* provider = nullptr;
      for (const LoadedImage& other : images) {
        if (absl::EqualsIgnoreCase(other.name, import.dll)) provider = &other;
      }
      std::optional<uint64_t> address;
      if (provider != nullptr) address = provider->ExportAddress(import.name);
      if (!address) {
        return absl::NotFoundError(absl::StrFormat("%s imports %s!%s: no such export loaded",
                                                   image.name, import.dll, import.name));
      }
      std::memcpy(image.memory.data() + import.iat_rva, &*address, 8);
    }
  }
  return absl::OkStatus();
}

}  // namespace restack::test
