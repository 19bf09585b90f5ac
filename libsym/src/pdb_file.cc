// pdb_file.cc - one pass over a PDB with LLVM's native reader, into plain data
#include "restack/sym/pdb_file.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "absl/strings/str_format.h"
#include "llvm/DebugInfo/CodeView/CVRecord.h"
#include "llvm/DebugInfo/CodeView/DebugChecksumsSubsection.h"
#include "llvm/DebugInfo/CodeView/DebugInlineeLinesSubsection.h"
#include "llvm/DebugInfo/CodeView/DebugLinesSubsection.h"
#include "llvm/DebugInfo/CodeView/DebugSubsectionRecord.h"
#include "llvm/DebugInfo/CodeView/SymbolDeserializer.h"
#include "llvm/DebugInfo/CodeView/SymbolRecord.h"
#include "llvm/DebugInfo/MSF/MappedBlockStream.h"
#include "llvm/DebugInfo/PDB/Native/DbiModuleDescriptor.h"
#include "llvm/DebugInfo/PDB/Native/DbiModuleList.h"
#include "llvm/DebugInfo/PDB/Native/DbiStream.h"
#include "llvm/DebugInfo/PDB/Native/ISectionContribVisitor.h"
#include "llvm/DebugInfo/PDB/Native/InfoStream.h"
#include "llvm/DebugInfo/PDB/Native/ModuleDebugStream.h"
#include "llvm/DebugInfo/PDB/Native/PDBFile.h"
#include "llvm/DebugInfo/PDB/Native/PDBStringTable.h"
#include "llvm/DebugInfo/PDB/Native/PublicsStream.h"
#include "llvm/DebugInfo/PDB/Native/RawTypes.h"
#include "llvm/DebugInfo/PDB/Native/SymbolStream.h"
#include "llvm/Support/BinaryByteStream.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm_status.h"
#include "restack/unwind/mapped_file.h"
#include "restack/unwind/pe_image.h"

namespace restack::sym {

namespace cv = llvm::codeview;
namespace pdb = llvm::pdb;
using internal::FromLlvm;

namespace {

// Caps on what one PDB may make restack hold (far above real PDBs).
constexpr size_t kMaxRecords = 20'000'000;
// Buckets of the info stream's named stream map (a handful in real PDBs).
constexpr uint32_t kMaxNamedStreamCapacity = 1u << 20;

constexpr uint32_t kNilStreamSize = 0xFFFFFFFF;  // a deleted stream: no blocks
constexpr uint16_t kNoStream = 0xFFFF;
constexpr uint32_t kInfoStream = 1;
constexpr uint32_t kDbiStream = 3;

std::string AsString(llvm::StringRef s) { return std::string(s.data(), s.size()); }

uint32_t Le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Bytes of one MSF stream (or of the stream directory) through its block
// list; every block index was checked against the file before.
struct StreamView {
  std::span<const uint8_t> file;
  uint32_t block_size = 0;
  std::span<const uint32_t> blocks;
  uint64_t size = 0;

  bool Read(uint64_t offset, std::span<uint8_t> out) const {
    if (offset > size || out.size() > size - offset) return false;
    for (size_t done = 0; done < out.size();) {
      const uint64_t at = offset + done;
      const uint64_t in_block = at % block_size;
      const size_t n =
          static_cast<size_t>(std::min<uint64_t>(out.size() - done, block_size - in_block));
      std::memcpy(
          out.data() + done,
          file.data() + static_cast<uint64_t>(blocks[at / block_size]) * block_size + in_block, n);
      done += n;
    }
    return true;
  }
  std::optional<uint32_t> U32(uint64_t offset) const {
    uint8_t b[4];
    if (!Read(offset, b)) return std::nullopt;
    return Le32(b);
  }
  std::optional<uint16_t> U16(uint64_t offset) const {
    uint8_t b[2];
    if (!Read(offset, b)) return std::nullopt;
    return static_cast<uint16_t>(b[0] | (b[1] << 8));
  }
  // Where a byte of the stream is in the file (for messages).
  uint64_t FileOffset(uint64_t offset) const {
    if (blocks.empty() || offset / block_size >= blocks.size()) return 0;
    return static_cast<uint64_t>(blocks[offset / block_size]) * block_size + offset % block_size;
  }
};

// restack's own reading of the MSF container, done before LLVM's
// (docs/decisions.md): LLVM 19 does not check the superblock's block count
// against the file nor every directory block it reads in one contiguous span,
// and it reads nil (deleted) streams as if their size were real.
class Msf {
 public:
  static absl::StatusOr<Msf> Parse(std::span<const uint8_t> file, const std::string& name) {
    static constexpr char kMagic[] =
        "Microsoft C/C++ MSF 7.00\r\n\x1a"
        "DS\0\0\0";
    static constexpr char kMagic2[] =
        "Microsoft C/C++ program database 2.00\r\n\x1a"
        "JG\0\0";
    constexpr size_t kMagicSize = sizeof(kMagic) - 1;  // 32
    constexpr size_t kSuperBlockSize = 56;
    auto starts_with = [&](const char* magic, size_t size) {
      return std::memcmp(file.data(), magic, std::min(file.size(), size)) == 0;
    };
    if (file.size() < kSuperBlockSize) {
      if (!starts_with(kMagic, kMagicSize)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: offset 0x0: SuperBlock.FileMagic: not an MSF 7.00 file (a PDB)", name));
      }
      return absl::OutOfRangeError(absl::StrFormat(
          "%s: offset 0x0: file of 0x%x bytes is shorter than the MSF superblock (0x%x bytes)",
          name, file.size(), kSuperBlockSize));
    }
    if (std::memcmp(file.data(), kMagic, kMagicSize) != 0) {
      if (file.size() >= sizeof(kMagic2) - 1 && starts_with(kMagic2, sizeof(kMagic2) - 1)) {
        return absl::UnimplementedError(absl::StrFormat(
            "%s: offset 0x0: SuperBlock.FileMagic: MSF 2.00 (a Visual C++ 6 or older PDB) is not "
            "supported",
            name));
      }
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: offset 0x0: SuperBlock.FileMagic: not an MSF 7.00 file (a PDB)", name));
    }
    Msf m;
    m.file_ = file;
    const uint32_t block_size = Le32(file.data() + 32);
    const uint32_t fpm_block = Le32(file.data() + 36);
    const uint32_t num_blocks = Le32(file.data() + 40);
    const uint32_t dir_bytes = Le32(file.data() + 44);
    const uint32_t block_map = Le32(file.data() + 52);
    if (block_size < 512 || block_size > 32768 || (block_size & (block_size - 1)) != 0) {
      return absl::DataLossError(absl::StrFormat(
          "%s: offset 0x20: SuperBlock.BlockSize: not an MSF block size (expected a power of two "
          "from 0x200 to 0x8000, got 0x%x)",
          name, block_size));
    }
    if (fpm_block != 1 && fpm_block != 2) {
      return absl::DataLossError(absl::StrFormat(
          "%s: offset 0x24: SuperBlock.FreeBlockMapBlock: (expected 1 or 2, got 0x%x)", name,
          fpm_block));
    }
    if (num_blocks < 3) {  // the superblock and the two free block maps
      return absl::DataLossError(
          absl::StrFormat("%s: offset 0x28: SuperBlock.NumBlocks: (expected at least 3, got 0x%x)",
                          name, num_blocks));
    }
    const uint64_t blocks_bytes = static_cast<uint64_t>(num_blocks) * block_size;
    if (file.size() < blocks_bytes) {
      return absl::OutOfRangeError(absl::StrFormat(
          "%s: offset 0x28: SuperBlock.NumBlocks: the file is truncated (expected 0x%x bytes, 0x%x "
          "blocks of 0x%x, got 0x%x bytes)",
          name, blocks_bytes, num_blocks, block_size, file.size()));
    }
    if (file.size() % block_size != 0) {
      return absl::DataLossError(absl::StrFormat(
          "%s: offset 0x%x: the file ends inside a block (its size 0x%x is not a multiple of "
          "SuperBlock.BlockSize 0x%x)",
          name, file.size() / block_size * block_size, file.size(), block_size));
    }
    const uint64_t dir_blocks = (static_cast<uint64_t>(dir_bytes) + block_size - 1) / block_size;
    if (dir_bytes < 4 || dir_bytes % 4 != 0 || dir_bytes > blocks_bytes ||
        dir_blocks > block_size / 4) {
      return absl::DataLossError(absl::StrFormat(
          "%s: offset 0x2c: SuperBlock.NumDirectoryBytes: not a stream directory size (expected a "
          "multiple of 4 from 4 to 0x%x, got 0x%x)",
          name,
          std::min<uint64_t>(blocks_bytes, static_cast<uint64_t>(block_size / 4) * block_size),
          dir_bytes));
    }
    if (block_map == 0 || block_map >= num_blocks) {
      return absl::DataLossError(absl::StrFormat(
          "%s: offset 0x34: SuperBlock.BlockMapAddr: not a block of the file (expected 1 to 0x%x, "
          "got 0x%x)",
          name, num_blocks - 1, block_map));
    }
    // The directory's blocks, listed at BlockMapAddr.
    std::vector<uint32_t> directory_blocks(dir_blocks);
    for (uint64_t i = 0; i < dir_blocks; ++i) {
      const uint64_t at = static_cast<uint64_t>(block_map) * block_size + 4 * i;
      directory_blocks[i] = Le32(file.data() + at);
      if (directory_blocks[i] >= num_blocks) {
        return absl::DataLossError(absl::StrFormat(
            "%s: offset 0x%x: stream directory block %u: block 0x%x is past the file's 0x%x "
            "blocks",
            name, at, i, directory_blocks[i], num_blocks));
      }
    }
    const StreamView dir{file, block_size, directory_blocks, dir_bytes};
    const uint32_t count = *dir.U32(0);
    if (4 + 4 * static_cast<uint64_t>(count) > dir_bytes) {
      return absl::DataLossError(absl::StrFormat(
          "%s: offset 0x%x: StreamDirectory.NumStreams: 0x%x streams do not fit a directory of "
          "0x%x bytes",
          name, dir.FileOffset(0), count, dir_bytes));
    }
    m.block_size_ = block_size;
    m.sizes_.resize(count);
    dir.Read(4, {reinterpret_cast<uint8_t*>(m.sizes_.data()), 4 * static_cast<size_t>(count)});
    m.first_block_.reserve(count);
    uint64_t at = 4 + 4 * static_cast<uint64_t>(count);
    for (uint32_t s = 0; s < count; ++s) {
      m.first_block_.push_back(m.blocks_.size());
      const uint32_t size = m.sizes_[s];
      const uint64_t n =
          size == kNilStreamSize ? 0 : (static_cast<uint64_t>(size) + block_size - 1) / block_size;
      if (at + 4 * n > dir_bytes) {
        return absl::DataLossError(absl::StrFormat(
            "%s: offset 0x%x: StreamDirectory.StreamSizes[%u]: stream %u of 0x%x bytes needs 0x%x "
            "blocks; the directory lists 0x%x more",
            name, dir.FileOffset(4 + 4 * static_cast<uint64_t>(s)), s, s, size, n,
            (dir_bytes - at) / 4));
      }
      for (uint64_t i = 0; i < n; ++i, at += 4) {
        const uint32_t block = *dir.U32(at);
        if (block >= num_blocks) {
          return absl::DataLossError(absl::StrFormat(
              "%s: offset 0x%x: stream directory: block 0x%x of stream %u is past the file's 0x%x "
              "blocks",
              name, dir.FileOffset(at), block, s, num_blocks));
        }
        m.blocks_.push_back(block);
      }
    }
    m.first_block_.push_back(m.blocks_.size());
    return m;
  }

