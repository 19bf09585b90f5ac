// dump_batch_test.cc - many dumps at once: argument expansion, ordered
// parallel work, and restack-walk over a batch with a bad dump in it
#include "common/dump_batch.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "common/exit_code.h"
#include "gtest/gtest.h"
#include "walk/walk.h"

namespace restack::tools {
namespace {

constexpr char kScenarios[] = "tests/fixtures/kernel/scenarios";

// A directory of files for expansion tests.
std::string MakeDir() {
  const std::string dir = ::testing::TempDir() + "/dump_batch_dir";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/sub");
  for (const char* name : {"b.dmp", "a.DMP", "c.txt", "sub/d.dmp"}) {
    std::ofstream(dir + "/" + name) << "x";
  }
  return dir;
}

TEST(DumpBatchTest, DirectoriesGlobsAndListsExpandInOrder) {
  const std::string dir = MakeDir();
  std::istringstream list("# a comment\n\n" + dir + "/sub/d.dmp\n  " + dir + "/c.txt  \n");
  std::vector<std::string> problems;
  const std::vector<std::string> got =
      ExpandDumpArguments({dir, dir + "/*.dmp", "-", dir + "/none*.dmp", "plain.dmp"}, &list,
                          &problems);
  const std::vector<std::string> want = {
      dir + "/a.DMP", dir + "/b.dmp",      // the directory: *.dmp in any case, sorted, not sub/
      dir + "/b.dmp",                      // the glob (case-sensitive, as the shell's)
      "-",                                 // stdin stays
      "plain.dmp",                         // a path, even if missing (opening says why)
      dir + "/sub/d.dmp", dir + "/c.txt",  // the list, comments and blanks skipped
  };
  EXPECT_EQ(got, want);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(absl::StrContains(problems[0], "none*.dmp: no dump matches")) << problems[0];
}

TEST(DumpBatchTest, ResultsComeOutInInputOrderWhateverFinishesFirst) {
  for (int jobs : {1, 2, 4}) {
    SCOPED_TRACE(jobs);
    std::atomic<int> runs{0};
    std::vector<size_t> order;
    std::ostringstream progress;
    RunInOrder<size_t>(
        12, jobs,
        [&](size_t i) {
          ++runs;
          // Early items take longest, so later ones finish first.
          std::this_thread::sleep_for(std::chrono::milliseconds(12 - i));
          return i * 10;
        },
        [&](size_t i, size_t& r) {
          EXPECT_EQ(r, i * 10);
          order.push_back(i);
        },
        &progress, [](size_t i) { return "item" + std::to_string(i); });
    EXPECT_EQ(runs.load(), 12);
    std::vector<size_t> want(12);
    for (size_t i = 0; i < 12; ++i) want[i] = i;
    EXPECT_EQ(order, want);
    EXPECT_TRUE(absl::StrContains(progress.str(), "[12/12] item11")) << progress.str();
  }
}

struct Result {
  int rc;
  std::string out, err;
};

Result Walk(WalkToolOptions options) {
  std::ostringstream out, err;
  const int rc = RunWalk(options, out, err);
  return {rc, out.str(), err.str()};
}

// Many dumps, one of them unreadable: that one is reported, the others are
// walked, and -j 2 prints exactly what -j 1 prints.
TEST(DumpBatchTest, WalkOfManyDumpsKeepsGoingPastABadOneAndIsDeterministic) {
  const std::string bad = ::testing::TempDir() + "/garbage.dmp";
  std::ofstream(bad) << "not a dump at all";
  WalkToolOptions options;
  options.dumps = {std::string(kScenarios) + "/*.triage.dmp", bad,
                   std::string(kScenarios) + "/syscall.bitmap.dmp"};
  options.sympath = "srv*tests/fixtures/kernel/store";
  options.json = true;
  options.jobs = 1;
  const Result one = Walk(options);
  options.jobs = 2;
  const Result two = Walk(options);
  EXPECT_EQ(one.out, two.out);
  EXPECT_EQ(one.err, two.err);
  EXPECT_EQ(one.rc, kExitError);  // the bad dump
  EXPECT_TRUE(absl::StrContains(one.err, "garbage.dmp")) << one.err;
  // Six triage dumps and the bitmap one: a stack each, in the order given.
  std::istringstream lines(one.out);
  std::vector<std::string> dumps;
  for (std::string line; std::getline(lines, line);) {
    const size_t at = line.find("\"dump\":\"");
    ASSERT_NE(at, std::string::npos) << line;
    dumps.push_back(line.substr(at + 8, line.find('"', at + 8) - at - 8));
  }
  ASSERT_EQ(dumps.size(), 7u) << one.out;
  EXPECT_TRUE(absl::EndsWith(dumps.back(), "syscall.bitmap.dmp")) << dumps.back();
  EXPECT_TRUE(std::is_sorted(dumps.begin(), dumps.end() - 1));
}

TEST(DumpBatchTest, AListFileAddsDumps) {
  const std::string list = ::testing::TempDir() + "/dumps.txt";
  std::ofstream(list) << std::string(kScenarios) << "/dpc_stack.triage.dmp\n";
  WalkToolOptions options;
  options.list = list;
  options.json = true;
  const Result r = Walk(options);
  EXPECT_TRUE(absl::StrContains(r.out, "dpc_stack.triage.dmp")) << r.err;
  options.list = ::testing::TempDir() + "/missing-list.txt";
  EXPECT_EQ(Walk(options).rc, kExitError);
}

}  // namespace
}  // namespace restack::tools
