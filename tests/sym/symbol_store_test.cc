// symbol_store_test.cc - finding files in stores and directories; cabinets; the real store
//
// Stores are built in a temporary directory per test. Compressed "_" files are
// cabinets from tests/support/cab_writer.h. The real store is
// ../shared/real/symbols (relative to the project root, where tests run).
#include "restack/sym/symbol_store.h"

#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libsym/src/cab_file.h"
#include "restack/sym/image_locator.h"
#include "restack/sym/symbol_path.h"
#include "restack/unwind/pe_image.h"
#include "tests/support/cab_writer.h"
#include "tests/support/file_read.h"
#include "tests/support/minidump_builder.h"  // PutU32
#include "tests/support/seed_corpus.h"

namespace restack::sym {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using test::CabCompression;
using test::CabOptions;
using test::WriteCab;
using test::WriteStoreCab;

constexpr char kRealStore[] = "../shared/real/symbols";
// Keys of the real store's files: the directory names of ../shared/real/symbols
// (amdppm.sys/c9c030003b000, amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31,
// Wdf01000.sys/a9a9d36ed1000), which restack's PE reader also computes
// (tests/unwind/pe_image_test.cc).
constexpr uint32_t kAmdppmTimestamp = 0xC9C03000;
constexpr uint32_t kAmdppmSize = 0x3B000;
constexpr char kAmdppmPdbKey[] = "1C19FDDB27BB3399D9B45973EFEAFCF31";
constexpr uint32_t kWdfTimestamp = 0xA9A9D36E;
constexpr uint32_t kWdfSize = 0xD1000;

std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

// The file's bytes (empty when missing).
std::vector<uint8_t> ReadFile(const fs::path& path) {
  return test::ReadFileBytes(path).value_or(std::vector<uint8_t>{});
}

void WriteFile(const fs::path& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}
void WriteFile(const fs::path& path, std::string_view text) { WriteFile(path, Bytes(text)); }

// Accepts only a file whose contents are `want`.
Verifier ContentIs(std::string want) {
  return [want](const LocatedFile& f) -> absl::Status {
    if (std::string(f.bytes.begin(), f.bytes.end()) == want) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrFormat(
        "contents '%s' are not the ones wanted",
        std::string(f.bytes.begin(), f.bytes.begin() + std::min<size_t>(f.bytes.size(), 16))));
  };
}

SymbolPath Path(std::string_view text) {
  absl::StatusOr<SymbolPath> p = SymbolPath::Parse(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : SymbolPath();
}

std::string Contents(const LocatedFile& f) { return std::string(f.bytes.begin(), f.bytes.end()); }

class SymbolStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "restack-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string At(const std::string& rel) const { return (root_ / rel).string(); }

  fs::path root_;
};

// --- keys -------------------------------------------------------------------------------

TEST(StoreKeyTest, ImageKeyIsTimestampUpperAndSizeLower) {
  EXPECT_EQ(ImageStoreKey(kAmdppmTimestamp, kAmdppmSize), "C9C030003b000");
  EXPECT_EQ(ImageStoreKey(0x1234, 0xABC000), "00001234abc000");
}

TEST(StoreKeyTest, PdbKeyMatchesTheRealStoreDirectory) {
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
      OpenImageFile(std::string(kRealStore) + "/amdppm.sys/c9c030003b000/amdppm.sys");
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_TRUE((*image)->codeview().has_value());
  const unwind::CodeViewRecord& cv = *(*image)->codeview();
  EXPECT_EQ(PdbStoreKey(std::span<const uint8_t, 16>(cv.guid), cv.age), kAmdppmPdbKey);
}

TEST(StoreKeyTest, PdbKeyLayout) {
  // GUID {04030201-0605-0807-090A-0B0C0D0E0F10}, age 0x2A: Data1..Data3 little-endian.
  const std::array<uint8_t, 16> guid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  EXPECT_EQ(PdbStoreKey(guid, 0x2A), "0403020106050807090A0B0C0D0E0F102A");
}

// --- layouts ----------------------------------------------------------------------------

TEST_F(SymbolStoreTest, FindsFileInOneTierStore) {
  WriteFile(root_ / "s/foo.pdb/ABC1/foo.pdb", "foo");
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "ABC1", ContentIs("foo"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, At("s/foo.pdb/ABC1/foo.pdb"));
  EXPECT_FALSE(f->decompressed);
  EXPECT_EQ(Contents(*f), "foo");
}

TEST_F(SymbolStoreTest, FindsFileInTwoTierStoreWithIndex2) {
  WriteFile(root_ / "s/index2.txt", "");
  WriteFile(root_ / "s/fo/foo.pdb/ABC1/foo.pdb", "foo");
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "ABC1", ContentIs("foo"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, At("s/fo/foo.pdb/ABC1/foo.pdb"));
}

