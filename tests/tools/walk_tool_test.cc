// walk_tool_test.cc - restack-walk on synthetic minidumps and bad input
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "common/exit_code.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/minidump_builder.h"
#include "walk/walk.h"

namespace restack::tools {
namespace {

struct Result {
  int rc;
  std::string out, err;
};

Result Walk(WalkToolOptions options) {
  std::ostringstream out, err;
  int rc = RunWalk(options, out, err);
  return {rc, out.str(), err.str()};
}

std::string WriteTemp(const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// A dump with one thread whose RIP is inside a module restack has no image for.
std::string DumpWithoutImages() {
  test::SynthContext ctx;
  ctx.rip = 0x140001234;
  ctx.gpr[4] = 0x22f000;
  test::SynthThread thread;
  thread.id = 0x1a30;
  thread.stack_start = 0x22f000;
  thread.stack = std::vector<uint8_t>(0x100, 0);
  thread.context = ctx;
  test::SynthModule module;
  module.name = u"C:\\fixtures\\app.exe";
  module.base = 0x140000000;
  module.size = 0x10000;
  module.timestamp = 0x12345678;
  test::MinidumpBuilder b;
  b.AddThread(thread).AddModule(module);
  return WriteTemp("noimages.dmp", b.Build().bytes);
}

TEST(WalkToolTest, MissingImageGivesPartialOutputWithAWarning) {
  Result r = Walk({.dumps = {DumpWithoutImages()},
                   .image_paths = {"tests/fixtures/store"},
                   .verbose = true});
  EXPECT_EQ(r.rc, kExitPartial) << r.err;
  // Frame 0 is printed as module+offset with WinDbg's kn columns.
  EXPECT_TRUE(absl::StrContains(r.out, " # Child-SP          RetAddr               Call Site"));
  EXPECT_TRUE(absl::StrContains(r.out, "00 00000000`0022f000 ????????`????????     app+0x1234"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "WARNING: stack ended early (image_missing): no image for app.exe"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.err, "app.exe")) << r.err;
}

TEST(WalkToolTest, JsonLinesCarryTheEndAndTrust) {
  Result r = Walk({.dumps = {DumpWithoutImages()}, .json = true});
  EXPECT_EQ(r.rc, kExitPartial);
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["thread_id"], 0x1a30);
  EXPECT_EQ(j["end"], "image_missing");
  EXPECT_EQ(j["complete"], false);
  ASSERT_EQ(j["frames"].size(), 1u);
  EXPECT_EQ(j["frames"][0]["trust"], "context");
  EXPECT_EQ(j["frames"][0]["call_site"], "app+0x1234");
  EXPECT_EQ(j["frames"][0]["return_address"], nullptr);
}

TEST(WalkToolTest, RejectsAMissingDump) {
  Result r = Walk({.dumps = {"no/such.dmp"}});
  EXPECT_EQ(r.rc, kExitError);
  EXPECT_TRUE(absl::StartsWith(r.err, "restack-walk: no/such.dmp")) << r.err;
}

TEST(WalkToolTest, RejectsATruncatedDumpNamingTheOffset) {
  std::vector<uint8_t> bytes = test::MinidumpBuilder().Build().bytes;
  bytes.resize(16);
  Result r = Walk({.dumps = {WriteTemp("cut.dmp", bytes)}});
  EXPECT_EQ(r.rc, kExitError);
  EXPECT_TRUE(absl::StrContains(r.err, "cut.dmp: offset 0x")) << r.err;
}

TEST(WalkToolTest, RejectsAnUnknownThread) {
  Result r = Walk({.dumps = {DumpWithoutImages()}, .thread_id = 0x999});
  EXPECT_EQ(r.rc, kExitError);
  EXPECT_TRUE(absl::StrContains(r.err, "no thread with id 0x999")) << r.err;
}

}  // namespace
}  // namespace restack::tools
