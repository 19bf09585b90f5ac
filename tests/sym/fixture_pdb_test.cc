// fixture_pdb_test.cc - chunk names, S_SEPCODE and OMAP against tests/fixtures/pdb/
//
// Ground truth comes from the fixtures' truth files, written from lld-link's
// map, the objects and the hand-written tables (tests/fixtures/README.md); no
// PDB reader produced it. llvm_symbolizer_chunks.txt records the peer's
// answers for the same probes.
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "restack/sym/image_locator.h"
#include "restack/sym/module_symbols.h"
#include "restack/sym/pdb_file.h"
#include "restack/sym/sep_code.h"
#include "restack/sym/symbol_index.h"
#include "restack/unwind/runtime_function_table.h"

namespace restack::sym {
namespace {

using nlohmann::json;

constexpr char kDir[] = "tests/fixtures/pdb/";

json ReadJson(const std::string& name) {
  std::ifstream in(std::string(kDir) + name);
  EXPECT_TRUE(in) << name;
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

uint32_t Hex(const json& v) { return static_cast<uint32_t>(std::stoul(v.get<std::string>(), nullptr, 16)); }
int64_t SignedHex(const json& v) {
  const std::string s = v.get<std::string>();
  return s[0] == '-' ? -static_cast<int64_t>(std::stoull(s.substr(1), nullptr, 16))
                     : static_cast<int64_t>(std::stoull(s, nullptr, 16));
}

std::string Describe(const SymbolizedAddress& s) {
  std::ostringstream out;
  out << (s.function.empty() ? "<none>" : s.function) << (s.displacement < 0 ? "-0x" : "+0x")
      << std::hex << (s.displacement < 0 ? -s.displacement : s.displacement) << " ("
      << SymbolOriginName(s.origin) << ")";
  return out.str();
}

// The chunk image with one of its two PDBs (full or publics-only).
struct ChunkModule {
  std::shared_ptr<const unwind::PeImage> image;
  std::unique_ptr<PdbFile> pdb;
  std::unique_ptr<ModuleSymbols> symbols;
};

ChunkModule OpenChunks(const std::string& store, const json& truth) {
  ChunkModule m;
  const std::string base = std::string(kDir) + store + "/";
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image = OpenImageFile(
      base + "restack_chunks.dll/" + truth["image_key"].get<std::string>() + "/restack_chunks.dll");
  EXPECT_TRUE(image.ok()) << image.status();
  if (!image.ok()) return m;
  m.image = *image;
  absl::StatusOr<std::unique_ptr<PdbFile>> pdb = PdbFile::OpenFile(
      base + "restack_chunks.pdb/" + truth["pdb_key"].get<std::string>() + "/restack_chunks.pdb");
  EXPECT_TRUE(pdb.ok()) << pdb.status();
  if (!pdb.ok()) return m;
  m.pdb = *std::move(pdb);
  EXPECT_TRUE(m.pdb->CheckMatches(m.image->codeview()->guid, m.image->codeview()->age).ok());
  absl::StatusOr<unwind::RuntimeFunctionTable> table = unwind::RuntimeFunctionTable::Create(m.image);
  EXPECT_TRUE(table.ok()) << table.status();
  m.symbols = std::make_unique<ModuleSymbols>(
      std::make_shared<const SymbolIndex>(
          SymbolIndex::FromPdb(*m.pdb, m.image->sections(), {.raw_names = true})),
      std::make_shared<const unwind::RuntimeFunctionTable>(*std::move(table)));
  return m;
}

class ChunkImageTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ChunkImageTest, EveryProbeIsNamedAsTheTruthSays) {
  const json truth = ReadJson("chunks.truth.json");
  ASSERT_FALSE(truth.is_discarded());
  ChunkModule m = OpenChunks(truth["stores"][GetParam()].get<std::string>(), truth);
  ASSERT_NE(m.symbols, nullptr);
  std::map<std::string, int> right, total;
  for (const json& probe : truth["probes"]) {
    const uint32_t rva = Hex(probe["rva"]);
    const std::string kind = probe["kind"].get<std::string>();
    // Code probes are frame addresses; literal probes are data (`ln`).
    SymbolizedAddress s =
        m.symbols->Symbolize(rva, kind == "literal" ? AddressKind::kAny : AddressKind::kCode);
    const bool ok = s.function == probe["name"].get<std::string>() &&
                    s.displacement == SignedHex(probe["offset"]);
    EXPECT_TRUE(ok) << GetParam() << " " << kind << " probe 0x" << std::hex << rva << ": "
                    << Describe(s) << ", truth " << probe["name"].get<std::string>()
                    << probe["offset"].get<std::string>();
    right[kind] += ok;
    ++total[kind];
    if (kind == "chunk") {
      EXPECT_TRUE(s.chunk_start.has_value()) << std::hex << rva;
    } else {
      EXPECT_FALSE(s.chunk_start.has_value()) << std::hex << rva;
    }
  }
  EXPECT_EQ(total["chunk"], 40);
  for (const auto& [kind, n] : total) {
    std::printf("  %s PDB, %s probes: restack %d/%d right\n", GetParam(), kind.c_str(), right[kind], n);
  }
}

// The peer's recorded answers: the reason this code exists. llvm-symbolizer
// names every chunk after the string literal before it.
TEST_P(ChunkImageTest, LlvmSymbolizerNamesChunksAfterLiterals) {
  std::ifstream in(std::string(kDir) + "llvm_symbolizer_chunks.txt");
  ASSERT_TRUE(in);
  const json truth = ReadJson("chunks.truth.json");
  ChunkModule m = OpenChunks(truth["stores"][GetParam()].get<std::string>(), truth);
  ASSERT_NE(m.symbols, nullptr);
  const int column = std::string(GetParam()) == "full" ? 4 : 6;  // the raw-name answers
  int chunks = 0, peer_right = 0, restack_right = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("rva", 0) == 0) continue;
    std::vector<std::string> cols;
    std::istringstream fields(line);
    for (std::string f; std::getline(fields, f, '\t');) cols.push_back(f);
    ASSERT_GE(cols.size(), 7u) << line;
    if (cols[1] != "chunk") continue;
    ++chunks;
    const std::string truth_name = cols[2].substr(0, cols[2].find_first_of("+-"));
    peer_right += cols[column] == truth_name;
    SymbolizedAddress s = m.symbols->Symbolize(static_cast<uint32_t>(std::stoul(cols[0], nullptr, 16)));
    restack_right += s.function == truth_name;
    EXPECT_EQ(cols[column].rfind("??_C@", 0), 0u) << "the peer changed: " << line;
  }
  EXPECT_EQ(chunks, 40);
  EXPECT_EQ(restack_right, chunks);
  std::printf("  chunk probes named after their function (%s PDB): restack %d/%d, llvm-symbolizer-19 %d/%d\n",
              GetParam(), restack_right, chunks, peer_right, chunks);
}

