// real_pdb_test.cc - PdbFile, SymbolIndex and ModuleSymbols on Microsoft's files
//
// amdppm.pdb is Microsoft's public (stripped) PDB of amdppm.sys; the peer is
// `llvm-pdbutil-19 dump -publics` (Debian's llvm-19), whose listing restack's
// own reading must equal record for record. fltMgr.sys (no PDB) carries 86
// chunks separated from their function by 64 KiB or more, named here from
// its exports.
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "restack/sym/demangle.h"
#include "restack/sym/image_locator.h"
#include "restack/sym/module_symbols.h"
#include "restack/sym/pdb_file.h"
#include "restack/sym/symbol_index.h"
#include "restack/unwind/runtime_function_table.h"

namespace restack::sym {
namespace {

constexpr char kPdb[] =
    "../shared/real/symbols/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb";
constexpr char kImage[] = "../shared/real/symbols/amdppm.sys/c9c030003b000/amdppm.sys";
constexpr char kFltMgr[] = "../shared/real/symbols/fltMgr.sys/49BB82CA6e000/fltMgr.sys";

struct PeerPublic {
  std::string name;
  uint16_t section = 0;
  uint32_t offset = 0;
  bool function = false;
  friend bool operator<(const PeerPublic& a, const PeerPublic& b) {
    return std::tie(a.section, a.offset, a.name) < std::tie(b.section, b.offset, b.name);
  }
  friend bool operator==(const PeerPublic&, const PeerPublic&) = default;
};

// `llvm-pdbutil-19 dump -publics`; nullopt when the peer is not installed.
std::optional<std::vector<PeerPublic>> PeerPublics(const std::string& path) {
  const std::string cmd = "llvm-pdbutil-19 dump -publics '" + path + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return std::nullopt;
  const std::regex record(R"(S_PUB32 \[size = \d+\] `(.*)`)");
  const std::regex where(R"(flags = (.*), addr = (\d+):(\d+))");
  std::vector<PeerPublic> out;
  std::cmatch m;
  char line[1024];
  while (fgets(line, sizeof(line), pipe.get()) != nullptr) {
    if (std::regex_search(line, m, record)) {
      out.push_back({m[1].str()});
    } else if (!out.empty() && std::regex_search(line, m, where)) {
      out.back().function = m[1].str().find("function") != std::string::npos;
      out.back().section = static_cast<uint16_t>(std::stoul(m[2].str()));
      out.back().offset = static_cast<uint32_t>(std::stoul(m[3].str()));
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

class AmdppmTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<PdbFile>> pdb = PdbFile::OpenFile(kPdb);
    ASSERT_TRUE(pdb.ok()) << pdb.status();
    pdb_ = std::move(*pdb).release();
    absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image = OpenImageFile(kImage);
    ASSERT_TRUE(image.ok()) << image.status();
    image_ = new std::shared_ptr<const unwind::PeImage>(*image);
  }
  static void TearDownTestSuite() {
    delete pdb_;
    delete image_;
  }
  // Section 0 and the one past the last are absolute (e.g. __guard_flags).
  static std::optional<uint32_t> Rva(uint16_t section, uint32_t offset) {
    if (section == 0 || section > pdb_->sections().size()) return std::nullopt;
    return pdb_->sections()[section - 1].virtual_address + offset;
  }
  // Names of the function publics at each RVA (aliases such as memcpy and
  // memmove share one).
  static std::map<uint32_t, std::set<std::string>> FunctionPublics() {
    std::map<uint32_t, std::set<std::string>> out;
    for (const PdbPublic& p : pdb_->publics())
      if (std::optional<uint32_t> rva = Rva(p.section, p.offset); rva && p.function)
        out[*rva].insert(FunctionName(p.name));
    return out;
  }
  static PdbFile* pdb_;
  static std::shared_ptr<const unwind::PeImage>* image_;
};
PdbFile* AmdppmTest::pdb_ = nullptr;
std::shared_ptr<const unwind::PeImage>* AmdppmTest::image_ = nullptr;

TEST_F(AmdppmTest, IdentityMatchesTheImageAndTheStoreDirectory) {
  const std::optional<unwind::CodeViewRecord>& cv = (*image_)->codeview();
  ASSERT_TRUE(cv.has_value());
  EXPECT_EQ(pdb_->guid(), cv->guid);
  EXPECT_TRUE(pdb_->CheckMatches(cv->guid, cv->age).ok());
  // The stripped PDB's info stream was rewritten (age 3); images match the
  // DBI age, and the store directory is named after the image's key.
  EXPECT_EQ(pdb_->age(), 3u);
  EXPECT_EQ(pdb_->StoreKey(), "1C19FDDB27BB3399D9B45973EFEAFCF31");
  EXPECT_EQ(pdb_->StoreKey(), cv->StoreKey());
  // A newer image (higher age) or another GUID does not match; an older one
  // (the PDB was written again after the link) does.
  EXPECT_FALSE(pdb_->CheckMatches(cv->guid, pdb_->dbi_age() + 1).ok());
  EXPECT_TRUE(pdb_->CheckMatches(cv->guid, pdb_->dbi_age() - 1).ok());
  std::array<uint8_t, 16> other = cv->guid;
  other[15] ^= 1;
  absl::Status mismatch = pdb_->CheckMatches(other, cv->age);
  EXPECT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.message().find("1C19FDDB"), std::string::npos) << mismatch;
}

TEST_F(AmdppmTest, SectionHeadersEqualTheImagesOwn) {
  const std::vector<unwind::PeSection>& image_sections = (*image_)->sections();
  ASSERT_EQ(pdb_->sections().size(), image_sections.size());
  for (size_t i = 0; i < image_sections.size(); ++i) {
    EXPECT_EQ(pdb_->sections()[i].name, image_sections[i].name);
    EXPECT_EQ(pdb_->sections()[i].virtual_address, image_sections[i].virtual_address);
  }
  EXPECT_TRUE(pdb_->original_sections().empty());
  EXPECT_TRUE(pdb_->omap_to_src().empty());
}

TEST_F(AmdppmTest, PublicsEqualLlvmPdbutilsListing) {
  std::optional<std::vector<PeerPublic>> peer = PeerPublics(kPdb);
  if (!peer) GTEST_SKIP() << "llvm-pdbutil-19 is not installed";
  std::vector<PeerPublic> ours;
  for (const PdbPublic& p : pdb_->publics()) ours.push_back({p.name, p.section, p.offset, p.function});
  std::sort(peer->begin(), peer->end());
  std::sort(ours.begin(), ours.end());
  EXPECT_EQ(ours.size(), 959u);
  EXPECT_EQ(ours, *peer);
  // Stripped: no line information, and of the private procedures only the
  // one `llvm-pdbutil-19 dump -symbols` lists (module 34, energyestimation.obj):
  // S_LPROC32 RtlStringCopyWorkerW at 0001:49824, code size 83.
  EXPECT_TRUE(pdb_->lines().empty());
  ASSERT_EQ(pdb_->procedures().size(), 1u);
  EXPECT_EQ(pdb_->procedures()[0].name, "RtlStringCopyWorkerW");
  EXPECT_EQ(pdb_->procedures()[0].section, 1);
  EXPECT_EQ(pdb_->procedures()[0].offset, 49824u);
  EXPECT_EQ(pdb_->procedures()[0].length, 83u);
}

TEST_F(AmdppmTest, EveryFunctionPublicNamesItsOwnAddressAndWhatFollows) {
  SymbolIndex index = SymbolIndex::FromPdb(*pdb_, (*image_)->sections());
  size_t checked = 0;
  for (const auto& [rva, names] : FunctionPublics()) {
    for (uint32_t probe : {rva, rva + 1}) {
      std::optional<SymbolHit> hit = index.Lookup(probe);
      ASSERT_TRUE(hit.has_value()) << *names.begin();
      EXPECT_EQ(hit->start, rva) << *names.begin();
      EXPECT_TRUE(names.contains(std::string(hit->name))) << hit->name << " at " << std::hex << rva;
    }
    checked += names.size();
  }
  EXPECT_EQ(checked, 513u);
}

TEST_F(AmdppmTest, DataPublicsNameDataButNeverCode) {
  auto index = std::make_shared<const SymbolIndex>(SymbolIndex::FromPdb(*pdb_, (*image_)->sections()));
  absl::StatusOr<unwind::RuntimeFunctionTable> table = unwind::RuntimeFunctionTable::Create(*image_);
  ASSERT_TRUE(table.ok()) << table.status();
  ModuleSymbols symbols(index, std::make_shared<const unwind::RuntimeFunctionTable>(*std::move(table)));
  const std::map<uint32_t, std::set<std::string>> functions = FunctionPublics();
  size_t data = 0;
  for (const PdbPublic& p : pdb_->publics()) {
    std::optional<uint32_t> rva = Rva(p.section, p.offset);
    if (p.function || !rva || functions.contains(*rva)) continue;
    ++data;
    // `ln` on a global or a string literal names it ...
    SymbolizedAddress any = symbols.Symbolize(*rva, AddressKind::kAny);
    if (any.origin == SymbolOrigin::kData) {
      EXPECT_EQ(any.displacement, 0) << p.name;
    }
    // ... but as a code address it never is.
    EXPECT_NE(symbols.Symbolize(*rva).origin, SymbolOrigin::kData) << p.name;
  }
  EXPECT_GT(data, 300u);
  // Nothing in the image's code is named as WinDbg's `?? ::FNODOBFM::`string'`.
  size_t code = 0;
  for (const unwind::PeSection& section : (*image_)->sections()) {
    if (!section.IsExecutable()) continue;
    for (uint32_t rva = section.virtual_address; rva < section.virtual_address + section.virtual_size;
         rva += 3) {
      SymbolizedAddress s = symbols.Symbolize(rva);
      EXPECT_NE(s.origin, SymbolOrigin::kData) << std::hex << rva << " " << s.function;
      ++code;
    }
  }
  EXPECT_GT(code, 50000u);
}

TEST_F(AmdppmTest, ChainedEntriesAreNamedAfterTheirChainRootsFunction) {
  auto index = std::make_shared<const SymbolIndex>(SymbolIndex::FromPdb(*pdb_, (*image_)->sections()));
  absl::StatusOr<unwind::RuntimeFunctionTable> table = unwind::RuntimeFunctionTable::Create(*image_);
  ASSERT_TRUE(table.ok()) << table.status();
  auto unwind = std::make_shared<const unwind::RuntimeFunctionTable>(*std::move(table));
  ModuleSymbols symbols(index, unwind);
  const std::map<uint32_t, std::set<std::string>> functions = FunctionPublics();
  size_t chained = 0;
  for (const unwind::RuntimeFunction& e : unwind->entries()) {
    absl::StatusOr<std::optional<unwind::FunctionResolution>> r = unwind->Resolve(e.begin);
    ASSERT_TRUE(r.ok() && r->has_value());
    if ((*r)->primary.begin == e.begin) continue;
    ++chained;
    auto root = functions.find((*r)->primary.begin);
    ASSERT_NE(root, functions.end()) << std::hex << e.begin;
    for (uint32_t rva : {e.begin, e.end - 1}) {
      SymbolizedAddress s = symbols.Symbolize(rva);
      EXPECT_TRUE(root->second.contains(s.function)) << s.function << " at " << std::hex << rva;
      EXPECT_EQ(s.displacement, static_cast<int64_t>(rva) - root->first) << std::hex << rva;
    }
  }
  EXPECT_EQ(chained, 19u);
}

// fltMgr.sys: chunks far from their function. Named from exports, a chunk's
// preceding export is some unrelated function; the chain root says which
// function it belongs to.
TEST(FltMgrTest, SeparatedChunksOfExportedFunctionsAreNamedAfterThem) {
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image = OpenImageFile(kFltMgr);
  ASSERT_TRUE(image.ok()) << image.status();
  auto index = std::make_shared<const SymbolIndex>(SymbolIndex::FromExports(**image));
  ASSERT_GT(index->size(), 100u);
  absl::StatusOr<unwind::RuntimeFunctionTable> table = unwind::RuntimeFunctionTable::Create(*image);
  ASSERT_TRUE(table.ok()) << table.status();
  auto unwind = std::make_shared<const unwind::RuntimeFunctionTable>(*std::move(table));
  ModuleSymbols symbols(index, unwind);
  size_t far_chunks_of_exports = 0, naive_would_differ = 0;
  for (const unwind::RuntimeFunction& e : unwind->entries()) {
    absl::StatusOr<std::optional<unwind::FunctionResolution>> r = unwind->Resolve(e.begin);
    ASSERT_TRUE(r.ok() && r->has_value());
    const uint32_t root = (*r)->primary.begin;
    if (root == e.begin) continue;
    std::optional<SymbolHit> parent = index->At(root);
    if (!parent) continue;  // the chunk's function is not exported
    const int64_t distance = static_cast<int64_t>(e.begin) - root;
    if (distance < 0x10000 && distance > -0x10000) continue;
    ++far_chunks_of_exports;
    SymbolizedAddress s = symbols.Symbolize(e.begin + 1);
    EXPECT_EQ(s.function, parent->name) << std::hex << e.begin;
    EXPECT_EQ(s.displacement, distance + 1) << std::hex << e.begin;
    ASSERT_TRUE(s.chunk_start.has_value());
    EXPECT_EQ(*s.chunk_start, e.begin);
    std::optional<SymbolHit> naive = index->Lookup(e.begin + 1);
    naive_would_differ += !naive || naive->name != parent->name;
  }
  EXPECT_GT(far_chunks_of_exports, 0u);
  // The test means something: name-by-preceding-symbol gets these wrong.
  EXPECT_EQ(naive_would_differ, far_chunks_of_exports);
}

}  // namespace
}  // namespace restack::sym
