// walk_tool_test.cc - restack-walk on synthetic minidumps and bad input
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/dump_target.h"
#include "common/exit_code.h"
#include "common/input_file.h"
#include "restack/sym/image_locator.h"
#include "restack/sym/stack_text.h"
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

// --format kv and kc are WinDbg's layouts: the stack-text codec reads them
// back to the same frames as the kn form; kv's Args to Child are the four
// quadwords above each frame's return address, as the dump holds them.
TEST(WalkToolTest, KvAndKcFormsAreTheKnFramesInWindbgsLayouts) {
  const std::string dump = "tests/fixtures/wine/cold_chunk.dmp";
  auto walk = [&](StackFormat format) {
    Result r = Walk({.dumps = {dump}, .sympath = "srv*tests/fixtures/store", .all_threads = true,
                     .format = format});
    EXPECT_NE(r.rc, kExitError) << r.err;
    return sym::ParseStackText(r.out);
  };
  const sym::StackText kn = walk(StackFormat::kKn);
  const sym::StackText kv = walk(StackFormat::kKv);
  const sym::StackText kc = walk(StackFormat::kKc);
  const std::vector<const sym::Stack*> a = sym::StacksOf(kn), b = sym::StacksOf(kv),
                                       c = sym::StacksOf(kc);
  ASSERT_GE(a.size(), 3u);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), c.size());
  absl::StatusOr<InputFile> input = OpenInput(dump);
  ASSERT_TRUE(input.ok()) << input.status();
  absl::StatusOr<std::unique_ptr<DumpTarget>> target =
      OpenDumpTarget(input->bytes, input->owner, input->name, sym::ImageLocator(std::vector<std::string>{}));
  ASSERT_TRUE(target.ok()) << target.status();
  size_t args_checked = 0;
  for (size_t s = 0; s < a.size(); ++s) {
    SCOPED_TRACE(absl::StrFormat("stack %u", s));
    ASSERT_TRUE(b[s]->column_header && b[s]->column_header->args);
    ASSERT_EQ(a[s]->frames.size(), b[s]->frames.size());
    ASSERT_EQ(a[s]->frames.size(), c[s]->frames.size());
    for (size_t i = 0; i < a[s]->frames.size(); ++i) {
      const sym::Frame& n = a[s]->frames[i];
      const sym::Frame& v = b[s]->frames[i];
      EXPECT_EQ(v.child_sp, n.child_sp);
      EXPECT_EQ(v.return_address, n.return_address);
      EXPECT_EQ(v.call_site, n.call_site);
      EXPECT_EQ(v.chunk_start, n.chunk_start);
      EXPECT_EQ(c[s]->frames[i].call_site, n.call_site);
      EXPECT_EQ(c[s]->frames[i].kind, sym::FrameKind::kCallSiteOnly);
      ASSERT_EQ(v.args.size(), 4u);
      // The caller's Child-SP is the return-address slot + 8: the home slots.
      if (i + 1 < a[s]->frames.size()) {
        const uint64_t above = *a[s]->frames[i + 1].child_sp;
        for (uint64_t k = 0; k < 4; ++k) {
          absl::StatusOr<uint64_t> want = (*target)->memory->ReadU64(above + 8 * k);
          if (!want.ok()) continue;
          EXPECT_EQ(v.args[k], std::optional<uint64_t>(*want));
          ++args_checked;
        }
      }
    }
  }
  EXPECT_GT(args_checked, 20u);
}

TEST(WalkToolTest, UnknownFormatIsAUsageErrorInTheBinary) {
  // (the flag is parsed in main.cc: see the restack-walk.bad-format ctest)
  EXPECT_FALSE(ParseStackFormat("kb").has_value());
  EXPECT_EQ(ParseStackFormat("kv"), StackFormat::kKv);
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