TEST_F(SymbolStoreTest, TwoTierStoreSaysWhenOnlyTheOneTierLayoutExists) {
  WriteFile(root_ / "s/index2.txt", "");
  WriteFile(root_ / "s/foo.pdb/ABC1/foo.pdb", "foo");  // the "fo" level is missing
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "ABC1", ContentIs("foo"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  const std::string m(f.status().message());
  EXPECT_THAT(m, HasSubstr(At("s/fo/foo.pdb/ABC1/") + " (no such directory)"));
  EXPECT_THAT(m, HasSubstr("two-tier store: index2.txt is present"));
  EXPECT_THAT(m, HasSubstr("the one-tier " + At("s/foo.pdb/ABC1") + "/ is not searched"));
}

TEST_F(SymbolStoreTest, TwoTierStoreWithFileLevelMissing) {
  WriteFile(root_ / "s/INDEX2.TXT", "");
  fs::create_directories(root_ / "s/fo");  // a first level and nothing under it
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "ABC1", ContentIs("foo"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(f.status().message()), HasSubstr("two-tier store"));
}

TEST_F(SymbolStoreTest, ShortNamesUseWhatTheyHaveForTheTwoTierLevel) {
  WriteFile(root_ / "s/index2.txt", "");
  WriteFile(root_ / "s/a/a/K/a", "a");
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "a", "K", ContentIs("a"));
  ASSERT_TRUE(f.ok()) << f.status();
}

TEST_F(SymbolStoreTest, MatchesEveryComponentIgnoringCase) {
  // As a store copied from Windows may spell it (the real store has c9c030003b000).
  WriteFile(root_ / "s/AMDPPM.SYS/c9c030003B000/AmdPpm.Sys", "x");
  absl::StatusOr<LocatedFile> f =
      FindFile(Path("SRV*" + At("s")), "amdppm.sys", "C9C030003b000", ContentIs("x"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, At("s/AMDPPM.SYS/c9c030003B000/AmdPpm.Sys"));
}

TEST_F(SymbolStoreTest, TwoTierLevelAndIndexFileIgnoreCaseToo) {
  WriteFile(root_ / "s/Index2.Txt", "");
  WriteFile(root_ / "s/AM/AMDPPM.SYS/c9c030003b000/amdppm.sys", "x");
  absl::StatusOr<LocatedFile> f =
      FindFile(Path("srv*" + At("s")), "amdppm.sys", "C9C030003b000", ContentIs("x"));
  ASSERT_TRUE(f.ok()) << f.status();
}

TEST_F(SymbolStoreTest, TriesEveryDifferentlyCasedKeyDirectory) {
  WriteFile(root_ / "s/foo.dll/abc1/foo.dll", "old");
  WriteFile(root_ / "s/foo.dll/ABC1/foo.dll", "new");
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.dll", "Abc1", ContentIs("old"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, At("s/foo.dll/abc1/foo.dll"));
  f = FindFile(Path("srv*" + At("s")), "foo.dll", "Abc1", ContentIs("new"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, At("s/foo.dll/ABC1/foo.dll"));
}

TEST_F(SymbolStoreTest, IgnoresTheDirectoryPartOfTheName) {
  WriteFile(root_ / "s/foo.dll/K/foo.dll", "x");
  absl::StatusOr<LocatedFile> f =
      FindFile(Path("srv*" + At("s")), "C:\\Windows\\System32\\foo.dll", "K", ContentIs("x"));
  ASSERT_TRUE(f.ok()) << f.status();
}

// --- file.ptr ---------------------------------------------------------------------------

TEST_F(SymbolStoreTest, FollowsFilePtrToAFile) {
  WriteFile(root_ / "elsewhere/foo.pdb", "foo");
  WriteFile(root_ / "s/foo.pdb/K/file.ptr", At("elsewhere/foo.pdb") + "\r\n");
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, At("elsewhere/foo.pdb"));
}

TEST_F(SymbolStoreTest, FilePtrMayStartWithPathAndBeRelative) {
  WriteFile(root_ / "s/foo.pdb/K/real/foo.pdb", "foo");
  WriteFile(root_ / "s/foo.pdb/K/file.ptr", "PATH:real/foo.pdb");
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, At("s/foo.pdb/K/real/foo.pdb"));
}

TEST_F(SymbolStoreTest, FilePtrToACompressedFileIsDecompressed) {
  WriteFile(root_ / "elsewhere/foo.pd_", WriteStoreCab("foo.pdb", Bytes("foo"), CabCompression::kNone));
  WriteFile(root_ / "s/foo.pdb/K/file.ptr", At("elsewhere/foo.pd_"));
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->decompressed);
}

