// symbol_resolver_test.cc - a module's PDB found along a symbol path, or its exports
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "restack/sym/image_locator.h"
#include "restack/sym/symbol_resolver.h"

namespace restack::sym {
namespace {

constexpr char kStore[] = "../shared/real/symbols";
constexpr char kAmdppm[] = "../shared/real/symbols/amdppm.sys/c9c030003b000/amdppm.sys";
constexpr char kWdf[] = "../shared/real/symbols/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys";
constexpr char kFltMgr[] = "../shared/real/symbols/fltMgr.sys/49BB82CA6e000/fltMgr.sys";
constexpr char kChunksImage[] =
    "tests/fixtures/pdb/store-full/restack_chunks.dll/8E7D24127000/restack_chunks.dll";
constexpr char kChunksPdb[] =
    "tests/fixtures/pdb/store-full/restack_chunks.pdb/05E38BAE925816984C4C44205044422E1/"
    "restack_chunks.pdb";

std::shared_ptr<const unwind::PeImage> Image(const std::string& path) {
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image = OpenImageFile(path);
  EXPECT_TRUE(image.ok()) << image.status();
  return image.ok() ? *image : nullptr;
}

SymbolPath Path(const std::string& text) {
  absl::StatusOr<SymbolPath> path = SymbolPath::Parse(text);
  EXPECT_TRUE(path.ok()) << path.status();
  return path.ok() ? *path : SymbolPath();
}

TEST(SymbolResolverTest, FindsAmdppmsPdbInTheStoreByItsKey) {
  SymbolResolver resolver(Path(std::string("srv*") + kStore));
  std::shared_ptr<const unwind::PeImage> image = Image(kAmdppm);
  ASSERT_NE(image, nullptr);
  const LoadedSymbols& loaded = resolver.Load(image, "");
  EXPECT_EQ(loaded.source, SymbolSource::kPdb) << loaded.pdb_status;
  EXPECT_NE(loaded.pdb_path.find("amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb"),
            std::string::npos)
      << loaded.pdb_path;
  // Publics only, but the one private procedure the stripping kept.
  EXPECT_TRUE(loaded.pdb_has_privates);
  // Cached: the same object comes back.
  EXPECT_EQ(&resolver.Load(image, ""), &loaded);
  // The entry point is amdppm's DriverEntry-like function (GsDriverEntry).
  SymbolizedAddress entry = loaded.symbols->Symbolize(image->entry_point());
  EXPECT_FALSE(entry.function.empty());
  EXPECT_EQ(entry.displacement, 0);
}

// A batch of dumps opens the same image once per dump: the resolver knows it
// by identity (name as opened, TimeDateStamp, SizeOfImage), so the PDB is
// read once, also when threads ask at the same time; another image is not
// taken for it.
TEST(SymbolResolverTest, TheSameImageOpenedAgainIsLoadedOnceAcrossThreads) {
  SymbolResolver resolver(Path(std::string("srv*") + kStore));
  std::vector<std::shared_ptr<const unwind::PeImage>> copies;
  for (int i = 0; i < 8; ++i) copies.push_back(Image(kAmdppm));
  std::vector<const LoadedSymbols*> got(copies.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < copies.size(); ++i) {
    threads.emplace_back([&, i] { got[i] = &resolver.Load(copies[i], ""); });
  }
  for (std::thread& t : threads) t.join();
  for (const LoadedSymbols* g : got) EXPECT_EQ(g, got[0]);
  EXPECT_EQ(got[0]->source, SymbolSource::kPdb);
  const LoadedSymbols& wdf = resolver.Load(Image(kWdf), "");
  EXPECT_NE(&wdf, got[0]);
}

// The resolver keeps the PDB's inline sites: the fixture's twelve, none for
// amdppm's publics-only PDB, an empty index without a PDB.
TEST(SymbolResolverTest, KeepsTheInlineSitesOfThePdb) {
  constexpr char kInlines[] = "tests/fixtures/pdb/inlines/restack_inlines.dll";
  SymbolResolver resolver(Path("tests/fixtures/pdb/inlines"));
  std::shared_ptr<const unwind::PeImage> image = Image(kInlines);
  ASSERT_NE(image, nullptr);
  const LoadedSymbols& loaded = resolver.Load(image, "");
  ASSERT_EQ(loaded.source, SymbolSource::kPdb) << loaded.pdb_status;
  ASSERT_NE(loaded.inlines, nullptr);
  EXPECT_EQ(loaded.inlines->sites(), 12u);
  // In_Chain: mix1 -> mix2 -> mix3 at 0x1049.
  const std::vector<InlineFrame> chain = loaded.inlines->At(0x1049);
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0].name, "mix1");
  EXPECT_EQ(chain[2].name, "mix3");
  EXPECT_EQ(chain[2].site_begin, 0x103eu);
  // check_range's second (cold) range still counts from the site's first byte.
  const std::vector<InlineFrame> cold = loaded.inlines->At(0x1118);
  ASSERT_EQ(cold.size(), 1u);
  EXPECT_EQ(cold[0].range_begin, 0x1112u);
  EXPECT_EQ(cold[0].site_begin, 0x10d4u);