  uint32_t count() const { return static_cast<uint32_t>(sizes_.size()); }
  bool Exists(uint32_t s) const { return s < sizes_.size(); }
  bool IsNil(uint32_t s) const { return sizes_[s] == kNilStreamSize; }
  // Why stream `s` cannot be read ("" when it can).
  std::string Unreadable(uint32_t s) const {
    if (!Exists(s))
      return absl::StrFormat("stream %u is not in the directory of 0x%x streams", s, count());
    if (IsNil(s)) return absl::StrFormat("stream %u is nil (deleted)", s);
    return "";
  }
  StreamView Stream(uint32_t s) const {
    const std::span<const uint32_t> all(blocks_);
    return {file_, block_size_, all.subspan(first_block_[s], first_block_[s + 1] - first_block_[s]),
            IsNil(s) ? 0 : sizes_[s]};
  }

 private:
  std::span<const uint8_t> file_;
  uint32_t block_size_ = 0;
  std::vector<uint32_t> sizes_;
  std::vector<uint32_t> blocks_;     // every stream's blocks, stream after stream
  std::vector<size_t> first_block_;  // index into blocks_, one past the last stream too
};

// "offset 0x<file> (stream <s> offset 0x<o>)", or only the stream offset past its end.
std::string Where(const StreamView& v, uint32_t stream, uint64_t offset) {
  if (offset < v.size) {
    return absl::StrFormat("offset 0x%x (stream %u offset 0x%x)", v.FileOffset(offset), stream,
                           offset);
  }
  return absl::StrFormat("stream %u offset 0x%x (the stream has 0x%x bytes)", stream, offset,
                         v.size);
}

// ---------------------------------------------------------------------------
// Inline sites: binary annotations and the IPI/TPI records that name inlinees.

constexpr uint32_t kTpiStream = 2;
constexpr uint32_t kIpiStream = 4;
// Caps on inline sites (far above real PDBs; each site's annotations are
// bounded by its record, at most 0xFFFF bytes, so rows per site are too).
constexpr size_t kMaxInlineSites = 10'000'000;
constexpr size_t kMaxInlineLines = 50'000'000;
constexpr uint32_t kMaxInlineDepth = 64;      // nested inline sites kept
constexpr size_t kMaxScopeDepth = 4096;       // scopes tracked (deeper ones counted only)

// Leaf kinds (cvinfo.h).
constexpr uint16_t kLfFuncId = 0x1601, kLfMFuncId = 0x1602, kLfStringId = 0x1605;
constexpr uint16_t kLfClass = 0x1504, kLfStructure = 0x1505, kLfUnion = 0x1506, kLfEnum = 0x1507,
                   kLfInterface = 0x1519;

// BinaryAnnotationOpcode (cvinfo.h).
enum : uint32_t {
  kBaEnd = 0,  // "Invalid": the padding after the last annotation
  kBaCodeOffset = 1,
  kBaChangeCodeOffsetBase = 2,
  kBaChangeCodeOffset = 3,
  kBaChangeCodeLength = 4,
  kBaChangeFile = 5,
  kBaChangeLineOffset = 6,
  kBaChangeLineEndDelta = 7,
  kBaChangeRangeKind = 8,
  kBaChangeColumnStart = 9,
  kBaChangeColumnEndDelta = 10,
  kBaChangeCodeOffsetAndLineOffset = 11,
  kBaChangeCodeLengthAndCodeOffset = 12,
  kBaChangeColumnEnd = 13,
};

// A compressed unsigned integer (CVUncompressData: 1, 2 or 4 bytes, the high
// bits of the first byte saying which); nullopt when cut off or of no form.
std::optional<uint32_t> ReadCompressed(std::span<const uint8_t> a, size_t& at) {
  if (at >= a.size()) return std::nullopt;
  const uint8_t b0 = a[at];
  if ((b0 & 0x80) == 0) {
    at += 1;
    return b0;
  }
  if ((b0 & 0xC0) == 0x80) {
    if (a.size() - at < 2) return std::nullopt;
    const uint32_t v = (static_cast<uint32_t>(b0 & 0x3F) << 8) | a[at + 1];
    at += 2;
    return v;
  }
  if ((b0 & 0xE0) == 0xC0) {
    if (a.size() - at < 4) return std::nullopt;
    const uint32_t v = (static_cast<uint32_t>(b0 & 0x1F) << 24) |
                       (static_cast<uint32_t>(a[at + 1]) << 16) |
                       (static_cast<uint32_t>(a[at + 2]) << 8) | a[at + 3];
    at += 4;
    return v;
  }
  return std::nullopt;
}

// The low bit is the sign; the rest the magnitude.
int64_t DecodeSigned(uint32_t v) {
  return (v & 1) != 0 ? -static_cast<int64_t>(v >> 1) : static_cast<int64_t>(v >> 1);
}

// One decoded row: code at [begin, end), counted from the procedure's start.
struct InlineRow {
  uint64_t begin = 0;
  uint64_t end = 0;
  int64_t line = 0;
  uint32_t file = 0;  // file checksum offset
};

// Decodes an inline site's binary annotations into rows. The model (that of
// cvinfo.h, and of LLVM's MCCodeView which writes them): a code offset, a
// line and a file, starting at offset 0, the inlinee's first line and file.
// ChangeCodeOffset / ChangeCodeOffsetAndLineOffset / CodeOffset move the
// offset and start a row there (ending the open row, if any, at it);
// ChangeCodeLength ends the open row that many bytes on and moves the offset
// past it; ChangeCodeLengthAndCodeOffset is a whole row; line and file
// changes apply to the rows that start after them; columns are skipped.
// Returns "" or the first problem (rows decoded before it are kept; an open
// row, whose end is not known, is dropped).
std::string DecodeAnnotations(std::span<const uint8_t> a, int64_t line, uint32_t file,
                              std::vector<InlineRow>& rows) {
  uint64_t offset = 0;
  bool open = false;
  auto start_row = [&](uint64_t at) {
    if (open) rows.back().end = std::max(rows.back().begin, at);
    rows.push_back({at, at, line, file});
    open = true;
  };
  auto drop_open = [&] {
    if (open) rows.pop_back();
    open = false;
  };
  size_t at = 0;
  while (at < a.size()) {
    const size_t op_at = at;
    const std::optional<uint32_t> op = ReadCompressed(a, at);
    if (!op) {
      drop_open();
      return absl::StrFormat("annotation at 0x%x: not a compressed opcode", op_at);
    }
    if (*op == kBaEnd) break;
    if (*op > kBaChangeColumnEnd) {
      drop_open();
      return absl::StrFormat("annotation at 0x%x: unknown opcode 0x%x", op_at, *op);
    }
    const std::optional<uint32_t> x = ReadCompressed(a, at);
    std::optional<uint32_t> y;
    if (x && *op == kBaChangeCodeLengthAndCodeOffset) y = ReadCompressed(a, at);
    if (!x || (*op == kBaChangeCodeLengthAndCodeOffset && !y)) {
      drop_open();
      return absl::StrFormat("annotation at 0x%x (opcode %u): operand cut off", op_at, *op);
    }
    switch (*op) {
      case kBaCodeOffset:
        offset = *x;
        start_row(offset);
        break;
      case kBaChangeCodeOffsetBase:
        if (*x != 0) {
          drop_open();
          return absl::StrFormat(
              "annotation at 0x%x: ChangeCodeOffsetBase %u (code in a separated block) is not "
              "supported; the rest is skipped",
              op_at, *x);
        }
        break;
      case kBaChangeCodeOffset:
        offset += *x;
        start_row(offset);
        break;
      case kBaChangeCodeLength:
        if (open) rows.back().end = offset + *x;
        open = false;
        offset += *x;
        break;
      case kBaChangeFile:
        file = *x;
        break;
      case kBaChangeLineOffset:
        line += DecodeSigned(*x);
        break;
      case kBaChangeCodeOffsetAndLineOffset:
        offset += *x & 0xF;
        line += DecodeSigned(*x >> 4);
        start_row(offset);
        break;
      case kBaChangeCodeLengthAndCodeOffset:  // {length, offset delta}
        offset += *y;
        start_row(offset);
        rows.back().end = offset + *x;
        open = false;
        break;
      default:  // line ends, range kinds, columns
        break;
    }
  }
  if (open) {
    drop_open();
    return "the annotations end inside a range (no ChangeCodeLength)";
  }
  return "";
}

// A NUL-terminated string at `at` (to the end of `bytes` without a NUL).
std::string CString(std::span<const uint8_t> bytes, size_t at) {
  if (at >= bytes.size()) return "";
  const char* p = reinterpret_cast<const char*>(bytes.data() + at);
  return std::string(p, strnlen(p, bytes.size() - at));
}

// The records of a TPI or IPI stream, found by walking their length prefixes
// from the header on (LLVM's reader would trust the hash streams' index
// offsets). Walked once, when a name is first needed.
class TypeRecords {
 public:
  struct Record {
    uint16_t kind = 0;
    std::vector<uint8_t> data;  // after the kind
  };