TEST_F(SymbolStoreTest, FilePtrWithMsgIsNotFoundAndQuotesTheMessage) {
  WriteFile(root_ / "s/foo.pdb/K/file.ptr", "MSG: [20240101] withheld by the publisher");
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(f.status().message()),
              HasSubstr(At("s/foo.pdb/K/file.ptr") +
                        " (the store has no file: MSG: [20240101] withheld by the publisher)"));
}

TEST_F(SymbolStoreTest, RejectsFilePtrPointingAtItself) {
  WriteFile(root_ / "s/foo.pdb/K/file.ptr", At("s/foo.pdb/K/file.ptr"));
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(f.status().message()),
              HasSubstr(At("s/foo.pdb/K/file.ptr") + ": points at itself"));
  // The same, relative.
  WriteFile(root_ / "s/foo.pdb/K/file.ptr", "file.ptr");
  f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(std::string(f.status().message()), HasSubstr("points at itself"));
}

TEST_F(SymbolStoreTest, RejectsFilePtrPointingAtADirectory) {
  fs::create_directories(root_ / "dir");
  WriteFile(root_ / "s/foo.pdb/K/file.ptr", At("dir"));
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(f.status().message()),
              HasSubstr(At("s/foo.pdb/K/file.ptr") + ": points at a directory (" + At("dir") + ")"));
}

TEST_F(SymbolStoreTest, FilePtrToNothingOrTheNetworkIsNotFound) {
  WriteFile(root_ / "s/foo.pdb/K/file.ptr", At("gone/foo.pdb"));
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(f.status().message()),
              HasSubstr("(points at " + At("gone/foo.pdb") + ": no such file)"));
  WriteFile(root_ / "s/foo.pdb/K/file.ptr", "\\\\builds\\syms\\foo.pdb");
  f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(f.status().message()),
              HasSubstr("points at \\\\builds\\syms\\foo.pdb, not followed"));
}

TEST_F(SymbolStoreTest, RejectsEmptyAndOversizedFilePtr) {
  WriteFile(root_ / "s/foo.pdb/K/file.ptr", "  \r\n");
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(std::string(f.status().message()), HasSubstr("empty file.ptr"));
  WriteFile(root_ / "s/foo.pdb/K/file.ptr", std::string(0x1001, 'a'));
  f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(f.status().message()), HasSubstr("more than a file.ptr holds"));
}

// --- compressed files -------------------------------------------------------------------

TEST_F(SymbolStoreTest, DecompressesAStoredCabinet) {
  WriteFile(root_ / "s/foo.pdb/K/foo.pd_",
            WriteStoreCab("foo.pdb", Bytes("contents of foo"), CabCompression::kNone));
  absl::StatusOr<LocatedFile> f =
      FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("contents of foo"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->decompressed);
  EXPECT_EQ(f->path, At("s/foo.pdb/K/foo.pd_"));
}

TEST_F(SymbolStoreTest, DecompressesAnMszipCabinetOfSeveralBlocks) {
  std::string big;
  for (int i = 0; i < 20000; ++i) big += absl::StrFormat("line %d of a large file\n", i);
  ASSERT_GT(big.size(), 3u * 0x8000);
  WriteFile(root_ / "s/big.dll/K/BIG.DL_", WriteStoreCab("big.dll", Bytes(big), CabCompression::kMszip));
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "big.dll", "K", ContentIs(big));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->decompressed);
}

TEST_F(SymbolStoreTest, PlainFileComesBeforeTheCompressedOne) {
  WriteFile(root_ / "s/foo.pdb/K/foo.pdb", "plain");
  WriteFile(root_ / "s/foo.pdb/K/foo.pd_", WriteStoreCab("foo.pdb", Bytes("packed"), CabCompression::kNone));
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", nullptr);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(Contents(*f), "plain");
  // A mismatching plain file does not hide a matching compressed one.
  f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("packed"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->decompressed);
}

TEST_F(SymbolStoreTest, RejectsCabinetLyingAboutTheFileSize) {
  CabOptions o;
  o.cb_file = 0x10000;  // the folder holds 3 bytes
  WriteFile(root_ / "s/foo.pdb/K/foo.pd_", WriteCab({{"foo.pdb", Bytes("foo")}}, o));
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(f.status().message()), HasSubstr(At("s/foo.pdb/K/foo.pd_") + ":"));
  EXPECT_THAT(std::string(f.status().message()), HasSubstr("only mismatching or unusable files"));
}

