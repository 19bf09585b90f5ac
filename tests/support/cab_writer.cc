// cab_writer.cc - CabWriter: field offsets from [MS-CAB] 2.1-2.6
#include "tests/support/cab_writer.h"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

#include "tests/support/minidump_builder.h"  // ByteWriter, PutU16, PutU32

namespace restack::test {
namespace {

// One CFDATA payload for `chunk`: stored as is, or "CK" + raw deflate.
std::vector<uint8_t> CompressBlock(const uint8_t* chunk, size_t size, CabCompression compression) {
  if (compression == CabCompression::kNone) return {chunk, chunk + size};
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::vector<uint8_t> out(2 + deflateBound(&zs, static_cast<uLong>(size)));
  out[0] = 'C';
  out[1] = 'K';
  zs.next_in = const_cast<Bytef*>(chunk);
  zs.avail_in = static_cast<uInt>(size);
  zs.next_out = out.data() + 2;
  zs.avail_out = static_cast<uInt>(out.size() - 2);
  const int r = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (r != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  out.resize(2 + zs.total_out);
  return out;
}

}  // namespace

uint32_t CabChecksum(const uint8_t* data, size_t size, uint32_t seed) {
  uint32_t csum = seed;
  size_t i = 0;
  for (; i + 4 <= size; i += 4) {
    csum ^= static_cast<uint32_t>(data[i]) | (static_cast<uint32_t>(data[i + 1]) << 8) |
            (static_cast<uint32_t>(data[i + 2]) << 16) | (static_cast<uint32_t>(data[i + 3]) << 24);
  }
  uint32_t tail = 0;
  switch (size - i) {
    case 3:
      tail |= static_cast<uint32_t>(data[i++]) << 16;
      [[fallthrough]];
    case 2:
      tail |= static_cast<uint32_t>(data[i++]) << 8;
      [[fallthrough]];
    case 1:
      tail |= data[i++];
      break;
    default:
      break;
  }
  return csum ^ tail;
}

std::vector<uint8_t> WriteCab(const std::vector<CabFileEntry>& files, const CabOptions& options,
                              CabLayout* layout) {
  // The folder's uncompressed stream: every file, one after the other.
  std::vector<uint8_t> stream;
  for (const CabFileEntry& f : files) stream.insert(stream.end(), f.bytes.begin(), f.bytes.end());
  const uint32_t block = std::clamp<uint32_t>(options.block_size, 1, 0x8000);
  std::vector<std::vector<uint8_t>> blocks;    // CFDATA payloads
  std::vector<uint16_t> uncompressed_sizes;  // CFDATA.cbUncomp
  for (size_t off = 0; off < stream.size(); off += block) {
    const size_t n = std::min<size_t>(block, stream.size() - off);
    blocks.push_back(CompressBlock(stream.data() + off, n, options.compression));
    uncompressed_sizes.push_back(static_cast<uint16_t>(n));
  }

  ByteWriter w;
  // CFHEADER (0x24 bytes, no reserved fields).
  w.Bytes({'M', 'S', 'C', 'F'});  // 0x00 signature
  w.U32(0);                       // 0x04 reserved1
  w.U32(0);                       // 0x08 cbCabinet (patched)
  w.U32(0);                       // 0x0C reserved2
  w.U32(0);                       // 0x10 coffFiles (patched)
  w.U32(0);                       // 0x14 reserved3
  w.U8(3);                        // 0x18 versionMinor
  w.U8(1);                        // 0x19 versionMajor
  w.U16(1);                       // 0x1A cFolders
  w.U16(options.c_files.value_or(static_cast<uint16_t>(files.size())));  // 0x1C cFiles
  w.U16(options.flags);           // 0x1E flags
  w.U16(0x1234);                  // 0x20 setID
  w.U16(0);                       // 0x22 iCabinet
  // CFFOLDER (8 bytes).
  const size_t folder = w.size();
  w.U32(0);                                                // coffCabStart (patched)
  w.U16(static_cast<uint16_t>(blocks.size()));             // cCFData
  w.U16(static_cast<uint16_t>(options.compression));       // typeCompress
  // CFFILE entries.
  const size_t files_offset = w.size();
  w.PatchU32(0x10, static_cast<uint32_t>(files_offset));  // coffFiles
  uint32_t folder_offset = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const uint32_t size = static_cast<uint32_t>(files[i].bytes.size());
    w.U32(i == 0 && options.cb_file ? *options.cb_file : size);  // cbFile
    w.U32(folder_offset);                                        // uoffFolderStart
    w.U16(0);                                                    // iFolder
    w.U16(((2024 - 1980) << 9) | (1 << 5) | 1);                  // date: 2024-01-01
    w.U16(0);                                                    // time
    w.U16(0x20);                                                 // attribs: _A_ARCH
    for (char c : files[i].name) w.U8(static_cast<uint8_t>(c));  // szName
    w.U8(0);
    folder_offset += size;
  }
  // CFDATA blocks.
  const size_t data_offset = w.size();
  w.PatchU32(folder, static_cast<uint32_t>(data_offset));  // coffCabStart
  for (size_t i = 0; i < blocks.size(); ++i) {
    const uint16_t cb_data = static_cast<uint16_t>(blocks[i].size());
    uint32_t csum = 0;
    if (options.checksums) {
      // Over the payload, then over cbData and cbUncomp.
      const uint8_t sizes[4] = {static_cast<uint8_t>(cb_data), static_cast<uint8_t>(cb_data >> 8),
                                static_cast<uint8_t>(uncompressed_sizes[i]),
                                static_cast<uint8_t>(uncompressed_sizes[i] >> 8)};
      csum = CabChecksum(sizes, 4, CabChecksum(blocks[i].data(), blocks[i].size(), 0));
    }
    w.U32(csum);                   // csum
    w.U16(cb_data);                // cbData
    w.U16(uncompressed_sizes[i]);  // cbUncomp
    w.Bytes(blocks[i]);
  }
  std::vector<uint8_t> out = w.Take();
  PutU32(out, 0x08, options.cb_cabinet.value_or(static_cast<uint32_t>(out.size())));
  if (layout != nullptr) {
    layout->files_offset = static_cast<uint32_t>(files_offset);
    layout->data_offset = static_cast<uint32_t>(data_offset);
  }
  return out;
}

std::vector<uint8_t> WriteStoreCab(const std::string& name, const std::vector<uint8_t>& bytes,
                                   CabCompression compression) {
  CabOptions options;
  options.compression = compression;
  return WriteCab({{name, bytes}}, options);
}

}  // namespace restack::test
