// pe_image_test.cc - PE32+ parsing of real images and malformed inputs
#include "restack/unwind/pe_image.h"

#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "fake_memory.h"
#include "gtest/gtest.h"
#include "restack/sym/image_locator.h"
#include "restack/unwind/mapped_file.h"

namespace restack::unwind {
namespace {

constexpr char kAmdppm[] = "../shared/real/symbols/amdppm.sys/c9c030003b000/amdppm.sys";

std::vector<uint8_t> ReadAll(const char* path) {
  absl::StatusOr<std::shared_ptr<const MappedFile>> f = MappedFile::Open(path);
  EXPECT_TRUE(f.ok()) << f.status();
  if (!f.ok()) return {};
  return std::vector<uint8_t>((*f)->bytes().begin(), (*f)->bytes().end());
}

TEST(PeImageTest, ReadsAmdppmIdentityFromItsStoreLayout) {
  absl::StatusOr<std::shared_ptr<const PeImage>> image = sym::OpenImageFile(kAmdppm);
  ASSERT_TRUE(image.ok()) << image.status();
  const PeImage& pe = **image;
  // The store directories name the image key and the PDB key
  // (../shared/real/symbols/amdppm.sys/c9c030003b000,
  //  ../shared/real/symbols/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31).
  EXPECT_TRUE(absl::EqualsIgnoreCase(pe.StoreKey(), "c9c030003b000")) << pe.StoreKey();
  ASSERT_TRUE(pe.codeview().has_value());
  EXPECT_EQ(pe.codeview()->StoreKey(), "1C19FDDB27BB3399D9B45973EFEAFCF31");
  EXPECT_TRUE(absl::EndsWith(pe.codeview()->pdb_path, "amdppm.pdb")) << pe.codeview()->pdb_path;
  EXPECT_EQ(pe.machine(), kImageFileMachineAmd64);
  EXPECT_NE(pe.SectionForRva(pe.entry_point()), nullptr);
  EXPECT_TRUE(pe.IsExecutableRva(pe.entry_point()));
  EXPECT_TRUE(pe.warnings().empty());
}

TEST(PeImageTest, MappedLayoutReadsTheSameBytesAsFileLayout) {
  std::vector<uint8_t> file = ReadAll(kAmdppm);
  absl::StatusOr<PeImage> from_file = PeImage::Create(file, PeLayout::kFile, "amdppm.sys");
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  // Lay the image out as the loader would.
  std::vector<uint8_t> mapped(from_file->size_of_image(), 0);
  std::memcpy(mapped.data(), file.data(), from_file->size_of_headers());
  for (const PeSection& s : from_file->sections()) {
    std::memcpy(mapped.data() + s.virtual_address, file.data() + s.raw_offset,
                std::min(s.raw_size, s.MemorySize()));
  }
  absl::StatusOr<PeImage> from_map = PeImage::Create(mapped, PeLayout::kMapped, "amdppm.sys");
  ASSERT_TRUE(from_map.ok()) << from_map.status();
  EXPECT_EQ(from_map->StoreKey(), from_file->StoreKey());
  ASSERT_TRUE(from_map->codeview().has_value());
  EXPECT_EQ(from_map->codeview()->StoreKey(), from_file->codeview()->StoreKey());
  const ImageDataDirectory pdata = from_file->directory(DataDirectoryIndex::kException);
  absl::StatusOr<std::span<const uint8_t>> a = from_file->ReadRva(pdata.VirtualAddress, pdata.Size);
  absl::StatusOr<std::span<const uint8_t>> b = from_map->ReadRva(pdata.VirtualAddress, pdata.Size);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(std::equal(a->begin(), a->end(), b->begin(), b->end()));
}

TEST(PeImageTest, FromMemoryReadsPresentPagesAndReportsHoles) {
  std::vector<uint8_t> file = ReadAll(kAmdppm);
  absl::StatusOr<PeImage> pe = PeImage::Create(file, PeLayout::kFile, "amdppm.sys");
  ASSERT_TRUE(pe.ok());
  testing::FakeMemory memory;
  const uint64_t base = 0xfffff806'12340000;
  std::vector<uint8_t> header_page(0x1000, 0);
  std::memcpy(header_page.data(), file.data(), pe->size_of_headers());
  memory.Write(base, header_page);
  const PeSection& first = pe->sections().front();
  // Only the first page of the first section is "in the dump".
  memory.Write(base + first.virtual_address,
               std::span<const uint8_t>(file.data() + first.raw_offset, 0x1000));
  absl::StatusOr<PeImage> loaded = PeImage::FromMemory(memory, base, "amdppm.sys");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->StoreKey(), pe->StoreKey());
  EXPECT_TRUE(loaded->ReadRva(first.virtual_address, 0x1000).ok());
  absl::StatusOr<std::span<const uint8_t>> hole = loaded->ReadRva(first.virtual_address + 0x1000, 8);
  EXPECT_EQ(hole.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(loaded->BytesAt(first.virtual_address + 0xff8, 64).size(), 8u);
}

// --- Malformed input: each names the file, the offset and the field. ---

std::vector<uint8_t> MinimalImage() {
  std::vector<uint8_t> b(0x400, 0);
  b[0] = 'M';
  b[1] = 'Z';
  b[0x3c] = 0x80;
  std::memcpy(&b[0x80], "PE\0\0", 4);
  const uint16_t machine = 0x8664, sections = 1, opt_size = 0xf0;
  std::memcpy(&b[0x84], &machine, 2);
  std::memcpy(&b[0x86], &sections, 2);
  std::memcpy(&b[0x94], &opt_size, 2);
  const uint16_t magic = 0x20b;
  std::memcpy(&b[0x98], &magic, 2);
  const uint32_t size_of_image = 0x2000, size_of_headers = 0x200, dirs = 16;
  std::memcpy(&b[0x98 + 56], &size_of_image, 4);
  std::memcpy(&b[0x98 + 60], &size_of_headers, 4);
  std::memcpy(&b[0x98 + 108], &dirs, 4);
  // One section ".text" at rva 0x1000, raw 0x200+0x200.
  uint8_t* s = &b[0x98 + 0xf0];
  std::memcpy(s, ".text", 5);
  const uint32_t vsize = 0x200, va = 0x1000, rsize = 0x200, raw = 0x200, ch = 0x60000020;
  std::memcpy(s + 8, &vsize, 4);
  std::memcpy(s + 12, &va, 4);
  std::memcpy(s + 16, &rsize, 4);
  std::memcpy(s + 20, &raw, 4);
  std::memcpy(s + 36, &ch, 4);
  return b;
}

TEST(PeImageTest, AcceptsTheMinimalImage) {
  std::vector<uint8_t> b = MinimalImage();
  absl::StatusOr<PeImage> pe = PeImage::Create(b, PeLayout::kFile, "min.exe");
  ASSERT_TRUE(pe.ok()) << pe.status();
  ASSERT_EQ(pe->sections().size(), 1u);
  EXPECT_EQ(pe->sections()[0].name, ".text");
  EXPECT_TRUE(pe->ReadRva(0x1000, 0x200).ok());
  EXPECT_EQ(pe->ReadRva(0x1100, 0x101).status().code(), absl::StatusCode::kOutOfRange);
}

void ExpectRejected(std::vector<uint8_t> b, absl::StatusCode code, const char* needle) {
  absl::StatusOr<PeImage> pe = PeImage::Create(b, PeLayout::kFile, "bad.sys");
  ASSERT_FALSE(pe.ok());
  EXPECT_EQ(pe.status().code(), code) << pe.status();
  EXPECT_TRUE(absl::StrContains(pe.status().message(), "bad.sys: offset 0x")) << pe.status();
  EXPECT_TRUE(absl::StrContains(pe.status().message(), needle)) << pe.status();
}

TEST(PeImageTest, RejectsEmptyInput) {
  ExpectRejected({}, absl::StatusCode::kOutOfRange, "IMAGE_DOS_HEADER: truncated");
}

TEST(PeImageTest, RejectsBadDosMagic) {
  std::vector<uint8_t> b = MinimalImage();
  b[0] = 'X';
  ExpectRejected(b, absl::StatusCode::kInvalidArgument, "e_magic");
}

TEST(PeImageTest, RejectsLfanewPastTheEnd) {
  std::vector<uint8_t> b = MinimalImage();
  const uint32_t lfanew = 0xfffffff0;
  std::memcpy(&b[0x3c], &lfanew, 4);
  ExpectRejected(b, absl::StatusCode::kOutOfRange, "offset 0x3c: IMAGE_DOS_HEADER.e_lfanew");
}

TEST(PeImageTest, RejectsBadNtSignature) {
  std::vector<uint8_t> b = MinimalImage();
  b[0x81] = 'X';
  ExpectRejected(b, absl::StatusCode::kInvalidArgument, "offset 0x80: IMAGE_NT_HEADERS64.Signature");
}

TEST(PeImageTest, RejectsX86Images) {
  std::vector<uint8_t> b = MinimalImage();
  b[0x84] = 0x4c;
  b[0x85] = 0x01;
  ExpectRejected(b, absl::StatusCode::kUnimplemented, "Machine: unsupported machine 0x14c");
}

TEST(PeImageTest, RejectsPe32OptionalHeader) {
  std::vector<uint8_t> b = MinimalImage();
  b[0x98] = 0x0b;
  b[0x99] = 0x01;
  ExpectRejected(b, absl::StatusCode::kUnimplemented, "Magic: 0x10b is not PE32+");
}

TEST(PeImageTest, RejectsTruncatedSectionTable) {
  std::vector<uint8_t> b = MinimalImage();
  b[0x86] = 0xff;  // 255 sections, the table runs past the end
  ExpectRejected(b, absl::StatusCode::kOutOfRange, "IMAGE_SECTION_HEADER[");
}

TEST(PeImageTest, RejectsTinyOptionalHeader) {
  std::vector<uint8_t> b = MinimalImage();
  b[0x94] = 0x10;
  ExpectRejected(b, absl::StatusCode::kDataLoss, "SizeOfOptionalHeader");
}

TEST(PeImageTest, TruncatedSectionDataIsAWarningAndUnreadable) {
  std::vector<uint8_t> b = MinimalImage();
  b.resize(0x300);  // half of .text is gone
  absl::StatusOr<PeImage> pe = PeImage::Create(b, PeLayout::kFile, "cut.sys");
  ASSERT_TRUE(pe.ok()) << pe.status();
  ASSERT_FALSE(pe->warnings().empty());
  EXPECT_TRUE(absl::StrContains(pe->warnings()[0].what, "truncated"));
  EXPECT_TRUE(pe->ReadRva(0x1000, 0x100).ok());
  EXPECT_FALSE(pe->ReadRva(0x1000, 0x101).ok());
  EXPECT_EQ(pe->BytesAt(0x10f0, 0x40).size(), 0x10u);
}

TEST(PeImageTest, EveryTruncationOfARealImageIsRejectedOrReadable) {
  // Cutting amdppm.sys anywhere in its headers must give an error, never a
  // crash; past the headers the image parses with a truncation warning.
  std::vector<uint8_t> file = ReadAll(kAmdppm);
  for (size_t cut = 0; cut < 0x400 && cut < file.size(); cut += 7) {
    std::vector<uint8_t> b(file.begin(), file.begin() + cut);
    absl::StatusOr<PeImage> pe = PeImage::Create(b, PeLayout::kFile, "cut.sys");
    if (pe.ok()) {
      EXPECT_FALSE(pe->warnings().empty()) << "cut at 0x" << std::hex << cut;
    } else {
      EXPECT_TRUE(absl::StrContains(pe.status().message(), "cut.sys: offset 0x")) << pe.status();
    }
  }
}

}  // namespace
}  // namespace restack::unwind
