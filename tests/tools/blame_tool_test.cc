// blame_tool_test.cc - restack-blame on the seed's texts, on the emulated kernel
// scenario dumps (checked against their truth files) and on bad input
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_split.h"
#include "blame/blame.h"
#include "common/exit_code.h"
#include "gtest/gtest.h"
#include "tests/tools/diff_blame_files.h"
#include "nlohmann/json.hpp"
#include "restack/sym/stack_text.h"

namespace restack::tools {
namespace {

constexpr char kWin8[] = "../shared/samples/stacktext/seed-win8-bitdefender-kv.txt";
constexpr char kWin81[] = "../shared/samples/stacktext/seed-win81-tcpip-kv.txt";
constexpr char kScenarios[] = "tests/fixtures/kernel/scenarios/";
constexpr char kStore[] = "srv*tests/fixtures/kernel/store";

struct BlameRun {
  int rc = 0;
  std::string out, err;
  std::vector<nlohmann::json> lines;  // with --json
};

BlameRun Blame(BlameToolOptions options) {
  std::ostringstream out, err;
  BlameRun r;
  r.rc = RunBlame(options, out, err);
  r.out = out.str();
  r.err = err.str();
  if (options.json) {
    for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
      r.lines.push_back(nlohmann::json::parse(std::string(line)));
    }
  }
  return r;
}

// Frame indices of `module`'s rows in a text file's only stack, from the codec.
std::vector<size_t> RowsOf(const std::string& path, const std::string& module) {
  std::vector<size_t> out;
  const sym::StackText text = sym::ParseStackText(ReadText(path));
  const std::vector<const sym::Stack*> stacks = sym::StacksOf(text);
  for (size_t i = 0; i < stacks.at(0)->frames.size(); ++i) {
    if (stacks[0]->frames[i].call_site.module == module) out.push_back(i);
  }
  return out;
}

// A file under the test's temporary directory.
std::string TempFile(const std::string& name, const std::string& content) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "restack_blame_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(BlameSeed, BothTextsNameHamdrvWithTheEvidence) {
  BlameToolOptions options;
  options.inputs = {kWin8, kWin81};
  BlameRun text = Blame(options);
  ASSERT_EQ(text.rc, kExitOk) << text.err;
  // Once per stack and once for the verdict, in !analyze's terms.
  size_t said = 0;
  for (size_t at = 0; (at = text.out.find("Probably caused by : Hamdrv.sys ( Hamdrv+0x1f0a )", at)) !=
                      std::string::npos;
       ++at) {
    ++said;
  }
  EXPECT_EQ(said, 3u) << text.out;
  EXPECT_NE(text.out.find("MODULE_NAME:  Hamdrv\nIMAGE_NAME:  Hamdrv.sys\n"), std::string::npos);
  EXPECT_NE(text.out.find("SYMBOL_NAME:  Hamdrv+1f0a\n"), std::string::npos);
  EXPECT_NE(text.out.find("FAILURE_BUCKET_ID:  0x44_Hamdrv+1f0a\n"), std::string::npos);
  EXPECT_NE(text.out.find("Verdict: Hamdrv.sys, in 2 of 2 stacks, blamed by 2 of 2"), std::string::npos);

  options.json = true;
  const BlameRun json = Blame(options);
  ASSERT_EQ(json.lines.size(), 3u);
  const nlohmann::json& vote = json.lines[2];
  EXPECT_EQ(vote["verdict"]["module_name"], "Hamdrv");
  EXPECT_EQ(vote["verdict"]["failure_bucket_id"], "0x44_Hamdrv+1f0a");
  // The evidence: Hamdrv's rows in each file, from the files themselves.
  const nlohmann::json& hamdrv = vote["modules"][0];
  ASSERT_EQ(hamdrv["module"], "Hamdrv");
  ASSERT_EQ(hamdrv["evidence"].size(), 2u);
  EXPECT_EQ(hamdrv["evidence"][0]["frames"].get<std::vector<size_t>>(), RowsOf(kWin8, "Hamdrv"));
  EXPECT_EQ(hamdrv["evidence"][1]["frames"].get<std::vector<size_t>>(), RowsOf(kWin81, "Hamdrv"));
  // The BitDefender filter is on one machine only and ranks below.
  bool filter_seen = false;
  for (const nlohmann::json& m : vote["modules"]) {
    if (m["module"] != "bdfndisf6") continue;
    filter_seen = true;
    EXPECT_EQ(m["stacks_present"], 1);
    EXPECT_EQ(m["stacks_blamed"], 0);
    EXPECT_EQ(m["evidence"][0]["frames"].get<std::vector<size_t>>(), RowsOf(kWin8, "bdfndisf6"));
  }
  EXPECT_TRUE(filter_seen);
  // Each stack's code is KeBugCheckEx's first argument in its kv row.
  EXPECT_EQ(json.lines[0]["failure_code"], "0x44");
  EXPECT_EQ(json.lines[0]["failure_source"], "KeBugCheckEx argument 1");
}

TEST(BlameSeed, BugcheckFlagAndRulesFile) {
  BlameToolOptions options;
  options.inputs = {kWin8};
  options.bugcheck = 0xD1;
  options.rules = {TempFile("hamachi.ini", "Hamdrv=maybe_LogMeIn\nbdfndisf6=BitDefender\n")};
  options.json = true;
  const BlameRun r = Blame(options);
  ASSERT_EQ(r.rc, kExitOk) << r.err;
  ASSERT_EQ(r.lines.size(), 1u);
  // A definite owner lower on the stack beats the maybe_ Hamdrv above it.
  EXPECT_EQ(r.lines[0]["culprit"]["module_name"], "bdfndisf6");
  EXPECT_EQ(r.lines[0]["culprit"]["failure_bucket_id"], "0xD1_bdfndisf6+3997");
  EXPECT_EQ(r.lines[0]["culprit"]["rule_origin"], options.rules[0] + ":2");
}

