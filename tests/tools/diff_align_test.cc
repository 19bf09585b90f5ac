// diff_align_test.cc - top-anchored alignment and the consistency report over frame keys
#include "diff/align.h"

#include <string>
#include <vector>

#include "diff/consistency.h"
#include "gtest/gtest.h"

namespace restack::tools {
namespace {

std::vector<FrameKey> Keys(const std::vector<std::string>& call_sites) {
  std::vector<FrameKey> out;
  for (const std::string& c : call_sites) out.push_back(KeyOf(c));
  return out;
}

// The alignment as "mark left right" strings ("=0,0", "<1,-", ">-,2").
std::vector<std::string> Rows(const Alignment& a) {
  std::vector<std::string> out;
  for (const AlignRow& r : a.rows) {
    out.push_back(std::string(1, AlignMarkChar(r.mark)) +
                  (r.left ? std::to_string(*r.left) : "-") + "," +
                  (r.right ? std::to_string(*r.right) : "-"));
  }
  return out;
}

TEST(AlignStacks, InsertionsAndDeletionsOnBothSides) {
  // Left has B (deleted) and right has X, Y (inserted) between common frames,
  // and each side has a tail of its own.
  const Alignment a = AlignStacks(Keys({"m!A", "m!B", "m!C", "m!D", "m!L"}),
                                  Keys({"m!A", "m!X", "m!C", "m!Y", "m!D", "m!R1", "m!R2"}));
  EXPECT_FALSE(a.truncated);
  EXPECT_EQ(Rows(a), (std::vector<std::string>{"=0,0", "<1,-", ">-,1", "=2,2", ">-,3", "=3,4",
                                               "<4,-", ">-,5", ">-,6"}));
}

TEST(AlignStacks, EveryFrameAppearsOnceInOrder) {
  const std::vector<FrameKey> left = Keys({"a!1", "b!2", "c!3", "a!1", "d!4", "e!5", "c!3"});
  const std::vector<FrameKey> right = Keys({"b!2", "a!1", "c!3", "x!9", "d!4", "c!3", "a!1"});
  const Alignment a = AlignStacks(left, right);
  size_t next_left = 0, next_right = 0, matched = 0;
  for (const AlignRow& r : a.rows) {
    if (r.left) {
      EXPECT_EQ(*r.left, next_left++);
    }
    if (r.right) {
      EXPECT_EQ(*r.right, next_right++);
    }
    if (r.left && r.right) {
      EXPECT_TRUE(left[*r.left].Matches(right[*r.right]));
      ++matched;
    }
  }
  EXPECT_EQ(next_left, left.size());
  EXPECT_EQ(next_right, right.size());
  // The longest common subsequence here has 4 frames (b!2 c!3 d!4 c!3 or a!1 c!3 d!4 c!3).
  EXPECT_EQ(matched, 4u);
}

TEST(AlignStacks, MatchesPreferTheTop) {
  // "m!A" could pair with either of the right's; the top one is taken.
  const Alignment a = AlignStacks(Keys({"m!A"}), Keys({"m!A", "m!A"}));
  EXPECT_EQ(Rows(a), (std::vector<std::string>{"=0,0", ">-,1"}));
}

TEST(AlignStacks, OtherOffsetIsMarkedAndUnknownNeverPaired) {
  const Alignment a = AlignStacks(Keys({"nt!F+0x10", "nt! ?? ::FNODOBFM::`string'+0xb318", "0x1234"}),
                                  Keys({"nt!F+0x10", "nt! ?? ::FNODOBFM::`string'+0x2a9ab", "0x1234"}));
  EXPECT_EQ(Rows(a), (std::vector<std::string>{"=0,0", "~1,1", "<2,-", ">-,2"}));
}

TEST(AlignStacks, HugeMiddlesAreNotSearched) {
  std::vector<std::string> left = {"m!Top"}, right = {"m!Top"};
  for (int i = 0; i < 2100; ++i) {
    left.push_back("l!F" + std::to_string(i));
    right.push_back("r!F" + std::to_string(i));
  }
  left.push_back("m!Bottom");
  right.push_back("m!Bottom");
  const Alignment a = AlignStacks(Keys(left), Keys(right));
  EXPECT_TRUE(a.truncated);
  EXPECT_EQ(a.rows.front().mark, AlignMark::kSame);
  EXPECT_EQ(a.rows.size(), left.size() + right.size() - 1);  // only the top paired
}

TEST(CommonChain, FoldsOverEveryStack) {
  const std::vector<std::vector<FrameKey>> stacks = {
      Keys({"k!A", "k!B", "k!C", "k!D"}), Keys({"k!A", "k!X", "k!C", "k!D"}),
      Keys({"k!A", "k!C", "k!Y", "k!D", "k!B"})};
  EXPECT_EQ(CommonChain(stacks), (std::vector<size_t>{0, 2, 3}));  // A, C, D (B out of order)
}

TEST(Consistency, CommonSomeAndOne) {
  const std::vector<std::vector<FrameKey>> stacks = {
      Keys({"k!A", "k!B", "d1+0x10", "k!C", "0x1"}),
      Keys({"k!A", "k!B", "d1+0x10", "k!E"}),
      Keys({"k!A", "k!C", "d2+0x20", "k!B"})};
  const ConsistencyReport r = Consistency(stacks);
  EXPECT_EQ(r.stack_count, 3u);
  EXPECT_EQ(r.common_top, 1u);  // only k!A is at the top of all three
  std::vector<std::string> common, some, one;
  for (const KeyEntry& e : r.common) common.push_back(e.key.name + (e.in_order ? "" : "?"));
  for (const KeyEntry& e : r.some) some.push_back(e.key.name);
  for (const KeyEntry& e : r.one) one.push_back(e.key.name + "@" + std::to_string(e.places[0].stack));
  EXPECT_EQ(common, (std::vector<std::string>{"k!A", "k!B"}));  // k!B in every stack, in order
  EXPECT_EQ(some, (std::vector<std::string>{"d1+0x10", "k!C"}));
  EXPECT_EQ(one, (std::vector<std::string>{"k!E@1", "d2+0x20@2"}));
  ASSERT_EQ(r.common[1].places.size(), 3u);
  EXPECT_EQ(r.common[1].places[2].frames, (std::vector<size_t>{3}));
  // Modules: k in all, d1 in two, d2 in one; the bare address in none.
  ASSERT_EQ(r.common_modules.size(), 1u);
  EXPECT_EQ(r.common_modules[0].module, "k");
  ASSERT_EQ(r.some_modules.size(), 1u);
  EXPECT_EQ(r.some_modules[0].stacks, (std::vector<size_t>{0, 1}));
  ASSERT_EQ(r.one_modules.size(), 1u);
  EXPECT_EQ(r.one_modules[0].module, "d2");
}

TEST(Consistency, KeysEveryStackHasOutOfOrderAreCommonButMarked) {
  const ConsistencyReport r = Consistency({Keys({"k!A", "k!B"}), Keys({"k!B", "k!A"})});
  ASSERT_EQ(r.common.size(), 2u);
  EXPECT_TRUE(r.common[0].in_order);
  EXPECT_FALSE(r.common[1].in_order);
  EXPECT_EQ(r.common_top, 0u);
}

}  // namespace
}  // namespace restack::tools
