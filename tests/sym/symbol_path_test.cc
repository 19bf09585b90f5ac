// symbol_path_test.cc - _NT_SYMBOL_PATH syntax: places, skipped locations and warnings
#include "restack/sym/symbol_path.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace restack::sym {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// "store:<path>" / "dir:<path>" for each place, in order.
std::vector<std::string> Places(const SymbolPath& path) {
  std::vector<std::string> out;
  for (const SymbolPlace& p : path.places()) {
    out.push_back((p.kind == PlaceKind::kStore ? "store:" : "dir:") + p.path);
  }
  return out;
}

SymbolPath MustParse(std::string_view text) {
  absl::StatusOr<SymbolPath> path = SymbolPath::Parse(text);
  EXPECT_TRUE(path.ok()) << path.status();
  return path.ok() ? *std::move(path) : SymbolPath();
}

TEST(SymbolPathTest, PlainDirectoriesInOrder) {
  const SymbolPath p = MustParse("/a;/b/c;relative");
  EXPECT_THAT(Places(p), ElementsAre("dir:/a", "dir:/b/c", "dir:relative"));
  EXPECT_THAT(p.warnings(), IsEmpty());
  EXPECT_THAT(p.skipped(), IsEmpty());
}

TEST(SymbolPathTest, EmptyTextIsAnEmptyPath) {
  const SymbolPath p = MustParse("");
  EXPECT_THAT(p.places(), IsEmpty());
  EXPECT_THAT(p.warnings(), IsEmpty());
}

TEST(SymbolPathTest, EmptyAndDuplicatedSeparatorsAreIgnored) {
  const SymbolPath p = MustParse(";;/a;;; ;/b;");
  EXPECT_THAT(Places(p), ElementsAre("dir:/a", "dir:/b"));
  EXPECT_THAT(p.warnings(), IsEmpty());
}

TEST(SymbolPathTest, LeadingAndTrailingSpacesAreTrimmed) {
  const SymbolPath p = MustParse("  /a  ;\t srv * /s * https://x \t;  ");
  EXPECT_THAT(Places(p), ElementsAre("dir:/a", "store:/s"));
  EXPECT_THAT(p.skipped(), ElementsAre("https://x"));
}

TEST(SymbolPathTest, DuplicatePlacesAreSearchedOnce) {
  const SymbolPath p = MustParse("/a;/a;srv*/s;cache*/s;srv*/a");
  // The first of each (kind, path) stays; a directory and a store of the same path differ.
  EXPECT_THAT(Places(p), ElementsAre("dir:/a", "store:/s", "store:/a"));
}

// The Microsoft-documented public symbol server line.
TEST(SymbolPathTest, SrvWithWindowsDownstreamStoreAndHttpsServer) {
  const SymbolPath p = MustParse("srv*c:\\symbols*https://msdl.microsoft.com/download/symbols");
  // The Windows path is kept as written: it just does not exist here.
  EXPECT_THAT(Places(p), ElementsAre("store:c:\\symbols"));
  EXPECT_EQ(p.places()[0].entry, "srv*c:\\symbols*https://msdl.microsoft.com/download/symbols");
  EXPECT_THAT(p.skipped(), ElementsAre("https://msdl.microsoft.com/download/symbols"));
  ASSERT_THAT(p.warnings(), SizeIs(1));
  EXPECT_EQ(p.warnings()[0],
            "symbol path entry 'srv*c:\\symbols*https://msdl.microsoft.com/download/symbols': "
            "skipped https://msdl.microsoft.com/download/symbols: restack never uses the network");
}

TEST(SymbolPathTest, SrvPrefixIsCaseInsensitive) {
  const SymbolPath p = MustParse("SRV*/tmp/store*http://x");
  EXPECT_THAT(Places(p), ElementsAre("store:/tmp/store"));
  EXPECT_THAT(p.skipped(), ElementsAre("http://x"));
  EXPECT_THAT(p.warnings(), ElementsAre(HasSubstr("restack never uses the network")));
  EXPECT_THAT(Places(MustParse("Srv*/a;sRv*/b;CACHE*/c;SymSrv*SYMSRV.DLL*/d")),
              ElementsAre("store:/a", "store:/b", "store:/c", "store:/d"));
}

TEST(SymbolPathTest, SeveralDownstreamStoresKeepTheirOrder) {
  const SymbolPath p = MustParse("srv*/s1*/s2*D:\\s3*https://x");
  EXPECT_THAT(Places(p), ElementsAre("store:/s1", "store:/s2", "store:D:\\s3"));
  EXPECT_THAT(p.warnings(), SizeIs(1));
}