  bool loaded() const { return loaded_; }
  // Walks the stream; "" or why (some or all) records cannot be used.
  std::string Load(const Msf& msf, uint32_t stream) {
    loaded_ = true;
    if (std::string why = msf.Unreadable(stream); !why.empty()) return why;
    view_ = msf.Stream(stream);
    const std::optional<uint32_t> header_size = view_.U32(4), begin = view_.U32(8),
                                  end = view_.U32(12), bytes = view_.U32(16);
    if (!header_size || !begin || !end || !bytes) {
      return absl::StrFormat("header truncated (0x%x bytes)", view_.size);
    }
    if (*header_size < 56 || *header_size > view_.size) {
      return absl::StrFormat("HeaderSize: (expected 0x38 to 0x%x, got 0x%x)", view_.size,
                             *header_size);
    }
    if (*begin < 0x1000 || *end < *begin) {
      return absl::StrFormat("TypeIndexBegin 0x%x, TypeIndexEnd 0x%x: not a range of indices",
                             *begin, *end);
    }
    if (*bytes > view_.size - *header_size) {
      return absl::StrFormat(
          "TypeRecordBytes: records past the stream (expected at most 0x%x, got 0x%x)",
          view_.size - *header_size, *bytes);
    }
    begin_ = *begin;
    const uint64_t count = *end - *begin;
    const uint64_t stop = static_cast<uint64_t>(*header_size) + *bytes;
    uint64_t at = *header_size;
    while (at < stop && offsets_.size() < count) {
      const std::optional<uint16_t> length = view_.U16(at);
      if (!length || *length < 2 || at + 2 + *length > stop) {
        return absl::StrFormat(
            "record 0x%x at stream offset 0x%x: its length does not fit the records; it and "
            "later ones are not read",
            begin_ + offsets_.size(), at);
      }
      offsets_.push_back(static_cast<uint32_t>(at));
      at += 2 + *length;
    }
    return "";
  }
  std::optional<Record> Get(uint32_t index) const {
    if (index < begin_ || index - begin_ >= offsets_.size()) return std::nullopt;
    const uint32_t at = offsets_[index - begin_];
    const uint16_t length = *view_.U16(at);
    Record r;
    r.kind = *view_.U16(at + 2);
    r.data.resize(length - 2);
    view_.Read(at + 4, r.data);
    return r;
  }

 private:
  bool loaded_ = false;
  StreamView view_;
  uint32_t begin_ = 0;
  std::vector<uint32_t> offsets_;  // stream offset of each record, from begin_ on
};

// The name of a class, structure, interface, union or enum record (TPI).
std::optional<std::string> TagName(const TypeRecords::Record& r) {
  size_t at = 0;
  switch (r.kind) {
    case kLfClass:
    case kLfStructure:
    case kLfInterface:
      at = 16;  // count, property, field list, derivation list, vtable shape
      break;
    case kLfUnion:
      at = 8;  // count, property, field list
      break;
    case kLfEnum:
      return CString(r.data, 12);  // count, property, underlying type, field list
    default:
      return std::nullopt;
  }
  // The size, a numeric leaf: a value below 0x8000, or a kind then the value.
  if (r.data.size() < at + 2) return std::nullopt;
  const uint16_t leaf = static_cast<uint16_t>(r.data[at] | (r.data[at + 1] << 8));
  at += 2;
  if (leaf >= 0x8000) {
    switch (leaf) {
      case 0x8000: at += 1; break;             // LF_CHAR
      case 0x8001: case 0x8002: at += 2; break;  // LF_SHORT, LF_USHORT
      case 0x8003: case 0x8004: at += 4; break;  // LF_LONG, LF_ULONG
      case 0x8009: case 0x800a: at += 8; break;  // LF_QUADWORD, LF_UQUADWORD
      default: return std::nullopt;
    }
  }
  return CString(r.data, at);
}

}  // namespace

// The RSDS record's formatting (libunwind-win), so that a PDB's key and an
// image's key of it cannot differ.
std::string GuidString(const std::array<uint8_t, 16>& guid) {
  return unwind::CodeViewRecord{.guid = guid}.GuidString();
}

std::string PdbFile::StoreKey() const {
  return unwind::CodeViewRecord{.guid = guid_, .age = dbi_age_}.StoreKey();
}

absl::Status PdbFile::CheckMatches(const std::array<uint8_t, 16>& image_guid,
                                   uint32_t image_age) const {
  if (image_guid != guid_ || dbi_age_ < image_age) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: PDB %s age %u (DBI age %u) does not match the image's %s age %u", name_,
        GuidString(guid_), age_, dbi_age_, GuidString(image_guid), image_age));
  }
  return absl::OkStatus();
}

