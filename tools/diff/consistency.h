// consistency.h - what N stacks share: frames and modules in every stack, in
// some, in one only
//
// The seed's analysts compared stacks by hand "until they found consistency":
// the frames every 0x44 stack ran through (KeBugCheckEx, an nt chunk, three
// Hamdrv frames) against those of one machine only (a BitDefender filter, the
// tcpip send path). This is that comparison over normalised frame keys.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/frame_key.h"

namespace restack::tools {

// Where a key occurs in one stack.
struct KeyPlace {
  size_t stack = 0;            // index of the stack
  std::vector<size_t> frames;  // frame indices holding the key, top first
};

// One frame key and the stacks holding it.
struct KeyEntry {
  FrameKey key;                // as first seen (its name is what the report prints)
  std::vector<KeyPlace> places;  // in stack order
  bool in_order = true;  // common entries: part of the order every stack follows (CommonChain)
};

// A module and the stacks with a frame in it.
struct ModuleEntry {
  std::string module;          // as first seen
  std::vector<size_t> stacks;  // indices, ascending
};

struct ConsistencyReport {
  size_t stack_count = 0;
  // The first common_top frames of every stack have the same keys (frame 0 first).
  size_t common_top = 0;
  // Keys in every stack: first the common chain in stack 0's order, then
  // (in_order false) those every stack has but not in one order.
  std::vector<KeyEntry> common;
  std::vector<KeyEntry> some;  // in more than one stack but not all, by first occurrence
  std::vector<KeyEntry> one;   // in exactly one stack, by stack then frame
  std::vector<ModuleEntry> common_modules, some_modules, one_modules;  // the same for modules
};

// The report over `stacks` (each a stack's frame keys, frame 0 first).
// kUnknown keys (bare addresses) belong to no entry.
ConsistencyReport Consistency(const std::vector<std::vector<FrameKey>>& stacks);

}  // namespace restack::tools
