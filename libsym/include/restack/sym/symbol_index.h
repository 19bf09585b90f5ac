// symbol_index.h - one flat, sorted address index of a module's symbols
//
// Built once from a PDB (procedures, thunks, S_SEPCODE blocks, code publics,
// data publics marked as data, unnamed boundaries at section-contribution
// starts and section ends) or from an image's exports, then queried by binary search:
// no decoding per lookup. Addresses are RVAs of the image as loaded (after
// OMAP, when the PDB has it).
//
// Speed: the entries' and the lines' start RVAs are also kept apart, in plain
// sorted arrays, each with a bucket table (the first index of every
// 2^shift-byte bucket of the RVA range the keys span, ~4 keys a bucket), so
// that a search reads one table slot and then a few neighbouring keys instead
// of bisecting the whole array; names carry their length (no strlen).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "restack/sym/pdb_file.h"
#include "restack/unwind/pe_image.h"

namespace restack::sym {

// What named an address.
enum class SymbolOrigin : uint8_t {
  kProcedure,  // S_*PROC32 (with a length)
  kThunk,      // S_THUNK32
  kSeparated,  // an S_SEPCODE block, named after its parent
  kPublic,     // S_PUB32 in an executable section
  kExport,     // the image's export table
  kData,       // a data public (a string literal, a global): names data, never code
};
// "procedure", "thunk", "separated", "public", "export", "data".
std::string_view SymbolOriginName(SymbolOrigin origin);

// One lookup's answer.
struct SymbolHit {
  std::string_view name;       // the function (for kSeparated: the parent)
  uint32_t start = 0;          // RVA the name starts at (the parent's for kSeparated)
  uint32_t block_start = 0;    // kSeparated: the block's own start
  // The queried address minus `start`, counted in the PDB's original layout
  // (differs from the final distance only under OMAP, e.g. a function split
  // after linking).
  int64_t displacement = 0;
  SymbolOrigin origin = SymbolOrigin::kPublic;
};

// A source position.
struct SourcePosition {
  std::string_view file;
  uint32_t line = 0;
};

struct SymbolIndexOptions {
  bool raw_names = false;  // keep publics decorated instead of demangling them
};

class SymbolIndex {
 public:
  SymbolIndex() = default;
  // From a PDB. `image_sections` place section-relative addresses when the PDB
  // has no section header stream (may be empty).
  static SymbolIndex FromPdb(const PdbFile& pdb, std::span<const unwind::PeSection> image_sections,
                             const SymbolIndexOptions& options = {});
  // From the export table (named exports in executable sections).
  static SymbolIndex FromExports(const unwind::PeImage& image);

  // The symbol covering `rva`: the last entry at or below it, unless that is
  // a boundary or a sized symbol that ends before `rva`.
  std::optional<SymbolHit> Lookup(uint32_t rva) const;
  // A symbol starting exactly at `rva`.
  std::optional<SymbolHit> At(uint32_t rva) const;
  // Start RVAs of the symbols named `name` exactly (procedures, thunks,
  // publics, exports, data), lowest first; several for aliases and for
  // static functions of one name.
  std::vector<uint32_t> FindName(std::string_view name) const;
  // The source line of `rva`, if the PDB has line information for it.
  std::optional<SourcePosition> LineAt(uint32_t rva) const;

  // Entries, boundaries included; named() counts only the named ones.
  size_t size() const { return entries_.size(); }
  size_t named() const;
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  friend class ModuleSymbols;  // SameEntryAt, Buckets

  struct Entry {
    uint32_t rva = 0;
    uint32_t length = 0;       // 0: up to the next entry
    uint32_t name = 0;         // offset into names_; kNoName for a boundary
    uint32_t parent = 0;       // kSeparated: the parent's RVA
    SymbolOrigin origin = SymbolOrigin::kPublic;
    uint8_t rank = 0;          // which wins at one RVA (lower wins)
    uint32_t name_size = 0;    // the name's length (set by Finish)
  };
  struct Line {  // starts at line_rva_[its index]
    uint32_t length = 0;
    uint32_t line = 0;
    uint32_t file = 0;
  };
  static constexpr uint32_t kNoName = 0xFFFFFFFF;

  // Where a search over a sorted key array starts: keys k with
  // (k - base) >> shift == b are keys[first[b], first[b + 1]). Bucket count
  // at most max(1, keys / 4) and at most the span of the keys (not 2^32).
  struct Buckets {
    uint32_t base = 0;
    uint32_t shift = 0;
    std::vector<uint32_t> first = {0};  // one per bucket, then keys.size()

    void Build(const std::vector<uint32_t>& keys);
    // std::upper_bound / std::lower_bound of `v` over all of `keys`.
    size_t UpperBound(const std::vector<uint32_t>& keys, uint32_t v) const;
    size_t LowerBound(const std::vector<uint32_t>& keys, uint32_t v) const;
  };

  uint32_t AddName(std::string_view name);
  std::string_view NameOf(const Entry& e) const {
    return std::string_view(names_.data() + e.name, e.name_size);
  }
  std::string_view NameAt(uint32_t offset) const { return std::string_view(names_.data() + offset); }
  void Finish();
  SymbolHit Hit(const Entry& e, uint32_t source) const;
  // OMAP: a source RVA's final RVA, and back (inline: every query asks).
  std::optional<uint32_t> ToFinal(uint32_t source_rva) const {
    return from_src_.empty() ? std::optional<uint32_t>(source_rva) : from_src_.Map(source_rva);
  }
  std::optional<uint32_t> ToSource(uint32_t final_rva) const {
    return to_src_.empty() ? std::optional<uint32_t>(final_rva) : to_src_.Map(final_rva);
  }
  // For ModuleSymbols: whether At(rva) answers `hit` (a Lookup answer) again,
  // with the entry `hit` came from starting at `rva`. Without OMAP that is
  // hit.block_start == rva (one entry per RVA); under OMAP, whatever the
  // mapping, false (callers then ask At).
  bool SameEntryAt(const SymbolHit& hit, uint32_t rva) const {
    return to_src_.empty() && from_src_.empty() && hit.block_start == rva;
  }

  std::vector<Entry> entries_;      // sorted by rva, one per rva
  std::vector<uint32_t> entry_rva_; // entries_[i].rva
  Buckets entry_buckets_;
  struct NameRef {
    uint32_t name = 0;  // offset into names_
    uint32_t rva = 0;   // source RVA
  };
  // Every named symbol but S_SEPCODE blocks, aliases at one RVA included, by name.
  std::vector<NameRef> by_name_;
  std::string names_;
  std::vector<uint32_t> line_rva_;  // sorted
  std::vector<Line> lines_;         // lines_[i] starts at line_rva_[i]
  Buckets line_buckets_;
  std::vector<std::string> files_;
  Omap to_src_, from_src_;      // empty without OMAP
  std::vector<std::string> warnings_;
};

}  // namespace restack::sym
