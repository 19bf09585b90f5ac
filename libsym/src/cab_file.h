// cab_file.h - the one file of a Microsoft cabinet (a store's "amdppm.pd_"), in memory
//
// Internal to libsym. Symbol stores keep compressed files as cabinets holding
// exactly one file, named after the uncompressed file ("amdppm.pd_" holds
// "amdppm.pdb"). restack checks CFHEADER itself (so that errors carry offsets
// and field names) and lets libarchive decompress the folder (none, MSZIP and
// LZX; Quantum is not supported by libarchive). Nothing is written to disk.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace restack::sym::internal {

// CFHEADER as MS-CAB 2.1 lays it out; fields read at these offsets.
inline constexpr size_t kCfHeaderSize = 0x24;
inline constexpr size_t kCfHeaderCbCabinet = 0x08;
inline constexpr size_t kCfHeaderVersionMinor = 0x18;
inline constexpr size_t kCfHeaderVersionMajor = 0x19;
inline constexpr size_t kCfHeaderCFolders = 0x1A;
inline constexpr size_t kCfHeaderCFiles = 0x1C;
inline constexpr size_t kCfHeaderFlags = 0x1E;
inline constexpr size_t kCfHeaderCoffFiles = 0x10;
inline constexpr uint16_t kCfhdrPrevCabinet = 0x0001;     // cfhdrPREV_CABINET
inline constexpr uint16_t kCfhdrNextCabinet = 0x0002;     // cfhdrNEXT_CABINET
inline constexpr uint16_t kCfhdrReservePresent = 0x0004;  // cfhdrRESERVE_PRESENT
// CFFOLDER (8 bytes + cbCFFolder reserved), CFFILE (16 bytes + szName), CFDATA
// (8 bytes + cbCFData reserved + cbData).
inline constexpr size_t kCfFolderSize = 0x08;
inline constexpr size_t kCfFolderCoffCabStart = 0x00;
inline constexpr size_t kCfFolderCCfData = 0x04;
inline constexpr size_t kCfFileSize = 0x10;
inline constexpr size_t kCfFileCbFile = 0x00;
inline constexpr size_t kCfFileUoffFolderStart = 0x04;
inline constexpr size_t kCfFileIFolder = 0x08;
inline constexpr size_t kCfDataSize = 0x08;
inline constexpr size_t kCfDataCbData = 0x04;
inline constexpr size_t kCfDataCbUncomp = 0x06;

// The uncompressed file of a single-file cabinet.
struct CabFile {
  std::string name;  // CFFILE.szName
  std::vector<uint8_t> bytes;
};

// Decompresses the one file of `cab`. `cab_name` is used in messages (the
// path of the "_" file); `expected_name`, when not empty, is the file the
// cabinet must hold (compared ignoring ASCII case). Files larger than
// `max_size` bytes are refused before decompression (ResourceExhausted).
// Errors: OutOfRange (truncated), InvalidArgument (not a cabinet), DataLoss
// (inconsistent: several files, wrong name, sizes that disagree, corrupt
// data), Unimplemented (multi-cabinet sets, other CAB versions).
absl::StatusOr<CabFile> ExtractSingleFileCab(std::span<const uint8_t> cab,
                                             const std::string& cab_name,
                                             std::string_view expected_name, uint64_t max_size);

}  // namespace restack::sym::internal
