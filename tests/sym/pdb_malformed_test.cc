// pdb_malformed_test.cc - PdbFile and the hand decoders on PDBs that lie
//
// Every case starts from a fixture PDB (tests/fixtures/pdb/) mutated in memory:
// the MSF superblock, the stream directory, the PDB info stream, the DBI
// header, module streams, S_SEPCODE records, inline sites (binary
// annotations, nesting, the IPI stream naming them) and OMAP streams. Each
// input is placed so that its last byte is followed by an inaccessible page (a
// read past the end faults instead of going unnoticed), and the address space
// is capped while the cases run (a lying size must not become a
// multi-gigabyte allocation). A case passes when opening gives either an
// error naming the file and what was wrong, or a PdbFile whose warnings name
// the file, and the symbol index and inline index built from it answer
// lookups.
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "restack/sym/inline_index.h"
#include "restack/sym/omap.h"
#include "restack/sym/pdb_file.h"
#include "restack/sym/sep_code.h"
#include "restack/sym/symbol_index.h"
#include "tests/support/file_read.h"

namespace restack::sym {
namespace {

using ::testing::HasSubstr;

constexpr char kSepCode[] = "tests/fixtures/pdb/sepcode.pdb";
constexpr char kOmap[] = "tests/fixtures/pdb/omap.pdb";
constexpr char kPublics[] =
    "tests/fixtures/pdb/store-publics/restack_chunks.pdb/05E38BAE925816984C4C44205044422E1/"
    "restack_chunks.pdb";
constexpr char kFull[] =
    "tests/fixtures/pdb/store-full/restack_chunks.pdb/05E38BAE925816984C4C44205044422E1/"
    "restack_chunks.pdb";
constexpr char kInlines[] = "tests/fixtures/pdb/inlines/restack_inlines.pdb";
constexpr char kReal[] =
    "../shared/real/symbols/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb";
constexpr uint32_t kNil = 0xFFFFFFFF;  // an MSF stream size meaning "no stream"

// The file's bytes (empty when missing).
std::vector<uint8_t> ReadFile(const std::string& path) {
  return test::ReadFileBytes(path).value_or(std::vector<uint8_t>{});
}

// Bytes that end exactly where an inaccessible page starts.
class GuardedBytes {
 public:
  explicit GuardedBytes(const std::vector<uint8_t>& bytes) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    data_pages_ = (bytes.size() + page - 1) / page * page;
    mapping_size_ = data_pages_ + page;
    void* m =
        mmap(nullptr, mapping_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      ADD_FAILURE() << "mmap failed";
      mapping_ = nullptr;
      return;
    }
    mapping_ = static_cast<uint8_t*>(m);
    data_ = mapping_ + data_pages_ - bytes.size();
    if (!bytes.empty()) std::memcpy(data_, bytes.data(), bytes.size());
    size_ = bytes.size();
    mprotect(mapping_ + data_pages_, page, PROT_NONE);
    mprotect(mapping_, data_pages_, PROT_READ);
  }
  ~GuardedBytes() {
    if (mapping_ != nullptr) munmap(mapping_, mapping_size_);
  }
  GuardedBytes(const GuardedBytes&) = delete;
  GuardedBytes& operator=(const GuardedBytes&) = delete;
  std::span<const uint8_t> span() const { return {data_, size_}; }

 private:
  uint8_t* mapping_ = nullptr;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t data_pages_ = 0;
  size_t mapping_size_ = 0;
};

// Caps the address space while a case runs: a lying size that becomes an
// allocation of gigabytes fails (and the test with it) instead of succeeding
// slowly. Not under AddressSanitizer, which reserves terabytes of shadow.
class AddressSpaceCap {
 public:
  AddressSpaceCap() {
#if defined(__SANITIZE_ADDRESS__)
    return;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return;
#endif
#endif
    std::ifstream statm("/proc/self/statm");
    uint64_t pages = 0;
    if (!(statm >> pages) || getrlimit(RLIMIT_AS, &saved_) != 0) return;
    const uint64_t cap = pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) + (1ull << 30);
    if (saved_.rlim_cur != RLIM_INFINITY && saved_.rlim_cur < cap) return;
    rlimit lowered = saved_;
    lowered.rlim_cur = cap;
    active_ = setrlimit(RLIMIT_AS, &lowered) == 0;
  }
  ~AddressSpaceCap() {
    if (active_) setrlimit(RLIMIT_AS, &saved_);
  }

 private:
  rlimit saved_{};
  bool active_ = false;
};

// A fixture PDB, its MSF layout parsed (the fixtures are well formed), and
// setters that patch it by stream offset.
class Mutant {
 public:
  explicit Mutant(const std::string& path) : bytes(ReadFile(path)) {
    block_size = Super(32);
    const uint32_t dir_bytes = Super(44);
    const uint32_t map = Super(52);
    for (uint32_t i = 0; i < (dir_bytes + block_size - 1) / block_size; ++i) {
      dir_blocks_.push_back(Get32(static_cast<size_t>(map) * block_size + 4 * i));
    }
    std::vector<uint8_t> dir;
    for (uint32_t b : dir_blocks_) {
      dir.insert(dir.end(), bytes.begin() + static_cast<size_t>(b) * block_size,
                 bytes.begin() + static_cast<size_t>(b + 1) * block_size);
    }
    auto dir32 = [&](size_t at) {
      uint32_t v;
      std::memcpy(&v, dir.data() + at, 4);
      return v;
    };
    const uint32_t count = dir32(0);
    size_t at = 4 + 4 * static_cast<size_t>(count);
    for (uint32_t s = 0; s < count; ++s) {
      sizes.push_back(dir32(4 + 4 * s));
      std::vector<uint32_t> list;
      const uint32_t n = sizes[s] == kNil ? 0 : (sizes[s] + block_size - 1) / block_size;
      for (uint32_t i = 0; i < n; ++i, at += 4) list.push_back(dir32(at));
      blocks.push_back(std::move(list));
    }
  }

  uint32_t Super(size_t field) const { return Get32(field); }
  void SetSuper(size_t field, uint32_t v) { Put32(field, v); }
  size_t At(uint32_t stream, uint32_t offset) const {
    return static_cast<size_t>(blocks[stream][offset / block_size]) * block_size +
           offset % block_size;
  }
  uint32_t U32(uint32_t stream, uint32_t offset) const { return Get32(At(stream, offset)); }
  uint16_t U16(uint32_t stream, uint32_t offset) const {
    uint16_t v;
    std::memcpy(&v, bytes.data() + At(stream, offset), 2);
    return v;
  }
  void Set32(uint32_t stream, uint32_t offset, uint32_t v) { Put32(At(stream, offset), v); }
  void Set16(uint32_t stream, uint32_t offset, uint16_t v) {
    std::memcpy(bytes.data() + At(stream, offset), &v, 2);
  }