TEST(SymbolPathTest, LocalOnlySrvEntryIsAStore) {
  const SymbolPath p = MustParse("srv*/only/local");
  EXPECT_THAT(Places(p), ElementsAre("store:/only/local"));
  EXPECT_THAT(p.warnings(), IsEmpty());
}

TEST(SymbolPathTest, CacheEntryIsAStoreBeforeTheEntriesAfterIt) {
  const SymbolPath p = MustParse("cache*/tmp/c;srv*https://x");
  EXPECT_THAT(Places(p), ElementsAre("store:/tmp/c"));
  EXPECT_THAT(p.skipped(), ElementsAre("https://x"));
  ASSERT_THAT(p.warnings(), SizeIs(1));
  EXPECT_EQ(p.warnings()[0],
            "symbol path entry 'srv*https://x': skipped https://x: restack never uses the network");
}

TEST(SymbolPathTest, SymsrvWithSymsrvDll) {
  const SymbolPath p = MustParse("symsrv*symsrv.dll*/tmp/s*https://x");
  EXPECT_THAT(Places(p), ElementsAre("store:/tmp/s"));
  EXPECT_THAT(p.skipped(), ElementsAre("https://x"));
  EXPECT_THAT(p.warnings(), SizeIs(1));
}

TEST(SymbolPathTest, SymsrvWithAnotherDllWarnsAndStillReadsTheStores) {
  const SymbolPath p = MustParse("symsrv*agestore.dll*/tmp/s");
  EXPECT_THAT(Places(p), ElementsAre("store:/tmp/s"));
  EXPECT_THAT(p.warnings(),
              ElementsAre("symbol path entry 'symsrv*agestore.dll*/tmp/s': server DLL "
                          "'agestore.dll' is not symsrv.dll; its stores are read as symsrv "
                          "stores"));
}

TEST(SymbolPathTest, SymsrvWithoutDllOrStoresIsSkipped) {
  SymbolPath p = MustParse("symsrv*");
  EXPECT_THAT(p.places(), IsEmpty());
  EXPECT_THAT(p.warnings(), ElementsAre("symbol path entry 'symsrv*': symsrv* names no server "
                                        "DLL; entry skipped"));
  p = MustParse("symsrv*symsrv.dll");
  EXPECT_THAT(p.places(), IsEmpty());
  EXPECT_THAT(p.warnings(),
              ElementsAre("symbol path entry 'symsrv*symsrv.dll': names no store; entry skipped"));
}

TEST(SymbolPathTest, EmptyStoreTokenIsTheDefaultDownstreamStoreWhichRestackLacks) {
  const SymbolPath p = MustParse("srv**https://msdl.microsoft.com/download/symbols");
  EXPECT_THAT(p.places(), IsEmpty());
  EXPECT_THAT(p.skipped(), ElementsAre("<default downstream store>",
                                       "https://msdl.microsoft.com/download/symbols"));
  ASSERT_THAT(p.warnings(), SizeIs(2));
  EXPECT_EQ(p.warnings()[0],
            "symbol path entry 'srv**https://msdl.microsoft.com/download/symbols': empty store "
            "(WinDbg's default downstream store) skipped: restack has none; name a directory "
            "instead");
  EXPECT_THAT(p.warnings()[1], HasSubstr("restack never uses the network"));
}

TEST(SymbolPathTest, BareSrvAndCacheAreDefaultStores) {
  for (std::string_view text : {"srv*", "cache*", "SRV*  ", "srv***"}) {
    SCOPED_TRACE(text);
    const SymbolPath p = MustParse(text);
    EXPECT_THAT(p.places(), IsEmpty());
    EXPECT_THAT(p.warnings(), ElementsAre(HasSubstr("default downstream store")));
  }
}

TEST(SymbolPathTest, UncPathsAreSkippedLikeNetworkEntries) {
  const SymbolPath p = MustParse("\\\\server\\share\\symbols;/local;srv*\\\\srv\\s*/d");
  EXPECT_THAT(Places(p), ElementsAre("dir:/local", "store:/d"));
  EXPECT_THAT(p.skipped(), ElementsAre("\\\\server\\share\\symbols", "\\\\srv\\s"));
  ASSERT_THAT(p.warnings(), SizeIs(2));
  EXPECT_EQ(p.warnings()[0],
            "symbol path entry '\\\\server\\share\\symbols': skipped \\\\server\\share\\symbols: "
            "restack never uses the network");
}

