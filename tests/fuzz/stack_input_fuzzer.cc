// stack_input_fuzzer.cc - libFuzzer target: restack-diff's and restack-blame's
// inputs, and what they compute from them
//
// The input is split at its first NUL byte: before it, triage.ini text for
// TriageRules::AddText (after the built-in rules); after it (or the whole
// input when there is no NUL), stack text or JSON for ParseStackInput. Every
// stack read is then normalised, aligned with the first, blamed, voted on
// and put in a consistency report, so that frame keys, alignment, rule
// matching and the vote see untrusted shapes (empty names, huge offsets,
// thousands of frames).
//
// Seeds: tests/fuzz/corpus/stack_input/ (the analysts' samples, restack-walk
// JSON, a rules file; make_seeds.py).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "blame/culprit.h"
#include "blame/triage_rules.h"
#include "blame/vote.h"
#include "common/stack_input.h"
#include "diff/align.h"
#include "diff/consistency.h"

namespace {

volatile size_t g_sink = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace restack::tools;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  const std::string_view rules_text = nul == std::string_view::npos ? "" : all.substr(0, nul);
  const std::string_view stacks_text = nul == std::string_view::npos ? all : all.substr(nul + 1);

  TriageRules rules = BuiltInTriageRules();
  g_sink = g_sink + rules.AddText("fuzz.ini", rules_text).size();
  StackInput input = ParseStackInput("fuzz", stacks_text);
  LabelStacks(input.stacks);
  g_sink = g_sink + input.problems.size() + input.warnings.size();

  std::vector<std::vector<FrameKey>> keys;
  std::vector<StackBlame> blames;
  for (const InputStack& s : input.stacks) {
    std::vector<FrameKey> k;
    for (const InputFrame& f : s.frames) k.push_back(f.key);
    keys.push_back(std::move(k));
    blames.push_back(BlameStack(s, rules));
  }
  if (keys.size() >= 2) {
    const Alignment a = AlignStacks(keys[0], keys[1]);
    g_sink = g_sink + a.rows.size();
    g_sink = g_sink + CommonChain(keys).size();
  }
  if (!keys.empty()) {
    const ConsistencyReport report = Consistency(keys);
    g_sink = g_sink + report.common.size();
  }
  const std::vector<ModuleVote> votes = Vote(input.stacks, blames);
  g_sink = g_sink + votes.size();
  if (std::optional<Verdict> v = VerdictOf(votes, input.stacks, blames)) g_sink = g_sink + 1;
  return 0;
}