  // Writes `sizes` and `blocks` back into the directory's blocks (which must
  // still hold it) and NumDirectoryBytes.
  void WriteDirectory() {
    std::vector<uint8_t> dir;
    auto add = [&](uint32_t v) {
      dir.insert(dir.end(), {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)});
    };
    add(static_cast<uint32_t>(sizes.size()));
    for (uint32_t s : sizes) add(s);
    for (const auto& list : blocks) {
      for (uint32_t b : list) add(b);
    }
    ASSERT_LE(dir.size(), dir_blocks_.size() * block_size);
    for (size_t i = 0; i < dir.size(); ++i) {
      bytes[static_cast<size_t>(dir_blocks_[i / block_size]) * block_size + i % block_size] =
          dir[i];
    }
    SetSuper(44, static_cast<uint32_t>(dir.size()));
  }

  // File offset of the directory's first byte.
  size_t DirectoryOffset() const { return static_cast<size_t>(dir_blocks_[0]) * block_size; }

  // DBI (stream 3): header fields, where each substream starts.
  int32_t DbiSize(uint32_t field) const { return static_cast<int32_t>(U32(3, field)); }
  uint32_t ModiStart() const { return 64; }
  uint32_t FileInfoStart() const { return 64 + DbiSize(24) + DbiSize(28) + DbiSize(32); }
  uint32_t DebugHeaderStart() const {
    return 64 + DbiSize(24) + DbiSize(28) + DbiSize(32) + DbiSize(36) + DbiSize(40) + DbiSize(52);
  }
  // The first module descriptor's stream (the fixtures with one module).
  uint16_t FirstModuleStream() const { return U16(3, ModiStart() + 34); }

  std::vector<uint8_t> bytes;
  uint32_t block_size = 0;
  std::vector<uint32_t> sizes;
  std::vector<std::vector<uint32_t>> blocks;

 private:
  uint32_t Get32(size_t at) const {
    uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return v;
  }
  void Put32(size_t at, uint32_t v) { std::memcpy(bytes.data() + at, &v, 4); }
  std::vector<uint32_t> dir_blocks_;
};

// Superblock fields (file offsets).
constexpr size_t kBlockSize = 32, kFreeBlockMap = 36, kNumBlocks = 40, kDirectoryBytes = 44,
                 kBlockMapAddr = 52;

struct Outcome {
  absl::Status status;
  std::vector<std::string> warnings;
  size_t procedures = 0;
  size_t separated = 0;
  size_t publics = 0;
  size_t named_blocks = 0;  // S_SEPCODE blocks that found their procedure
  size_t lookups_named = 0;
  bool omap = false;
  size_t inline_sites = 0;
  size_t inline_ranges = 0;  // of every site
  size_t inline_frames = 0;  // InlineIndex::At answers over the probes
  std::vector<std::string> inline_names;
};

