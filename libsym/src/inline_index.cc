// inline_index.cc - inline sites painted into disjoint segments, looked up by binary search
#include "restack/sym/inline_index.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "absl/strings/str_format.h"

namespace restack::sym {

InlineIndex InlineIndex::FromPdb(const PdbFile& pdb,
                                 std::span<const unwind::PeSection> image_sections) {
  InlineIndex index;
  if (pdb.inline_sites().empty()) return index;
  // Sites are section-relative: place them with the PDB's own section headers
  // (the original ones under OMAP, which is not applied: see the header),
  // else the image's.
  std::vector<uint32_t> section_va;
  const bool omap = !pdb.omap_to_src().empty() && !pdb.omap_from_src().empty();
  const std::vector<PdbSection>& pdb_sections =
      omap && !pdb.original_sections().empty() ? pdb.original_sections() : pdb.sections();
  for (const PdbSection& s : pdb_sections) section_va.push_back(s.virtual_address);
  if (section_va.empty()) {
    for (const unwind::PeSection& s : image_sections) section_va.push_back(s.virtual_address);
  }
  index.files_ = pdb.files();
  std::unordered_map<std::string_view, uint32_t> name_offsets;
  auto add_name = [&](const std::string& name) {
    auto [it, inserted] = name_offsets.emplace(name, static_cast<uint32_t>(index.names_.size()));
    if (inserted) {
      index.names_.append(name.data(), strnlen(name.data(), name.size()));
      index.names_.push_back('\0');
    }
    return it->second;
  };

  // Sites keep their PdbFile indices (parents are indices); an unplaced site
  // keeps an empty slot, so that its children are unplaced too.
  const std::vector<PdbInlineSite>& in = pdb.inline_sites();
  std::vector<uint32_t> slot(in.size(), kNone);
  size_t unplaced = 0, outside = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const PdbInlineSite& s = in[i];
    if (s.parent != PdbInlineSite::kNoParent && (s.parent >= i || slot[s.parent] == kNone)) {
      ++unplaced;
      continue;
    }
    if (s.section == 0 || s.section > section_va.size()) {
      ++unplaced;
      continue;
    }
    const uint64_t va = section_va[s.section - 1];
    Site site;
    site.name = add_name(s.name);
    site.parent = s.parent == PdbInlineSite::kNoParent ? kNone : slot[s.parent];
    site.depth = s.depth;
    site.call_line = s.call_line;
    site.call_file = s.call_file == PdbInlineSite::kNoFile ? kNone : s.call_file;
    site.ranges_begin = static_cast<uint32_t>(index.ranges_.size());
    for (const auto& [begin, end] : s.ranges) {
      if (va + end > 0xFFFFFFFFull) {
        ++outside;
        continue;
      }
      index.ranges_.push_back({static_cast<uint32_t>(va + begin), static_cast<uint32_t>(va + end)});
    }
    site.ranges_end = static_cast<uint32_t>(index.ranges_.size());
    site.rows_begin = static_cast<uint32_t>(index.rows_.size());
    for (const PdbInlineLine& l : s.lines) {
      if (va + l.offset + l.length > 0xFFFFFFFFull) continue;
      index.rows_.push_back({static_cast<uint32_t>(va + l.offset), l.length, l.line,
                             l.file == PdbInlineSite::kNoFile ? kNone : l.file});
    }
    site.rows_end = static_cast<uint32_t>(index.rows_.size());
    slot[i] = static_cast<uint32_t>(index.sites_.size());
    index.sites_.push_back(site);
  }
  if (unplaced + outside > 0) {
    index.warnings_.push_back(absl::StrFormat(
        "%s: %u inline sites outside the sections the PDB describes (or inside such a site), "
        "%u code ranges past 4 GiB; not indexed",
        pdb.name(), unplaced, outside));
  }