TEST_F(SymbolStoreTest, RejectsTruncatedCabinet) {
  std::vector<uint8_t> cab = WriteStoreCab("foo.pdb", Bytes("some contents"), CabCompression::kNone);
  cab.resize(cab.size() - 5);
  WriteFile(root_ / "s/foo.pdb/K/foo.pd_", cab);
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", nullptr);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(f.status().message()),
              HasSubstr(At("s/foo.pdb/K/foo.pd_") + ": offset 0x8: CFHEADER.cbCabinet"));
}

TEST_F(SymbolStoreTest, RejectsCabinetWithTwoFiles) {
  WriteFile(root_ / "s/foo.pdb/K/foo.pd_", WriteCab({{"foo.pdb", Bytes("a")}, {"bar.pdb", Bytes("b")}}));
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", nullptr);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(f.status().message()),
              HasSubstr("offset 0x1c: CFHEADER.cFiles: holds 2 files"));
}

// --- search order, mismatches, messages ---------------------------------------------------

TEST_F(SymbolStoreTest, SearchOrderIsThePathOrder) {
  WriteFile(root_ / "a/foo.pdb/K/foo.pdb", "from a");
  WriteFile(root_ / "b/foo.pdb/K/foo.pdb", "from b");
  absl::StatusOr<LocatedFile> f =
      FindFile(Path("srv*" + At("b") + ";srv*" + At("a")), "foo.pdb", "K", nullptr);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(Contents(*f), "from b");
  f = FindFile(Path("srv*" + At("a") + "*" + At("b")), "foo.pdb", "K", nullptr);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(Contents(*f), "from a");
}

TEST_F(SymbolStoreTest, MismatchIsReportedAndNeverUsed) {
  WriteFile(root_ / "s/foo.pdb/K/foo.pdb", "wrong one");
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(f.status().message(),
            "foo.pdb (key K): only mismatching or unusable files found: " +
                At("s/foo.pdb/K/foo.pdb") + ": contents 'wrong one' are not the ones wanted; " +
                "looked in: " + At("s/foo.pdb/K") + "/");
}

TEST_F(SymbolStoreTest, MismatchInOnePlaceMatchInALaterOne) {
  WriteFile(root_ / "a/foo.pdb/K/foo.pdb", "wrong");
  WriteFile(root_ / "b/foo.pdb", "foo");
  absl::StatusOr<LocatedFile> f =
      FindFile(Path("srv*" + At("a") + ";" + At("b")), "foo.pdb", "K", ContentIs("foo"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, At("b/foo.pdb"));
}

TEST_F(SymbolStoreTest, NotFoundListsEveryPlaceAndWhatWasSkipped) {
  fs::create_directories(root_ / "s");
  fs::create_directories(root_ / "d");
  absl::StatusOr<LocatedFile> f =
      FindFile(Path("srv*" + At("s") + "*https://msdl.microsoft.com/download/symbols;" + At("d") +
                    ";" + At("missing") + ";srv**https://x"),
               "amdppm.pdb", "K1", nullptr);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(f.status().message(),
            "amdppm.pdb (key K1) not found; looked in: " + At("s/amdppm.pdb/K1/") +
                " (no such directory); " + At("d/symbols/pdb/amdppm.pdb") + ", " +
                At("d/pdb/amdppm.pdb") + ", " + At("d/amdppm.pdb") + " (no such file); directory " +
                At("missing") + " (no such directory); not searched: "
                "https://msdl.microsoft.com/download/symbols, <default downstream store>, "
                "https://x");
}

TEST_F(SymbolStoreTest, EmptyPathSaysSo) {
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*https://x"), "a.pdb", "K", nullptr);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(f.status().message(),
            "a.pdb (key K) not found; looked in: no local places (the symbol path names none); "
            "not searched: https://x");
}

TEST_F(SymbolStoreTest, EmptyKeyDirectorySaysWhatIsMissing) {
  fs::create_directories(root_ / "s/foo.pdb/K");
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "foo.pdb", "K", nullptr);
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(std::string(f.status().message()),
              HasSubstr(At("s/foo.pdb/K") + "/ (no foo.pdb, foo.pd_ or file.ptr)"));
}