PdbFile::~PdbFile() = default;

// Reads one PDB; holds the LLVM objects only while reading.
class PdbReader {
 public:
  PdbReader(PdbFile& out, pdb::PDBFile& file, const Msf& msf) : out_(out), file_(file), msf_(msf) {}

  absl::Status Read() {
    // What LLVM would read out of bounds or allocate without limit is
    // checked first.
    if (absl::Status s = CheckInfoStream(); !s.ok()) return s;
    if (absl::Status s = CheckDbiStream(); !s.ok()) return s;
    llvm::Expected<pdb::InfoStream&> info = file_.getPDBInfoStream();
    if (!info) return FromLlvm(info.takeError(), out_.name_ + ": PDB info stream");
    const cv::GUID g = info->getGuid();
    std::memcpy(out_.guid_.data(), g.Guid, 16);
    out_.age_ = info->getAge();
    llvm::Expected<pdb::DbiStream&> dbi = file_.getPDBDbiStream();
    if (!dbi) return FromLlvm(dbi.takeError(), out_.name_ + ": DBI stream");
    out_.dbi_age_ = dbi->getAge();
    ReadSections(*dbi);
    ReadOmap(*dbi);
    ReadContributions(*dbi);
    ReadModules(*dbi);
    ReadPublics();
    return absl::OkStatus();
  }

 private:
  void Warn(std::string what) { out_.warnings_.push_back(out_.name_ + ": " + what); }

  // The PDB info stream's named stream map, as LLVM's HashTable::load will
  // read it: it allocates Capacity buckets and writes the bucket of every
  // Present bit without comparing it with Capacity, and looks names up as
  // C strings at the keys' offsets.
  absl::Status CheckInfoStream() {
    const std::string& name = out_.name_;
    if (std::string why = msf_.Unreadable(kInfoStream); !why.empty()) {
      return absl::DataLossError(absl::StrFormat("%s: no PDB info stream: %s", name, why));
    }
    const StreamView v = msf_.Stream(kInfoStream);
    auto truncated = [&](uint64_t offset, const char* what) {
      return absl::OutOfRangeError(absl::StrFormat("%s: %s: PDB info stream: %s: truncated", name,
                                                   Where(v, kInfoStream, offset), what));
    };
    auto corrupt = [&](uint64_t offset, const std::string& what) {
      return absl::DataLossError(absl::StrFormat("%s: %s: PDB info stream: %s", name,
                                                 Where(v, kInfoStream, offset), what));
    };
    if (v.size < 28) return truncated(v.size, "InfoStreamHeader");
    const std::optional<uint32_t> strings_size = v.U32(28);
    if (!strings_size) return truncated(28, "NamedStreamMap.StringBufferSize");
    const uint64_t strings = 32;
    if (strings + *strings_size > v.size) {
      return absl::OutOfRangeError(absl::StrFormat(
          "%s: %s: PDB info stream: NamedStreamMap.StringBufferSize: strings run past the stream "
          "(expected at most 0x%x, got 0x%x)",
          name, Where(v, kInfoStream, 28), v.size - strings, *strings_size));
    }
    std::vector<uint8_t> names(*strings_size);
    v.Read(strings, names);
    if (!names.empty() && names.back() != 0) {
      return corrupt(strings + names.size() - 1,
                     "NamedStreamMap strings: the last is not NUL-terminated");
    }
    const uint64_t table = strings + names.size();
    const std::optional<uint32_t> size = v.U32(table), capacity = v.U32(table + 4);
    if (!size || !capacity) return truncated(table, "NamedStreamMap hash table");
    if (*capacity == 0 || *capacity > kMaxNamedStreamCapacity) {
      return corrupt(table + 4,
                     absl::StrFormat("NamedStreamMap.Capacity: (expected 1 to 0x%x, got 0x%x)",
                                     kMaxNamedStreamCapacity, *capacity));
    }
    if (*size > *capacity) {
      return corrupt(table, absl::StrFormat("NamedStreamMap.Size: more entries than buckets "
                                            "(expected at most 0x%x, got 0x%x)",
                                            *capacity, *size));
    }
    // Present, then Deleted: a word count and the words.
    uint64_t at = table + 8;
    const std::optional<uint32_t> present_words = v.U32(at);
    if (!present_words || at + 4 + 4 * static_cast<uint64_t>(*present_words) > v.size) {
      return truncated(at, "NamedStreamMap.Present");
    }
    uint64_t present = 0;
    for (uint32_t w = 0; w < *present_words; ++w) {
      const uint64_t word_at = at + 4 + 4 * static_cast<uint64_t>(w);
      const uint32_t word = *v.U32(word_at);
      for (uint32_t bit = 0; bit < 32; ++bit) {
        if ((word & (1u << bit)) == 0) continue;
        const uint64_t bucket = 32 * static_cast<uint64_t>(w) + bit;
        if (bucket >= *capacity) {
          return corrupt(word_at, absl::StrFormat("NamedStreamMap.Present: bucket 0x%x is past the "
                                                  "capacity (expected below 0x%x)",
                                                  bucket, *capacity));
        }
        ++present;
      }
    }
    if (present != *size) {
      return corrupt(at, absl::StrFormat("NamedStreamMap.Present: buckets in use disagree with "
                                         "Size (expected 0x%x, got 0x%x)",
                                         *size, present));
    }
    at += 4 + 4 * static_cast<uint64_t>(*present_words);
    const std::optional<uint32_t> deleted_words = v.U32(at);
    if (!deleted_words || at + 4 + 4 * static_cast<uint64_t>(*deleted_words) > v.size) {
      return truncated(at, "NamedStreamMap.Deleted");
    }
    at += 4 + 4 * static_cast<uint64_t>(*deleted_words);
    if (at + 8 * static_cast<uint64_t>(*size) > v.size)
      return truncated(at, "NamedStreamMap entries");
    for (uint32_t i = 0; i < *size; ++i, at += 8) {
      const uint32_t key = *v.U32(at), stream = *v.U32(at + 4);
      if (key >= names.size()) {
        return corrupt(at, absl::StrFormat("NamedStreamMap entry %u: name offset past the strings "
                                           "(expected below 0x%x, got 0x%x)",
                                           i, names.size(), key));
      }
      if (std::strcmp(reinterpret_cast<const char*>(names.data()) + key, "/names") == 0) {
        names_streams_.push_back(stream);  // LLVM may find any of them
      }
    }
    return absl::OkStatus();
  }

  // The DBI header's substream sizes, and the debug streams LLVM's DBI reader
  // opens itself (FPO, SectionHdr, NewFPO): a nil one would be read as a
  // stream of 4 GiB without blocks.
  absl::Status CheckDbiStream() {
    const std::string& name = out_.name_;
    if (std::string why = msf_.Unreadable(kDbiStream); !why.empty()) {
      return absl::DataLossError(absl::StrFormat("%s: no DBI stream: %s", name, why));
    }
    const StreamView v = msf_.Stream(kDbiStream);
    if (v.size < 64) {
      return absl::OutOfRangeError(absl::StrFormat(
          "%s: %s: DBI stream: DbiStreamHeader: truncated (expected 0x40 bytes, got 0x%x)", name,
          Where(v, kDbiStream, v.size), v.size));
    }
    struct Substream {
      uint32_t field;
      const char* what;
    };
    // In stream order; the debug header comes last.
    static constexpr Substream kSubstreams[] = {
        {24, "ModiSubstreamSize"}, {28, "SecContrSubstreamSize"}, {32, "SectionMapSize"},
        {36, "FileInfoSize"},      {40, "TypeServerSize"},        {52, "ECSubstreamSize"},
        {48, "OptionalDbgHdrSize"}};
    uint64_t end = 64;
    for (const Substream& sub : kSubstreams) {
      const int32_t size = static_cast<int32_t>(*v.U32(sub.field));
      if (size < 0) {
        return absl::DataLossError(absl::StrFormat(
            "%s: %s: DBI stream: DbiStreamHeader.%s: negative (got -0x%x)", name,
            Where(v, kDbiStream, sub.field), sub.what, -static_cast<int64_t>(size)));
      }
      if (end + static_cast<uint32_t>(size) > v.size) {
        return absl::DataLossError(absl::StrFormat(
            "%s: %s: DBI stream: DbiStreamHeader.%s: the substream ends past the stream (expected "
            "at most 0x%x, got 0x%x)",
            name, Where(v, kDbiStream, sub.field), sub.what, v.size - end, size));
      }
      if (sub.field != 48) end += static_cast<uint32_t>(size);
    }
    const uint32_t debug_slots = *v.U32(48) / 2;
    for (auto [slot, what] :
         {std::pair{0u, "FPO"}, std::pair{5u, "SectionHdr"}, std::pair{9u, "NewFPO"}}) {
      if (slot >= debug_slots) continue;
      const uint16_t stream = *v.U16(end + 2 * slot);
      if (stream != kNoStream && msf_.Exists(stream) && msf_.IsNil(stream)) {
        return absl::DataLossError(
            absl::StrFormat("%s: %s: DBI stream: debug header %s: stream %u is nil (deleted)", name,
                            Where(v, kDbiStream, end + 2 * slot), what, stream));
      }
    }
    publics_stream_ = *v.U16(16);
    records_stream_ = *v.U16(20);
    return absl::OkStatus();
  }