// Opens `bytes` as `name`, checks the error or the warnings name the file,
// and exercises the symbol index over the result.
Outcome Open(const std::vector<uint8_t>& bytes, const std::string& name) {
  Outcome o;
  AddressSpaceCap cap;
  GuardedBytes guarded(bytes);
  absl::StatusOr<std::unique_ptr<PdbFile>> pdb = PdbFile::Open(guarded.span(), nullptr, name);
  if (!pdb.ok()) {
    o.status = pdb.status();
    EXPECT_THAT(std::string(o.status.message()), HasSubstr(name + ": "));
    // Says what was wrong: more than the file name.
    EXPECT_GT(o.status.message().size(), name.size() + 12) << o.status;
    return o;
  }
  const PdbFile& p = **pdb;
  o.warnings = p.warnings();
  for (const std::string& w : o.warnings) EXPECT_THAT(w, HasSubstr(name + ": "));
  o.procedures = p.procedures().size();
  o.separated = p.separated_blocks().size();
  o.publics = p.publics().size();
  o.omap = !p.omap_to_src().empty() && !p.omap_from_src().empty();
  for (const PdbSeparatedBlock& b : p.separated_blocks()) o.named_blocks += !b.parent_name.empty();
  o.inline_sites = p.inline_sites().size();
  for (const PdbInlineSite& s : p.inline_sites()) {
    o.inline_ranges += s.ranges.size();
    o.inline_names.push_back(s.name);
  }
  const SymbolIndex index = SymbolIndex::FromPdb(p, {});
  for (const std::string& w : index.warnings()) EXPECT_THAT(w, HasSubstr(name + ": "));
  const InlineIndex inlines = InlineIndex::FromPdb(p, {});
  for (const std::string& w : inlines.warnings()) EXPECT_THAT(w, HasSubstr(name + ": "));
  auto probe = [&](uint32_t rva) {
    if (auto hit = index.Lookup(rva)) o.lookups_named += hit->name.size() < 0x10000;
    (void)index.At(rva);
    (void)index.LineAt(rva);
    o.inline_frames += inlines.At(rva).size();
  };
  for (uint32_t rva = 0; rva < 0x8000; rva += 0x8) probe(rva);
  for (const PdbSection& s : p.sections()) {
    probe(s.virtual_address);
    probe(s.virtual_address + s.virtual_size - 1);
  }
  probe(0xFFFFFFFF);
  return o;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// ---------------------------------------------------------------------------
// The container: not an MSF file, truncated, a lying superblock.

TEST(PdbMalformedTest, FixturesOpenCleanly) {
  for (const char* path : {kSepCode, kOmap, kPublics, kFull, kInlines}) {
    const Outcome o = Open(ReadFile(path), "clean.pdb");
    ASSERT_TRUE(o.status.ok()) << path << ": " << o.status;
    EXPECT_TRUE(o.warnings.empty()) << path << "\n" << Joined(o.warnings);
    EXPECT_GT(o.lookups_named, 0u) << path;
  }
}

TEST(PdbMalformedTest, EmptyFile) {
  const Outcome o = Open({}, "empty.pdb");
  EXPECT_EQ(o.status.code(), absl::StatusCode::kOutOfRange) << o.status;
  EXPECT_THAT(std::string(o.status.message()), HasSubstr("superblock"));
}

TEST(PdbMalformedTest, NotAnMsfFile) {
  std::vector<uint8_t> text(4096, ' ');
  const std::string hello = "This is a text file, not a program database.\n";
  std::copy(hello.begin(), hello.end(), text.begin());
  Outcome o = Open(text, "text.pdb");
  EXPECT_EQ(o.status.code(), absl::StatusCode::kInvalidArgument) << o.status;
  EXPECT_THAT(std::string(o.status.message()), HasSubstr("MSF"));
  // An image where a PDB was expected.
  o = Open(
      ReadFile("tests/fixtures/pdb/store-full/restack_chunks.dll/8E7D24127000/restack_chunks.dll"),
      "image.pdb");
  EXPECT_EQ(o.status.code(), absl::StatusCode::kInvalidArgument) << o.status;
  // The MSF 2.00 (small PDB) signature is recognised but not read.
  std::vector<uint8_t> old(4096, 0);
  const std::string sig =
      "Microsoft C/C++ program database 2.00\r\n\x1a"
      "JG\0\0";
  std::copy(sig.begin(), sig.end(), old.begin());
  o = Open(old, "old.pdb");
  EXPECT_FALSE(o.status.ok());
}

TEST(PdbMalformedTest, TruncatedAtEveryBlockAndOddLengths) {
  for (const char* path : {kSepCode, kOmap, kPublics, kFull, kInlines, kReal}) {
    const std::vector<uint8_t> whole = ReadFile(path);
    if (whole.empty()) {
      ADD_FAILURE() << "missing " << path;
      continue;
    }
    std::vector<size_t> lengths = {1,
                                   31,
                                   32,
                                   52,
                                   55,
                                   56,
                                   57,
                                   100,
                                   1023,
                                   1024,
                                   1025,
                                   4095,
                                   4097,
                                   8191,
                                   whole.size() - 4095,
                                   whole.size() - 1024,
                                   whole.size() - 1};
    for (size_t at = 4096; at < whole.size(); at += 4096) lengths.push_back(at);
    for (size_t length : lengths) {
      SCOPED_TRACE(std::string(path) + " cut at " + std::to_string(length));
      const Outcome o = Open({whole.begin(), whole.begin() + length}, "cut.pdb");
      ASSERT_FALSE(o.status.ok());
    }
  }
}

TEST(PdbMalformedTest, TrailingBytesAfterTheLastBlock) {
  std::vector<uint8_t> bytes = ReadFile(kSepCode);
  bytes.resize(bytes.size() + 4096, 0);
  Outcome o = Open(bytes, "longer.pdb");  // a whole block more: readable
  EXPECT_TRUE(o.status.ok()) << o.status;
  bytes.resize(bytes.size() + 100, 0);
  o = Open(bytes, "ragged.pdb");  // not a multiple of the block size
  EXPECT_FALSE(o.status.ok());
}

TEST(PdbMalformedTest, LyingSuperblockFields) {
  struct Case {
    size_t field;
    uint32_t value;
  };
  // Values that leave a readable file: the directory read past its end (the
  // rest is ignored), or through block 0; the block map moved onto the
  // directory itself (garbage, which may or may not parse).
  auto either = [](const Case& c, uint32_t blocks) {
    return (c.field == kDirectoryBytes && (c.value == 4096 || c.value == 4100)) ||
           (c.field == kBlockMapAddr && c.value == blocks - 1);
  };
  const Mutant clean(kSepCode);
  const uint32_t blocks = clean.Super(kNumBlocks);
  const std::vector<Case> cases = {
      {kBlockSize, 0},          {kBlockSize, 1},           {kBlockSize, 511},
      {kBlockSize, 8192},       {kBlockSize, 65536},       {kBlockSize, 0x80000000},
      {kBlockSize, kNil},       {kFreeBlockMap, 0},        {kFreeBlockMap, 3},
      {kFreeBlockMap, kNil},    {kNumBlocks, 0},           {kNumBlocks, 1},
      {kNumBlocks, blocks - 1}, {kNumBlocks, blocks + 1},  {kNumBlocks, 0x10000000},
      {kNumBlocks, kNil},       {kDirectoryBytes, 0},      {kDirectoryBytes, 2},
      {kDirectoryBytes, 4096},  {kDirectoryBytes, 4100},   {kDirectoryBytes, 4096 * 1025},
      {kDirectoryBytes, kNil},  {kBlockMapAddr, 0},        {kBlockMapAddr, blocks - 1},
      {kBlockMapAddr, blocks},  {kBlockMapAddr, 0x100000}, {kBlockMapAddr, kNil},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("field 0x" + std::to_string(c.field) + " = " + std::to_string(c.value));
    Mutant m(kSepCode);
    m.SetSuper(c.field, c.value);
    const Outcome o = Open(m.bytes, "super.pdb");
    if (!either(c, blocks)) {
      EXPECT_FALSE(o.status.ok());
    }
  }
}

TEST(PdbMalformedTest, DirectoryBlocksPastTheEnd) {
  // The block map names a block past the file.
  Mutant m(kSepCode);
  const uint32_t blocks = m.Super(kNumBlocks);
  const size_t map = static_cast<size_t>(m.Super(kBlockMapAddr)) * m.block_size;
  for (uint32_t bad : {blocks, blocks + 1, 0x00100000u, kNil}) {
    Mutant b(kSepCode);
    std::memcpy(b.bytes.data() + map, &bad, 4);
    const Outcome o = Open(b.bytes, "dirblock.pdb");
    EXPECT_FALSE(o.status.ok()) << bad;
    EXPECT_THAT(std::string(o.status.message()), HasSubstr("block")) << o.status;
  }
  // A directory of two blocks: the last block of the file, then the one after
  // it. Contiguous blocks are read as one span by LLVM's MappedBlockStream,
  // which checks only the first: this read would run off the end.
  // The directory lists 0x410 empty streams: their sizes run into the second block.
  Mutant last(kSepCode);
  const uint32_t two[2] = {blocks - 1, blocks};
  std::memcpy(last.bytes.data() + map, two, 8);
  const uint32_t streams = 0x410;
  std::memset(last.bytes.data() + static_cast<size_t>(blocks - 1) * last.block_size, 0,
              last.block_size);
  std::memcpy(last.bytes.data() + static_cast<size_t>(blocks - 1) * last.block_size, &streams, 4);
  last.SetSuper(kDirectoryBytes, 4 + 4 * streams);
  const Outcome o = Open(last.bytes, "dirspan.pdb");
  EXPECT_FALSE(o.status.ok());
  EXPECT_THAT(std::string(o.status.message()), HasSubstr("dirspan.pdb: offset 0x"));
}

// ---------------------------------------------------------------------------
// The stream directory.

TEST(PdbMalformedTest, StreamDirectoryWithHugeOrMissingStreams) {
  struct Case {
    const char* what;
    uint32_t stream;
    uint32_t size;
  };
  for (const Case& c : std::vector<Case>{{"DBI huge", 3, 0x7FFFFFFF},
                                         {"DBI larger", 3, 0x10000},
                                         {"last stream huge", 11, 0x40000000},
                                         {"info huge", 1, 0xFFFFFFF0}}) {
    SCOPED_TRACE(c.what);
    Mutant m(kSepCode);
    m.sizes[c.stream] = c.size;
    m.WriteDirectory();  // the block lists stay as they were: too few for the size
    const Outcome o = Open(m.bytes, "streams.pdb");
    EXPECT_FALSE(o.status.ok());
  }
  for (uint32_t count : {0u, 1u, 2u, 3u, 0x10000u, kNil}) {
    SCOPED_TRACE("stream count " + std::to_string(count));
    Mutant m(kSepCode);
    std::memcpy(m.bytes.data() + m.DirectoryOffset(), &count, 4);
    const Outcome o = Open(m.bytes, "count.pdb");
    EXPECT_FALSE(o.status.ok());
  }
  {
    // A stream block past the end of the file.
    Mutant m(kSepCode);
    m.blocks[3][0] = m.Super(kNumBlocks);
    m.WriteDirectory();
    const Outcome o = Open(m.bytes, "streamblock.pdb");
    EXPECT_FALSE(o.status.ok());
    EXPECT_THAT(std::string(o.status.message()), HasSubstr("block"));
  }
}

TEST(PdbMalformedTest, RequiredStreamsThatAreNil) {
  for (uint32_t stream : {1u, 3u}) {
    Mutant m(kSepCode);
    m.sizes[stream] = kNil;
    m.blocks[stream].clear();
    m.WriteDirectory();
    const Outcome o = Open(m.bytes, "nil.pdb");
    EXPECT_FALSE(o.status.ok()) << stream;
  }
}

// A nil stream (size 0xFFFFFFFF: deleted) has no blocks. LLVM's
// MappedBlockStream takes its size at face value and indexes its empty block
// list, so every reference to one must be caught before LLVM reads it.
TEST(PdbMalformedTest, ReferencesToNilStreams) {
  // Stream 5 (/LinkInfo) is empty in the fixture: making it nil moves nothing.
  auto nil5 = [](const char* path) {
    Mutant m(path);
    EXPECT_EQ(m.sizes[5], 0u);
    m.sizes[5] = kNil;
    m.WriteDirectory();
    return m;
  };
  {
    Mutant m = nil5(kSepCode);
    const Outcome o = Open(m.bytes, "nil-unused.pdb");
    EXPECT_TRUE(o.status.ok()) << o.status;
  }
  {
    Mutant m = nil5(kSepCode);
    m.Set16(3, m.ModiStart() + 34, 5);  // the module's symbols
    const Outcome o = Open(m.bytes, "nil-module.pdb");
    ASSERT_TRUE(o.status.ok()) << o.status;
    EXPECT_EQ(o.procedures, 0u);
    EXPECT_THAT(Joined(o.warnings), HasSubstr("stream 5"));
  }
  for (uint32_t field : {16u, 20u}) {  // publics, symbol records
    Mutant m = nil5(kSepCode);
    m.Set16(3, field, 5);
    const Outcome o = Open(m.bytes, "nil-publics.pdb");
    ASSERT_TRUE(o.status.ok()) << o.status;
    EXPECT_EQ(o.publics, 0u);
    EXPECT_GT(o.procedures, 0u);
    EXPECT_THAT(Joined(o.warnings), HasSubstr("stream 5"));
  }
  {
    // /names in the info stream's named stream map.
    Mutant m = nil5(kSepCode);
    m.Set32(1, 69 + 4, 5);  // the first pair is (10 "/names", 11)
    const Outcome o = Open(m.bytes, "nil-names.pdb");
    EXPECT_TRUE(o.status.ok()) << o.status;
    EXPECT_THAT(Joined(o.warnings), HasSubstr("/names: stream 5"));
  }
  {
    // Two entries named /names (the second was /LinkInfo's, stream 5): LLVM
    // may pick either.
    Mutant m = nil5(kSepCode);
    m.Set32(1, 69 + 8, 10);
    const Outcome o = Open(m.bytes, "two-names.pdb");
    EXPECT_TRUE(o.status.ok()) << o.status;
    EXPECT_THAT(Joined(o.warnings), HasSubstr("/names: stream 5"));
  }
  for (uint32_t slot : {0u, 5u, 9u}) {  // FPO, SectionHdr, NewFPO: opened by LLVM's DBI reader
    Mutant m = nil5(kSepCode);
    m.Set16(3, m.DebugHeaderStart() + 2 * slot, 5);
    const Outcome o = Open(m.bytes, "nil-debug.pdb");
    EXPECT_FALSE(o.status.ok()) << slot;
  }
  for (uint32_t slot : {3u, 4u, 10u}) {  // OmapToSrc, OmapFromSrc, SectionHdrOrig: read by restack
    Mutant m = nil5(kOmap);
    m.Set16(3, m.DebugHeaderStart() + 2 * slot, 5);
    const Outcome o = Open(m.bytes, "nil-omap.pdb");
    ASSERT_TRUE(o.status.ok()) << slot << ": " << o.status;
    EXPECT_FALSE(o.omap && slot != 10);
    EXPECT_THAT(Joined(o.warnings), HasSubstr("stream 5"));
  }
}

// ---------------------------------------------------------------------------
// The PDB info stream and its named stream map.

TEST(PdbMalformedTest, InfoStreamTruncated) {
  const Mutant clean(kSepCode);
  for (uint32_t size : {0u, 4u, 27u, 28u, 31u, 40u, 48u, 60u, 68u, 72u}) {
    Mutant m(kSepCode);
    m.sizes[1] = size;
    if (size == 0) m.blocks[1].clear();
    m.WriteDirectory();
    const Outcome o = Open(m.bytes, "info.pdb");
    EXPECT_FALSE(o.status.ok()) << size;
    EXPECT_THAT(std::string(o.status.message()), HasSubstr("info")) << o.status;
  }
}

TEST(PdbMalformedTest, InfoStreamNamedMapLies) {
  // Layout in the fixture: header (28), string buffer size (4) and 17 bytes
  // "/LinkInfo\0/names\0", then at 49: Size 2, Capacity 4, Present {1 word:
  // 0x6}, Deleted {0 words}, pairs (10, 11) and (0, 5) at 69.
  struct Case {
    const char* what;
    uint32_t offset;
    uint32_t value;
  };
  for (const Case& c : std::vector<Case>{
           {"capacity of 2^32-1 buckets", 53, kNil},
           {"capacity of 2^28 buckets", 53, 0x10000000},
           {"capacity of 2^31-1 buckets", 53, 0x7FFFFFFF},
           {"capacity zero", 53, 0},
           {"size above the load", 49, 100},
           {"present bit past the capacity", 61, 0x80000002},
           {"present bits fewer than size", 61, 0x2},
           {"key past the string buffer", 69, 1000},
           {"string buffer size past the stream", 28, 0x1000},
           {"string buffer size huge", 28, 0xFFFFFFF0},
           {"present words huge", 57, 0x10000000},
       }) {
    SCOPED_TRACE(c.what);
    Mutant m(kSepCode);
    ASSERT_EQ(m.U32(1, 49), 2u);
    ASSERT_EQ(m.U32(1, 53), 4u);
    m.Set32(1, c.offset, c.value);
    const Outcome o = Open(m.bytes, "named.pdb");
    EXPECT_FALSE(o.status.ok());
  }
  {
    // The string buffer loses its final NUL: "/names" would run on.
    Mutant m(kSepCode);
    m.bytes[m.At(1, 32 + 16)] = 'x';
    const Outcome o = Open(m.bytes, "unterminated.pdb");
    EXPECT_FALSE(o.status.ok());
  }
  {
    // A /names entry naming a stream that does not exist: no file names, a warning.
    Mutant m(kSepCode);
    m.Set32(1, 69 + 4, 999);
    const Outcome o = Open(m.bytes, "names999.pdb");
    EXPECT_TRUE(o.status.ok()) << o.status;
  }
}

// ---------------------------------------------------------------------------
// The DBI stream header.

TEST(PdbMalformedTest, DbiHeaderLies) {
  struct Case {
    const char* what;
    uint32_t field;
    int64_t delta;  // added to the field
  };
  for (const char* path : {kSepCode, kPublics}) {
    for (const Case& c : std::vector<Case>{
             {"module info past the stream", 24, 0x10000},
             {"module info huge", 24, 0x7FFF0000},
             {"module info negative", 24, -0x10000},
             {"module info unaligned", 24, 2},
             {"section contributions past the stream", 28, 0x1000},
             {"section contributions negative", 28, -0x80000000ll},
             {"section map past the stream", 32, 0x1000},
             {"section map huge", 32, 0x7FFF0000},
             {"file info past the stream", 36, 0x100},
             {"type server map past the stream", 40, 0x100},
             {"debug header past the stream", 48, 0x100},
             {"EC substream past the stream", 52, 0x100},
             {"version too old", 4, -10000000},
             {"signature", 0, 1},
         }) {
      SCOPED_TRACE(std::string(path) + ": " + c.what);
      Mutant m(path);
      m.Set32(3, c.field, static_cast<uint32_t>(m.U32(3, c.field) + c.delta));
      const Outcome o = Open(m.bytes, "dbi.pdb");
      EXPECT_FALSE(o.status.ok());
      EXPECT_THAT(std::string(o.status.message()), HasSubstr("DBI")) << o.status;
    }
    {
      // Sizes that add up to the stream, one of them negative.
      Mutant m(path);
      m.Set32(3, 24, static_cast<uint32_t>(-4));
      m.Set32(3, 28, m.U32(3, 28) + m.U32(3, 24) + 4);
      const Outcome o = Open(m.bytes, "dbi-negative.pdb");
      EXPECT_FALSE(o.status.ok());
    }
    for (uint32_t size : {0u, 10u, 63u, 64u, 100u}) {
      Mutant m(path);
      m.sizes[3] = size;
      if (size == 0) m.blocks[3].clear();
      m.WriteDirectory();
      const Outcome o = Open(m.bytes, "dbi-cut.pdb");
      EXPECT_FALSE(o.status.ok()) << size;
    }
  }
}

TEST(PdbMalformedTest, DbiFileInfoDisagreesWithModules) {
  for (const char* path : {kSepCode, kPublics, kFull}) {
    SCOPED_TRACE(path);
    {
      // No file info substream (its bytes handed to the type server map):
      // LLVM's module list then has no count.
      Mutant m(path);
      const uint32_t file_info = m.U32(3, 36);
      m.Set32(3, 36, 0);
      m.Set32(3, 40, m.U32(3, 40) + file_info);
      const Outcome o = Open(m.bytes, "nofileinfo.pdb");
      if (o.status.ok()) {
        EXPECT_GT(o.procedures + o.publics, 0u);
      }
    }
    for (uint16_t modules :
         {uint16_t{0}, uint16_t{1}, uint16_t{2}, uint16_t{4}, uint16_t{0x100}, uint16_t{0xFFFF}}) {
      // The file info's module count disagrees with the module descriptors.
      Mutant m(path);
      m.Set16(3, m.FileInfoStart(), modules);
      const Outcome o = Open(m.bytes, "modcount.pdb");
      (void)o;
    }
  }
}

TEST(PdbMalformedTest, DebugHeaderNamesMissingStreams) {
  for (uint32_t slot = 0; slot < 11; ++slot) {
    for (uint16_t stream : {uint16_t{0}, uint16_t{2}, uint16_t{99}, uint16_t{0xFFFE}}) {
      Mutant m(kOmap);
      m.Set16(3, m.DebugHeaderStart() + 2 * slot, stream);
      const Outcome o = Open(m.bytes, "debughdr.pdb");
      (void)o;  // an error, or warnings naming the file
    }
  }
}

// ---------------------------------------------------------------------------
// Module streams and their symbol records.

TEST(PdbMalformedTest, ModuleDescriptorLies) {
  struct Case {
    const char* what;
    uint32_t offset;  // in the descriptor
    uint32_t value;
    bool u16;
  };
  for (const Case& c : std::vector<Case>{{"stream past the directory", 34, 999, true},
                                         {"symbols past the stream", 36, 0x10000, false},
                                         {"symbols huge", 36, 0xFFFFFFF0, false},
                                         {"symbols shorter than the signature", 36, 2, false},
                                         {"C11 lines past the stream", 40, 0x10000, false},
                                         {"C13 lines past the stream", 44, 0x10000, false},
                                         {"C11 and C13 lines", 40, 4, false}}) {
    SCOPED_TRACE(c.what);
    Mutant m(kSepCode);
    if (c.u16) {
      m.Set16(3, m.ModiStart() + c.offset, static_cast<uint16_t>(c.value));
    } else {
      m.Set32(3, m.ModiStart() + c.offset, c.value);
    }
    if (c.offset == 40 && c.value == 4) m.Set32(3, m.ModiStart() + 44, 4);
    const Outcome o = Open(m.bytes, "modi.pdb");
    ASSERT_TRUE(o.status.ok()) << o.status;  // modules are optional
    EXPECT_FALSE(o.warnings.empty());
    EXPECT_GT(o.publics, 0u);
  }
}

TEST(PdbMalformedTest, ModulesSharingAStream) {
  // The full chunk PDB: three modules with streams 11, 12, 13; the
  // descriptors at 64, 224 and 388 of the DBI stream. Every module pointing
  // at module 0's stream would read it three times.
  const Mutant clean(kFull);
  ASSERT_EQ(clean.U16(3, 64 + 34), 11);
  ASSERT_EQ(clean.U16(3, 224 + 34), 12);
  const Outcome whole = Open(clean.bytes, "whole.pdb");
  Mutant m(kFull);
  m.Set16(3, 224 + 34, 11);
  m.Set16(3, 388 + 34, 11);
  const Outcome o = Open(m.bytes, "shared.pdb");
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_THAT(Joined(o.warnings),
              HasSubstr("module 1 (/tmp/restack-fixtures-pdb-build/full/chunks_c.obj): stream 11 "
                        "is module 0's already"));
  EXPECT_LT(o.procedures, whole.procedures);
}

TEST(PdbMalformedTest, ModuleSymbolRecordsWithBadLengths) {
  // sepcode.pdb's module stream: S_OBJNAME at 4, S_COMPILE3, then Sp_Jmp's
  // S_GPROC32 at 0x58, its S_SEPCODE at 0x88, ... (sepcode.truth.json).
  const Mutant clean(kSepCode);
  const uint16_t stream = clean.FirstModuleStream();
  const Outcome whole = Open(clean.bytes, "whole.pdb");
  ASSERT_TRUE(whole.status.ok());
  struct Case {
    const char* what;
    uint32_t record;
    uint16_t length;
  };
  for (const Case& c : std::vector<Case>{{"first record of length 0", 4, 0},
                                         {"first record of length 1", 4, 1},
                                         {"first record past the symbols", 4, 0xFFFF},
                                         {"procedure of length 0", 0x58, 0},
                                         {"procedure too short for its fields", 0x58, 6},
                                         {"S_SEPCODE past the symbols", 0x88, 0x7FF0},
                                         {"S_SEPCODE of length 0", 0x88, 0},
                                         {"later procedure past the symbols", 0x184, 0x4000}}) {
    SCOPED_TRACE(c.what);
    Mutant m(kSepCode);
    m.Set16(stream, c.record, c.length);
    const Outcome o = Open(m.bytes, "records.pdb");
    ASSERT_TRUE(o.status.ok()) << o.status;
    EXPECT_FALSE(o.warnings.empty());
    EXPECT_LE(o.procedures, whole.procedures);
    EXPECT_EQ(o.publics, whole.publics);
  }
}

TEST(PdbMalformedTest, SepCodeRecordsTooShort) {
  const Mutant clean(kSepCode);
  const uint16_t stream = clean.FirstModuleStream();
  // The S_END closing Sp_Jmp's block (at 0xa8) retyped as S_SEPCODE: a
  // 4-byte S_SEPCODE.
  Mutant m(kSepCode);
  ASSERT_EQ(m.U16(stream, 0xa8 + 2), 0x0006);
  m.Set16(stream, 0xa8 + 2, kSymbolKindSepCode);
  Outcome o = Open(m.bytes, "shortsep.pdb");
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_THAT(Joined(o.warnings), HasSubstr("S_SEPCODE at 0xa8"));
  EXPECT_EQ(o.separated, 8u);
  EXPECT_EQ(o.named_blocks, 8u);
  // The module's symbols cut inside an S_SEPCODE record.
  Mutant cut(kSepCode);
  cut.Set32(3, cut.ModiStart() + 36, 0x88 + 0x10);
  o = Open(cut.bytes, "cutsep.pdb");
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_FALSE(o.warnings.empty());
}

TEST(PdbMalformedTest, SepCodeParentsInACycle) {
  const Mutant clean(kSepCode);
  const uint16_t stream = clean.FirstModuleStream();
  {
    // Sp_Two's blocks: 0x138 (parent: the procedure at 0x108) and 0x158
    // (parent: 0x138). Pointing 0x138 at 0x158 closes a cycle.
    Mutant m(kSepCode);
    ASSERT_EQ(m.U32(stream, 0x138 + 4), 0x108u);
    m.Set32(stream, 0x138 + 4, 0x158);
    const Outcome o = Open(m.bytes, "cycle.pdb");
    ASSERT_TRUE(o.status.ok()) << o.status;
    EXPECT_EQ(o.separated, 8u);
    EXPECT_EQ(o.named_blocks, 6u);
    EXPECT_THAT(Joined(o.warnings), HasSubstr("does not lead to a procedure"));
  }
  {
    // A block its own parent; a parent past the stream; a parent in the
    // middle of a record.
    for (uint32_t parent : {0x88u, 0xFFFFFFFFu, 0x8Au}) {
      Mutant m(kSepCode);
      m.Set32(stream, 0x88 + 4, parent);
      const Outcome o = Open(m.bytes, "self.pdb");
      ASSERT_TRUE(o.status.ok()) << o.status;
      EXPECT_EQ(o.named_blocks, 7u) << parent;
    }
  }
}

// ---------------------------------------------------------------------------
// Inline sites: binary annotations, nesting, the IPI stream.

constexpr uint16_t kInlineSiteKind = 0x114d, kInlineSiteEndKind = 0x114e, kGproc32Kind = 0x1110;

// The first module's symbol records as (offset, kind), walked by their
// lengths (the fixture is well formed).
std::vector<std::pair<uint32_t, uint16_t>> ModuleRecords(const Mutant& m) {
  const uint16_t stream = m.FirstModuleStream();
  const uint32_t size = m.U32(3, m.ModiStart() + 36);
  std::vector<std::pair<uint32_t, uint16_t>> out;
  for (uint32_t at = 4; at + 4 <= size; at += 2 + m.U16(stream, at)) {
    out.emplace_back(at, m.U16(stream, at + 2));
  }
  return out;
}

// The offset of the `nth` record of `kind`.
uint32_t RecordOf(const Mutant& m, uint16_t kind, size_t nth = 0) {
  for (const auto& [at, k] : ModuleRecords(m)) {
    if (k == kind && nth-- == 0) return at;
  }
  ADD_FAILURE() << "no record of kind " << kind;
  return 0;
}

std::string Hex(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof(b), "0x%x", v);
  return b;
}