TEST_F(SymbolStoreTest, RejectsNamesAndKeysThatAreNotOnePathComponent) {
  const SymbolPath p = Path(At("s"));
  for (std::string_view name : {"", "..", "a/"}) {
    absl::StatusOr<LocatedFile> f = FindFile(p, name, "K", nullptr);
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
  for (std::string_view key : {"", ".", "..", "a/b", "a\\b"}) {
    absl::StatusOr<LocatedFile> f = FindFile(p, "a.pdb", key, nullptr);
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << key;
  }
  FindOptions options;
  options.image_extension = "../x";
  EXPECT_EQ(FindFile(p, "a.pdb", "K", nullptr, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SymbolStoreTest, TwoTierLevelNeverLeavesTheStore) {
  // "..foo" would make the two-tier level "..": <store>/../..foo/K/..foo.
  WriteFile(root_ / "s/index2.txt", "");
  WriteFile(root_ / "..foo/K/..foo", "outside");
  absl::StatusOr<LocatedFile> f = FindFile(Path("srv*" + At("s")), "..foo", "K", nullptr);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound) << f.status();
}

// --- plain directories ----------------------------------------------------------------------

TEST_F(SymbolStoreTest, PlainDirectoryWinDbgSubdirectoriesInOrder) {
  WriteFile(root_ / "d/SYMBOLS/sys/foo.sys", "1");
  WriteFile(root_ / "d/Sys/foo.sys", "2");
  WriteFile(root_ / "d/FOO.SYS", "3");
  const SymbolPath p = Path(At("d"));
  for (const char* want : {"1", "2", "3"}) {
    absl::StatusOr<LocatedFile> f = FindFile(p, "foo.sys", "K", ContentIs(want));
    ASSERT_TRUE(f.ok()) << f.status();
  }
  absl::StatusOr<LocatedFile> f = FindFile(p, "foo.sys", "K", nullptr);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, At("d/SYMBOLS/sys/foo.sys"));
}

TEST_F(SymbolStoreTest, PdbInPlainDirectoryUsesTheImageExtension) {
  WriteFile(root_ / "d/symbols/sys/foo.pdb", "pdb");
  FindOptions options;
  options.image_extension = "sys";
  absl::StatusOr<LocatedFile> f = FindFile(Path(At("d")), "foo.pdb", "K", ContentIs("pdb"), options);
  ASSERT_TRUE(f.ok()) << f.status();
  f = FindFile(Path(At("d")), "foo.pdb", "K", ContentIs("pdb"));  // looks in symbols/pdb/
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SymbolStoreTest, DirectoryWithPingmeIsSearchedAsAStoreFirst) {
  WriteFile(root_ / "d/pingme.txt", "");
  WriteFile(root_ / "d/foo.pdb/K/foo.pdb", "store");
  absl::StatusOr<LocatedFile> f = FindFile(Path(At("d")), "foo.pdb", "K", nullptr);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, At("d/foo.pdb/K/foo.pdb"));
}

TEST_F(SymbolStoreTest, DirectoryWithoutStoreMarkerIsNotAStore) {
  WriteFile(root_ / "d/foo.pdb/K/foo.pdb", "store");
  absl::StatusOr<LocatedFile> f = FindFile(Path(At("d")), "foo.pdb", "K", nullptr);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
}

// --- the real store -----------------------------------------------------------------------

// Accepts an MSF 7.00 file (enough to tell a PDB from anything else here; the
// GUID and age check is libsym's PDB reader's).
absl::Status IsMsf7(const LocatedFile& f) {
  constexpr std::string_view kMagic = "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS";
  if (f.bytes.size() >= kMagic.size() &&
      std::string_view(reinterpret_cast<const char*>(f.bytes.data()), kMagic.size()) == kMagic) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError("not an MSF 7.00 file");
}

TEST(RealStoreTest, FindsAmdppmSysByItsKey) {
  const ImageLocator locator({kRealStore});
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
      locator.Open("amdppm.sys", kAmdppmTimestamp, kAmdppmSize);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ((*image)->name(), std::string(kRealStore) + "/amdppm.sys/c9c030003b000/amdppm.sys");
  // The same through a symbol path.
  absl::StatusOr<LocatedFile> f = FindFile(Path(std::string("srv*") + kRealStore), "amdppm.sys",
                                           "c9c030003b000", nullptr);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->bytes.size(), 211264u);  // ls -l
}

TEST(RealStoreTest, FindsAmdppmPdbByItsKey) {
  absl::StatusOr<LocatedFile> f =
      FindFile(Path(std::string("srv*") + kRealStore + "*https://msdl.microsoft.com/download/symbols"),
               "amdppm.pdb", kAmdppmPdbKey, IsMsf7);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, std::string(kRealStore) + "/amdppm.pdb/" + kAmdppmPdbKey + "/amdppm.pdb");
}

TEST(RealStoreTest, FindsWdf01000ByItsKey) {
  const ImageLocator locator({kRealStore});
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
      locator.Open("\\SystemRoot\\system32\\drivers\\Wdf01000.sys", kWdfTimestamp, kWdfSize);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ((*image)->StoreKey(), "A9A9D36Ed1000");
  EXPECT_EQ((*image)->name(), std::string(kRealStore) + "/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys");
  EXPECT_EQ(*locator.Find("wdf01000.SYS", kWdfTimestamp, kWdfSize), (*image)->name());
}

