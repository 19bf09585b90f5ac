// symbol_index_equivalence_test.cc - the fast lookups against plain reference implementations
//
// SymbolIndex searches its entries and lines through bucket tables (a first
// index per 2^shift bytes of RVA) and keeps name lengths; ModuleSymbols reads
// .pdata resolutions it computed at construction and reuses its Lookup answer
// for the chain root (docs/benchmarks.md). None of that may change an answer.
// Here every answer is recomputed the straightforward way, from what the public
// API gives (PdbFile's records and OMAP tables, PeImage's exports,
// RuntimeFunctionTable::Resolve): one vector sorted by RVA, std::upper_bound /
// std::lower_bound over all of it, and Symbolize as it read before the caches.
// Every RVA of every executable section must agree (and a sample elsewhere).
//
// RESTACK_SYMBOL_INDEX_EXTRA=IMAGE,PDB[;IMAGE,PDB...] checks more inputs the
// same way (e.g. the benchmark's large generated module).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "restack/sym/demangle.h"
#include "restack/sym/image_locator.h"
#include "restack/sym/module_symbols.h"
#include "restack/sym/omap.h"
#include "restack/sym/pdb_file.h"
#include "restack/sym/symbol_index.h"
#include "restack/unwind/runtime_function_table.h"

namespace restack::sym {
namespace {

constexpr char kAmdppmImage[] = "../shared/real/symbols/amdppm.sys/c9c030003b000/amdppm.sys";
constexpr char kAmdppmPdb[] =
    "../shared/real/symbols/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb";
constexpr char kChunksImage[] =
    "tests/fixtures/pdb/store-full/restack_chunks.dll/8E7D24127000/restack_chunks.dll";
constexpr char kChunksFullPdb[] =
    "tests/fixtures/pdb/store-full/restack_chunks.pdb/05E38BAE925816984C4C44205044422E1/"
    "restack_chunks.pdb";
constexpr char kChunksPublicsPdb[] =
    "tests/fixtures/pdb/store-publics/restack_chunks.pdb/05E38BAE925816984C4C44205044422E1/"
    "restack_chunks.pdb";
constexpr char kFxImage[] = "tests/fixtures/store/restack_fx.exe/1953FAAA63f000/restack_fx.exe";
constexpr char kFxPdb[] =
    "tests/fixtures/store/restack_fx.pdb/D9FBF4F8799EA7124C4C44205044422E1/restack_fx.pdb";
constexpr char kFxDllImage[] = "tests/fixtures/store/restack_fxdll.dll/6DDD94A16000/restack_fxdll.dll";
constexpr char kFxDllPdb[] =
    "tests/fixtures/store/restack_fxdll.pdb/F6217C2BFD6216744C4C44205044422E1/restack_fxdll.pdb";
constexpr char kKernel32[] = "tests/fixtures/store/kernel32.dll/63F14E2B195000/kernel32.dll";
constexpr char kOmapPdb[] = "tests/fixtures/pdb/omap.pdb";
constexpr char kSepCodePdb[] = "tests/fixtures/pdb/sepcode.pdb";

// ------------------------------------------------------------------ the reference

// The index as docs/symbols.md describes it, kept the plain way.
class Reference {
 public:
  static Reference FromPdb(const PdbFile& pdb, std::span<const unwind::PeSection> image_sections,
                           bool raw_names) {
    Reference r;
    const bool omap = !pdb.omap_to_src().empty() && !pdb.omap_from_src().empty();
    if (omap) {
      r.to_src_ = pdb.omap_to_src();
      r.from_src_ = pdb.omap_from_src();
    }
    struct Placement {
      uint32_t va, size;
      bool executable;
    };
    std::vector<Placement> sections;
    for (const PdbSection& s :
         omap && !pdb.original_sections().empty() ? pdb.original_sections() : pdb.sections()) {
      sections.push_back({s.virtual_address, s.virtual_size, s.IsExecutable()});
    }
    if (sections.empty()) {
      for (const unwind::PeSection& s : image_sections) {
        sections.push_back({s.virtual_address, s.MemorySize(), s.IsExecutable()});
      }
    }
    auto place = [&](uint16_t section, uint32_t offset) -> std::optional<Placement> {
      if (section == 0 || section > sections.size()) return std::nullopt;
      Placement p = sections[section - 1];
      p.va += offset;
      return p;
    };
    for (const PdbProcedure& p : pdb.procedures()) {
      if (auto at = place(p.section, p.offset)) {
        r.Add({at->va, p.length, p.name, 0, p.thunk ? SymbolOrigin::kThunk : SymbolOrigin::kProcedure,
               p.thunk ? 1 : 0});
      }
    }
    for (const PdbSeparatedBlock& b : pdb.separated_blocks()) {
      auto at = place(b.record.section, b.record.offset);
      auto parent = place(b.function_section, b.function_offset);
      if (at && parent && !b.parent_name.empty()) {
        r.Add({at->va, b.record.length, b.parent_name, parent->va, SymbolOrigin::kSeparated, 2});
      }
    }
    for (const PdbPublic& p : pdb.publics()) {
      if (auto at = place(p.section, p.offset)) {
        const bool data = !at->executable || IsStringLiteralName(p.name);
        r.Add({at->va, 0, raw_names ? p.name : FunctionName(p.name), 0,
               data ? SymbolOrigin::kData : SymbolOrigin::kPublic, data ? 4 : 3});
      }
    }
    for (const PdbContribution& c : pdb.contributions()) {
      if (auto at = place(c.section, c.offset)) r.Add({at->va, 0, std::nullopt, 0, SymbolOrigin::kPublic, 5});
    }
    for (const Placement& s : sections) r.Add({s.va + s.size, 0, std::nullopt, 0, SymbolOrigin::kPublic, 5});
    r.files_ = pdb.files();
    for (const PdbLine& l : pdb.lines()) {
      if (auto at = place(l.section, l.offset)) r.lines_.push_back({at->va, l.length, l.line, l.file});
    }
    r.Finish();
    return r;
  }

