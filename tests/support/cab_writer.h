// cab_writer.h - writes Microsoft cabinet files for tests (one folder, "none" or MSZIP)
//
// Independent of libsym's cab_file.cc: every field is written at an offset
// spelled out here from [MS-CAB] (CFHEADER, CFFOLDER, CFFILE, CFDATA, the
// CFDATA checksum), so that a mistake in the reader cannot hide behind the
// same mistake in the writer. MSZIP blocks are "CK" + a raw deflate stream
// (zlib), each block complete in itself, 32 KiB of uncompressed data at most.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace restack::test {

enum class CabCompression : uint16_t {
  kNone = 0,   // tcompTYPE_NONE
  kMszip = 1,  // tcompTYPE_MSZIP
};

struct CabFileEntry {
  std::string name;  // CFFILE.szName
  std::vector<uint8_t> bytes;
};

struct CabOptions {
  CabCompression compression = CabCompression::kNone;
  bool checksums = true;                // CFDATA.csum computed (0 = "not computed" otherwise)
  std::optional<uint32_t> cb_cabinet;   // lie: CFHEADER.cbCabinet
  std::optional<uint32_t> cb_file;      // lie: the first CFFILE.cbFile
  std::optional<uint16_t> c_files;      // lie: CFHEADER.cFiles
  uint16_t flags = 0;                   // CFHEADER.flags (cfhdrPREV_CABINET = 1, ...)
  uint32_t block_size = 0x8000;         // uncompressed bytes per CFDATA (at most 0x8000)
};

// Offsets in the written cabinet, for corrupting it.
struct CabLayout {
  uint32_t files_offset = 0;  // first CFFILE
  uint32_t data_offset = 0;   // first CFDATA
};

// The bytes of a cabinet holding `files` in one folder.
std::vector<uint8_t> WriteCab(const std::vector<CabFileEntry>& files, const CabOptions& options = {},
                              CabLayout* layout = nullptr);

// A symbol store's compressed file: a cabinet holding `name` alone.
std::vector<uint8_t> WriteStoreCab(const std::string& name, const std::vector<uint8_t>& bytes,
                                   CabCompression compression);

// The CFDATA checksum of [MS-CAB] 2.6 (XOR of little-endian 32-bit words,
// the last 1-3 bytes folded in high byte first), seeded with `seed`.
uint32_t CabChecksum(const uint8_t* data, size_t size, uint32_t seed);

}  // namespace restack::test