// The scenario dumps' kernel is "rsnt", not "nt": these rules make it what
// the built-in ones make nt.
std::string ScenarioRules() {
  return TempFile("rsnt.ini", "rsnt=last_Windows\nrsnt!KeBugCheck*=ignore\n");
}

TEST(BlameDumps, ScenarioDumpsBlameTheirTruthsFirstDriver) {
  std::vector<std::string> dumps;
  for (const auto& e : std::filesystem::directory_iterator(kScenarios)) {
    const std::string p = e.path().string();
    if (p.size() > 11 && p.substr(p.size() - 11) == ".triage.dmp") dumps.push_back(p);
  }
  std::sort(dumps.begin(), dumps.end());
  ASSERT_GE(dumps.size(), 3u);
  BlameToolOptions options;
  options.inputs = {std::string(kScenarios) + "*.triage.dmp"};
  options.rules = {ScenarioRules()};
  options.sympath = kStore;
  options.json = true;
  options.jobs = 2;
  const BlameRun r = Blame(options);
  ASSERT_EQ(r.lines.size(), dumps.size() + 1) << r.err;
  std::map<std::string, size_t> dumps_with;  // driver image -> truths holding it
  for (size_t i = 0; i < dumps.size(); ++i) {
    const std::string base = dumps[i].substr(0, dumps[i].size() - 11);
    const nlohmann::json truth = nlohmann::json::parse(ReadText(base + ".truth.json"));
    std::string first_driver;
    std::set<std::string> drivers;
    for (const nlohmann::json& f : truth["frames"]) {
      const std::string m = f.value("module", "");
      if (m.empty() || m == "rsnt.exe" || m.find(".sys") == std::string::npos) continue;
      if (first_driver.empty()) first_driver = m;
      drivers.insert(m);
    }
    for (const std::string& d : drivers) ++dumps_with[d];
    const nlohmann::json& line = r.lines[i];
    EXPECT_EQ(line["label"], dumps[i]);  // input order, whatever -j
    EXPECT_EQ(line["culprit"]["image_name"], first_driver) << dumps[i];
    EXPECT_EQ(line["failure_code"], truth["bugcheck"]["code"].get<std::string>() == "0x44"
                                        ? "0x44"
                                        : "0x133");
    EXPECT_EQ(line["failure_source"], "dump header");
  }
  const nlohmann::json& vote = r.lines.back();
  for (const nlohmann::json& m : vote["modules"]) {
    if (m["image"] == "rsnt.exe") continue;
    EXPECT_EQ(m["stacks_present"], dumps_with[m["image"]]) << m["image"];
  }
  // -j 1 prints the same.
  options.jobs = 1;
  EXPECT_EQ(Blame(options).out, r.out);
}

TEST(BlameBadInput, UnreadableDumpEmptyAndGarbageInputsAmongGoodOnes) {
  const std::string broken = TempFile("broken.dmp", std::string("PAGEDU64") + std::string(64, 'x'));
  const std::string empty = TempFile("empty.txt", "");
  const std::string garbage = TempFile("garbage.txt", "just\nsome words\n\x01\x02\x03\n");
  const std::string no_frames = TempFile("noframes.txt", "1: kd> kv\nChild-SP          RetAddr           : Args to Child                                                           : Call Site\n");
  BlameToolOptions options;
  options.inputs = {kWin8, broken, empty, std::string(kScenarios) + "syscall.triage.dmp",
                    "no/such.dmp", garbage, no_frames, kWin81};
  options.rules = {ScenarioRules()};
  options.sympath = kStore;
  options.jobs = 2;
  const BlameRun r = Blame(options);
  EXPECT_EQ(r.rc, kExitPartial);
  // One message naming each bad input.
  EXPECT_NE(r.err.find("restack-blame: " + broken + ": "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("restack-blame: " + empty + ": no stack found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("restack-blame: no/such.dmp: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("restack-blame: " + garbage + ": no stack found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("restack-blame: " + no_frames + ": line 1: stack \"1: kd> kv\" has no frames"),
            std::string::npos)
      << r.err;
  // The good ones are blamed, in input order, and voted on.
  const size_t win8 = r.out.find("== 1: " + std::string(kWin8));
  const size_t dump = r.out.find("== 2: " + std::string(kScenarios) + "syscall.triage.dmp");
  const size_t win81 = r.out.find("== 3: " + std::string(kWin81));
  EXPECT_NE(win8, std::string::npos) << r.out;
  EXPECT_LT(win8, dump);
  EXPECT_LT(dump, win81);
  EXPECT_NE(r.out.find("== Vote over 3 stacks"), std::string::npos);
  EXPECT_NE(r.out.find("Probably caused by : rsdrv.sys ( rsdrv!DrvCompleteTwice+0x27 )"),
            std::string::npos);
}

TEST(BlameBadInput, NothingReadableIsAnError) {
  BlameToolOptions options;
  options.inputs = {"no/such.txt"};
  const BlameRun r = Blame(options);
  EXPECT_EQ(r.rc, kExitError);
  EXPECT_NE(r.err.find("restack-blame: no stack read"), std::string::npos);
  options.inputs = {kWin8};
  options.rules = {"no/such.ini"};
  EXPECT_EQ(Blame(options).rc, kExitError);
}

}  // namespace
}  // namespace restack::tools
