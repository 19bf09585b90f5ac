// cab_file.cc - single-file cabinets checked by restack, decompressed by libarchive
#include "cab_file.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"

namespace restack::sym::internal {
namespace {

uint16_t U16(std::span<const uint8_t> b, size_t off) {
  return static_cast<uint16_t>(b[off] | (b[off + 1] << 8));
}
uint32_t U32(std::span<const uint8_t> b, size_t off) {
  return static_cast<uint32_t>(b[off]) | (static_cast<uint32_t>(b[off + 1]) << 8) |
         (static_cast<uint32_t>(b[off + 2]) << 16) | (static_cast<uint32_t>(b[off + 3]) << 24);
}

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

std::string ArchiveError(archive* a) {
  const char* s = archive_error_string(a);
  return s != nullptr ? std::string(s) : std::string("libarchive gave no reason");
}

// The part of a CFFILE.szName after its last '\' or '/'.
std::string_view BaseOf(std::string_view name) {
  const size_t slash = name.find_last_of("/\\");
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

// Checks CFHEADER; returns cbCabinet.
absl::StatusOr<uint32_t> CheckHeader(std::span<const uint8_t> cab, const std::string& cab_name) {
  if (cab.size() < kCfHeaderSize) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: offset 0x0: CFHEADER: file has 0x%x bytes, a cabinet header needs 0x%x", cab_name,
        cab.size(), kCfHeaderSize));
  }
  if (std::memcmp(cab.data(), "MSCF", 4) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: offset 0x0: CFHEADER.signature: not a cabinet (expected 'MSCF', got %02X %02X "
        "%02X %02X)",
        cab_name, cab[0], cab[1], cab[2], cab[3]));
  }
  const uint8_t major = cab[kCfHeaderVersionMajor];
  const uint8_t minor = cab[kCfHeaderVersionMinor];
  if (major != 1) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: offset 0x%x: CFHEADER.versionMajor: cabinet version %d.%d not supported "
        "(expected 1.3)",
        cab_name, kCfHeaderVersionMajor, major, minor));
  }
  const uint32_t cb_cabinet = U32(cab, kCfHeaderCbCabinet);
  if (cb_cabinet < kCfHeaderSize) {
    return absl::DataLossError(absl::StrFormat(
        "%s: offset 0x%x: CFHEADER.cbCabinet: 0x%x bytes, smaller than the header (0x%x)",
        cab_name, kCfHeaderCbCabinet, cb_cabinet, kCfHeaderSize));
  }
  if (cb_cabinet > cab.size()) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: offset 0x%x: CFHEADER.cbCabinet: cabinet is 0x%x bytes, file has only 0x%x "
        "(truncated)",
        cab_name, kCfHeaderCbCabinet, cb_cabinet, cab.size()));
  }
  const uint16_t flags = U16(cab, kCfHeaderFlags);
  if ((flags & (kCfhdrPrevCabinet | kCfhdrNextCabinet)) != 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: offset 0x%x: CFHEADER.flags: 0x%x: part of a multi-cabinet set, not supported",
        cab_name, kCfHeaderFlags, flags));
  }
  const uint16_t folders = U16(cab, kCfHeaderCFolders);
  if (folders == 0) {
    return absl::DataLossError(absl::StrFormat(
        "%s: offset 0x%x: CFHEADER.cFolders: 0 folders (expected at least 1)", cab_name,
        kCfHeaderCFolders));
  }
  const uint16_t files = U16(cab, kCfHeaderCFiles);
  if (files != 1) {
    return absl::DataLossError(absl::StrFormat(
        "%s: offset 0x%x: CFHEADER.cFiles: holds %u files (expected 1: a store's compressed "
        "file holds one)",
        cab_name, kCfHeaderCFiles, files));
  }
  return cb_cabinet;
}

