// consistency.cc - frame keys and modules counted across stacks
#include "diff/consistency.h"

#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "diff/align.h"

namespace restack::tools {
namespace {

// Entries of every key, in order of first occurrence (stack, then frame).
std::vector<KeyEntry> CollectKeys(const std::vector<std::vector<FrameKey>>& stacks) {
  std::vector<KeyEntry> entries;
  std::map<std::string, size_t> by_key;
  for (size_t s = 0; s < stacks.size(); ++s) {
    for (size_t f = 0; f < stacks[s].size(); ++f) {
      const FrameKey& k = stacks[s][f];
      if (k.kind == FrameKeyKind::kUnknown) continue;
      auto [it, added] = by_key.emplace(k.key, entries.size());
      if (added) entries.push_back(KeyEntry{k, {}, true});
      KeyEntry& e = entries[it->second];
      if (e.places.empty() || e.places.back().stack != s) e.places.push_back({s, {}});
      e.places.back().frames.push_back(f);
    }
  }
  return entries;
}

// Modules with the stacks they appear in, in order of first occurrence.
void CollectModules(const std::vector<std::vector<FrameKey>>& stacks, ConsistencyReport& r) {
  std::vector<ModuleEntry> modules;
  std::map<std::string, size_t> by_name;
  for (size_t s = 0; s < stacks.size(); ++s) {
    for (const FrameKey& k : stacks[s]) {
      if (k.kind == FrameKeyKind::kUnknown) continue;
      auto [it, added] = by_name.emplace(absl::AsciiStrToLower(k.module), modules.size());
      if (added) modules.push_back({k.module, {}});
      std::vector<size_t>& in = modules[it->second].stacks;
      if (in.empty() || in.back() != s) in.push_back(s);
    }
  }
  for (ModuleEntry& m : modules) {
    if (m.stacks.size() == stacks.size()) {
      r.common_modules.push_back(std::move(m));
    } else if (m.stacks.size() > 1) {
      r.some_modules.push_back(std::move(m));
    } else {
      r.one_modules.push_back(std::move(m));
    }
  }
}

size_t CommonTop(const std::vector<std::vector<FrameKey>>& stacks) {
  size_t top = 0;
  for (;; ++top) {
    for (const std::vector<FrameKey>& s : stacks) {
      if (top >= s.size() || !s[top].Matches(stacks[0][top])) return top;
    }
  }
}

}  // namespace

ConsistencyReport Consistency(const std::vector<std::vector<FrameKey>>& stacks) {
  ConsistencyReport r;
  r.stack_count = stacks.size();
  if (stacks.empty()) return r;
  r.common_top = CommonTop(stacks);
  // The chain's keys, in stack 0's order.
  std::vector<std::string> chain;
  std::set<std::string> in_chain;
  for (size_t i : CommonChain(stacks)) {
    if (in_chain.insert(stacks[0][i].key).second) chain.push_back(stacks[0][i].key);
  }
  std::vector<KeyEntry> unordered;
  std::map<std::string, KeyEntry> ordered;
  for (KeyEntry& e : CollectKeys(stacks)) {
    if (e.places.size() == stacks.size()) {
      if (in_chain.count(e.key.key) > 0) {
        ordered.emplace(e.key.key, std::move(e));
      } else {
        e.in_order = false;
        unordered.push_back(std::move(e));
      }
    } else if (e.places.size() > 1) {
      r.some.push_back(std::move(e));
    } else {
      r.one.push_back(std::move(e));
    }
  }
  for (const std::string& k : chain) r.common.push_back(std::move(ordered.at(k)));
  for (KeyEntry& e : unordered) r.common.push_back(std::move(e));
  CollectModules(stacks, r);
  return r;
}

}  // namespace restack::tools