TEST(PdbMalformedTest, InlineAnnotationsThatLie) {
  // The first S_INLINESITE is mix1's in In_Chain (mix2 and two mix3 inside
  // it): 12 bytes of annotations after pParent, pEnd and the inlinee.
  const Mutant clean(kInlines);
  const uint16_t stream = clean.FirstModuleStream();
  const Outcome whole = Open(clean.bytes, "whole.pdb");
  ASSERT_TRUE(whole.status.ok()) << whole.status;
  ASSERT_EQ(whole.inline_sites, 12u);
  ASSERT_GT(whole.inline_frames, 0u);
  const uint32_t site = RecordOf(clean, kInlineSiteKind);
  const uint32_t annotations = site + 16;
  const uint32_t size = clean.U16(stream, site) + 2 - 16;
  ASSERT_EQ(size, 12u);
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;  // the annotations, zero-padded to `size`
    const char* warning;
    size_t ranges_lost;  // of mix1's ranges (whole: 1)
  };
  // Filled with ChangeCodeOffset +1 pairs, the last opcode's operand cut off.
  std::vector<uint8_t> cut;
  while (cut.size() + 2 < size) cut.insert(cut.end(), {0x03, 0x01});
  cut.insert(cut.end(), {0x03, 0xC0});
  for (const Case& c : std::vector<Case>{
           {"unknown opcode", {0x0E, 0x01}, "unknown opcode 0xe", 1},
           {"no compressed form", {0xFF, 0xFF}, "not a compressed opcode", 1},
           {"operand cut off", cut, "operand cut off", 0},  // rows before it kept
           {"no ChangeCodeLength", {0x0B, 0x40, 0x0B, 0x2F}, "end inside a range", 0},
           {"code past the procedure", {0x03, 0x00, 0x04, 0xDF, 0xFF, 0xFF, 0xFF},
            "code past the procedure", 0},
           {"separated code", {0x02, 0x01, 0x0B, 0x40, 0x04, 0x10}, "ChangeCodeOffsetBase 1", 1},
       }) {
    SCOPED_TRACE(c.what);
    Mutant m(kInlines);
    for (uint32_t i = 0; i < size; ++i) {
      m.bytes[m.At(stream, annotations + i)] = i < c.bytes.size() ? c.bytes[i] : 0;
    }
    const Outcome o = Open(m.bytes, "annotations.pdb");
    ASSERT_TRUE(o.status.ok()) << o.status;
    const std::string warnings = Joined(o.warnings);
    EXPECT_THAT(warnings, HasSubstr("S_INLINESITE at " + Hex(site) + ": "));
    EXPECT_THAT(warnings, HasSubstr(c.warning));
    EXPECT_EQ(o.procedures, whole.procedures);
    EXPECT_EQ(o.publics, whole.publics);
    EXPECT_EQ(o.inline_sites, whole.inline_sites);  // the site is kept, with what was read
    EXPECT_EQ(o.inline_ranges, whole.inline_ranges - c.ranges_lost);
  }
}

