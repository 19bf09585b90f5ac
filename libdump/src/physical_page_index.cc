// physical_page_index.cc - run search and bitmap rank
#include "physical_page_index.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace restack::dump {
namespace {

constexpr uint64_t kPageSize = 0x1000;
constexpr uint64_t kWordsPerBlock = 8;  // 512 bits

}  // namespace

PhysicalPageIndex PhysicalPageIndex::FromRuns(std::vector<Run> runs) {
  PhysicalPageIndex index;
  std::erase_if(runs, [](const Run& r) { return r.count == 0; });
  std::sort(runs.begin(), runs.end(),
            [](const Run& a, const Run& b) { return a.first_pfn < b.first_pfn; });
  for (const Run& r : runs) {
    index.present_pages_ += r.count;
    index.pfn_limit_ = std::max(index.pfn_limit_, r.first_pfn + r.count);
  }
  index.runs_ = std::move(runs);
  return index;
}

PhysicalPageIndex PhysicalPageIndex::FromBitmap(std::span<const uint8_t> bitmap, uint64_t bits,
                                                uint64_t first_page_offset) {
  PhysicalPageIndex index;
  index.is_bitmap_ = true;
  index.bits_ = std::min<uint64_t>(bits, uint64_t{bitmap.size()} * 8);
  index.bitmap_ = bitmap.first((index.bits_ + 7) / 8);
  index.first_page_offset_ = first_page_offset;
  index.pfn_limit_ = index.bits_;
  const uint64_t words = (index.bits_ + 63) / 64;
  index.rank_.reserve(words / kWordsPerBlock + 1);
  uint64_t count = 0;
  for (uint64_t w = 0; w < words; ++w) {
    if (w % kWordsPerBlock == 0) index.rank_.push_back(count);
    count += std::popcount(index.Word(w));
  }
  index.present_pages_ = count;
  return index;
}

// Bitmap word `word_index`, with bits past `bits_` cleared.
uint64_t PhysicalPageIndex::Word(uint64_t word_index) const {
  uint64_t word = 0;
  const uint64_t at = word_index * 8;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(8, bitmap_.size() - at));
  std::memcpy(&word, bitmap_.data() + at, n);
  const uint64_t end_bit = word_index * 64 + 64;
  if (end_bit > bits_) {
    const uint64_t keep = 64 - (end_bit - bits_);
    word &= keep == 0 ? 0 : (~uint64_t{0} >> (64 - keep));
  }
  return word;
}

std::optional<uint64_t> PhysicalPageIndex::FileOffset(uint64_t pfn) const {
  if (is_bitmap_) {
    if (pfn >= bits_) return std::nullopt;
    const uint64_t w = pfn / 64;
    const uint64_t word = Word(w);
    const uint64_t bit = uint64_t{1} << (pfn % 64);
    if ((word & bit) == 0) return std::nullopt;
    uint64_t rank = rank_[w / kWordsPerBlock];
    for (uint64_t v = w - w % kWordsPerBlock; v < w; ++v) rank += std::popcount(Word(v));
    rank += std::popcount(word & (bit - 1));
    return first_page_offset_ + rank * kPageSize;
  }
  auto it = std::upper_bound(runs_.begin(), runs_.end(), pfn,
                             [](uint64_t p, const Run& r) { return p < r.first_pfn; });
  if (it == runs_.begin()) return std::nullopt;
  --it;
  if (pfn - it->first_pfn >= it->count) return std::nullopt;
  return it->file_offset + (pfn - it->first_pfn) * kPageSize;
}

}  // namespace restack::dump
