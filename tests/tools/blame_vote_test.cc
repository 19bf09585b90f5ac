// blame_vote_test.cc - the vote across stacks: presence outranks a single blame,
// owners of last resort never outrank a definite owner, the evidence is kept
#include "blame/vote.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace restack::tools {
namespace {

InputStack Stack(const std::string& label, const std::vector<std::string>& call_sites,
                 std::optional<uint32_t> code = std::nullopt) {
  InputStack s;
  s.source = s.label = label;
  s.kernel = true;
  s.failure_code = code;
  for (const std::string& c : call_sites) s.frames.push_back({KeyOf(c)});
  return s;
}

struct Voted {
  std::vector<InputStack> stacks;
  std::vector<StackBlame> blames;
  std::vector<ModuleVote> votes;
};

Voted VoteOn(std::vector<InputStack> stacks, const TriageRules& rules) {
  Voted v;
  v.stacks = std::move(stacks);
  for (const InputStack& s : v.stacks) v.blames.push_back(BlameStack(s, rules));
  v.votes = Vote(v.stacks, v.blames);
  return v;
}

std::vector<std::string> Order(const std::vector<ModuleVote>& votes) {
  std::vector<std::string> out;
  for (const ModuleVote& v : votes) out.push_back(v.module);
  return out;
}

TEST(Vote, DriverInEveryStackOutranksOneBlamedInASingleStack) {
  // "filter" sits above "miniport" in the first stack and is blamed there;
  // "miniport" is in all three stacks and blamed in the other two.
  const Voted v = VoteOn({Stack("1", {"nt!KeBugCheckEx", "filter+0x10", "miniport+0x1f0a"}, 0x44),
                          Stack("2", {"nt!KeBugCheckEx", "miniport+0x1f0a"}, 0x44),
                          Stack("3", {"nt!KeBugCheckEx", "nt!IopfCompleteRequest", "miniport+0x3059"}, 0x44)},
                         BuiltInTriageRules());
  ASSERT_EQ(v.blames[0].culprit->names.module, "filter");
  EXPECT_EQ(Order(v.votes), (std::vector<std::string>{"miniport", "filter", "nt"}));
  const ModuleVote& top = v.votes[0];
  EXPECT_EQ(top.stacks_present, 3u);
  EXPECT_EQ(top.stacks_blamed, 2u);
  ASSERT_EQ(top.evidence.size(), 3u);
  EXPECT_FALSE(top.evidence[0].blamed);
  EXPECT_EQ(top.evidence[0].frames, (std::vector<size_t>{2}));
  EXPECT_EQ(top.evidence[2].frames, (std::vector<size_t>{2}));
  EXPECT_EQ(v.votes[1].stacks_present, 1u);
  EXPECT_EQ(v.votes[1].stacks_blamed, 1u);
  // The verdict names miniport's most often blamed frame (the first stack to
  // blame it there), with the stacks' bugcheck code.
  const std::optional<Verdict> verdict = VerdictOf(v.votes, v.stacks, v.blames);
  ASSERT_TRUE(verdict.has_value());
  EXPECT_EQ(verdict->vote->module, "miniport");
  EXPECT_EQ(verdict->stack, 1u);
  EXPECT_EQ(verdict->frame, 1u);
  EXPECT_EQ(verdict->names.symbol, "miniport+1f0a");
  EXPECT_EQ(verdict->names.bucket, "0x44_miniport+1f0a");
  EXPECT_EQ(verdict->names.image, "miniport.sys");
}

TEST(Vote, OwnersOfLastResortRankBelowAnyDefiniteOwner) {
  // nt is in every stack, but as last_Windows it never outranks a vendor's
  // driver seen once.
  const Voted v = VoteOn({Stack("1", {"nt!KeBugCheckEx", "nt!IopfCompleteRequest", "drv+0x10"}),
                          Stack("2", {"nt!KeBugCheckEx", "nt!IopfCompleteRequest"})},
                         BuiltInTriageRules());
  EXPECT_EQ(Order(v.votes), (std::vector<std::string>{"drv", "nt"}));
  EXPECT_EQ(v.votes[1].stacks_present, 2u);
  // Stack 2 has only Windows code: its topmost owned frame is blamed.
  EXPECT_EQ(v.blames[1].culprit->frame, 1u);
  EXPECT_EQ(v.blames[1].culprit->names.image, "ntkrnlmp.exe");
}

TEST(Vote, MoreBlamesThenNearerTheTopBreakTies) {
  // Both in all three stacks; b is blamed twice, a once.
  const Voted v = VoteOn({Stack("1", {"a+0x1", "b+0x2"}), Stack("2", {"b+0x2", "a+0x1"}),
                          Stack("3", {"b+0x2", "a+0x1"})},
                         BuiltInTriageRules());
  EXPECT_EQ(Order(v.votes), (std::vector<std::string>{"b", "a"}));
  // Both in both stacks and blamed once each: b's frames are nearer the top
  // on average (frames 1 and 0 against 0 and 2), though a is seen first.
  const Voted w = VoteOn({Stack("1", {"a+0x1", "b+0x2"}), Stack("2", {"b+0x2", "z+0x3", "a+0x1"})},
                         BuiltInTriageRules());
  EXPECT_EQ(Order(w.votes), (std::vector<std::string>{"b", "a", "z"}));
}

TEST(Vote, IgnoredFramesAndBareAddressesDoNotVote) {
  const Voted v = VoteOn({Stack("1", {"nt!KeBugCheckEx", "0xfffff800`00001000"}),
                          Stack("2", {"nt!KeBugCheckEx", "drv+0x10"})},
                         BuiltInTriageRules());
  EXPECT_EQ(Order(v.votes), (std::vector<std::string>{"drv"}));
  EXPECT_FALSE(v.blames[0].culprit.has_value());
}

}  // namespace
}  // namespace restack::tools
