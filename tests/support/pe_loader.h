// pe_loader.h - loads PE32+ images the way a Windows loader does, for the scenario runner
//
// The fixture images of tests/fixtures/kernel/ are placed at chosen (kernel or user)
// addresses: headers and sections copied to their RVAs in a SizeOfImage buffer,
// uninitialised tails zero, IMAGE_REL_BASED_DIR64 relocations applied for the new
// base, exports read, and imports bound by name between the images (BindImports).
//
// Like kernel_dump_writer.h this deliberately does not use restack's own PE reader
// (restack/unwind/pe_image.h): the images it loads are what the unwinder under test
// reads, so the loader is written from the PE format description ("PE Format",
// Microsoft) with its offsets spelled out in pe_loader.cc. Unwind data is never read.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace restack::test {

// One IMAGE_SECTION_HEADER as loaded.
struct LoadedSection {
  std::string name;
  uint32_t rva = 0;
  uint32_t size = 0;  // in memory: VirtualSize (or SizeOfRawData when that is 0)
  uint32_t characteristics = 0;
  // IMAGE_SCN_CNT_CODE or IMAGE_SCN_MEM_EXECUTE.
  bool executable() const { return (characteristics & 0x20000020u) != 0; }
  // IMAGE_SCN_MEM_DISCARDABLE (.reloc, INIT): Windows frees these after loading.
  bool discardable() const { return (characteristics & 0x02000000u) != 0; }
};

// A named export (forwarders are not supported: the fixtures have none).
struct LoadedExport {
  std::string name;
  uint32_t rva = 0;
};

// One imported function: the IAT slot the loader fills.
struct LoadedImport {
  std::string dll;   // as the import directory names it, e.g. "rsnt.exe"
  std::string name;  // imported by name (ordinal imports are refused)
  uint32_t iat_rva = 0;
};

// An image mapped at `base`.
struct LoadedImage {
  std::string name;  // file name, e.g. "rsnt.exe"
  uint64_t base = 0;
  uint64_t preferred_base = 0;
  uint32_t size_of_image = 0;
  uint32_t timestamp = 0;  // IMAGE_FILE_HEADER.TimeDateStamp
  uint32_t checksum = 0;
  uint32_t entry_rva = 0;  // AddressOfEntryPoint
  std::vector<LoadedSection> sections;
  std::vector<LoadedExport> exports;
  std::vector<LoadedImport> imports;
  // SizeOfImage bytes as mapped: relocated; IAT slots bound once BindImports ran.
  std::vector<uint8_t> memory;

  uint64_t end() const { return base + size_of_image; }
  bool Contains(uint64_t va) const { return va >= base && va - base < size_of_image; }
  // Address of the export `name`, if there is one.
  std::optional<uint64_t> ExportAddress(std::string_view name) const;
  // The section holding `rva`, or nullptr.
  const LoadedSection* SectionAt(uint32_t rva) const;
  // Whether `va` lies in an executable section of this image.
  bool IsCode(uint64_t va) const;
};

// Parses `file` (a PE32+ image in file layout) and maps it at `base` (64 KiB aligned).
// Errors: kInvalidArgument for anything that is not a well-formed x64 PE32+ image or
// uses what the loader does not support (ordinal imports, relocation types other than
// ABSOLUTE and DIR64).
absl::StatusOr<LoadedImage> LoadImage(std::span<const uint8_t> file, std::string name,
                                      uint64_t base);

// Fills every image's IAT from the other images' exports, matching the DLL name
// case-insensitively. Errors: kNotFound naming the first import without a provider.
absl::Status BindImports(std::vector<LoadedImage>& images);

}  // namespace restack::test
