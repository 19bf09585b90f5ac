// diff_stack_input_test.cc - stacks read from text and JSON Lines, with bad input named
#include "common/stack_input.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/tools/diff_blame_files.h"
#include "restack/sym/stack_text.h"

namespace restack::tools {
namespace {

bool AnyContains(const std::vector<std::string>& v, const std::string& part) {
  for (const std::string& s : v) {
    if (s.find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(StackInput, SeedKvTextKeepsEveryRowAndItsKey) {
  const std::string path = "../shared/samples/stacktext/seed-win8-bitdefender-kv.txt";
  const std::string text = ReadText(path);
  const StackInput in = ParseStackInput(path, text);
  ASSERT_EQ(in.stacks.size(), 1u);
  EXPECT_TRUE(in.problems.empty());
  const InputStack& s = in.stacks[0];
  EXPECT_EQ(s.label, path);
  EXPECT_EQ(s.title, "7: kd> kv");
  EXPECT_TRUE(s.kernel);
  // One frame per kv row of the file, in order.
  std::vector<std::string> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" : ") != std::string::npos && line.rfind("Child-SP", 0) != 0) {
      rows.push_back(line.substr(line.rfind(" : ") + 3));
    }
  }
  ASSERT_EQ(s.frames.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(s.frames[i].key.call_site, rows[i]);
  // The bugcheck code is the first "Args to Child" of KeBugCheckEx's row.
  EXPECT_EQ(s.failure_code, 0x44u);
  EXPECT_FALSE(s.failure_is_exception);
  // Frame 1's address is frame 0's RetAddr.
  EXPECT_EQ(s.frames[1].address, 0xfffff803d802e6f2u);
}

TEST(StackInput, AnalyzeTextStatesTheBugcheck) {
  const StackInput in = ParseStackInput(
      "a.txt", "BugCheck 44, {fffffa800ea3f910, f7a, 0, 0}\n\nSTACK_TEXT:  \n"
               "fffff880`031a9e30 fffff880`1a803059 : fffffa80`0c7852c0 fffff880`031a9f00 "
               "fffff880`031a9f80 fffffa80`0000004a : Hamdrv+0x1f0a\n");
  ASSERT_EQ(in.stacks.size(), 1u);
  EXPECT_EQ(in.stacks[0].failure_code, 0x44u);
  EXPECT_EQ(in.stacks[0].failure_source, "line 1");
  EXPECT_EQ(in.stacks[0].title, "STACK_TEXT");
}

TEST(StackInput, BugCheckLines) {
  EXPECT_EQ(BugCheckCodeInLine("BugCheck 44, {fffffa800ea3f910, f7a, 0, 0}"), 0x44u);
  EXPECT_EQ(BugCheckCodeInLine("BUGCHECK_CODE:  d1"), 0xd1u);
  EXPECT_EQ(BugCheckCodeInLine("BUGCHECK_STR:  0x44"), 0x44u);
  EXPECT_EQ(BugCheckCodeInLine("BUGCHECK_STR:  0xD1_W"), 0xd1u);
  EXPECT_EQ(BugCheckCodeInLine("BUGCHECK_STR:  80000003"), std::nullopt);  // user mode
  EXPECT_EQ(BugCheckCodeInLine("Bugcheck code 00000044"), 0x44u);
  EXPECT_EQ(BugCheckCodeInLine("MULTIPLE_IRP_COMPLETE_REQUESTS (44)"), 0x44u);
  // A name that is not the code's is not a bugcheck title.
  EXPECT_EQ(BugCheckCodeInLine("MULTIPLE_IRP_COMPLETE_REQUESTS (d1)"), std::nullopt);
  EXPECT_EQ(BugCheckCodeInLine("BugCheck was here"), std::nullopt);
}

TEST(StackInput, SeveralStacksAreLabelledByPosition) {
  const std::string path = "tests/fuzz/corpus/stack_text/hand-tilde-star.txt";
  const StackInput in = ParseStackInput(path, ReadText(path));
  ASSERT_GE(in.stacks.size(), 2u);
  EXPECT_EQ(in.stacks[0].label, path + "#1");
  EXPECT_EQ(in.stacks[1].label, path + "#2");
}

TEST(StackInput, GarbageAndEmptyStacksAreNamedAndTheRestRead) {
  const std::string path = "tests/fuzz/corpus/stack_text/hand-junk-mixed.txt";
  const StackInput in = ParseStackInput(path, ReadText(path));
  // Lines 7 and 8 are broken kn rows (a short RetAddr, 'z' digits).
  EXPECT_TRUE(AnyContains(in.problems, path + ": line 7: not a frame row"));
  EXPECT_TRUE(AnyContains(in.problems, path + ": line 8: not a frame row"));
  EXPECT_EQ(in.stacks.size(), 2u);  // the kn stack cut at line 7, the lone kv row

  const StackInput empty = ParseStackInput("e.txt", "0: kd> kv\nChild-SP          RetAddr           Call Site\n");
  EXPECT_TRUE(empty.stacks.empty());
  EXPECT_TRUE(AnyContains(empty.problems, "e.txt: line 1: stack \"0: kd> kv\" has no frames"));
  EXPECT_TRUE(AnyContains(empty.problems, "e.txt: no stack found"));

  const StackInput nothing = ParseStackInput("n.txt", "hello\nworld\n");
  ASSERT_EQ(nothing.problems.size(), 1u);
  EXPECT_TRUE(AnyContains(nothing.problems, "n.txt: no stack found"));
}

TEST(StackInput, JsonLinesFromTheCodecAndBadLines) {
  const std::string path = "../shared/samples/stacktext/seed-win81-tcpip-kv.txt";
  const std::string json = sym::EmitJsonLines(sym::ParseStackText(ReadText(path)));
  const StackInput from_text = ParseStackInput(path, ReadText(path));
  const StackInput from_json = ParseStackInput("s.jsonl", json + "not json\n{\"x\": 1}\n" + json);
  ASSERT_EQ(from_json.stacks.size(), 2u);
  ASSERT_EQ(from_json.stacks[0].frames.size(), from_text.stacks[0].frames.size());
  for (size_t i = 0; i < from_text.stacks[0].frames.size(); ++i) {
    EXPECT_EQ(from_json.stacks[0].frames[i].key.key, from_text.stacks[0].frames[i].key.key);
  }
  EXPECT_EQ(from_json.stacks[0].failure_code, 0x44u);  // KeBugCheckEx's args are in the JSON
  EXPECT_EQ(from_json.stacks[1].label, "s.jsonl#2");
  EXPECT_TRUE(AnyContains(from_json.problems, "s.jsonl: line 2: not JSON"));
  EXPECT_TRUE(AnyContains(from_json.problems, "s.jsonl: line 3: not a stack"));
}

TEST(StackInput, ManyBadJsonLinesAreSummarised) {
  std::string text = "{\"frames\": [{\"call_site\": \"a!b+0x1\"}]}\n";
  for (int i = 0; i < 20; ++i) text += "[1,\n";
  const StackInput in = ParseStackInput("b.jsonl", text);
  EXPECT_EQ(in.stacks.size(), 1u);
  EXPECT_EQ(in.problems.size(), kMaxLineProblems + 1);
  EXPECT_TRUE(AnyContains(in.problems, "b.jsonl: 15 more lines that are no stack"));
}

TEST(StackInput, RestackWalkJsonNamesImagesAndAddresses) {
  const StackInput in = ParseStackInput(
      "w.jsonl",
      R"({"dump":"x.dmp","context":"bugcheck","frames":[)"
      R"({"index":0,"inline":false,"rip":"0xfffff8061a201370","child_sp":"0xffff850429885d48","call_site":"rsnt!KeBugCheckEx","module":"rsnt.exe","module_base":"0xfffff8061a200000"},)"
      R"({"index":1,"inline":false,"rip":"0x7ff76a8e106a","child_sp":"0xa52f1fff48","call_site":"0x00007ff7`6a8e106a","module":null,"module_base":null}]})");
  ASSERT_EQ(in.stacks.size(), 1u);
  const InputStack& s = in.stacks[0];
  EXPECT_EQ(s.title, "x.dmp (bugcheck)");
  EXPECT_EQ(s.frames[0].image, "rsnt.exe");
  EXPECT_EQ(s.frames[0].address, 0xfffff8061a201370u);
  EXPECT_EQ(s.frames[1].key.kind, FrameKeyKind::kUnknown);
  EXPECT_TRUE(s.kernel);
}

TEST(StackInput, DumpsAndMissingFilesAreNamed) {
  EXPECT_TRUE(AnyContains(ParseStackInput("x.dmp", std::string("PAGEDU64") + std::string(8, '\0')).problems,
                          "x.dmp: a dump, not stack text"));
  EXPECT_TRUE(AnyContains(ReadStackInput("no/such/file.txt").problems, "no/such/file.txt"));
}

}  // namespace
}  // namespace restack::tools
