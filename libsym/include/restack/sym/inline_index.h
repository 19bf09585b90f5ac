// inline_index.h - the inline frames at an address, from a PDB's inline sites
//
// Built once from PdbFile::inline_sites() (S_INLINESITE / S_INLINESITE2,
// their binary annotations already decoded), then queried by binary search:
// the code of every site is painted, outermost first, into one flat sorted
// array of disjoint segments, each naming the innermost site there; a query
// finds its segment and walks the site's parents. No decoding per lookup.
// Addresses are RVAs of the image as the PDB's section headers place them;
// OMAP is not applied (PDBs rearranged after linking are Microsoft's, whose
// public PDBs have no inline sites).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "restack/sym/pdb_file.h"
#include "restack/unwind/pe_image.h"

namespace restack::sym {

// One inlined function whose code covers the queried address. Views point
// into the InlineIndex.
struct InlineFrame {
  std::string_view name;  // the inlinee (PdbInlineSite::name)
  uint32_t depth = 0;     // 1 = inlined directly into the procedure
  // RVA where the site's contiguous code range holding the address begins.
  uint32_t range_begin = 0;
  // RVA of the site's first byte (the start of its lowest range): what
  // debuggers count an inline frame's displacement from (docs/decisions.md).
  uint32_t site_begin = 0;
  // The call: the caller's file and line (the procedure's, or the enclosing
  // inline frame's); empty / 0 when the PDB does not say.
  std::string_view call_file;
  uint32_t call_line = 0;
  // Where the address is inside the inlinee (for every frame but the
  // innermost, the call of the next one); empty / 0 when unknown.
  std::string_view file;
  uint32_t line = 0;
};

class InlineIndex {
 public:
  InlineIndex() = default;
  // `image_sections` place section-relative addresses when the PDB has no
  // section header stream (may be empty).
  static InlineIndex FromPdb(const PdbFile& pdb, std::span<const unwind::PeSection> image_sections);

  // The inline frames covering `rva`, outermost first; empty outside inlined
  // code (the procedure itself is the caller's business: SymbolIndex).
  std::vector<InlineFrame> At(uint32_t rva) const;

  size_t sites() const { return sites_.size(); }
  size_t segments() const { return segments_.size(); }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  static constexpr uint32_t kNone = 0xFFFFFFFF;
  struct Site {
    uint32_t name = 0;    // offset into names_
    uint32_t parent = kNone;
    uint32_t depth = 0;
    uint32_t call_line = 0;
    uint32_t call_file = kNone;  // index into files_
    uint32_t ranges_begin = 0, ranges_end = 0;  // into ranges_
    uint32_t rows_begin = 0, rows_end = 0;      // into rows_
  };
  struct Range {
    uint32_t begin = 0, end = 0;  // RVAs, [begin, end)
  };
  struct Row {
    uint32_t rva = 0, length = 0, line = 0, file = kNone;
  };
  struct Segment {
    uint32_t begin = 0, end = 0;  // RVAs, [begin, end)
    uint32_t site = 0;            // the innermost site there
  };

  std::string_view NameAt(uint32_t offset) const {
    return std::string_view(names_.data() + offset);
  }
  std::string_view FileAt(uint32_t index) const {
    return index < files_.size() ? std::string_view(files_[index]) : std::string_view();
  }
  // The site's range / row holding `rva`, or null.
  const Range* RangeOf(const Site& s, uint32_t rva) const;
  const Row* RowOf(const Site& s, uint32_t rva) const;

  std::vector<Site> sites_;
  std::vector<Range> ranges_;      // per site, sorted
  std::vector<Row> rows_;          // per site, sorted
  std::vector<Segment> segments_;  // sorted, disjoint
  std::string names_;
  std::vector<std::string> files_;
  std::vector<std::string> warnings_;
};

}  // namespace restack::sym