  static Reference FromExports(const unwind::PeImage& image) {
    Reference r;
    absl::StatusOr<std::vector<unwind::PeExport>> exports = image.Exports();
    if (exports.ok()) {
      for (const unwind::PeExport& e : *exports) {
        if (e.name.empty() || !e.forwarder.empty() || !image.IsExecutableRva(e.rva)) continue;
        r.Add({e.rva, 0, e.name, 0, SymbolOrigin::kExport, 3});
      }
      for (const unwind::PeSection& s : image.sections()) {
        if (s.IsExecutable()) {
          r.Add({s.virtual_address + s.MemorySize(), 0, std::nullopt, 0, SymbolOrigin::kExport, 5});
        }
      }
    }
    r.Finish();
    return r;
  }

  // The last entry at or below the address, unless a boundary or a sized
  // symbol ending before it.
  std::optional<SymbolHit> Lookup(uint32_t rva) const {
    const std::optional<uint32_t> source = ToSource(rva);
    if (!source) return std::nullopt;
    auto it = std::upper_bound(entries_.begin(), entries_.end(), *source,
                               [](uint32_t v, const Entry& e) { return v < e.rva; });
    if (it == entries_.begin()) return std::nullopt;
    const Entry& e = *std::prev(it);
    if (!e.name) return std::nullopt;
    if (e.length != 0 && *source - e.rva >= e.length) return std::nullopt;
    return Hit(e, *source);
  }

  std::optional<SymbolHit> At(uint32_t rva) const {
    const std::optional<uint32_t> source = ToSource(rva);
    if (!source) return std::nullopt;
    auto it = std::lower_bound(entries_.begin(), entries_.end(), *source,
                               [](const Entry& e, uint32_t v) { return e.rva < v; });
    if (it == entries_.end() || it->rva != *source || !it->name) return std::nullopt;
    return Hit(*it, *source);
  }

  std::optional<SourcePosition> LineAt(uint32_t rva) const {
    const std::optional<uint32_t> source = ToSource(rva);
    if (!source) return std::nullopt;
    auto it = std::upper_bound(lines_.begin(), lines_.end(), *source,
                               [](uint32_t v, const Line& l) { return v < l.rva; });
    if (it == lines_.begin()) return std::nullopt;
    const Line& l = *std::prev(it);
    if (*source - l.rva >= std::max<uint32_t>(l.length, 1) || l.file >= files_.size()) return std::nullopt;
    return SourcePosition{files_[l.file], l.line};
  }

