// align.cc - longest common subsequence of frame keys, traced from the top
#include "diff/align.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace restack::tools {
namespace {

using Pairs = std::vector<std::pair<size_t, size_t>>;

// The matched (left, right) index pairs of a longest common subsequence of
// a and b, preferring matches nearer the top. A common top is matched first
// without a table; a middle over kMaxAlignCells matches nothing more.
Pairs MatchPairs(const std::vector<const FrameKey*>& a, const std::vector<const FrameKey*>& b,
                 bool* truncated) {
  Pairs out;
  size_t top = 0;
  while (top < a.size() && top < b.size() && a[top]->Matches(*b[top])) {
    out.emplace_back(top, top);
    ++top;
  }
  const size_t n = a.size() - top, m = b.size() - top;
  if (n == 0 || m == 0) return out;
  if (n * m > kMaxAlignCells) {
    *truncated = true;
    return out;
  }
  // lcs[i][j]: the longest common subsequence of a[top+i..] and b[top+j..].
  const size_t width = m + 1;
  std::vector<uint32_t> lcs((n + 1) * width, 0);
  auto at = [&](size_t i, size_t j) -> uint32_t& { return lcs[i * width + j]; };
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      at(i, j) = a[top + i]->Matches(*b[top + j]) ? at(i + 1, j + 1) + 1
                                                  : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  size_t i = 0, j = 0;
  while (i < n && j < m) {
    if (a[top + i]->Matches(*b[top + j])) {
      out.emplace_back(top + i, top + j);
      ++i;
      ++j;
    } else if (at(i + 1, j) >= at(i, j + 1)) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

std::vector<const FrameKey*> Pointers(const std::vector<FrameKey>& keys) {
  std::vector<const FrameKey*> out;
  out.reserve(keys.size());
  for (const FrameKey& k : keys) out.push_back(&k);
  return out;
}

bool SameCallSite(const FrameKey& a, const FrameKey& b) {
  return a.function == b.function && a.offset == b.offset &&
         a.negative_offset == b.negative_offset;
}

}  // namespace

char AlignMarkChar(AlignMark mark) {
  switch (mark) {
    case AlignMark::kSame:
      return '=';
    case AlignMark::kOtherOffset:
      return '~';
    case AlignMark::kLeftOnly:
      return '<';
    case AlignMark::kRightOnly:
      return '>';
  }
  return '?';
}

Alignment AlignStacks(const std::vector<FrameKey>& left, const std::vector<FrameKey>& right) {
  Alignment out;
  const Pairs pairs = MatchPairs(Pointers(left), Pointers(right), &out.truncated);
  size_t i = 0, j = 0;
  auto flush_to = [&](size_t li, size_t rj) {
    for (; i < li; ++i) out.rows.push_back({AlignMark::kLeftOnly, i, std::nullopt});
    for (; j < rj; ++j) out.rows.push_back({AlignMark::kRightOnly, std::nullopt, j});
  };
  for (const auto& [li, rj] : pairs) {
    flush_to(li, rj);
    out.rows.push_back({SameCallSite(left[li], right[rj]) ? AlignMark::kSame
                                                          : AlignMark::kOtherOffset,
                        li, rj});
    i = li + 1;
    j = rj + 1;
  }
  flush_to(left.size(), right.size());
  return out;
}

std::vector<size_t> CommonChain(const std::vector<std::vector<FrameKey>>& stacks) {
  if (stacks.empty()) return {};
  std::vector<size_t> chain;  // indices into stacks[0]
  for (size_t i = 0; i < stacks[0].size(); ++i) {
    if (stacks[0][i].kind != FrameKeyKind::kUnknown) chain.push_back(i);
  }
  for (size_t k = 1; k < stacks.size() && !chain.empty(); ++k) {
    std::vector<const FrameKey*> a;
    for (size_t i : chain) a.push_back(&stacks[0][i]);
    bool truncated = false;
    const Pairs pairs = MatchPairs(a, Pointers(stacks[k]), &truncated);
    std::vector<size_t> kept;
    for (const auto& [ai, bj] : pairs) kept.push_back(chain[ai]);
    chain = std::move(kept);
  }
  return chain;
}

}  // namespace restack::tools