TEST(PdbMalformedTest, InlineSitesOutOfPlace) {
  const Mutant clean(kInlines);
  const uint16_t stream = clean.FirstModuleStream();
  const Outcome whole = Open(clean.bytes, "whole.pdb");
  const uint32_t site = RecordOf(clean, kInlineSiteKind);
  {
    // An inlinee the IPI stream does not have.
    Mutant m(kInlines);
    m.Set32(stream, site + 12, 0x7FFFFFFF);
    const Outcome o = Open(m.bytes, "inlinee.pdb");
    ASSERT_TRUE(o.status.ok()) << o.status;
    EXPECT_THAT(Joined(o.warnings), HasSubstr("inlinee 0x7fffffff is no LF_FUNC_ID"));
    ASSERT_FALSE(o.inline_names.empty());
    EXPECT_EQ(o.inline_names[0], "<inlinee 0x7fffffff>");
    EXPECT_EQ(o.inline_ranges, whole.inline_ranges);
  }
  {
    // The IPI stream's header lies: every site keeps its ItemId as its name.
    for (auto [field, value] : {std::pair{4u, 0xFFFFFFu}, std::pair{4u, 8u},
                                std::pair{8u, 0u}, std::pair{16u, 0xFFFFFFF0u}}) {
      Mutant m(kInlines);
      m.Set32(4, field, value);
      const Outcome o = Open(m.bytes, "ipi.pdb");
      ASSERT_TRUE(o.status.ok()) << o.status;
      EXPECT_THAT(Joined(o.warnings), HasSubstr("IPI stream: ")) << field;
      EXPECT_EQ(o.inline_sites, whole.inline_sites);
      for (const std::string& n : o.inline_names) EXPECT_THAT(n, HasSubstr("<inlinee 0x"));
    }
    // Its records cut short: the names past the cut are lost.
    Mutant m(kInlines);
    m.Set16(4, m.U32(4, 4), 0xFFF0);
    const Outcome o = Open(m.bytes, "ipi-records.pdb");
    ASSERT_TRUE(o.status.ok()) << o.status;
    EXPECT_THAT(Joined(o.warnings), HasSubstr("its length does not fit the records"));
  }
  {
    // An S_INLINESITE_END retyped S_INLINESITE: a record too short for the
    // fields, which also leaves the nesting unbalanced.
    Mutant m(kInlines);
    const uint32_t end = RecordOf(m, kInlineSiteEndKind);
    m.Set16(stream, end + 2, kInlineSiteKind);
    const Outcome o = Open(m.bytes, "short.pdb");
    ASSERT_TRUE(o.status.ok()) << o.status;
    EXPECT_THAT(Joined(o.warnings), HasSubstr("S_INLINESITE at " + Hex(end) +
                                              ": record of 0x4 bytes is shorter than its 0x10"));
    EXPECT_EQ(o.procedures, whole.procedures);
  }
  {
    // In_Chain's S_GPROC32 retyped to an unknown kind: its sites are in no
    // procedure.
    Mutant m(kInlines);
    const uint32_t proc = RecordOf(m, kGproc32Kind, 1);
    ASSERT_LT(proc, site);
    m.Set16(stream, proc + 2, 0x1FFF);
    const Outcome o = Open(m.bytes, "noproc.pdb");
    ASSERT_TRUE(o.status.ok()) << o.status;
    EXPECT_THAT(Joined(o.warnings), HasSubstr("S_INLINESITE at " + Hex(site) +
                                              ": not inside a procedure"));
    EXPECT_EQ(o.procedures, whole.procedures - 1);
    EXPECT_EQ(o.inline_sites, whole.inline_sites - 4);  // mix1, mix2 and the two mix3
  }
  {
    // Every S_DEFRANGE_REGISTER retyped S_INLINESITE: dozens of sites, never
    // ended, nested in each other, with garbage inlinees and annotations.
    Mutant m(kInlines);
    size_t retyped = 0;
    for (const auto& [at, kind] : ModuleRecords(m)) {
      if (kind == 0x1141) {
        m.Set16(stream, at + 2, kInlineSiteKind);
        ++retyped;
      }
    }
    ASSERT_GT(retyped, 30u);
    const Outcome o = Open(m.bytes, "nested.pdb");
    ASSERT_TRUE(o.status.ok()) << o.status;
    EXPECT_THAT(Joined(o.warnings), HasSubstr("is no LF_FUNC_ID"));
    EXPECT_EQ(o.procedures, whole.procedures);
    EXPECT_GT(o.inline_sites, whole.inline_sites);
    EXPECT_LE(o.inline_sites, whole.inline_sites + retyped);
  }
}