  // Every RVA a name was added at (aliases included, S_SEPCODE blocks not).
  std::vector<uint32_t> FindName(const std::string& name) const {
    std::set<uint32_t> out;
    for (const Entry& e : added_) {
      if (e.name && *e.name == name && e.origin != SymbolOrigin::kSeparated) {
        out.insert(ToFinal(e.rva).value_or(e.rva));
      }
    }
    return {out.begin(), out.end()};
  }
  std::set<std::string> Names() const {
    std::set<std::string> out;
    for (const Entry& e : added_) {
      if (e.name) out.insert(*e.name);
    }
    return out;
  }

  size_t size() const { return entries_.size(); }
  size_t named() const {
    return static_cast<size_t>(std::count_if(entries_.begin(), entries_.end(),
                                             [](const Entry& e) { return e.name.has_value(); }));
  }
  size_t lines() const { return lines_.size(); }

  // Symbolize before the caches: Resolve per address, At/Lookup for the root.
  SymbolizedAddress Symbolize(uint32_t rva, AddressKind kind,
                              const unwind::RuntimeFunctionTable* unwind) const {
    SymbolizedAddress out;
    std::optional<SymbolHit> hit = Lookup(rva);
    auto named = [&](const SymbolHit& h, std::optional<int64_t> displacement = std::nullopt) {
      out.function = std::string(h.name);
      out.displacement = displacement.value_or(static_cast<int64_t>(rva) - h.start);
      out.origin = h.origin;
      out.source = LineAt(rva);
    };
    auto code_begin = [](const SymbolHit& h) {
      return h.origin == SymbolOrigin::kSeparated ? h.block_start : h.start;
    };
    if (unwind != nullptr) {
      absl::StatusOr<std::optional<unwind::FunctionResolution>> r = unwind->Resolve(rva);
      if (r.ok() && r->has_value()) {
        const uint32_t root = (*r)->primary.begin;
        std::optional<SymbolHit> parent = At(root);
        if (parent && parent->origin == SymbolOrigin::kData) parent.reset();
        if (!parent) {
          std::optional<SymbolHit> covering = Lookup(root);
          if (covering && (covering->origin == SymbolOrigin::kProcedure ||
                           covering->origin == SymbolOrigin::kThunk ||
                           covering->origin == SymbolOrigin::kSeparated)) {
            parent = covering;
          }
        }
        if (root != (*r)->found.begin) {
          out.chunk_start = (*r)->found.begin;
          if (parent) named(*parent);
          return out;
        }
        if (parent && (!hit || hit->origin == SymbolOrigin::kData ||
                       hit->origin == SymbolOrigin::kPublic || hit->origin == SymbolOrigin::kExport ||
                       code_begin(*hit) < code_begin(*parent))) {
          named(*parent);
          return out;
        }
        if (!parent && hit && code_begin(*hit) < root) return out;
      }
    }
    if (!hit) return out;
    if (hit->origin == SymbolOrigin::kData && kind == AddressKind::kCode) return out;
    named(*hit, hit->displacement);
    if (hit->origin == SymbolOrigin::kSeparated) out.chunk_start = hit->block_start;
    return out;
  }

 private:
  struct Entry {
    uint32_t rva = 0;
    uint32_t length = 0;
    std::optional<std::string> name;  // nullopt: a boundary
    uint32_t parent = 0;
    SymbolOrigin origin = SymbolOrigin::kPublic;
    int rank = 0;
  };
  struct Line {
    uint32_t rva, length, line, file;
  };

  void Add(Entry e) { added_.push_back(std::move(e)); }

  // One entry per RVA: the lowest rank, the first added among equals.
  void Finish() {
    std::map<uint32_t, const Entry*> best;
    for (const Entry& e : added_) {
      auto [it, fresh] = best.emplace(e.rva, &e);
      if (!fresh && e.rank < it->second->rank) it->second = &e;
    }
    for (const auto& [rva, e] : best) entries_.push_back(*e);
    std::stable_sort(lines_.begin(), lines_.end(), [](const Line& a, const Line& b) { return a.rva < b.rva; });
  }

  std::optional<uint32_t> ToSource(uint32_t rva) const {
    return to_src_.empty() ? std::optional<uint32_t>(rva) : to_src_.Map(rva);
  }
  std::optional<uint32_t> ToFinal(uint32_t rva) const {
    return from_src_.empty() ? std::optional<uint32_t>(rva) : from_src_.Map(rva);
  }

