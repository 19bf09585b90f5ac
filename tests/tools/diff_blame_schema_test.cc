// diff_blame_schema_test.cc - restack-diff's and restack-blame's JSON against the
// schemas committed in docs/schemas/ (the validator: tests/tools/json_schema.h)
#include <sstream>
#include <string>
#include <vector>

#include "blame/blame.h"
#include "diff/diff.h"
#include "gtest/gtest.h"
#include "tests/tools/json_schema.h"
#include "nlohmann/json.hpp"

namespace restack::tools {
namespace {

using nlohmann::json;

constexpr char kSeedKv8[] = "../shared/samples/stacktext/seed-win8-bitdefender-kv.txt";
constexpr char kSeedKv81[] = "../shared/samples/stacktext/seed-win81-tcpip-kv.txt";

TEST(DiffJsonSchema, SeedTextsConform) {
  const SchemaCheck check(ReadJsonFile("docs/schemas/restack-diff.schema.json"));
  for (const std::vector<std::string>& inputs :
       {std::vector<std::string>{kSeedKv8, kSeedKv81},
        std::vector<std::string>{kSeedKv8, kSeedKv81, "tests/fuzz/corpus/stack_text/hand-analyze.txt"}}) {
    DiffToolOptions options;
    options.inputs = inputs;
    options.json = true;
    std::ostringstream out, err;
    ASSERT_EQ(RunDiff(options, out, err), 0) << err.str();
    const std::vector<json> lines = JsonLines(out.str());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(check.Errors(lines[0]), std::vector<std::string>{}) << lines[0].dump();
    // Two stacks have an alignment; more have none.
    EXPECT_EQ(lines[0]["alignment"].is_null(), inputs.size() > 2);
  }
}

TEST(BlameJsonSchema, SeedTextsAndDumpsConform) {
  const SchemaCheck check(ReadJsonFile("docs/schemas/restack-blame.schema.json"));
  BlameToolOptions options;
  options.inputs = {kSeedKv8, kSeedKv81, "tests/fixtures/kernel/scenarios/syscall.triage.dmp",
                    "tests/fuzz/corpus/stack_text/hand-junk-mixed.txt"};
  options.sympath = "srv*tests/fixtures/kernel/store";
  options.json = true;
  std::ostringstream out, err;
  RunBlame(options, out, err);
  const std::vector<json> lines = JsonLines(out.str());
  ASSERT_GE(lines.size(), 4u);
  size_t stacks = 0, votes = 0, without_culprit = 0;
  for (const json& j : lines) {
    EXPECT_EQ(check.Errors(j), std::vector<std::string>{}) << j.dump();
    stacks += j["kind"] == "stack";
    votes += j["kind"] == "vote";
    without_culprit += j["kind"] == "stack" && j["culprit"].is_null();
  }
  EXPECT_EQ(votes, 1u);
  EXPECT_EQ(lines.back()["kind"], "vote");
  EXPECT_EQ(lines.back()["stacks"], stacks);
  EXPECT_GE(without_culprit, 1u);  // hand-junk-mixed's KeBugCheckEx alone: the null branch
}

}  // namespace
}  // namespace restack::tools