// ---------------------------------------------------------------------------
// Publics and OMAP.

TEST(PdbMalformedTest, PublicsPointPastTheRecords) {
  // PublicsStream: header (28 bytes), then the GSI hash table: its header
  // (16: signature, version, HrSize, NumBuckets) and HrSize bytes of hash
  // records {Off, CRef}, Off being one more than the offset of a record in the
  // symbol record stream.
  const Mutant clean(kSepCode);
  const Outcome whole = Open(clean.bytes, "whole.pdb");
  const uint16_t publics = clean.U16(3, 16);
  const uint32_t records = 28 + 16, records_bytes = clean.U32(publics, 28 + 8);
  ASSERT_GT(records_bytes, 0u);
  for (uint32_t off : {0u, 0xFFFFFFF0u, 0x7FFFFFFFu, 0x10000u}) {
    Mutant m(kSepCode);
    for (uint32_t at = records; at < records + records_bytes; at += 8) m.Set32(publics, at, off);
    const Outcome o = Open(m.bytes, "publics.pdb");
    ASSERT_TRUE(o.status.ok()) << o.status;
    EXPECT_EQ(o.publics, 0u) << off;
    EXPECT_GT(o.procedures, 0u);
  }
  {
    // Every hash record names the first record, or a point inside it.
    for (uint32_t off : {1u, 3u}) {
      Mutant m(kSepCode);
      for (uint32_t at = records; at < records + records_bytes; at += 8) m.Set32(publics, at, off);
      const Outcome o = Open(m.bytes, "publics-same.pdb");
      ASSERT_TRUE(o.status.ok()) << o.status;
      EXPECT_LE(o.publics, 1u) << off;
      EXPECT_THAT(Joined(o.warnings),
                  HasSubstr("hash records repeat a record or point inside one"));
    }
  }
  {
    // Each hash record one byte into the record after the one it names.
    Mutant m(kSepCode);
    for (uint32_t at = records; at < records + records_bytes; at += 8) {
      m.Set32(publics, at, m.U32(publics, at) + 1);
    }
    const Outcome o = Open(m.bytes, "publics-shifted.pdb");
    ASSERT_TRUE(o.status.ok()) << o.status;
    EXPECT_LE(o.publics, whole.publics);
  }
}