  SymbolHit Hit(const Entry& e, uint32_t source) const {
    SymbolHit hit;
    hit.name = *e.name;
    hit.origin = e.origin;
    const uint32_t start = e.origin == SymbolOrigin::kSeparated ? e.parent : e.rva;
    hit.start = ToFinal(start).value_or(start);
    hit.block_start = ToFinal(e.rva).value_or(e.rva);
    hit.displacement = static_cast<int64_t>(source) - start;
    return hit;
  }

  std::vector<Entry> added_;    // as added
  std::vector<Entry> entries_;  // by RVA, one per RVA
  std::vector<Line> lines_;     // by RVA
  std::vector<std::string> files_;
  Omap to_src_, from_src_;
};

// ------------------------------------------------------------------ comparing

std::string Show(const std::optional<SymbolHit>& h) {
  if (!h) return "none";
  std::ostringstream out;
  out << h->name << " start=0x" << std::hex << h->start << " block=0x" << h->block_start << " disp="
      << std::dec << h->displacement << " " << SymbolOriginName(h->origin);
  return out.str();
}
std::string Show(const std::optional<SourcePosition>& p) {
  return p ? std::string(p->file) + ":" + std::to_string(p->line) : "none";
}
std::string Show(const SymbolizedAddress& s) {
  std::ostringstream out;
  out << (s.function.empty() ? "<none>" : s.function) << " disp=" << s.displacement << " "
      << SymbolOriginName(s.origin) << " chunk="
      << (s.chunk_start ? std::to_string(*s.chunk_start) : "-") << " " << Show(s.source);
  return out.str();
}
bool Same(const std::optional<SymbolHit>& a, const std::optional<SymbolHit>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->name == b->name && a->start == b->start && a->block_start == b->block_start &&
                a->displacement == b->displacement && a->origin == b->origin);
}
bool Same(const std::optional<SourcePosition>& a, const std::optional<SourcePosition>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->file == b->file && a->line == b->line);
}
bool Same(const SymbolizedAddress& a, const SymbolizedAddress& b) {
  return a.function == b.function && a.displacement == b.displacement && a.origin == b.origin &&
         a.chunk_start == b.chunk_start && Same(a.source, b.source);
}

// Mismatches, the first few described.
struct Tally {
  size_t checked = 0, mismatches = 0;
  std::string first;
  void Note(const std::string& what, uint32_t rva, const std::string& fast, const std::string& ref) {
    if (++mismatches <= 8) {
      std::ostringstream out;
      out << "  " << what << "(0x" << std::hex << rva << "): " << fast << "  reference: " << ref << "\n";
      first += out.str();
    }
  }
};

// Every RVA of `rvas` through Lookup, At, LineAt (and Symbolize, both kinds,
// when `symbols` is given) against the reference.
void ExpectSameAnswers(const std::string& label, const SymbolIndex& index, const Reference& ref,
                       const std::vector<uint32_t>& rvas, const ModuleSymbols* symbols,
                       const unwind::RuntimeFunctionTable* unwind) {
  SCOPED_TRACE(label);
  EXPECT_EQ(index.size(), ref.size());
  EXPECT_EQ(index.named(), ref.named());
  Tally t;
  size_t named = 0, lined = 0, at = 0;
  for (uint32_t rva : rvas) {
    ++t.checked;
    const std::optional<SymbolHit> lookup = index.Lookup(rva), ref_lookup = ref.Lookup(rva);
    if (!Same(lookup, ref_lookup)) t.Note("Lookup", rva, Show(lookup), Show(ref_lookup));
    const std::optional<SymbolHit> exact = index.At(rva), ref_exact = ref.At(rva);
    if (!Same(exact, ref_exact)) t.Note("At", rva, Show(exact), Show(ref_exact));
    const std::optional<SourcePosition> line = index.LineAt(rva), ref_line = ref.LineAt(rva);
    if (!Same(line, ref_line)) t.Note("LineAt", rva, Show(line), Show(ref_line));
    named += ref_lookup.has_value();
    at += ref_exact.has_value();
    lined += ref_line.has_value();
    if (symbols != nullptr) {
      for (AddressKind kind : {AddressKind::kCode, AddressKind::kAny}) {
        const SymbolizedAddress s = symbols->Symbolize(rva, kind), ref_s = ref.Symbolize(rva, kind, unwind);
        if (!Same(s, ref_s)) {
          t.Note(kind == AddressKind::kCode ? "Symbolize(kCode)" : "Symbolize(kAny)", rva, Show(s), Show(ref_s));
        }
      }
    }
  }
  EXPECT_EQ(t.mismatches, 0u) << t.mismatches << " answers differ over " << t.checked << " addresses:\n"
                              << t.first;
  // FindName: every name, aliases included.
  size_t names = 0, name_mismatches = 0;
  for (const std::string& name : ref.Names()) {
    ++names;
    if (index.FindName(name) != ref.FindName(name) && ++name_mismatches <= 8) {
      ADD_FAILURE() << "FindName(" << name << ") differs";
    }
  }
  EXPECT_EQ(name_mismatches, 0u);
  std::printf("[ %s ] %zu addresses: %zu named, %zu symbol starts, %zu with a line (%zu lines), "
              "%zu names found by name; all as the reference\n",
              label.c_str(), t.checked, named, at, lined, ref.lines(), names);
}