TEST(RealStoreTest, MissingKeyIsNotFoundListingThePlaces) {
  const ImageLocator locator({kRealStore});
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
      locator.Open("amdppm.sys", kAmdppmTimestamp, kAmdppmSize + 0x1000);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(image.status().message(),
            "amdppm.sys (key C9C030003c000) not found; looked in: ../shared/real/symbols/"
            "amdppm.sys/C9C030003c000/ (no such directory); ../shared/real/symbols/symbols/sys/"
            "amdppm.sys, ../shared/real/symbols/sys/amdppm.sys, ../shared/real/symbols/amdppm.sys "
            "(no such file)");
}

TEST(RealStoreTest, PdbMissingKeyIsNotFound) {
  absl::StatusOr<LocatedFile> f = FindFile(Path(std::string("srv*") + kRealStore), "amdppm.pdb",
                                           "1C19FDDB27BB3399D9B45973EFEAFCF32", IsMsf7);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(f.status().message()),
              HasSubstr("../shared/real/symbols/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF32/"));
}

// --- ImageLocator over the store code -------------------------------------------------------

class ImageLocatorStoreTest : public SymbolStoreTest {
 protected:
  std::vector<uint8_t> Amdppm() {
    return ReadFile(std::string(kRealStore) + "/amdppm.sys/c9c030003b000/amdppm.sys");
  }
};

TEST_F(ImageLocatorStoreTest, OpensACompressedImage) {
  for (CabCompression c : {CabCompression::kNone, CabCompression::kMszip}) {
    SCOPED_TRACE(static_cast<int>(c));
    fs::remove_all(root_ / "s");
    WriteFile(root_ / "s/amdppm.sys/C9C030003B000/amdppm.sy_", WriteStoreCab("amdppm.sys", Amdppm(), c));
    const ImageLocator locator({At("s")});
    absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
        locator.Open("amdppm.sys", kAmdppmTimestamp, kAmdppmSize);
    ASSERT_TRUE(image.ok()) << image.status();
    EXPECT_EQ((*image)->name(), At("s/amdppm.sys/C9C030003B000/amdppm.sy_"));
    EXPECT_TRUE((*image)->codeview().has_value());
  }
}

TEST_F(ImageLocatorStoreTest, WrongImageInTheStoreIsAMismatch) {
  WriteFile(root_ / "s/amdppm.sys/C9C030003b000/amdppm.sys",
            ReadFile(std::string(kRealStore) + "/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys"));
  const ImageLocator locator({At("s")});
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
      locator.Open("amdppm.sys", kAmdppmTimestamp, kAmdppmSize);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(image.status().message()),
              HasSubstr(At("s/amdppm.sys/C9C030003b000/amdppm.sys") +
                        ": has key A9A9D36Ed1000 (TimeDateStamp 0xA9A9D36E, SizeOfImage 0xd1000)"));
}

TEST_F(ImageLocatorStoreTest, RootsAcceptSymbolPathSyntaxAndKeepWarnings) {
  WriteFile(root_ / "s/amdppm.sys/c9c030003b000/amdppm.sys", Amdppm());
  const ImageLocator locator({"srv*" + At("s") + "*https://msdl.microsoft.com/download/symbols"});
  EXPECT_THAT(locator.warnings(), testing::ElementsAre(HasSubstr("restack never uses the network")));
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
      locator.Open("amdppm.sys", kAmdppmTimestamp, kAmdppmSize);
  ASSERT_TRUE(image.ok()) << image.status();
}

TEST_F(ImageLocatorStoreTest, PlainRootIsAStoreAndADirectory) {
  WriteFile(root_ / "d/AMDPPM.SYS", Amdppm());
  const ImageLocator locator({At("d")});
  absl::StatusOr<std::string> path = locator.Find("amdppm.sys", kAmdppmTimestamp, kAmdppmSize);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, At("d/AMDPPM.SYS"));
  // A file that is not an image at all is reported with the PE reader's reason.
  WriteFile(root_ / "e/amdppm.sys", "not an image");
  absl::StatusOr<std::string> bad = ImageLocator({At("e")}).Find("amdppm.sys", 1, 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr(At("e/amdppm.sys") + ":"));
}

TEST_F(ImageLocatorStoreTest, SymbolPathConstructorSearchesOnlyItsPlaces) {
  WriteFile(root_ / "d/amdppm.sys/c9c030003b000/amdppm.sys", Amdppm());
  // A plain directory in a symbol path is not a store (no pingme.txt).
  const ImageLocator plain(Path(At("d")));
  EXPECT_EQ(plain.Open("amdppm.sys", kAmdppmTimestamp, kAmdppmSize).status().code(),
            absl::StatusCode::kNotFound);
  const ImageLocator store(Path("srv*" + At("d")));
  EXPECT_TRUE(store.Open("amdppm.sys", kAmdppmTimestamp, kAmdppmSize).ok());
}