  // Bytes of an optional debug stream of the DBI (OMAP, section headers).
  std::optional<std::vector<uint8_t>> DebugStream(pdb::DbiStream& dbi, pdb::DbgHeaderType type,
                                                  const char* what) {
    const uint32_t index = dbi.getDebugStreamIndex(type);
    if (index == llvm::pdb::kInvalidStreamIndex) return std::nullopt;
    if (std::string why = msf_.Unreadable(index); !why.empty()) {
      Warn(absl::StrFormat("DBI debug header %s: %s", what, why));
      return std::nullopt;
    }
    llvm::Expected<std::unique_ptr<llvm::msf::MappedBlockStream>> s =
        file_.safelyCreateIndexedStream(index);
    if (!s) {
      Warn(absl::StrFormat("debug stream %u: %s", index, llvm::toString(s.takeError())));
      return std::nullopt;
    }
    std::vector<uint8_t> bytes((*s)->getLength());
    llvm::ArrayRef<uint8_t> data;
    if (llvm::Error e = (*s)->readBytes(0, bytes.size(), data)) {
      Warn(absl::StrFormat("debug stream %u: %s", index, llvm::toString(std::move(e))));
      return std::nullopt;
    }
    if (!bytes.empty()) std::memcpy(bytes.data(), data.data(), bytes.size());
    return bytes;
  }

  static std::vector<PdbSection> ParseSectionHeaders(const std::vector<uint8_t>& bytes) {
    std::vector<PdbSection> out;
    for (size_t at = 0; at + 40 <= bytes.size(); at += 40) {
      PdbSection s;
      s.name.assign(reinterpret_cast<const char*>(bytes.data() + at),
                    strnlen(reinterpret_cast<const char*>(bytes.data() + at), 8));
      std::memcpy(&s.virtual_size, bytes.data() + at + 8, 4);
      std::memcpy(&s.virtual_address, bytes.data() + at + 12, 4);
      std::memcpy(&s.characteristics, bytes.data() + at + 36, 4);
      out.push_back(std::move(s));
    }
    return out;
  }

  void ReadSections(pdb::DbiStream& dbi) {
    if (auto bytes = DebugStream(dbi, pdb::DbgHeaderType::SectionHdr, "SectionHdr")) {
      out_.sections_ = ParseSectionHeaders(*bytes);
    }
    if (auto bytes = DebugStream(dbi, pdb::DbgHeaderType::SectionHdrOrig, "SectionHdrOrig")) {
      out_.original_sections_ = ParseSectionHeaders(*bytes);
    }
  }

  void ReadOmap(pdb::DbiStream& dbi) {
    for (auto [type, target, what] :
         {std::tuple{pdb::DbgHeaderType::OmapToSrc, &out_.omap_to_src_, "OmapToSrc"},
          std::tuple{pdb::DbgHeaderType::OmapFromSrc, &out_.omap_from_src_, "OmapFromSrc"}}) {
      if (auto bytes = DebugStream(dbi, type, what)) {
        absl::StatusOr<Omap> omap = Omap::FromBytes(*bytes);
        if (omap.ok()) {
          *target = *std::move(omap);
        } else {
          Warn(absl::StrFormat("%s: %s", what, omap.status().message()));
        }
      }
    }
  }

  void ReadContributions(pdb::DbiStream& dbi) {
    struct Visitor : pdb::ISectionContribVisitor {
      std::vector<PdbContribution>* out;
      void visit(const pdb::SectionContrib& c) override {
        if (out->size() < kMaxRecords) {
          out->push_back({static_cast<uint16_t>(c.ISect), static_cast<uint32_t>(c.Off),
                          static_cast<uint32_t>(c.Size), c.Characteristics});
        }
      }
      void visit(const pdb::SectionContrib2& c) override { visit(c.Base); }
    } visitor;
    visitor.out = &out_.contributions_;
    dbi.visitSectionContributions(visitor);
  }

  uint32_t FileIndex(const std::string& path) {
    auto [it, inserted] = file_index_.emplace(path, static_cast<uint32_t>(out_.files_.size()));
    if (inserted) out_.files_.push_back(path);
    return it->second;
  }

  void ReadModules(pdb::DbiStream& dbi) {
    pdb::PDBStringTable* string_table = nullptr;
    std::string unreadable;  // no /names stream: no file names
    for (uint32_t stream : names_streams_) {
      if (unreadable.empty()) unreadable = msf_.Unreadable(stream);
    }
    if (!unreadable.empty()) {
      Warn("/names: " + unreadable);
    } else if (!names_streams_.empty()) {
      if (llvm::Expected<pdb::PDBStringTable&> strings = file_.getStringTable()) {
        string_table = &*strings;
      } else {
        Warn("/names: " + llvm::toString(strings.takeError()));
      }
    }
    // The descriptors are walked here rather than through LLVM's
    // DbiModuleList, whose count comes from the file info substream and
    // whose descriptors past the real ones have no data.
    const llvm::BinaryStreamRef modi = dbi.getModiSubstreamData().StreamData;
    llvm::VarStreamArray<pdb::DbiModuleDescriptor> descriptors;
    if (llvm::Error e = llvm::BinaryStreamReader(modi).readArray(descriptors, modi.getLength())) {
      Warn(absl::StrFormat("DBI module list: %s", llvm::toString(std::move(e))));
      return;
    }
    std::unordered_map<uint32_t, uint32_t> module_of_stream;
    uint32_t m = 0;
    auto it = descriptors.begin();
    for (; it != descriptors.end(); ++it, ++m) {
      const pdb::DbiModuleDescriptor& descriptor = *it;
      const uint16_t stream = descriptor.getModuleStreamIndex();
      if (stream == llvm::pdb::kInvalidStreamIndex) continue;
      const std::string module_name = AsString(descriptor.getModuleName());
      if (std::string why = msf_.Unreadable(stream); !why.empty()) {
        Warn(absl::StrFormat("module %u (%s): %s", m, module_name, why));
        continue;
      }
      // A stream shared by modules would be read once per module.
      if (auto [first, inserted] = module_of_stream.emplace(stream, m); !inserted) {
        Warn(absl::StrFormat("module %u (%s): stream %u is module %u's already; skipped", m,
                             module_name, stream, first->second));
        continue;
      }
      llvm::Expected<std::unique_ptr<llvm::msf::MappedBlockStream>> s =
          file_.safelyCreateIndexedStream(stream);
      if (!s) {
        Warn(absl::StrFormat("module %u (%s): %s", m, module_name, llvm::toString(s.takeError())));
        continue;
      }
      pdb::ModuleDebugStreamRef mds(descriptor, std::move(*s));
      if (llvm::Error e = mds.reload()) {
        Warn(absl::StrFormat("module %u (%s): %s", m, module_name, llvm::toString(std::move(e))));
        continue;
      }
      const ModuleFiles files = ReadModuleFiles(m, mds, string_table);
      const size_t first_site = out_.inline_sites_.size(), first_line = out_.lines_.size();
      ReadModuleSymbols(m, module_name, mds, files);
      ReadModuleLines(m, mds, files);
      ResolveCallLines(first_site, first_line);
    }
    if (it.offset() < modi.getLength()) {
      Warn(
          absl::StrFormat("DBI module list: descriptor %u at 0x%x is cut off; later modules "
                          "skipped",
                          m, it.offset()));
    }
  }