  // Flatten the ranges into disjoint segments, each naming the innermost
  // site there: a sweep over the ranges by start (outer sites first at one
  // start) with a stack of the open ones, the innermost on top. A nested
  // site's code lies inside its parent's; a range that would outlast the one
  // below it (a broken PDB) is cut where that one ends.
  struct Interval {
    uint32_t begin, end, depth, site;
  };
  std::vector<Interval> intervals;
  intervals.reserve(index.ranges_.size());
  for (uint32_t s = 0; s < index.sites_.size(); ++s) {
    const Site& site = index.sites_[s];
    for (uint32_t r = site.ranges_begin; r < site.ranges_end; ++r) {
      if (index.ranges_[r].begin < index.ranges_[r].end) {
        intervals.push_back({index.ranges_[r].begin, index.ranges_[r].end, site.depth, s});
      }
    }
  }
  std::stable_sort(intervals.begin(), intervals.end(), [](const Interval& a, const Interval& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.depth != b.depth) return a.depth < b.depth;
    return a.end > b.end;
  });
  auto emit = [&](uint32_t site, uint32_t begin, uint32_t end) {
    if (begin >= end) return;
    if (!index.segments_.empty() && index.segments_.back().site == site &&
        index.segments_.back().end == begin) {
      index.segments_.back().end = end;
    } else {
      index.segments_.push_back({begin, end, site});
    }
  };
  std::vector<Interval> open;
  uint32_t pos = 0;  // where the next segment starts
  auto close_until = [&](uint32_t limit, bool all) {
    while (!open.empty() && (all || open.back().end <= limit)) {
      emit(open.back().site, std::max(pos, open.back().begin), open.back().end);
      pos = std::max(pos, open.back().end);
      open.pop_back();
    }
  };
  for (Interval i : intervals) {
    close_until(i.begin, false);
    if (!open.empty()) {
      emit(open.back().site, std::max(pos, open.back().begin), i.begin);
      i.end = std::min(i.end, open.back().end);
    }
    pos = i.begin;
    open.push_back(i);
  }
  close_until(0, true);
  return index;
}

const InlineIndex::Range* InlineIndex::RangeOf(const Site& s, uint32_t rva) const {
  const Range* first = ranges_.data() + s.ranges_begin;
  const Range* last = ranges_.data() + s.ranges_end;
  const Range* r = std::upper_bound(first, last, rva,
                                    [](uint32_t v, const Range& x) { return v < x.begin; });
  if (r == first) return nullptr;
  --r;
  return rva < r->end ? r : nullptr;
}

const InlineIndex::Row* InlineIndex::RowOf(const Site& s, uint32_t rva) const {
  const Row* first = rows_.data() + s.rows_begin;
  const Row* last = rows_.data() + s.rows_end;
  const Row* r =
      std::upper_bound(first, last, rva, [](uint32_t v, const Row& x) { return v < x.rva; });
  if (r == first) return nullptr;
  --r;
  return rva - r->rva < r->length ? r : nullptr;
}

std::vector<InlineFrame> InlineIndex::At(uint32_t rva) const {
  std::vector<InlineFrame> frames;
  auto seg = std::upper_bound(segments_.begin(), segments_.end(), rva,
                              [](uint32_t v, const Segment& s) { return v < s.begin; });
  if (seg == segments_.begin()) return frames;
  --seg;
  if (rva >= seg->end) return frames;
  // The innermost site and its parents (a parent's index is always lower).
  for (uint32_t s = seg->site; s != kNone; s = sites_[s].parent) {
    const Site& site = sites_[s];
    InlineFrame f;
    f.name = NameAt(site.name);
    f.depth = site.depth;
    const Range* range = RangeOf(site, rva);
    f.range_begin = range != nullptr ? range->begin : rva;
    f.site_begin = site.ranges_begin < site.ranges_end ? ranges_[site.ranges_begin].begin : rva;
    f.call_file = FileAt(site.call_file);
    f.call_line = site.call_line;
    if (const Row* row = RowOf(site, rva)) {
      f.file = FileAt(row->file);
      f.line = row->line;
    }
    // A parent that does not cover the address (a broken PDB) ends the
    // chain there, as a search from the outside would.
    if (range == nullptr) frames.clear();
    if (range != nullptr) frames.push_back(f);
  }
  std::reverse(frames.begin(), frames.end());
  return frames;
}

}  // namespace restack::sym