// --- the cabinet reader, directly -----------------------------------------------------------

absl::StatusOr<internal::CabFile> Extract(const std::vector<uint8_t>& cab,
                                          std::string_view expected = "foo.pdb",
                                          uint64_t max = kMaxDecompressedSize) {
  return internal::ExtractSingleFileCab(cab, "foo.pd_", expected, max);
}

TEST(CabFileTest, RoundTripsNoneAndMszip) {
  std::vector<uint8_t> data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<uint8_t>((i * 7) ^ (i >> 5)));
  for (CabCompression c : {CabCompression::kNone, CabCompression::kMszip}) {
    absl::StatusOr<internal::CabFile> f = Extract(WriteStoreCab("foo.pdb", data, c));
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_EQ(f->name, "foo.pdb");
    EXPECT_EQ(f->bytes, data);
  }
}

TEST(CabFileTest, WithoutChecksumsAndNameInAnotherCase) {
  CabOptions o;
  o.checksums = false;
  o.compression = CabCompression::kMszip;
  absl::StatusOr<internal::CabFile> f = Extract(WriteCab({{"FOO.PDB", Bytes("abc")}}, o));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->bytes, Bytes("abc"));
}

TEST(CabFileTest, RejectsNotACabinet) {
  using namespace std::string_view_literals;
  absl::StatusOr<internal::CabFile> f = Extract(Bytes("MZ\x90\0 this is no cabinet at all......"sv));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(),
            "foo.pd_: offset 0x0: CFHEADER.signature: not a cabinet (expected 'MSCF', got 4D 5A 90 "
            "00)");
}

TEST(CabFileTest, RejectsShortHeader) {
  absl::StatusOr<internal::CabFile> f = Extract(Bytes("MSCF"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kOutOfRange);
}

TEST(CabFileTest, RejectsCbCabinetPastTheEnd) {
  CabOptions o;
  o.cb_cabinet = 0x100000;
  absl::StatusOr<internal::CabFile> f = Extract(WriteCab({{"foo.pdb", Bytes("abc")}}, o));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(f.status().message()),
              HasSubstr("offset 0x8: CFHEADER.cbCabinet: cabinet is 0x100000 bytes"));
}

TEST(CabFileTest, RejectsCbFileLargerThanTheFolder) {
  for (CabCompression c : {CabCompression::kNone, CabCompression::kMszip}) {
    CabOptions o;
    o.compression = c;
    o.cb_file = 0x9000;
    absl::StatusOr<internal::CabFile> f = Extract(WriteCab({{"foo.pdb", Bytes("abcdef")}}, o));
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss) << f.status();
    EXPECT_EQ(f.status().message(),
              "foo.pd_: offset 0x2c: CFFILE.cbFile: 0x9000 bytes at folder offset 0x0, but the "
              "folder's 1 CFDATA blocks hold 0x6");
  }
}

TEST(CabFileTest, RejectsTruncatedData) {
  std::vector<uint8_t> data(0x20000, 0x5A);
  for (CabCompression c : {CabCompression::kNone, CabCompression::kMszip}) {
    std::vector<uint8_t> cab = WriteStoreCab("foo.pdb", data, c);
    cab.resize(cab.size() - 0x10);
    test::PutU32(cab, 0x08, static_cast<uint32_t>(cab.size()));  // cbCabinet agrees
    absl::StatusOr<internal::CabFile> f = Extract(cab);
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.status().code(), absl::StatusCode::kOutOfRange) << f.status();
    EXPECT_THAT(std::string(f.status().message()),
                HasSubstr("CFDATA[3].cbData: "));
  }
}

TEST(CabFileTest, RejectsCorruptData) {
  std::vector<uint8_t> data(0x1000, 0x11);
  for (CabCompression c : {CabCompression::kNone, CabCompression::kMszip}) {
    test::CabLayout layout;
    CabOptions o;
    o.compression = c;
    std::vector<uint8_t> cab = WriteCab({{"foo.pdb", data}}, o, &layout);
    cab[layout.data_offset + 8 + 3] ^= 0xFF;  // a payload byte: the checksum no longer fits
    absl::StatusOr<internal::CabFile> f = Extract(cab);
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss) << f.status();
  }
}

TEST(CabFileTest, RejectsTwoFilesAndNoFiles) {
  absl::StatusOr<internal::CabFile> f = Extract(WriteCab({{"foo.pdb", Bytes("a")}, {"x", Bytes("b")}}));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss);
  CabOptions o;
  o.c_files = 0;
  f = Extract(WriteCab({{"foo.pdb", Bytes("a")}}, o));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss);
}

