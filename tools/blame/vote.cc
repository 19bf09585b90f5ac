// vote.cc - modules counted across stacks, ranked, and the verdict named
#include "blame/vote.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"

namespace restack::tools {
namespace {

// Strength of an owner class for ranking: definite first.
int Strength(const TriageRule* rule) {
  switch (rule->owner_class) {
    case OwnerClass::kDefinite:
      return 0;
    case OwnerClass::kMaybe:
      return 1;
    case OwnerClass::kLast:
      return 2;
    case OwnerClass::kIgnore:
      return 3;
  }
  return 3;
}

}  // namespace

std::vector<ModuleVote> Vote(const std::vector<InputStack>& stacks,
                             const std::vector<StackBlame>& blames) {
  std::vector<ModuleVote> votes;
  std::map<std::string, size_t> by_module;
  for (size_t s = 0; s < stacks.size(); ++s) {
    const InputStack& stack = stacks[s];
    for (size_t f = 0; f < stack.frames.size(); ++f) {
      const TriageRule* rule = blames[s].owners[f].rule;
      if (rule == nullptr || rule->owner_class == OwnerClass::kIgnore) continue;
      const FrameKey& key = stack.frames[f].key;
      auto [it, added] = by_module.emplace(absl::AsciiStrToLower(key.module), votes.size());
      if (added) {
        ModuleVote v;
        v.module = key.module;
        v.image = ImageNameOf(stack, stack.frames[f]);
        votes.push_back(std::move(v));
      }
      ModuleVote& v = votes[it->second];
      if (v.rule == nullptr || Strength(rule) < Strength(v.rule)) v.rule = rule;
      if (v.evidence.empty() || v.evidence.back().stack != s) {
        v.evidence.push_back({s, {}, false});
        ++v.stacks_present;
        v.mean_top_frame += static_cast<double>(f);
      }
      ModuleEvidence& e = v.evidence.back();
      e.frames.push_back(f);
      if (blames[s].culprit && blames[s].culprit->frame == f) {
        e.blamed = true;
        ++v.stacks_blamed;
      }
    }
  }
  for (ModuleVote& v : votes) v.mean_top_frame /= static_cast<double>(v.stacks_present);
  std::stable_sort(votes.begin(), votes.end(), [](const ModuleVote& a, const ModuleVote& b) {
    return std::make_tuple(Strength(a.rule), -static_cast<long>(a.stacks_present),
                           -static_cast<long>(a.stacks_blamed), a.mean_top_frame) <
           std::make_tuple(Strength(b.rule), -static_cast<long>(b.stacks_present),
                           -static_cast<long>(b.stacks_blamed), b.mean_top_frame);
  });
  return votes;
}

std::optional<Verdict> VerdictOf(const std::vector<ModuleVote>& votes,
                                 const std::vector<InputStack>& stacks,
                                 const std::vector<StackBlame>& blames) {
  if (votes.empty()) return std::nullopt;
  const ModuleVote& top = votes.front();
  Verdict v;
  v.vote = &top;
  v.stack = top.evidence.front().stack;
  v.frame = top.evidence.front().frames.front();
  // The frame blamed most often (by SYMBOL_NAME), the first seen on a tie:
  // symbol -> (count, stack, frame of its first occurrence).
  std::map<std::string, std::tuple<size_t, size_t, size_t>> blamed;
  size_t best = 0;
  for (const ModuleEvidence& e : top.evidence) {
    if (!e.blamed) continue;
    const size_t f = blames[e.stack].culprit->frame;
    auto [it, added] = blamed.emplace(SymbolNameOf(stacks[e.stack].frames[f].key),
                                      std::make_tuple(size_t{0}, e.stack, f));
    const size_t n = ++std::get<0>(it->second);
    if (n > best || (n == best && std::get<1>(it->second) < v.stack)) {
      best = n;
      v.stack = std::get<1>(it->second);
      v.frame = std::get<2>(it->second);
    }
  }
  // The failure code most of the module's stacks state.
  std::map<std::pair<uint32_t, bool>, size_t> codes;
  std::optional<std::pair<uint32_t, bool>> code;
  size_t code_count = 0;
  for (const ModuleEvidence& e : top.evidence) {
    const InputStack& s = stacks[e.stack];
    if (!s.failure_code) continue;
    const size_t n = ++codes[{*s.failure_code, s.failure_is_exception}];
    if (n > code_count) {
      code_count = n;
      code = std::make_pair(*s.failure_code, s.failure_is_exception);
    }
  }
  v.names = NamesOf(stacks[v.stack], v.frame);
  v.names.bucket = BucketIdOf(v.names.symbol, code ? std::optional<uint32_t>(code->first)
                                                   : std::nullopt,
                              code && code->second);
  return v;
}

}  // namespace restack::tools
