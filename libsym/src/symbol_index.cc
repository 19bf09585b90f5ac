// symbol_index.cc - building and querying the flat address index
#include "restack/sym/symbol_index.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "restack/sym/demangle.h"

namespace restack::sym {

std::string_view SymbolOriginName(SymbolOrigin origin) {
  switch (origin) {
    case SymbolOrigin::kProcedure: return "procedure";
    case SymbolOrigin::kThunk: return "thunk";
    case SymbolOrigin::kSeparated: return "separated";
    case SymbolOrigin::kPublic: return "public";
    case SymbolOrigin::kExport: return "export";
    case SymbolOrigin::kData: return "data";
  }
  return "?";
}

uint32_t SymbolIndex::AddName(std::string_view name) {
  const uint32_t at = static_cast<uint32_t>(names_.size());
  names_.append(name);
  names_.push_back('\0');
  return at;
}

namespace {

// A bucket table aims at this many keys a bucket (fewer buckets when the keys
// span fewer bytes).
constexpr uint64_t kKeysPerBucket = 4;

}  // namespace

void SymbolIndex::Buckets::Build(const std::vector<uint32_t>& keys) {
  base = keys.empty() ? 0 : keys.front();
  shift = 0;
  first.clear();
  if (keys.empty()) {
    first.push_back(0);  // no bucket: every search is past the end
    return;
  }
  const uint64_t span = static_cast<uint64_t>(keys.back()) - base;
  const uint64_t most = std::max<uint64_t>(1, keys.size() / kKeysPerBucket);
  while ((span >> shift) + 1 > most) ++shift;  // at most 32: span < 2^32
  const uint64_t buckets = (span >> shift) + 1;
  first.resize(buckets + 1);
  size_t i = 0;
  for (uint64_t b = 0; b < buckets; ++b) {
    while (i < keys.size() && (static_cast<uint64_t>(keys[i] - base) >> shift) < b) ++i;
    first[b] = static_cast<uint32_t>(i);
  }
  first[buckets] = static_cast<uint32_t>(keys.size());
}

// Keys before bucket b are below base + (b << shift) <= v, keys after it above
// v: the answer over all keys lies in bucket b's range.
size_t SymbolIndex::Buckets::UpperBound(const std::vector<uint32_t>& keys, uint32_t v) const {
  if (v < base) return 0;
  const uint64_t b = static_cast<uint64_t>(v - base) >> shift;
  if (b + 1 >= first.size()) return keys.size();
  return static_cast<size_t>(
      std::upper_bound(keys.begin() + first[b], keys.begin() + first[b + 1], v) - keys.begin());
}

size_t SymbolIndex::Buckets::LowerBound(const std::vector<uint32_t>& keys, uint32_t v) const {
  if (v < base) return 0;
  const uint64_t b = static_cast<uint64_t>(v - base) >> shift;
  if (b + 1 >= first.size()) return keys.size();
  return static_cast<size_t>(
      std::lower_bound(keys.begin() + first[b], keys.begin() + first[b + 1], v) - keys.begin());
}

void SymbolIndex::Finish() {
  // Names first, aliases included (only one of them names an address).
  by_name_.clear();
  for (const Entry& e : entries_) {
    if (e.name != kNoName && e.origin != SymbolOrigin::kSeparated) by_name_.push_back({e.name, e.rva});
  }
  std::stable_sort(by_name_.begin(), by_name_.end(), [this](const NameRef& a, const NameRef& b) {
    return NameAt(a.name) < NameAt(b.name);
  });
  by_name_.shrink_to_fit();
  // One entry per address: the lowest rank wins (procedure, thunk, separated
  // block, public, data, boundary).
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return a.rva != b.rva ? a.rva < b.rva : a.rank < b.rank;
  });
  entries_.erase(std::unique(entries_.begin(), entries_.end(),
                             [](const Entry& a, const Entry& b) { return a.rva == b.rva; }),
                 entries_.end());
  entries_.shrink_to_fit();
  entry_rva_.clear();
  entry_rva_.reserve(entries_.size());
  for (Entry& e : entries_) {
    e.name_size = e.name == kNoName ? 0 : static_cast<uint32_t>(std::strlen(names_.data() + e.name));
    entry_rva_.push_back(e.rva);
  }
  entry_buckets_.Build(entry_rva_);
  line_buckets_.Build(line_rva_);
}