TEST(PdbMalformedTest, OmapStreamsOfOddSize) {
  const Mutant clean(kOmap);
  const uint32_t dbg = clean.DebugHeaderStart();
  for (uint32_t slot : {3u, 4u}) {  // OmapToSrc, OmapFromSrc
    const uint16_t stream = clean.U16(3, dbg + 2 * slot);
    for (int delta : {-1, -4, -7}) {
      Mutant m(kOmap);
      m.sizes[stream] += delta;
      m.WriteDirectory();
      const Outcome o = Open(m.bytes, "omap-odd.pdb");
      ASSERT_TRUE(o.status.ok()) << o.status;
      EXPECT_FALSE(o.omap);  // both tables are needed
      EXPECT_THAT(Joined(o.warnings), HasSubstr("not a whole number of 8-byte entries"));
      EXPECT_GT(o.lookups_named, 0u);
    }
    {
      Mutant m(kOmap);
      m.sizes[stream] = 0;
      m.blocks[stream].clear();
      m.WriteDirectory();
      const Outcome o = Open(m.bytes, "omap-empty.pdb");
      ASSERT_TRUE(o.status.ok()) << o.status;
      EXPECT_FALSE(o.omap);
    }
  }
}

TEST(PdbMalformedTest, OmapUnsortedAndZeroTargets) {
  const Mutant clean(kOmap);
  const uint16_t to_src = clean.U16(3, clean.DebugHeaderStart() + 2 * 3);
  // Reverse the OmapToSrc entries: decoding sorts them again.
  Mutant m(kOmap);
  const uint32_t n = m.sizes[to_src] / 8;
  for (uint32_t i = 0; i < n / 2; ++i) {
    for (uint32_t k : {0u, 4u}) {
      const uint32_t a = m.U32(to_src, 8 * i + k), b = m.U32(to_src, 8 * (n - 1 - i) + k);
      m.Set32(to_src, 8 * i + k, b);
      m.Set32(to_src, 8 * (n - 1 - i) + k, a);
    }
  }
  Outcome o = Open(m.bytes, "omap-reversed.pdb");
  const Outcome sorted = Open(clean.bytes, "omap.pdb");
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_TRUE(o.omap);
  EXPECT_EQ(o.lookups_named, sorted.lookups_named);
  // Every target zero: nothing maps, nothing is named.
  Mutant zero(kOmap);
  for (uint32_t i = 0; i < n; ++i) zero.Set32(to_src, 8 * i + 4, 0);
  o = Open(zero.bytes, "omap-zero.pdb");
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_EQ(o.lookups_named, 0u);
}