TEST(CabFileTest, RejectsAnotherFileName) {
  absl::StatusOr<internal::CabFile> f = Extract(WriteStoreCab("bar.pdb", Bytes("a"), CabCompression::kNone));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(f.status().message(), "foo.pd_: CFFILE.szName: holds 'bar.pdb' (expected 'foo.pdb')");
}

TEST(CabFileTest, RejectsMultiCabinetSets) {
  CabOptions o;
  o.flags = 0x0002;  // cfhdrNEXT_CABINET
  absl::StatusOr<internal::CabFile> f = Extract(WriteCab({{"foo.pdb", Bytes("a")}}, o));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kUnimplemented);
}

TEST(CabFileTest, RefusesFilesAboveTheLimitBeforeDecompressing) {
  absl::StatusOr<internal::CabFile> f =
      Extract(WriteStoreCab("foo.pdb", std::vector<uint8_t>(0x3000, 1), CabCompression::kMszip),
              "foo.pdb", 0x2000);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(f.status().message(),
            "foo.pd_: offset 0x2c: CFFILE.cbFile: 0x3000 bytes, more than the 0x2000 restack "
            "decompresses");
  // The 1 GiB limit: a cabinet claiming 1 GiB + 1 byte (it has no data for it).
  CabOptions o;
  o.cb_file = static_cast<uint32_t>(kMaxDecompressedSize + 1);
  f = Extract(WriteCab({{"foo.pdb", Bytes("a")}}, o));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(CabFileTest, EmptyFile) {
  absl::StatusOr<internal::CabFile> f = Extract(WriteStoreCab("foo.pdb", {}, CabCompression::kNone));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->bytes.empty());
}

TEST(CabFileTest, ChecksumOfTheSpecExample) {
  // [MS-CAB] 2.6 folds the last bytes high byte first: 01 02 03 -> 0x00010203.
  const uint8_t three[] = {1, 2, 3};
  EXPECT_EQ(test::CabChecksum(three, 3, 0), 0x00010203u);
  const uint8_t five[] = {1, 2, 3, 4, 5};
  EXPECT_EQ(test::CabChecksum(five, 5, 0), 0x04030201u ^ 0x05u);
}

// --- fuzz seeds ------------------------------------------------------------------------

const fs::path kCorpus = fs::path(RESTACK_SOURCE_DIR) / "tests/fuzz/corpus/symbol_path";

// Inputs starting "MSCF" go to the cabinet reader, the rest to SymbolPath::Parse
// (tests/fuzz/symbol_path_fuzzer.cc).
test::Seeds SymbolPathSeeds() {
  test::Seeds seeds;
  auto text = [&](std::string name, std::string_view s) { seeds.emplace_back(name, Bytes(s)); };
  text("path-msdl.txt", "srv*c:\\symbols*https://msdl.microsoft.com/download/symbols");
  text("path-mixed.txt",
       " cache*/tmp/c ; SRV*/tmp/store*http://x;;symsrv*symsrv.dll*/tmp/s*https://x;"
       "\\\\server\\share;/plain;srv**https://y;foo*bar;symsrv*;");
  text("path-windows.txt", "C:\\Windows\\System32;D:\\sym\\;srv*\\\\?\\C:\\x*e:/y");
  std::vector<uint8_t> data;
  for (int i = 0; i < 0x9000; ++i) data.push_back(static_cast<uint8_t>(i * 31 >> 3));
  seeds.emplace_back("cab-none.cab", WriteStoreCab("fuzz.pdb", Bytes("hello, cabinet"),
                                                   CabCompression::kNone));
  seeds.emplace_back("cab-mszip.cab", WriteStoreCab("fuzz.pdb", data, CabCompression::kMszip));
  seeds.emplace_back("cab-two-files.cab", WriteCab({{"fuzz.pdb", Bytes("a")}, {"b", Bytes("b")}}));
  return seeds;
}

TEST(SymbolPathSeedCorpusTest, WritesSeedsWhenAsked) {
  if (!test::SeedRewriteRequested()) {
    GTEST_SKIP() << "set RESTACK_WRITE_SEEDS=1 to rewrite " << kCorpus;
  }
  EXPECT_EQ(test::WriteSeeds(kCorpus, SymbolPathSeeds()), "");
}

TEST(SymbolPathSeedCorpusTest, CommittedSeedsMatchTheWriter) {
  for (const auto& [name, bytes] : SymbolPathSeeds()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(fs::exists(kCorpus / name)) << "missing seed; rewrite with RESTACK_WRITE_SEEDS=1";
    EXPECT_EQ(test::ReadSeed(kCorpus / name), bytes)
        << "seed differs from the writer; rewrite with RESTACK_WRITE_SEEDS=1";
  }
}

}  // namespace
}  // namespace restack::sym