// Every RVA of the executable sections, every 61st RVA of the rest of the
// image and past it, and the extremes.
std::vector<uint32_t> ImageRvas(const unwind::PeImage& image) {
  std::set<uint32_t> out;
  for (const unwind::PeSection& s : image.sections()) {
    if (!s.IsExecutable()) continue;
    for (uint64_t rva = s.virtual_address; rva < uint64_t{s.virtual_address} + s.MemorySize(); ++rva) {
      out.insert(static_cast<uint32_t>(rva));
    }
  }
  for (uint64_t rva = 0; rva < uint64_t{image.size_of_image()} + 0x10000; rva += 61) {
    out.insert(static_cast<uint32_t>(rva));
  }
  for (uint32_t rva : {0u, 1u, image.size_of_image(), 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu}) {
    out.insert(rva);
  }
  return {out.begin(), out.end()};
}

// Without an image: every RVA up to past the PDB's sections (final and original).
std::vector<uint32_t> PdbRvas(const PdbFile& pdb) {
  uint64_t end = 0;
  for (const auto* list : {&pdb.sections(), &pdb.original_sections()}) {
    for (const PdbSection& s : *list) end = std::max<uint64_t>(end, uint64_t{s.virtual_address} + s.virtual_size);
  }
  std::vector<uint32_t> out;
  for (uint64_t rva = 0; rva < end + 0x1000; ++rva) out.push_back(static_cast<uint32_t>(rva));
  for (uint32_t rva : {0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu}) out.push_back(rva);
  return out;
}

// An image with its PDB: the index both ways (demangled and raw names), and
// ModuleSymbols over it with the image's .pdata.
void CheckImageWithPdb(const std::string& label, const std::string& image_path, const std::string& pdb_path) {
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image = OpenImageFile(image_path);
  ASSERT_TRUE(image.ok()) << image.status();
  absl::StatusOr<std::unique_ptr<PdbFile>> pdb = PdbFile::OpenFile(pdb_path);
  ASSERT_TRUE(pdb.ok()) << pdb.status();
  absl::StatusOr<unwind::RuntimeFunctionTable> table = unwind::RuntimeFunctionTable::Create(*image);
  ASSERT_TRUE(table.ok()) << table.status();
  auto unwind = std::make_shared<const unwind::RuntimeFunctionTable>(*std::move(table));
  const std::vector<uint32_t> rvas = ImageRvas(**image);
  for (bool raw : {false, true}) {
    auto index = std::make_shared<const SymbolIndex>(
        SymbolIndex::FromPdb(**pdb, (*image)->sections(), {.raw_names = raw}));
    const Reference ref = Reference::FromPdb(**pdb, (*image)->sections(), raw);
    const ModuleSymbols symbols(index, unwind);
    ExpectSameAnswers(label + (raw ? " (raw names)" : ""), *index, ref, rvas, &symbols, unwind.get());
    // Without .pdata: the index alone names things.
    const ModuleSymbols bare(index, nullptr);
    Tally t;
    for (uint32_t rva : rvas) {
      const SymbolizedAddress s = bare.Symbolize(rva), ref_s = ref.Symbolize(rva, AddressKind::kCode, nullptr);
      if (!Same(s, ref_s)) t.Note("Symbolize without .pdata", rva, Show(s), Show(ref_s));
    }
    EXPECT_EQ(t.mismatches, 0u) << label << ":\n" << t.first;
  }
}

