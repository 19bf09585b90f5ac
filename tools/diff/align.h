// align.h - top-anchored alignment of two stacks' frame keys
//
// Stacks of one crash share their top (the faulting frames) and differ below
// (how each machine got there). The alignment starts at frame 0 of both and
// keeps as many frames matched as possible (a longest common subsequence of
// keys), preferring matches nearer the top; frames of one side only are
// insertions or deletions, on either side.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "common/frame_key.h"

namespace restack::tools {

// One row of an alignment.
enum class AlignMark {
  kSame,         // '=': same key, same call site
  kOtherOffset,  // '~': same key (function), another offset or chunk name
  kLeftOnly,     // '<': only in the left stack
  kRightOnly,    // '>': only in the right stack
};

// '=', '~', '<', '>'.
char AlignMarkChar(AlignMark mark);

struct AlignRow {
  AlignMark mark = AlignMark::kSame;
  std::optional<size_t> left;   // frame index in the left stack
  std::optional<size_t> right;  // frame index in the right stack
};

// Above this many cells (left size x right size, after the common top and
// bottom are taken off) the remaining middle is not searched for matches: it
// is reported as deletions then insertions, and `truncated` is set.
inline constexpr size_t kMaxAlignCells = size_t{1} << 22;

struct Alignment {
  std::vector<AlignRow> rows;  // top to bottom
  bool truncated = false;      // the middle was too large to align (kMaxAlignCells)
};

// Aligns `left` and `right` (frame 0 first). Keys that do not Match() are
// never paired. Within a run of frames that match nothing, the left side's
// rows come first.
Alignment AlignStacks(const std::vector<FrameKey>& left, const std::vector<FrameKey>& right);

// The frame keys common to every stack, in an order all of them follow (a
// common subsequence, folded stack by stack from the first): each result is
// the index of that frame in stacks[0].
std::vector<size_t> CommonChain(const std::vector<std::vector<FrameKey>>& stacks);

}  // namespace restack::tools