SymbolIndex SymbolIndex::FromPdb(const PdbFile& pdb,
                                 std::span<const unwind::PeSection> image_sections,
                                 const SymbolIndexOptions& options) {
  SymbolIndex index;
  const bool omap = !pdb.omap_to_src().empty() && !pdb.omap_from_src().empty();
  if (omap) {
    index.to_src_ = pdb.omap_to_src();
    index.from_src_ = pdb.omap_from_src();
  }
  // Symbols are section-relative: place them with the PDB's own section
  // headers (the original ones under OMAP), else the image's.
  struct Placement {
    uint32_t va, size;
    bool executable;
  };
  std::vector<Placement> sections;
  const std::vector<PdbSection>& pdb_sections =
      omap && !pdb.original_sections().empty() ? pdb.original_sections() : pdb.sections();
  for (const PdbSection& s : pdb_sections) {
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
  size_t unplaced = 0;
  for (const PdbProcedure& p : pdb.procedures()) {
    std::optional<Placement> at = place(p.section, p.offset);
    if (!at) {
      ++unplaced;
      continue;
    }
    index.entries_.push_back({at->va, p.length, index.AddName(p.name), 0,
                              p.thunk ? SymbolOrigin::kThunk : SymbolOrigin::kProcedure,
                              static_cast<uint8_t>(p.thunk ? 1 : 0)});
  }
  for (const PdbSeparatedBlock& b : pdb.separated_blocks()) {
    std::optional<Placement> at = place(b.record.section, b.record.offset);
    std::optional<Placement> parent = place(b.function_section, b.function_offset);
    if (!at || !parent || b.parent_name.empty()) {
      ++unplaced;
      continue;
    }
    index.entries_.push_back({at->va, b.record.length, index.AddName(b.parent_name), parent->va,
                              SymbolOrigin::kSeparated, 2});
  }
  for (const PdbPublic& p : pdb.publics()) {
    std::optional<Placement> at = place(p.section, p.offset);
    if (!at) continue;  // absolute symbols (__guard_flags) have no address
    // Publics in data sections and string literals anywhere name data: they
    // are kept (an address in a literal is named after it) but marked, so
    // that they never name code (ModuleSymbols).
    const bool data = !at->executable || IsStringLiteralName(p.name);
    index.entries_.push_back({at->va, 0,
                              index.AddName(options.raw_names ? p.name : FunctionName(p.name)), 0,
                              data ? SymbolOrigin::kData : SymbolOrigin::kPublic,
                              static_cast<uint8_t>(data ? 4 : 3)});
  }
  // Unnamed boundaries: where a contribution starts and where a section ends,
  // a public no longer reaches.
  for (const PdbContribution& c : pdb.contributions()) {
    std::optional<Placement> at = place(c.section, c.offset);
    if (at) index.entries_.push_back({at->va, 0, kNoName, 0, SymbolOrigin::kPublic, 5});
  }
  for (const Placement& s : sections) {
    index.entries_.push_back({s.va + s.size, 0, kNoName, 0, SymbolOrigin::kPublic, 5});
  }
  // Lines, and their files: sorted by RVA (stable: of lines at one RVA the
  // PDB's last answers), their RVAs apart.
  index.files_ = pdb.files();
  std::vector<std::pair<uint32_t, Line>> lines;
  lines.reserve(pdb.lines().size());
  for (const PdbLine& l : pdb.lines()) {
    std::optional<Placement> at = place(l.section, l.offset);
    if (at) lines.push_back({at->va, Line{l.length, l.line, l.file}});
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  index.line_rva_.reserve(lines.size());
  index.lines_.reserve(lines.size());
  for (const auto& [rva, line] : lines) {
    index.line_rva_.push_back(rva);
    index.lines_.push_back(line);
  }
  if (unplaced > 0) {
    index.warnings_.push_back(absl::StrFormat(
        "%s: %u symbols name sections the PDB and the image do not have; left out", pdb.name(),
        unplaced));
  }
  index.Finish();
  return index;
}

SymbolIndex SymbolIndex::FromExports(const unwind::PeImage& image) {
  SymbolIndex index;
  absl::StatusOr<std::vector<unwind::PeExport>> exports = image.Exports();
  if (!exports.ok()) {
    index.warnings_.push_back(std::string(exports.status().message()));
    return index;
  }
  for (const unwind::PeExport& e : *exports) {
    if (e.name.empty() || !e.forwarder.empty() || !image.IsExecutableRva(e.rva)) continue;
    index.entries_.push_back({e.rva, 0, index.AddName(e.name), 0, SymbolOrigin::kExport, 3});
  }
  for (const unwind::PeSection& s : image.sections()) {
    if (s.IsExecutable()) {
      index.entries_.push_back(
          {s.virtual_address + s.MemorySize(), 0, kNoName, 0, SymbolOrigin::kExport, 5});
    }
  }
  index.Finish();
  return index;
}

SymbolHit SymbolIndex::Hit(const Entry& e, uint32_t source) const {
  SymbolHit hit;
  hit.name = NameOf(e);
  hit.origin = e.origin;
  const uint32_t start = e.origin == SymbolOrigin::kSeparated ? e.parent : e.rva;
  hit.start = ToFinal(start).value_or(start);
  hit.block_start = ToFinal(e.rva).value_or(e.rva);
  hit.displacement = static_cast<int64_t>(source) - start;
  return hit;
}

std::vector<uint32_t> SymbolIndex::FindName(std::string_view name) const {
  auto first = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                                [this](const NameRef& r, std::string_view n) { return NameAt(r.name) < n; });
  std::vector<uint32_t> out;
  for (auto it = first; it != by_name_.end() && NameAt(it->name) == name; ++it) {
    out.push_back(ToFinal(it->rva).value_or(it->rva));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

size_t SymbolIndex::named() const {
  return static_cast<size_t>(std::count_if(entries_.begin(), entries_.end(),
                                           [](const Entry& e) { return e.name != kNoName; }));
}

std::optional<SymbolHit> SymbolIndex::Lookup(uint32_t rva) const {
  std::optional<uint32_t> source = ToSource(rva);
  if (!source) return std::nullopt;
  const size_t i = entry_buckets_.UpperBound(entry_rva_, *source);
  if (i == 0) return std::nullopt;
  const Entry& e = entries_[i - 1];
  if (e.name == kNoName) return std::nullopt;
  if (e.length != 0 && *source - e.rva >= e.length) return std::nullopt;
  return Hit(e, *source);
}

std::optional<SymbolHit> SymbolIndex::At(uint32_t rva) const {
  std::optional<uint32_t> source = ToSource(rva);
  if (!source) return std::nullopt;
  const size_t i = entry_buckets_.LowerBound(entry_rva_, *source);
  if (i == entries_.size()) return std::nullopt;
  const Entry& e = entries_[i];
  if (e.rva != *source || e.name == kNoName) return std::nullopt;
  return Hit(e, *source);
}

std::optional<SourcePosition> SymbolIndex::LineAt(uint32_t rva) const {
  std::optional<uint32_t> source = ToSource(rva);
  if (!source) return std::nullopt;
  const size_t i = line_buckets_.UpperBound(line_rva_, *source);
  if (i == 0) return std::nullopt;
  const Line& l = lines_[i - 1];
  if (*source - line_rva_[i - 1] >= std::max<uint32_t>(l.length, 1) || l.file >= files_.size()) {
    return std::nullopt;
  }
  return SourcePosition{files_[l.file], l.line};
}

}  // namespace restack::sym