// A PDB without its image (the hand-made fixtures).
void CheckPdbAlone(const std::string& label, const std::string& pdb_path) {
  absl::StatusOr<std::unique_ptr<PdbFile>> pdb = PdbFile::OpenFile(pdb_path);
  ASSERT_TRUE(pdb.ok()) << pdb.status();
  for (bool raw : {false, true}) {
    auto index = std::make_shared<const SymbolIndex>(SymbolIndex::FromPdb(**pdb, {}, {.raw_names = raw}));
    const Reference ref = Reference::FromPdb(**pdb, {}, raw);
    const ModuleSymbols symbols(index, nullptr);
    ExpectSameAnswers(label + (raw ? " (raw names)" : ""), *index, ref, PdbRvas(**pdb), &symbols, nullptr);
  }
}

// ------------------------------------------------------------------ the inputs

TEST(SymbolIndexEquivalenceTest, AmdppmWithItsPdb) {
  if (!std::filesystem::exists(kAmdppmImage) || !std::filesystem::exists(kAmdppmPdb)) {
    GTEST_SKIP() << "../shared/real/symbols absent";
  }
  CheckImageWithPdb("amdppm", kAmdppmImage, kAmdppmPdb);
}

TEST(SymbolIndexEquivalenceTest, ChunkFixtureWithBothPdbs) {
  CheckImageWithPdb("restack_chunks (full PDB)", kChunksImage, kChunksFullPdb);
  CheckImageWithPdb("restack_chunks (publics PDB)", kChunksImage, kChunksPublicsPdb);
}

TEST(SymbolIndexEquivalenceTest, WineFixturesWithLines) {
  CheckImageWithPdb("restack_fx", kFxImage, kFxPdb);
  CheckImageWithPdb("restack_fxdll", kFxDllImage, kFxDllPdb);
}

TEST(SymbolIndexEquivalenceTest, OmapFixture) { CheckPdbAlone("omap", kOmapPdb); }

TEST(SymbolIndexEquivalenceTest, SepCodeFixture) { CheckPdbAlone("sepcode", kSepCodePdb); }

TEST(SymbolIndexEquivalenceTest, ExportsOfKernel32) {
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image = OpenImageFile(kKernel32);
  ASSERT_TRUE(image.ok()) << image.status();
  absl::StatusOr<unwind::RuntimeFunctionTable> table = unwind::RuntimeFunctionTable::Create(*image);
  ASSERT_TRUE(table.ok()) << table.status();
  auto unwind = std::make_shared<const unwind::RuntimeFunctionTable>(*std::move(table));
  auto index = std::make_shared<const SymbolIndex>(SymbolIndex::FromExports(**image));
  const Reference ref = Reference::FromExports(**image);
  ASSERT_GT(ref.named(), 100u);
  const ModuleSymbols symbols(index, unwind);
  ExpectSameAnswers("kernel32 exports", *index, ref, ImageRvas(**image), &symbols, unwind.get());
}

TEST(SymbolIndexEquivalenceTest, EmptyIndex) {
  const SymbolIndex index;
  for (uint32_t rva : {0u, 1u, 0x1000u, 0x7FFFFFFFu, 0xFFFFFFFFu}) {
    EXPECT_FALSE(index.Lookup(rva).has_value());
    EXPECT_FALSE(index.At(rva).has_value());
    EXPECT_FALSE(index.LineAt(rva).has_value());
  }
  EXPECT_TRUE(index.FindName("x").empty());
  const ModuleSymbols symbols(std::make_shared<const SymbolIndex>(), nullptr);
  EXPECT_TRUE(symbols.Symbolize(0x1000).function.empty());
}

TEST(SymbolIndexEquivalenceTest, ExtraInputsFromTheEnvironment) {
  const char* extra = std::getenv("RESTACK_SYMBOL_INDEX_EXTRA");
  if (extra == nullptr || *extra == '\0') GTEST_SKIP() << "RESTACK_SYMBOL_INDEX_EXTRA not set";
  std::stringstream list(extra);
  std::string item;
  while (std::getline(list, item, ';')) {
    const size_t comma = item.find(',');
    ASSERT_NE(comma, std::string::npos) << "RESTACK_SYMBOL_INDEX_EXTRA: IMAGE,PDB[;IMAGE,PDB...]";
    CheckImageWithPdb(item.substr(0, comma), item.substr(0, comma), item.substr(comma + 1));
  }
}

}  // namespace
}  // namespace restack::sym
