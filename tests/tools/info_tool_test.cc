// info_tool_test.cc - restack-info on real images and bad input
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "common/exit_code.h"
#include "gtest/gtest.h"
#include "info/info.h"
#include "nlohmann/json.hpp"
#include "tests/support/file_read.h"

namespace restack::tools {
namespace {

constexpr char kAmdppm[] = "../shared/real/symbols/amdppm.sys/c9c030003b000/amdppm.sys";
constexpr char kKernel32[] = "../shared/real/symbols/kernel32.dll/4CE7C78B11f000/kernel32.dll";

struct Result {
  int rc;
  std::string out, err;
};

Result Info(InfoToolOptions options) {
  std::ostringstream out, err;
  int rc = RunInfo(options, out, err);
  return {rc, out.str(), err.str()};
}

TEST(InfoToolTest, UnwindListingOfAmdppmEndsWithTheReadmeCounts) {
  // ../shared/real/README.md: 519 RUNTIME_FUNCTIONs, 19 of them chained.
  Result r = Info({.path = kAmdppm, .unwind = true});
  EXPECT_EQ(r.rc, kExitOk) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "Function Table (519)"));
  EXPECT_TRUE(absl::StrContains(r.out, "519 RUNTIME_FUNCTIONs: 500 primary, 19 chained, 0 indirect"))
      << r.out.substr(r.out.size() - 200);
  EXPECT_TRUE(absl::StrContains(r.out, "Unwind version:   2"));
  EXPECT_TRUE(absl::StrContains(r.out, "EPILOG"));
  EXPECT_TRUE(absl::StrContains(r.out, "PDB key:        1C19FDDB27BB3399D9B45973EFEAFCF31"));
}

TEST(InfoToolTest, JsonCountsForKernel32IncludeIndirectEntries) {
  // ../shared/real/README.md: 3,224 entries, 787 chained, 428 indirect.
  Result r = Info({.path = kKernel32, .unwind = true, .json = true});
  ASSERT_EQ(r.rc, kExitOk) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["runtime_functions"]["count"], 3224);
  EXPECT_EQ(j["runtime_functions"]["chained"], 787);
  EXPECT_EQ(j["runtime_functions"]["indirect"], 428);
  EXPECT_EQ(j["runtime_functions"]["primary"], 3224 - 787 - 428);
  EXPECT_EQ(j["runtime_functions"]["unreadable"], 0);
  ASSERT_EQ(j["functions"].size(), 3224u);
  size_t indirect_with_root = 0;
  for (const auto& f : j["functions"]) {
    if (f["kind"] == "indirect") indirect_with_root += f.contains("indirect_to") && f.contains("chain_root");
  }
  EXPECT_EQ(indirect_with_root, 428u);
  EXPECT_EQ(j["image_key"], "4CE7C78B11f000");
}

TEST(InfoToolTest, RejectsAMissingFile) {
  Result r = Info({.path = "tests/no/such/file.sys"});
  EXPECT_EQ(r.rc, kExitError);
  EXPECT_TRUE(absl::StartsWith(r.err, "restack-info: tests/no/such/file.sys")) << r.err;
}

TEST(InfoToolTest, RejectsUnknownContentNamingTheOffset) {
  const std::string path = ::testing::TempDir() + "/garbage.bin";
  std::ofstream(path) << "this is not a dump";
  Result r = Info({.path = path});
  EXPECT_EQ(r.rc, kExitError);
  EXPECT_TRUE(absl::StrContains(r.err, "offset 0x0: not a PE image")) << r.err;
}

TEST(InfoToolTest, RejectsATruncatedImageNamingFileAndOffset) {
  const std::string bytes = test::ReadFileText(kAmdppm).value_or("");
  const std::string path = ::testing::TempDir() + "/cut.sys";
  std::ofstream(path, std::ios::binary) << bytes.substr(0, 0x100);
  Result r = Info({.path = path});
  EXPECT_EQ(r.rc, kExitError);
  EXPECT_TRUE(absl::StrContains(r.err, path + ": offset 0x")) << r.err;
}

}  // namespace
}  // namespace restack::tools