  SymbolResolver store(Path(std::string("srv*") + kStore));
  const LoadedSymbols& amdppm = store.Load(Image(kAmdppm), "");
  ASSERT_EQ(amdppm.source, SymbolSource::kPdb);
  ASSERT_NE(amdppm.inlines, nullptr);
  EXPECT_EQ(amdppm.inlines->sites(), 0u);
  const LoadedSymbols& fltmgr = store.Load(Image(kFltMgr), kFltMgr);
  EXPECT_NE(fltmgr.source, SymbolSource::kPdb);
  ASSERT_NE(fltmgr.inlines, nullptr);
  EXPECT_EQ(fltmgr.inlines->segments(), 0u);
}

TEST(SymbolResolverTest, WithoutPdbOrExportsThereIsNothingAndItSaysWhy) {
  SymbolResolver resolver(Path(kStore));
  std::shared_ptr<const unwind::PeImage> image = Image(kWdf);
  ASSERT_NE(image, nullptr);
  const LoadedSymbols& loaded = resolver.Load(image, kWdf);
  // Wdf01000.sys exports nothing by name (its functions are reached through
  // WdfFunctions tables): module+0xRVA it is.
  EXPECT_EQ(loaded.source, SymbolSource::kNone);
  EXPECT_EQ(loaded.pdb_status.code(), absl::StatusCode::kNotFound) << loaded.pdb_status;
  EXPECT_NE(loaded.pdb_status.message().find("Wdf01000.pdb"), std::string::npos) << loaded.pdb_status;
  EXPECT_TRUE(loaded.symbols->Symbolize(image->entry_point()).function.empty());
}

TEST(SymbolResolverTest, WithoutAPdbItDefaultsToExports) {
  SymbolResolver resolver(Path(kStore));
  std::shared_ptr<const unwind::PeImage> image = Image(kFltMgr);
  ASSERT_NE(image, nullptr);
  const LoadedSymbols& loaded = resolver.Load(image, kFltMgr);
  EXPECT_EQ(loaded.source, SymbolSource::kExports);
  EXPECT_EQ(loaded.pdb_status.code(), absl::StatusCode::kNotFound) << loaded.pdb_status;
  absl::StatusOr<std::vector<unwind::PeExport>> exports = image->Exports();
  ASSERT_TRUE(exports.ok());
  size_t named = 0;
  for (const unwind::PeExport& e : *exports) {
    if (e.name.empty() || !image->IsExecutableRva(e.rva)) continue;
    SymbolizedAddress s = loaded.symbols->Symbolize(e.rva);
    EXPECT_EQ(s.displacement, 0) << e.name;
    named += s.origin == SymbolOrigin::kExport;
  }
  EXPECT_GT(named, 0u);
}

TEST(SymbolResolverTest, FindsThePdbNextToTheImage) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("restack_resolver_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(kChunksImage, dir / "restack_chunks.dll",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(kChunksPdb, dir / "restack_chunks.pdb",
                             std::filesystem::copy_options::overwrite_existing);
  SymbolResolver resolver(SymbolPath{});
  const std::string image_path = (dir / "restack_chunks.dll").string();
  std::shared_ptr<const unwind::PeImage> image = Image(image_path);
  ASSERT_NE(image, nullptr);
  const LoadedSymbols& loaded = resolver.Load(image, image_path);
  EXPECT_EQ(loaded.source, SymbolSource::kPdb) << loaded.pdb_status;
  EXPECT_TRUE(loaded.pdb_has_privates);
  std::filesystem::remove_all(dir);
}

TEST(SymbolResolverTest, AMismatchingPdbIsReportedAndNotUsed) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("restack_mismatch_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  // amdppm's PDB under the chunk image's PDB name: found, parsed, refused.
  std::filesystem::copy_file(
      "../shared/real/symbols/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb",
      dir / "restack_chunks.pdb", std::filesystem::copy_options::overwrite_existing);
  SymbolResolver resolver(Path(dir.string()), {.image_directory = false});
  std::shared_ptr<const unwind::PeImage> image = Image(kChunksImage);
  ASSERT_NE(image, nullptr);
  const LoadedSymbols& loaded = resolver.Load(image, kChunksImage);
  EXPECT_NE(loaded.source, SymbolSource::kPdb);
  EXPECT_EQ(loaded.pdb_status.code(), absl::StatusCode::kFailedPrecondition) << loaded.pdb_status;
  EXPECT_NE(loaded.pdb_status.message().find("1C19FDDB"), std::string::npos) << loaded.pdb_status;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace restack::sym