// ---------------------------------------------------------------------------
// The hand decoders on their own.

std::vector<uint8_t> SepCodeBytes() {
  // sepcode.truth.json, the first record (Sp_Jmp's block).
  const char* hex = "1e00321158000000a80000002400000000000000151800000001000001000100";
  std::vector<uint8_t> out;
  for (size_t i = 0; hex[i] != 0; i += 2)
    out.push_back(static_cast<uint8_t>(std::stoul(std::string(hex + i, 2), nullptr, 16)));
  return out;
}

TEST(DecodeSepCodeEdgeTest, ExactSizeDecodes) {
  const std::vector<uint8_t> r = SepCodeBytes();
  ASSERT_EQ(r.size(), 0x20u);
  absl::StatusOr<SepCodeRecord> rec = DecodeSepCode(r);
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_EQ(rec->parent, 0x58u);
  EXPECT_EQ(rec->end, 0xa8u);
  EXPECT_EQ(rec->length, 0x24u);
  EXPECT_EQ(rec->offset, 0x1815u);
  EXPECT_EQ(rec->parent_offset, 0x100u);
  EXPECT_EQ(rec->section, 1);
  EXPECT_EQ(rec->parent_section, 1);
}

TEST(DecodeSepCodeEdgeTest, OneByteShortFails) {
  const std::vector<uint8_t> r = SepCodeBytes();
  for (size_t size : {size_t{0}, size_t{1}, size_t{2}, size_t{4}, size_t{0x1f}}) {
    absl::StatusOr<SepCodeRecord> rec = DecodeSepCode(std::span(r).first(size));
    ASSERT_FALSE(rec.ok()) << size;
    EXPECT_EQ(rec.status().code(), absl::StatusCode::kDataLoss) << rec.status();
    EXPECT_THAT(std::string(rec.status().message()), HasSubstr("S_SEPCODE"));
  }
}

TEST(DecodeSepCodeEdgeTest, LengthFieldDisagreesWithTheBytes) {
  std::vector<uint8_t> r = SepCodeBytes();
  // A record that says it is shorter than an S_SEPCODE.
  r[0] = 0x1a;
  absl::StatusOr<SepCodeRecord> rec = DecodeSepCode(r);
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(rec.status().message()), HasSubstr("offset 0x0"));
  // A record that says it runs past the bytes given.
  r[0] = 0x22;
  rec = DecodeSepCode(r);
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(rec.status().message()), HasSubstr("runs past"));
  // A longer record (trailing padding) decodes.
  r.resize(0x24, 0);
  rec = DecodeSepCode(r);
  EXPECT_TRUE(rec.ok()) << rec.status();
}

TEST(DecodeSepCodeEdgeTest, OtherKindFails) {
  std::vector<uint8_t> r = SepCodeBytes();
  r[2] = 0x06;  // S_END
  r[3] = 0x00;
  absl::StatusOr<SepCodeRecord> rec = DecodeSepCode(r);
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(rec.status().message()), HasSubstr("offset 0x2"));
}

std::vector<uint8_t> OmapBytes(const std::vector<std::pair<uint32_t, uint32_t>>& entries) {
  std::vector<uint8_t> out(entries.size() * 8);
  for (size_t i = 0; i < entries.size(); ++i) {
    std::memcpy(out.data() + 8 * i, &entries[i].first, 4);
    std::memcpy(out.data() + 8 * i + 4, &entries[i].second, 4);
  }
  return out;
}

TEST(OmapEdgeTest, SizesOffByOne) {
  const std::vector<uint8_t> two = OmapBytes({{0x1000, 0x2000}, {0x1100, 0}});
  EXPECT_TRUE(Omap::FromBytes({}).ok());
  EXPECT_TRUE(Omap::FromBytes({}).value().empty());
  EXPECT_TRUE(Omap::FromBytes(std::span(two).first(8)).ok());
  EXPECT_TRUE(Omap::FromBytes(two).ok());
  for (size_t size : {size_t{1}, size_t{4}, size_t{7}, size_t{9}, size_t{15}}) {
    absl::StatusOr<Omap> m = Omap::FromBytes(std::span(two).first(size));
    ASSERT_FALSE(m.ok()) << size;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(m.status().message()), HasSubstr("8-byte"));
  }
}

TEST(OmapEdgeTest, UnsortedEntriesAreSortedStably) {
  absl::StatusOr<Omap> m = Omap::FromBytes(
      OmapBytes({{0x3000, 0x9000}, {0x1000, 0x5000}, {0x2000, 0x7000}, {0x2000, 0x7100}}));
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->entries().size(), 4u);
  EXPECT_EQ(m->entries()[0].rva, 0x1000u);
  EXPECT_EQ(m->entries()[1].rva_to, 0x7000u);  // equal rvas keep their order
  EXPECT_EQ(m->entries()[2].rva_to, 0x7100u);
  EXPECT_EQ(m->Map(0x1010), 0x5010u);
  EXPECT_EQ(m->Map(0x2010), 0x7110u);  // the last entry at or below wins
  EXPECT_EQ(m->Map(0x3fff), 0x9fffu);
  EXPECT_EQ(m->Map(0xFFFFFFFF), 0x9000u + (0xFFFFFFFFu - 0x3000u));
}

TEST(OmapEdgeTest, ZeroAndHighTargetsDoNotMap) {
  absl::StatusOr<Omap> m =
      Omap::FromBytes(OmapBytes({{0x1000, 0}, {0x2000, 0x80001000}, {0x3000, 0x4000}}));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->Map(0x0fff), std::nullopt);  // below the first entry
  EXPECT_EQ(m->Map(0x1000), std::nullopt);
  EXPECT_EQ(m->Map(0x1fff), std::nullopt);
  EXPECT_EQ(m->Map(0x2000), std::nullopt);
  EXPECT_EQ(m->Map(0x3000), 0x4000u);
  // A target near the top wraps as the arithmetic says, without trapping.
  absl::StatusOr<Omap> top = Omap::FromBytes(OmapBytes({{0, 0x7FFFFFF0}}));
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->Map(0xFFFFFFFF), 0x7FFFFFEFu);
}

}  // namespace
}  // namespace restack::sym