// Checks that the one file lies inside its folder's CFDATA blocks and that
// every block lies inside the cabinet, so that lying sizes get a message with
// the field's offset instead of libarchive's "Truncated CAB header". Files
// larger than `max_size` are refused here, before anything is decompressed.
absl::Status CheckFolder(std::span<const uint8_t> cab, const std::string& cab_name,
                         uint64_t max_size) {
  const uint16_t flags = U16(cab, kCfHeaderFlags);
  size_t folders_offset = kCfHeaderSize;
  size_t folder_reserve = 0;
  size_t data_reserve = 0;
  if ((flags & kCfhdrReservePresent) != 0) {
    // cbCFHeader (u16), cbCFFolder (u8), cbCFData (u8), then cbCFHeader bytes.
    if (cab.size() < kCfHeaderSize + 4) {
      return absl::OutOfRangeError(absl::StrFormat(
          "%s: offset 0x%x: CFHEADER.cbCFHeader: past the end of the cabinet (0x%x)", cab_name,
          kCfHeaderSize, cab.size()));
    }
    folder_reserve = cab[kCfHeaderSize + 2];
    data_reserve = cab[kCfHeaderSize + 3];
    folders_offset = kCfHeaderSize + 4 + U16(cab, kCfHeaderSize);
  }
  const uint32_t files_offset = U32(cab, kCfHeaderCoffFiles);
  if (static_cast<uint64_t>(files_offset) + kCfFileSize > cab.size()) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: offset 0x%x: CFHEADER.coffFiles: CFFILE at 0x%x is past the end of the cabinet "
        "(0x%x)",
        cab_name, kCfHeaderCoffFiles, files_offset, cab.size()));
  }
  const uint32_t cb_file = U32(cab, files_offset + kCfFileCbFile);
  if (cb_file > max_size) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s: offset 0x%x: CFFILE.cbFile: 0x%x bytes, more than the 0x%x restack decompresses",
        cab_name, files_offset + kCfFileCbFile, cb_file, max_size));
  }
  const uint32_t folder_start = U32(cab, files_offset + kCfFileUoffFolderStart);
  const uint16_t folder_index = U16(cab, files_offset + kCfFileIFolder);
  const uint16_t folders = U16(cab, kCfHeaderCFolders);
  if (folder_index >= folders) {
    return absl::DataLossError(absl::StrFormat(
        "%s: offset 0x%x: CFFILE.iFolder: 0x%x, but the cabinet has %u folders (0xFFFD-0xFFFF "
        "continue other cabinets, not supported)",
        cab_name, files_offset + kCfFileIFolder, folder_index, folders));
  }
  const uint64_t folder_offset =
      folders_offset + static_cast<uint64_t>(folder_index) * (kCfFolderSize + folder_reserve);
  if (folder_offset + kCfFolderSize > cab.size()) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: offset 0x%x: CFFOLDER[%u]: past the end of the cabinet (0x%x)", cab_name,
        folder_offset, folder_index, cab.size()));
  }
  uint64_t data_offset = U32(cab, folder_offset + kCfFolderCoffCabStart);
  const uint16_t blocks = U16(cab, folder_offset + kCfFolderCCfData);
  uint64_t uncompressed = 0;
  for (uint16_t i = 0; i < blocks; ++i) {
    if (data_offset + kCfDataSize + data_reserve > cab.size()) {
      return absl::OutOfRangeError(absl::StrFormat(
          "%s: offset 0x%x: CFDATA[%u]: header past the end of the cabinet (0x%x)", cab_name,
          data_offset, i, cab.size()));
    }
    const uint16_t cb_data = U16(cab, data_offset + kCfDataCbData);
    const uint64_t end = data_offset + kCfDataSize + data_reserve + cb_data;
    if (end > cab.size()) {
      return absl::OutOfRangeError(absl::StrFormat(
          "%s: offset 0x%x: CFDATA[%u].cbData: 0x%x bytes end at 0x%x, past the end of the "
          "cabinet (0x%x)",
          cab_name, data_offset + kCfDataCbData, i, cb_data, end, cab.size()));
    }
    uncompressed += U16(cab, data_offset + kCfDataCbUncomp);
    data_offset = end;
  }
  if (static_cast<uint64_t>(folder_start) + cb_file > uncompressed) {
    return absl::DataLossError(absl::StrFormat(
        "%s: offset 0x%x: CFFILE.cbFile: 0x%x bytes at folder offset 0x%x, but the folder's %u "
        "CFDATA blocks hold 0x%x",
        cab_name, files_offset + kCfFileCbFile, cb_file, folder_start, blocks, uncompressed));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CabFile> ExtractSingleFileCab(std::span<const uint8_t> cab,
                                             const std::string& cab_name,
                                             std::string_view expected_name, uint64_t max_size) {
  absl::StatusOr<uint32_t> cb_cabinet = CheckHeader(cab, cab_name);
  if (!cb_cabinet.ok()) return cb_cabinet.status();
  cab = cab.first(*cb_cabinet);
  if (absl::Status s = CheckFolder(cab, cab_name, max_size); !s.ok()) return s;

  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  if (a == nullptr) return absl::ResourceExhaustedError("archive_read_new failed");
  archive_read_support_format_cab(a.get());
  if (archive_read_open_memory(a.get(), cab.data(), cab.size()) != ARCHIVE_OK) {
    return absl::DataLossError(
        absl::StrFormat("%s: cabinet not readable: %s", cab_name, ArchiveError(a.get())));
  }
  archive_entry* entry = nullptr;
  int r = archive_read_next_header(a.get(), &entry);
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
    return absl::DataLossError(absl::StrFormat("%s: cabinet folder or file table: %s", cab_name,
                                               ArchiveError(a.get())));
  }
  CabFile out;
  const char* pathname = archive_entry_pathname(entry);
  out.name = pathname != nullptr ? std::string(BaseOf(pathname)) : std::string();
  if (!expected_name.empty() &&
      !absl::EqualsIgnoreCase(out.name, absl::string_view(expected_name.data(),
                                                          expected_name.size()))) {
    return absl::DataLossError(absl::StrFormat("%s: CFFILE.szName: holds '%s' (expected '%s')",
                                               cab_name, out.name, expected_name));
  }
  const int64_t declared = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : -1;
  if (declared < 0) {
    return absl::DataLossError(
        absl::StrFormat("%s: CFFILE.cbFile: no size for '%s'", cab_name, out.name));
  }
  if (static_cast<uint64_t>(declared) > max_size) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s: CFFILE.cbFile: '%s' is 0x%x bytes, more than the 0x%x restack decompresses",
        cab_name, out.name, declared, max_size));
  }
  // cbFile is at most max_size and within what the CFDATA blocks claim
  // (CheckFolder); pages are touched only as data arrives.
  constexpr size_t kChunk = 1 << 20;
  out.bytes.reserve(static_cast<size_t>(declared) + 1);
  while (true) {
    const size_t have = out.bytes.size();
    // Up to what cbFile still promises (one byte more to see the end), a chunk at most.
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(kChunk, static_cast<uint64_t>(declared) - have)) + 1;
    out.bytes.resize(have + want);
    const la_ssize_t n = archive_read_data(a.get(), out.bytes.data() + have, want);
    if (n < 0) {
      return absl::DataLossError(absl::StrFormat(
          "%s: decompressing '%s' at uncompressed offset 0x%x: %s", cab_name, out.name, have,
          ArchiveError(a.get())));
    }
    out.bytes.resize(have + static_cast<size_t>(n));
    if (n == 0) break;
    if (out.bytes.size() > static_cast<uint64_t>(declared)) {
      return absl::DataLossError(absl::StrFormat(
          "%s: '%s' decompresses to more than the 0x%x bytes CFFILE.cbFile says", cab_name,
          out.name, declared));
    }
  }
  if (out.bytes.size() != static_cast<uint64_t>(declared)) {
    return absl::DataLossError(absl::StrFormat(
        "%s: '%s' decompressed to 0x%x bytes, CFFILE.cbFile says 0x%x", cab_name, out.name,
        out.bytes.size(), declared));
  }
  r = archive_read_next_header(a.get(), &entry);
  if (r != ARCHIVE_EOF) {
    if (r == ARCHIVE_OK || r == ARCHIVE_WARN) {
      const char* next = archive_entry_pathname(entry);
      return absl::DataLossError(absl::StrFormat("%s: holds more than one file ('%s' after '%s')",
                                                 cab_name, next != nullptr ? next : "",
                                                 out.name));
    }
    return absl::DataLossError(absl::StrFormat("%s: after '%s': %s", cab_name, out.name,
                                               ArchiveError(a.get())));
  }
  return out;
}

}  // namespace restack::sym::internal