INSTANTIATE_TEST_SUITE_P(Pdbs, ChunkImageTest, ::testing::Values("full", "publics"));

TEST(SepCodeFixtureTest, RecordsDecodeAsWritten) {
  const json truth = ReadJson("sepcode.truth.json");
  absl::StatusOr<std::unique_ptr<PdbFile>> pdb = PdbFile::OpenFile(std::string(kDir) + "sepcode.pdb");
  ASSERT_TRUE(pdb.ok()) << pdb.status();
  EXPECT_EQ((*pdb)->StoreKey(), truth["guid_age_key"].get<std::string>());
  ASSERT_EQ((*pdb)->separated_blocks().size(), truth["sepcode"].size());
  for (size_t i = 0; i < truth["sepcode"].size(); ++i) {
    const json& t = truth["sepcode"][i];
    // The bytes alone, through the decoder.
    std::vector<uint8_t> bytes;
    const std::string hex = t["bytes"].get<std::string>();
    for (size_t j = 0; j + 1 < hex.size(); j += 2) bytes.push_back(std::stoul(hex.substr(j, 2), nullptr, 16));
    absl::StatusOr<SepCodeRecord> rec = DecodeSepCode(bytes);
    ASSERT_TRUE(rec.ok()) << rec.status();
    for (const SepCodeRecord& r : {*rec, (*pdb)->separated_blocks()[i].record}) {
      EXPECT_EQ(r.parent, Hex(t["parent"]));
      EXPECT_EQ(r.end, Hex(t["end"]));
      EXPECT_EQ(r.length, Hex(t["length"]));
      EXPECT_EQ(r.flags, t["flags"].get<uint32_t>());
      EXPECT_EQ(r.offset, Hex(t["off"]));
      EXPECT_EQ(r.parent_offset, Hex(t["offParent"]));
      EXPECT_EQ(r.section, t["sect"].get<uint16_t>());
      EXPECT_EQ(r.parent_section, t["sectParent"].get<uint16_t>());
    }
    EXPECT_EQ(rec->IsLexicalScope(), (t["flags"].get<uint32_t>() & 1) != 0);
    EXPECT_EQ(rec->ReturnsToParent(), (t["flags"].get<uint32_t>() & 2) != 0);
    // Nested blocks lead to the procedure, not to the enclosing block.
    EXPECT_EQ((*pdb)->separated_blocks()[i].parent_name, t["function"].get<std::string>());
  }
  EXPECT_TRUE((*pdb)->warnings().empty()) << (*pdb)->warnings().front();
}

