// physical_page_index.h - where each physical page of a kernel dump lies in the file (internal)
//
// Two shapes, both without a per-page map: runs of consecutive pages (full and
// RDMP dumps; binary search over the runs) and a presence bitmap (bitmap dumps;
// O(1) rank with one 64-bit count per 512 pages).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace restack::dump {

class PhysicalPageIndex {
 public:
  // A run of `count` pages from `first_pfn`, stored consecutively at `file_offset`.
  struct Run {
    uint64_t first_pfn = 0;
    uint64_t count = 0;
    uint64_t file_offset = 0;
  };

  PhysicalPageIndex() = default;
  // Runs, in any order; they must not overlap (the caller checks).
  static PhysicalPageIndex FromRuns(std::vector<Run> runs);
  // `bitmap` holds `bits` presence bits (bit n = PFN n, LSB first); present
  // pages are stored consecutively from `first_page_offset`. `bitmap` must stay
  // valid (it points into the mapped file).
  static PhysicalPageIndex FromBitmap(std::span<const uint8_t> bitmap, uint64_t bits,
                                      uint64_t first_page_offset);

  // File offset of page `pfn`, or nullopt when the dump does not hold it.
  std::optional<uint64_t> FileOffset(uint64_t pfn) const;
  // Pages the index says are present.
  uint64_t present_pages() const { return present_pages_; }
  // Highest PFN + 1 the index covers.
  uint64_t pfn_limit() const { return pfn_limit_; }
  // The runs (empty for a bitmap index).
  const std::vector<Run>& runs() const { return runs_; }

 private:
  uint64_t Word(uint64_t word_index) const;

  bool is_bitmap_ = false;
  std::vector<Run> runs_;  // sorted by first_pfn
  std::span<const uint8_t> bitmap_;
  uint64_t bits_ = 0;
  uint64_t first_page_offset_ = 0;
  std::vector<uint64_t> rank_;  // present pages before each 512-page block
  uint64_t present_pages_ = 0;
  uint64_t pfn_limit_ = 0;
};

}  // namespace restack::dump