TEST(SymbolPathTest, OneWarningPerEntryForAllItsNetworkLocations) {
  const SymbolPath p = MustParse("srv*/s*\\\\a\\b*https://x");
  EXPECT_THAT(p.warnings(),
              ElementsAre("symbol path entry 'srv*/s*\\\\a\\b*https://x': skipped \\\\a\\b, "
                          "https://x: restack never uses the network"));
}

TEST(SymbolPathTest, PlainUrlEntryIsSkipped) {
  const SymbolPath p = MustParse("https://example.com/symbols;HTTP://X");
  EXPECT_THAT(p.places(), IsEmpty());
  EXPECT_THAT(p.skipped(), ElementsAre("https://example.com/symbols", "HTTP://X"));
  EXPECT_THAT(p.warnings(), SizeIs(2));
}

TEST(SymbolPathTest, WindowsDirectoriesAreKeptAsWritten) {
  const SymbolPath p = MustParse("C:\\Windows\\System32;d:/syms;c://odd");
  EXPECT_THAT(Places(p), ElementsAre("dir:C:\\Windows\\System32", "dir:d:/syms", "dir:c://odd"));
  EXPECT_THAT(p.warnings(), IsEmpty());
}

TEST(SymbolPathTest, UnknownPrefixIsSkippedWithAWarning) {
  const SymbolPath p = MustParse("foo*/x;/y");
  EXPECT_THAT(Places(p), ElementsAre("dir:/y"));
  EXPECT_THAT(p.warnings(), ElementsAre("symbol path entry 'foo*/x': unknown prefix 'foo*' "
                                        "(expected srv*, symsrv* or cache*); entry skipped"));
}

TEST(SymbolPathTest, PlacesRememberTheirEntry) {
  const SymbolPath p = MustParse(" /a ; srv*/s*https://x ");
  ASSERT_THAT(p.places(), SizeIs(2));
  EXPECT_EQ(p.places()[0].entry, "/a");
  EXPECT_EQ(p.places()[1].entry, "srv*/s*https://x");
}

TEST(SymbolPathTest, RejectsNulCharacter) {
  const absl::StatusOr<SymbolPath> p = SymbolPath::Parse(std::string_view("/a;/b\0c", 7));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("offset 0x5"));
}

TEST(SymbolPathTest, RejectsOverlongText) {
  const std::string text(SymbolPath::kMaxTextLength + 1, 'a');
  const absl::StatusOr<SymbolPath> p = SymbolPath::Parse(text);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SymbolPathTest, WithDirectoriesAsStoresPutsTheStoreFirst) {
  const SymbolPath p = MustParse("/a;srv*/s*https://x").WithDirectoriesAsStores();
  EXPECT_THAT(Places(p), ElementsAre("store:/a", "dir:/a", "store:/s"));
  EXPECT_THAT(p.warnings(), SizeIs(1));
  EXPECT_THAT(p.skipped(), ElementsAre("https://x"));
}

TEST(SymbolPathTest, AppendKeepsOrderAndDropsDuplicates) {
  SymbolPath p = MustParse("/a;srv*/s*https://x");
  p.Append(MustParse("/b;/a;srv*https://x"));
  EXPECT_THAT(Places(p), ElementsAre("dir:/a", "store:/s", "dir:/b"));
  EXPECT_THAT(p.warnings(), SizeIs(2));
  EXPECT_THAT(p.skipped(), ElementsAre("https://x"));
}

TEST(SymbolPathTest, NetworkLocationRecognition) {
  EXPECT_TRUE(IsNetworkLocation("https://msdl.microsoft.com/download/symbols"));
  EXPECT_TRUE(IsNetworkLocation("http://x"));
  EXPECT_TRUE(IsNetworkLocation("svn+ssh://x"));
  EXPECT_TRUE(IsNetworkLocation("\\\\server\\share"));
  EXPECT_TRUE(IsNetworkLocation("\\\\?\\C:\\x"));
  EXPECT_FALSE(IsNetworkLocation("c://x"));  // a drive letter, not a scheme
  EXPECT_FALSE(IsNetworkLocation("C:\\symbols"));
  EXPECT_FALSE(IsNetworkLocation("/tmp/http://x"));
  EXPECT_FALSE(IsNetworkLocation("//tmp"));  // the POSIX root, twice
  EXPECT_FALSE(IsNetworkLocation("1a://x"));
}

}  // namespace
}  // namespace restack::sym
