// diff_tool_test.cc - restack-diff on the seed's two kv stacks and on bad input
//
// What is common and what is machine-specific is worked out here from the
// files themselves (their rows, read with the stack-text codec), not copied
// from restack-diff's output.
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/exit_code.h"
#include "common/stack_input.h"
#include "diff/consistency.h"
#include "diff/diff.h"
#include "gtest/gtest.h"
#include "tests/tools/diff_blame_files.h"
#include "nlohmann/json.hpp"
#include "restack/sym/stack_text.h"

namespace restack::tools {
namespace {

constexpr char kWin8[] = "../shared/samples/stacktext/seed-win8-bitdefender-kv.txt";
constexpr char kWin81[] = "../shared/samples/stacktext/seed-win81-tcpip-kv.txt";

// The call sites of a file's only stack, straight from the codec.
std::vector<sym::CallSite> CallSites(const std::string& path) {
  const sym::StackText text = sym::ParseStackText(ReadText(path));
  std::vector<sym::CallSite> out;
  for (const sym::Stack* s : sym::StacksOf(text)) {
    for (const sym::Frame& f : s->frames) out.push_back(f.call_site);
  }
  return out;
}

struct DiffRun {
  int rc = 0;
  std::string out, err;
};

DiffRun Diff(const std::vector<std::string>& inputs, bool json = false) {
  DiffToolOptions options;
  options.inputs = inputs;
  options.json = json;
  std::ostringstream out, err;
  DiffRun r;
  r.rc = RunDiff(options, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

TEST(DiffSeed, CommonFramesAndMachineSpecificPaths) {
  const std::vector<sym::CallSite> win8 = CallSites(kWin8), win81 = CallSites(kWin81);
  ASSERT_FALSE(win8.empty());
  ASSERT_FALSE(win81.empty());
  const DiffRun r = Diff({kWin8, kWin81}, /*json=*/true);
  ASSERT_EQ(r.rc, kExitOk) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  std::set<std::string> common, one1, one2;
  for (const nlohmann::json& e : j["common"]) common.insert(e["key"]);
  for (const nlohmann::json& e : j["one"]) {
    (e["stacks"][0]["stack"] == 1 ? one1 : one2).insert(e["key"].get<std::string>());
  }
  // The top five rows of the two files: KeBugCheckEx, an nt chunk named
  // after a string literal (at another offset in each build), then three
  // Hamdrv frames at the same RVAs.
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(win8[i].module, win81[i].module) << i;
    EXPECT_EQ(win8[i].function.empty(), win81[i].function.empty()) << i;
  }
  EXPECT_EQ(win8[0].function, "KeBugCheckEx");
  EXPECT_TRUE(IsStringLiteralName(win8[1].function) && IsStringLiteralName(win81[1].function));
  EXPECT_NE(win8[1].offset, win81[1].offset);
  EXPECT_TRUE(common.count("nt!KeBugCheckEx"));
  EXPECT_TRUE(common.count("nt!<chunk>"));
  for (size_t i = 2; i < 5; ++i) {
    EXPECT_EQ(win8[i].module, "Hamdrv");
    EXPECT_EQ(win8[i].offset, win81[i].offset);
    EXPECT_TRUE(common.count(KeyOf(win8[i]).name)) << win8[i].text;
  }
  EXPECT_EQ(j["common_top"], 5);
  // Every ndis, filter and tcpip/afd row whose function the other file does
  // not have is reported as in one stack only, under its own stack.
  auto functions = [](const std::vector<sym::CallSite>& sites) {
    std::set<std::string> out;
    for (const sym::CallSite& c : sites) out.insert(KeyOf(c).name);
    return out;
  };
  // Rows of `mine` in `modules` whose key the other file lacks must be in `only`.
  auto count_specific = [](const std::vector<sym::CallSite>& mine,
                           const std::set<std::string>& other, const std::set<std::string>& only,
                           const std::set<std::string>& modules) {
    size_t n = 0;
    for (const sym::CallSite& c : mine) {
      const std::string k = KeyOf(c).name;
      if (modules.count(c.module) == 0 || other.count(k) > 0) continue;
      EXPECT_TRUE(only.count(k)) << k;
      ++n;
    }
    return n;
  };
  const size_t machine_specific =
      count_specific(win8, functions(win81), one1, {"ndis", "bdfndisf6", "wfplwfs"}) +
      count_specific(win81, functions(win8), one2, {"ndis", "tcpip", "afd"});
  EXPECT_GE(machine_specific, 15u);
  // The filter and tcpip modules are each on one machine only.
  std::map<std::string, std::vector<int>> module_stacks;
  for (const nlohmann::json& m : j["modules"]["one"]) {
    module_stacks[m["module"]] = m["stacks"].get<std::vector<int>>();
  }
  EXPECT_EQ(module_stacks["bdfndisf6"], std::vector<int>{1});
  EXPECT_EQ(module_stacks["tcpip"], std::vector<int>{2});
}

TEST(DiffSeed, SideBySideMarksEachRow) {
  const DiffRun r = Diff({kWin8, kWin81});
  ASSERT_EQ(r.rc, kExitOk) << r.err;
  const std::vector<sym::CallSite> win8 = CallSites(kWin8), win81 = CallSites(kWin81);
  // Each row of the side-by-side view starts with its mark and frame numbers.
  std::istringstream lines(r.out);
  size_t same = 0, other = 0, left = 0, right = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.size() < 3 || line[1] != ' ' || line[2] != ' ') continue;
    switch (line[0]) {
      case '=': ++same; break;
      case '~': ++other; break;
      case '<': ++left; break;
      case '>': ++right; break;
      default: break;
    }
  }
  EXPECT_EQ(same + other + left, win8.size());
  EXPECT_EQ(same + other + right, win81.size());
  EXPECT_EQ(other, 2u);  // the chunk and KeExpandKernelStackAndCalloutInternal, at other offsets
  EXPECT_NE(r.out.find("~  01 nt! ?? ::FNODOBFM::`string'+0xb318"), std::string::npos);
}

TEST(DiffTool, BadInputIsNamedAndTheRestCompared) {
  const DiffRun r = Diff({kWin8, "no/such/file.txt", "tests/fuzz/corpus/stack_text/hand-junk-mixed.txt", kWin81});
  EXPECT_EQ(r.rc, kExitPartial);
  EXPECT_NE(r.err.find("restack-diff: no/such/file.txt"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hand-junk-mixed.txt: line 7: not a frame row"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("Common to all 4 stacks"), std::string::npos) << r.out;
}

TEST(DiffTool, FewerThanTwoStacksIsAnError) {
  const DiffRun r = Diff({kWin8});
  EXPECT_EQ(r.rc, kExitError);
  EXPECT_NE(r.err.find("1 stack read; comparing needs two or more"), std::string::npos);
}

}  // namespace
}  // namespace restack::tools