  // A module's files by checksum-entry offset (lines and inline sites name
  // files so) and its inlinees' first lines (DEBUG_S_INLINEELINES).
  struct ModuleFiles {
    std::unordered_map<uint32_t, uint32_t> by_checksum;  // -> index into files_
    struct Inlinee {
      uint32_t file_checksum = 0;
      uint32_t line = 0;
    };
    std::unordered_map<uint32_t, Inlinee> inlinees;  // by ItemId
  };

  ModuleFiles ReadModuleFiles(uint32_t m, const pdb::ModuleDebugStreamRef& mds,
                              pdb::PDBStringTable* strings) {
    ModuleFiles files;
    for (const cv::DebugSubsectionRecord& ss : mds.subsections()) {
      if (ss.kind() == cv::DebugSubsectionKind::FileChecksums) {
        cv::DebugChecksumsSubsectionRef checksums;
        if (llvm::Error e = checksums.initialize(ss.getRecordData())) {
          Warn(absl::StrFormat("module %u: file checksums: %s", m, llvm::toString(std::move(e))));
          continue;
        }
        for (auto it = checksums.begin(); it != checksums.end(); ++it) {
          std::string path = absl::StrFormat("<file 0x%x>", it->FileNameOffset);
          if (strings != nullptr) {
            llvm::Expected<llvm::StringRef> name = strings->getStringForID(it->FileNameOffset);
            if (name) {
              path = AsString(*name);
            } else {
              llvm::consumeError(name.takeError());
            }
          }
          files.by_checksum[it.offset()] = FileIndex(path);
        }
      } else if (ss.kind() == cv::DebugSubsectionKind::InlineeLines) {
        cv::DebugInlineeLinesSubsectionRef inlinees;
        if (llvm::Error e = inlinees.initialize(ss.getRecordData())) {
          Warn(absl::StrFormat("module %u: inlinee lines: %s", m, llvm::toString(std::move(e))));
          continue;
        }
        for (const cv::InlineeSourceLine& l : inlinees) {
          if (files.inlinees.size() >= kMaxInlineSites) break;
          files.inlinees.emplace(l.Header->Inlinee.getIndex(),
                                 ModuleFiles::Inlinee{l.Header->FileID, l.Header->SourceLineNum});
        }
      }
    }
    return files;
  }

  // The inlinee's name (IPI: LF_FUNC_ID, LF_MFUNC_ID), once per ItemId.
  const std::string& InlineeName(uint32_t id, const std::string& where) {
    auto cached = inlinee_names_.find(id);
    if (cached != inlinee_names_.end()) return cached->second;
    if (!ipi_.loaded()) {
      if (std::string why = ipi_.Load(msf_, kIpiStream); !why.empty()) {
        Warn("IPI stream: " + why + "; inline sites it does not name are named by their ItemId");
      }
    }
    std::string name;
    std::optional<TypeRecords::Record> r = ipi_.Get(id);
    if (r && (r->kind == kLfFuncId || r->kind == kLfMFuncId) && r->data.size() >= 8) {
      name = CString(r->data, 8);
      const uint32_t scope = Le32(r->data.data());
      std::optional<std::string> qualifier;
      if (r->kind == kLfFuncId && scope != 0) {
        // The scope is an LF_STRING_ID (a namespace), as LLVM qualifies it.
        if (std::optional<TypeRecords::Record> s = ipi_.Get(scope);
            s && s->kind == kLfStringId && s->data.size() >= 4) {
          qualifier = CString(s->data, 4);
        }
      } else if (r->kind == kLfMFuncId) {
        // The class, in the TPI stream.
        if (!tpi_.loaded()) {
          if (std::string why = tpi_.Load(msf_, kTpiStream); !why.empty()) {
            Warn("TPI stream: " + why + "; member functions it does not name are unqualified");
          }
        }
        if (std::optional<TypeRecords::Record> c = tpi_.Get(scope)) qualifier = TagName(*c);
      }
      if (qualifier && !qualifier->empty()) name = *qualifier + "::" + name;
    }
    if (name.empty()) {
      name = absl::StrFormat("<inlinee 0x%x>", id);
      Warn(absl::StrFormat("%s: inlinee 0x%x is no LF_FUNC_ID or LF_MFUNC_ID with a name in the "
                           "IPI stream",
                           where, id));
    }
    return inlinee_names_.emplace(id, std::move(name)).first->second;
  }

  // What encloses a symbol record.
  struct OpenScope {
    enum Kind : uint8_t { kProcedure, kInlineSite, kOther } kind = kOther;
    // kInlineSite: index into inline_sites_, or kSkipped (its children are
    // skipped too, without more warnings).
    uint32_t site = 0;
    // Derived from the scopes below when pushed (no walk per record):
    uint32_t inline_parent = PdbInlineSite::kNoParent;  // innermost site, this one included
    uint32_t depth = 0;         // inline sites open, this one included
    bool in_procedure = false;  // a procedure is open below (or is this one)
    bool skipped = false;       // inside (or is) a skipped site
  };
  static constexpr uint32_t kSkipped = 0xFFFFFFFF;
  // The procedure the open scopes are in.
  struct TopProcedure {
    bool valid = false;  // a procedure record that was read
    uint16_t section = 0;
    uint32_t offset = 0;
    uint32_t length = 0;
  };

  // One S_INLINESITE / S_INLINESITE2 at `offset`, inside `up` (null at the
  // outermost level).
  void ReadInlineSite(uint32_t m, const std::string& module_name, const cv::CVSymbol& sym,
                      uint32_t offset, const OpenScope* up, const TopProcedure& top,
                      const ModuleFiles& files, std::vector<OpenScope>& push, bool& capped) {
    const std::string where =
        absl::StrFormat("module %u (%s): %s at 0x%x", m, module_name,
                        sym.kind() == cv::S_INLINESITE ? "S_INLINESITE" : "S_INLINESITE2", offset);
    push.push_back({OpenScope::kInlineSite, kSkipped});
    if (up != nullptr && up->skipped) return;  // inside a skipped site (warned)
    const uint32_t parent = up != nullptr ? up->inline_parent : PdbInlineSite::kNoParent;
    const uint32_t depth = (up != nullptr ? up->depth : 0) + 1;
    if (up == nullptr || !up->in_procedure) {
      Warn(where + ": not inside a procedure; skipped (with the sites inside it)");
      return;
    }
    if (!top.valid) return;  // the procedure record was unreadable (warned)
    if (depth > kMaxInlineDepth) {
      Warn(absl::StrFormat("%s: nested %u deep (more than %u); skipped (with the sites inside it)",
                           where, depth, kMaxInlineDepth));
      return;
    }
    if (out_.inline_sites_.size() >= kMaxInlineSites ||
        inline_lines_ >= kMaxInlineLines) {
      if (!capped) {
        Warn(absl::StrFormat("%s: more than %u inline sites or %u of their rows; later sites "
                             "skipped",
                             where, kMaxInlineSites, kMaxInlineLines));
      }
      capped = true;
      return;
    }
    // pParent, pEnd, inlinee; S_INLINESITE2 adds invocations; then the annotations.
    const llvm::ArrayRef<uint8_t> content = sym.content();
    const size_t fixed = sym.kind() == cv::S_INLINESITE ? 12 : 16;
    if (content.size() < fixed) {
      Warn(absl::StrFormat("%s: record of 0x%x bytes is shorter than its 0x%x bytes of fields; "
                           "skipped (with the sites inside it)",
                           where, content.size() + 4, fixed + 4));
      return;
    }
    const uint32_t inlinee = Le32(content.data() + 8);
    PdbInlineSite site;
    site.section = top.section;
    site.parent_offset = top.offset;
    site.name = InlineeName(inlinee, where);
    site.depth = depth;
    site.parent = parent;
    auto base = files.inlinees.find(inlinee);
    int64_t line = 0;
    uint32_t file_checksum = 0;
    if (base != files.inlinees.end()) {
      line = base->second.line;
      file_checksum = base->second.file_checksum;
    }
    std::vector<InlineRow> rows;
    const std::string problem = DecodeAnnotations(
        std::span<const uint8_t>(content.data() + fixed, content.size() - fixed), line,
        file_checksum, rows);
    if (!problem.empty()) Warn(where + ": " + problem);
    // Rows are kept inside the procedure and the section's 32-bit offsets.
    bool clipped = false;
    for (const InlineRow& r : rows) {
      uint64_t end = r.end;
      if (top.length > 0 && end > top.length) {
        clipped = true;
        end = top.length;
      }
      if (end <= r.begin) continue;
      if (top.offset + end > 0xFFFFFFFFull) {
        clipped = true;
        continue;
      }
      PdbInlineLine l;
      l.offset = static_cast<uint32_t>(top.offset + r.begin);
      l.length = static_cast<uint32_t>(end - r.begin);
      l.line = 0;
      l.file = PdbInlineSite::kNoFile;
      if (base != files.inlinees.end()) {
        l.line = r.line < 0 || r.line > 0xFFFFFFFFll ? 0 : static_cast<uint32_t>(r.line);
        auto f = files.by_checksum.find(r.file);
        if (f != files.by_checksum.end()) l.file = f->second;
      }
      site.lines.push_back(l);
    }
    if (clipped) {
      Warn(absl::StrFormat("%s: code past the procedure's 0x%x bytes (or past 4 GiB); cut there",
                           where, top.length));
    }
    std::stable_sort(
        site.lines.begin(), site.lines.end(),
        [](const PdbInlineLine& a, const PdbInlineLine& b) { return a.offset < b.offset; });
    for (const PdbInlineLine& l : site.lines) {
      const uint32_t end = l.offset + l.length;
      if (!site.ranges.empty() && l.offset <= site.ranges.back().second) {
        site.ranges.back().second = std::max(site.ranges.back().second, end);
      } else {
        site.ranges.emplace_back(l.offset, end);
      }
    }
    // A nested site's call: its parent's row at its first byte.
    if (parent != PdbInlineSite::kNoParent && !site.ranges.empty()) {
      const PdbInlineSite& p = out_.inline_sites_[parent];
      const uint32_t first = site.ranges.front().first;
      auto row = std::upper_bound(p.lines.begin(), p.lines.end(), first,
                                  [](uint32_t v, const PdbInlineLine& l) { return v < l.offset; });
      if (row != p.lines.begin() && first - (row - 1)->offset < (row - 1)->length) {
        site.call_line = (row - 1)->line;
        site.call_file = (row - 1)->file;
      }
    }
    inline_lines_ += site.lines.size();
    push.back().site = static_cast<uint32_t>(out_.inline_sites_.size());
    out_.inline_sites_.push_back(std::move(site));
  }