TEST(SepCodeFixtureTest, BlocksAreNamedAfterTheirFunction) {
  const json truth = ReadJson("sepcode.truth.json");
  absl::StatusOr<std::unique_ptr<PdbFile>> pdb = PdbFile::OpenFile(std::string(kDir) + "sepcode.pdb");
  ASSERT_TRUE(pdb.ok()) << pdb.status();
  ModuleSymbols symbols(
      std::make_shared<const SymbolIndex>(SymbolIndex::FromPdb(**pdb, {}, {.raw_names = true})), nullptr);
  int blocks = 0;
  for (const json& probe : truth["probes"]) {
    const uint32_t rva = Hex(probe["rva"]);
    const std::string kind = probe["kind"].get<std::string>();
    SymbolizedAddress s =
        symbols.Symbolize(rva, kind == "literal" ? AddressKind::kAny : AddressKind::kCode);
    EXPECT_EQ(s.function, probe["name"].get<std::string>()) << std::hex << rva;
    EXPECT_EQ(s.displacement, SignedHex(probe["offset"])) << std::hex << rva << " " << Describe(s);
    if (kind == "block") {
      ++blocks;
      EXPECT_EQ(s.origin, SymbolOrigin::kSeparated);
      ASSERT_TRUE(s.chunk_start.has_value());
      EXPECT_LE(*s.chunk_start, rva);
    }
  }
  EXPECT_EQ(blocks, 24);
}

TEST(OmapFixtureTest, TablesDecodeAndFinalAddressesAreNamedInOriginalTerms) {
  const json truth = ReadJson("omap.truth.json");
  absl::StatusOr<std::unique_ptr<PdbFile>> pdb = PdbFile::OpenFile(std::string(kDir) + "omap.pdb");
  ASSERT_TRUE(pdb.ok()) << pdb.status();
  const PdbFile& p = **pdb;
  ASSERT_EQ(p.omap_to_src().entries().size(), truth["omap_to_src"].size());
  for (size_t i = 0; i < truth["omap_to_src"].size(); ++i) {
    EXPECT_EQ(p.omap_to_src().entries()[i].rva, Hex(truth["omap_to_src"][i][0]));
    EXPECT_EQ(p.omap_to_src().entries()[i].rva_to, Hex(truth["omap_to_src"][i][1]));
  }
  ASSERT_EQ(p.omap_from_src().entries().size(), truth["omap_from_src"].size());
  ASSERT_EQ(p.original_sections().size(), truth["sections_original"].size());
  for (size_t i = 0; i < p.original_sections().size(); ++i) {
    EXPECT_EQ(p.original_sections()[i].virtual_address, Hex(truth["sections_original"][i]["rva"]));
    EXPECT_EQ(p.sections()[i].virtual_address, Hex(truth["sections_final"][i]["rva"]));
  }
  ModuleSymbols symbols(std::make_shared<const SymbolIndex>(SymbolIndex::FromPdb(p, {})), nullptr);
  for (const json& probe : truth["probes"]) {
    const uint32_t rva = Hex(probe["rva"]);
    if (probe["original_rva"].is_null()) {
      EXPECT_EQ(p.omap_to_src().Map(rva), std::nullopt) << std::hex << rva;
    } else {
      EXPECT_EQ(p.omap_to_src().Map(rva), Hex(probe["original_rva"])) << std::hex << rva;
    }
    SymbolizedAddress s = symbols.Symbolize(rva, AddressKind::kAny);
    if (probe["name"].is_null()) {
      EXPECT_TRUE(s.function.empty()) << std::hex << rva << " " << Describe(s);
      continue;
    }
    EXPECT_EQ(s.function, probe["name"].get<std::string>()) << std::hex << rva;
    EXPECT_EQ(s.displacement, SignedHex(probe["offset"])) << std::hex << rva << " " << Describe(s);
  }
  // Symbols' final addresses: where they start, they are named.
  for (const json& sym : truth["symbols"]) {
    if (sym["final_rva"].is_null()) continue;
    SymbolizedAddress s = symbols.Symbolize(Hex(sym["final_rva"]), AddressKind::kAny);
    EXPECT_EQ(s.function, sym["name"].get<std::string>());
    EXPECT_EQ(s.displacement, 0);
  }
}

}  // namespace
}  // namespace restack::sym