  void ReadModuleSymbols(uint32_t m, const std::string& module_name,
                         const pdb::ModuleDebugStreamRef& mds, const ModuleFiles& files) {
    // Offsets in S_SEPCODE.pParent count from the module stream's start (a
    // 4-byte signature precedes the symbols); LLVM's iterator offsets count
    // from there too (the first symbol is at 4).
    // Record offset -> the procedure there, or the S_SEPCODE block there (a
    // block's parent may be another block: cvinfo's "enclosing scope").
    struct Scope {
      size_t procedure_index = 0;  // into procedures_, unless `block`
      std::optional<SepCodeRecord> block;
    };
    std::unordered_map<uint32_t, Scope> scopes;
    std::vector<std::pair<SepCodeRecord, size_t>> pending;
    // The open scopes, from the records that open and end them (not from
    // their pParent/pEnd fields): the stack inline sites are nested in.
    std::vector<OpenScope> open;
    size_t open_past_cap = 0;  // scopes opened beyond kMaxScopeDepth
    TopProcedure top;
    bool sites_capped = false;
    std::vector<OpenScope> push;
    const cv::CVSymbolArray& symbols = mds.getSymbolArray();
    // LLVM's iterator ends quietly at a record that does not fit; where it
    // ended says whether it did.
    auto it = symbols.begin();
    bool capped = false;
    for (; it != symbols.end(); ++it) {
      if (out_.procedures_.size() + out_.separated_.size() > kMaxRecords) {
        capped = true;
        break;
      }
      const cv::CVSymbol& sym = *it;
      const uint32_t offset = it.offset();
      push.clear();
      switch (sym.kind()) {
        case cv::S_GPROC32:
        case cv::S_LPROC32:
        case cv::S_GPROC32_ID:
        case cv::S_LPROC32_ID:
        case cv::S_LPROC32_DPC:
        case cv::S_LPROC32_DPC_ID: {
          // Procedures do not nest: whatever is still open was not ended.
          open.clear();
          open_past_cap = 0;
          top = TopProcedure{};
          push.push_back({OpenScope::kProcedure, 0});
          llvm::Expected<cv::ProcSym> proc = cv::SymbolDeserializer::deserializeAs<cv::ProcSym>(sym);
          if (!proc) {
            Warn(absl::StrFormat("module %u: procedure at 0x%x: %s", m, offset,
                                 llvm::toString(proc.takeError())));
            break;
          }
          top = {true, proc->Segment, proc->CodeOffset, proc->CodeSize};
          scopes[offset] = Scope{out_.procedures_.size(), std::nullopt};
          out_.procedures_.push_back(
              {proc->Segment, proc->CodeOffset, proc->CodeSize, AsString(proc->Name), false});
          break;
        }
        case cv::S_THUNK32: {
          push.push_back({OpenScope::kOther, 0});
          llvm::Expected<cv::Thunk32Sym> thunk =
              cv::SymbolDeserializer::deserializeAs<cv::Thunk32Sym>(sym);
          if (!thunk) {
            llvm::consumeError(thunk.takeError());
            break;
          }
          out_.procedures_.push_back(
              {thunk->Segment, thunk->Offset, thunk->Length, AsString(thunk->Name), true});
          break;
        }
        case cv::S_SEPCODE: {
          push.push_back({OpenScope::kOther, 0});
          llvm::ArrayRef<uint8_t> data = sym.data();
          absl::StatusOr<SepCodeRecord> rec = DecodeSepCode({data.data(), data.size()});
          if (!rec.ok()) {
            Warn(absl::StrFormat("module %u: S_SEPCODE at 0x%x: %s", m, offset,
                                 rec.status().message()));
            break;
          }
          scopes[offset] = Scope{0, *rec};
          pending.emplace_back(*rec, out_.separated_.size());
          out_.separated_.push_back({*rec, ""});
          break;
        }
        case cv::S_BLOCK32:
        case cv::S_WITH32:
        case cv::S_GMANPROC:
        case cv::S_LMANPROC:
          push.push_back({OpenScope::kOther, 0});
          break;
        case cv::S_INLINESITE:
        case cv::S_INLINESITE2:
          if (open_past_cap > 0) {
            push.push_back({OpenScope::kInlineSite, kSkipped});
          } else {
            ReadInlineSite(m, module_name, sym, offset, open.empty() ? nullptr : &open.back(), top,
                           files, push, sites_capped);
          }
          break;
        case cv::S_END:
        case cv::S_PROC_ID_END:
        case cv::S_INLINESITE_END:
          if (open_past_cap > 0) {
            --open_past_cap;
          } else if (!open.empty()) {
            open.pop_back();
          }
          break;
        default:
          break;
      }
      for (OpenScope s : push) {
        if (open.size() >= kMaxScopeDepth) {
          ++open_past_cap;
          continue;
        }
        const OpenScope* up = open.empty() ? nullptr : &open.back();
        const bool site = s.kind == OpenScope::kInlineSite;
        s.in_procedure = s.kind == OpenScope::kProcedure || (up != nullptr && up->in_procedure);
        s.skipped = (up != nullptr && up->skipped) || (site && s.site == kSkipped);
        s.inline_parent = site              ? s.site
                          : up != nullptr ? up->inline_parent
                                          : PdbInlineSite::kNoParent;
        s.depth = (up != nullptr ? up->depth : 0) + (site ? 1 : 0);
        open.push_back(s);
      }
    }
    const uint64_t symbols_end = symbols.getUnderlyingStream().getLength();
    if (!capped && it.offset() < symbols_end) {
      Warn(
          absl::StrFormat("module %u (%s): symbol record at 0x%x: its length does not fit the "
                          "0x%x bytes of symbols; the rest is skipped",
                          m, module_name, it.offset(), symbols_end));
    }
    // Follow each block's parents (through enclosing blocks, at most
    // kMaxSepCodeDepth of them, so a cycle ends) to its procedure.
    constexpr int kMaxSepCodeDepth = 16;
    for (const auto& [rec, index] : pending) {
      uint32_t parent = rec.parent;
      const PdbProcedure* procedure = nullptr;
      for (int depth = 0; depth < kMaxSepCodeDepth; ++depth) {
        auto scope = scopes.find(parent);
        if (scope == scopes.end()) break;
        if (!scope->second.block) {
          procedure = &out_.procedures_[scope->second.procedure_index];
          break;
        }
        parent = scope->second.block->parent;
      }
      if (procedure != nullptr) {
        PdbSeparatedBlock& b = out_.separated_[index];
        b.parent_name = procedure->name;
        b.function_section = procedure->section;
        b.function_offset = procedure->offset;
      } else {
        Warn(absl::StrFormat("module %u: S_SEPCODE at section %u offset 0x%x: parent record 0x%x "
                             "does not lead to a procedure",
                             m, rec.section, rec.offset, rec.parent));
      }
    }
  }

  void ReadModuleLines(uint32_t m, const pdb::ModuleDebugStreamRef& mds, const ModuleFiles& files) {
    for (const cv::DebugSubsectionRecord& ss : mds.subsections()) {
      if (ss.kind() != cv::DebugSubsectionKind::Lines) continue;
      cv::DebugLinesSubsectionRef lines;
      if (llvm::Error e = lines.initialize(llvm::BinaryStreamReader(ss.getRecordData()))) {
        Warn(absl::StrFormat("module %u: lines: %s", m, llvm::toString(std::move(e))));
        continue;
      }
      const cv::LineFragmentHeader* h = lines.header();
      for (const cv::LineColumnEntry& block : lines) {
        auto file = files.by_checksum.find(block.NameIndex);
        const uint32_t file_index = file == files.by_checksum.end() ? FileIndex("<unknown>")
                                                                    : file->second;
        const size_t count = block.LineNumbers.size();
        size_t i = 0;
        for (const cv::LineNumberEntry& n : block.LineNumbers) {
          if (out_.lines_.size() >= kMaxRecords) return;
          const cv::LineInfo info(n.Flags);
          // Each entry lasts to the next entry, the last to the fragment's end.
          uint32_t end = h->CodeSize;
          if (i + 1 < count) end = block.LineNumbers[i + 1].Offset;
          const uint32_t begin = n.Offset;
          out_.lines_.push_back({h->RelocSegment, h->RelocOffset + begin,
                                 end > begin ? end - begin : 0, info.getStartLine(), file_index});
          ++i;
        }
      }
    }
  }

  // The calls of a module's outermost inline sites: the procedure's own
  // line (the module's C13 lines) at each site's first byte.
  void ResolveCallLines(size_t first_site, size_t first_line) {
    if (first_site == out_.inline_sites_.size()) return;
    std::vector<PdbLine> lines(out_.lines_.begin() + static_cast<ptrdiff_t>(first_line),
                               out_.lines_.end());
    auto key = [](const PdbLine& l) { return std::pair(l.section, l.offset); };
    std::stable_sort(lines.begin(), lines.end(),
                     [&](const PdbLine& a, const PdbLine& b) { return key(a) < key(b); });
    for (size_t i = first_site; i < out_.inline_sites_.size(); ++i) {
      PdbInlineSite& site = out_.inline_sites_[i];
      if (site.depth != 1 || site.ranges.empty()) continue;
      const std::pair<uint16_t, uint32_t> at(site.section, site.ranges.front().first);
      auto l = std::upper_bound(lines.begin(), lines.end(), at,
                                [&](const auto& v, const PdbLine& e) { return v < key(e); });
      if (l == lines.begin()) continue;
      --l;
      if (l->section == at.first && at.second - l->offset < std::max<uint32_t>(l->length, 1)) {
        site.call_line = l->line;
        site.call_file = l->file;
      }
    }
  }

  void ReadPublics() {
    if (publics_stream_ == kNoStream) return;  // a PDB without publics is valid
    for (auto [stream, what] : {std::pair{publics_stream_, "publics"},
                                std::pair{records_stream_, "symbol record stream"}}) {
      if (std::string why = msf_.Unreadable(stream); !why.empty()) {
        Warn(absl::StrFormat("%s: %s", what, why));
        return;
      }
    }
    llvm::Expected<pdb::PublicsStream&> publics = file_.getPDBPublicsStream();
    if (!publics) {
      llvm::consumeError(publics.takeError());  // a PDB without publics is valid
      return;
    }
    llvm::Expected<pdb::SymbolStream&> records = file_.getPDBSymbolStream();
    if (!records) {
      Warn(absl::StrFormat("symbol record stream: %s", llvm::toString(records.takeError())));
      return;
    }
    // Records are read where the hash records say, in their order; one that
    // starts inside another (or repeats one) is skipped: LLVM copies every
    // record that crosses blocks, once per distinct offset.
    std::vector<uint32_t> offsets;
    for (uint32_t offset : publics->getPublicsTable()) offsets.push_back(offset);
    std::vector<uint32_t> accepted(offsets);
    std::sort(accepted.begin(), accepted.end());
    accepted.erase(std::unique(accepted.begin(), accepted.end()), accepted.end());
    size_t skipped = offsets.size() - accepted.size();
    const StreamView records_view = msf_.Stream(records_stream_);
    uint64_t covered = 0;  // where the last accepted record ends
    size_t kept = 0;
    for (uint32_t offset : accepted) {
      const std::optional<uint16_t> length = records_view.U16(offset);
      if (!length) continue;  // past the records: LLVM reads nothing there
      if (offset < covered) {
        ++skipped;
        continue;
      }
      covered = static_cast<uint64_t>(offset) + 2 + *length;
      accepted[kept++] = offset;
    }
    accepted.resize(kept);
    if (skipped > 0) {
      Warn(
          absl::StrFormat("publics: 0x%x hash records repeat a record or point inside one; "
                          "skipped",
                          skipped));
    }
    std::vector<bool> done(accepted.size());
    for (uint32_t offset : offsets) {
      if (out_.publics_.size() >= kMaxRecords) break;
      auto found = std::lower_bound(accepted.begin(), accepted.end(), offset);
      if (found == accepted.end() || *found != offset || done[found - accepted.begin()]) continue;
      done[found - accepted.begin()] = true;
      const cv::CVSymbol sym = records->readRecord(offset);
      if (sym.kind() != cv::S_PUB32) continue;
      llvm::Expected<cv::PublicSym32> pub =
          cv::SymbolDeserializer::deserializeAs<cv::PublicSym32>(sym);
      if (!pub) {
        llvm::consumeError(pub.takeError());
        continue;
      }
      out_.publics_.push_back({pub->Segment, pub->Offset, AsString(pub->Name),
                               (static_cast<uint32_t>(pub->Flags) &
                                static_cast<uint32_t>(cv::PublicSymFlags::Function)) != 0});
    }
  }

  PdbFile& out_;
  pdb::PDBFile& file_;
  const Msf& msf_;
  std::vector<uint32_t> names_streams_;  // "/names" in the named stream map (once, normally)
  uint16_t publics_stream_ = kNoStream;
  uint16_t records_stream_ = kNoStream;
  std::unordered_map<std::string, uint32_t> file_index_;
  TypeRecords ipi_, tpi_;  // walked when the first inline site needs a name
  std::unordered_map<uint32_t, std::string> inlinee_names_;
  size_t inline_lines_ = 0;  // rows of every inline site so far
};

absl::StatusOr<std::unique_ptr<PdbFile>> PdbFile::Open(std::span<const uint8_t> bytes,
                                                       std::shared_ptr<const void> owner,
                                                       std::string name) {
  std::unique_ptr<PdbFile> out(new PdbFile);
  out->name_ = std::move(name);
  out->owner_ = std::move(owner);
  absl::StatusOr<Msf> msf = Msf::Parse(bytes, out->name_);
  if (!msf.ok()) return msf.status();
  llvm::BumpPtrAllocator allocator;
  auto buffer = llvm::MemoryBuffer::getMemBuffer(
      llvm::StringRef(reinterpret_cast<const char*>(bytes.data()), bytes.size()), out->name_,
      /*RequiresNullTerminator=*/false);
  auto stream =
      std::make_unique<llvm::MemoryBufferByteStream>(std::move(buffer), llvm::endianness::little);
  pdb::PDBFile file(out->name_, std::move(stream), allocator);
  if (llvm::Error e = file.parseFileHeaders()) return FromLlvm(std::move(e), out->name_);
  if (llvm::Error e = file.parseStreamData()) return FromLlvm(std::move(e), out->name_);
  PdbReader reader(*out, file, *msf);
  if (absl::Status s = reader.Read(); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::unique_ptr<PdbFile>> PdbFile::OpenFile(const std::string& path) {
  absl::StatusOr<std::shared_ptr<const unwind::MappedFile>> file = unwind::MappedFile::Open(path);
  if (!file.ok()) return file.status();
  return Open((*file)->bytes(), *file, path);
}

}  // namespace restack::sym
