// diff_blame_schema_test.cc - restack-diff's and restack-blame's JSON against the
// schemas committed in docs/schemas/
//
// Debian's nlohmann-json has no schema validator, so this file holds a small
// one for the keywords the schemas use (type, enum, const, required,
// properties, items, minimum, oneOf, allOf, $ref to #/$defs/...). It is
// checked first on objects made to fail each keyword.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "blame/blame.h"
#include "diff/diff.h"
#include "gtest/gtest.h"
#include "tests/tools/diff_blame_files.h"
#include "nlohmann/json.hpp"

namespace restack::tools {
namespace {

using nlohmann::json;

constexpr char kSeedKv8[] = "../shared/samples/stacktext/seed-win8-bitdefender-kv.txt";
constexpr char kSeedKv81[] = "../shared/samples/stacktext/seed-win81-tcpip-kv.txt";

json ReadJson(const std::string& path) { return json::parse(ReadText(path)); }

// Errors of `value` against `schema` (root: the whole schema, for $ref), as
// "path: what"; empty when it conforms.
class SchemaCheck {
 public:
  explicit SchemaCheck(json root) : root_(std::move(root)) {}

  std::vector<std::string> Errors(const json& value) const {
    std::vector<std::string> errors;
    Check(root_, value, "$", errors);
    return errors;
  }

 private:
  static bool HasType(const json& v, const std::string& type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "integer") return v.is_number_integer();
    if (type == "number") return v.is_number();
    if (type == "boolean") return v.is_boolean();
    if (type == "null") return v.is_null();
    return false;
  }

  const json& Resolve(const std::string& ref) const {
    const std::string prefix = "#/$defs/";
    return root_.at("$defs").at(ref.substr(prefix.size()));
  }

  void Check(const json& schema, const json& v, const std::string& path,
             std::vector<std::string>& errors) const {
    if (schema.contains("$ref")) Check(Resolve(schema["$ref"]), v, path, errors);
    if (schema.contains("type")) {
      bool ok = false;
      if (schema["type"].is_string()) {
        ok = HasType(v, schema["type"]);
      } else {
        for (const json& t : schema["type"]) ok |= HasType(v, t);
      }
      if (!ok) errors.push_back(path + ": not of type " + schema["type"].dump());
    }
    if (schema.contains("enum")) {
      bool found = false;
      for (const json& e : schema["enum"]) found |= e == v;
      if (!found) errors.push_back(path + ": " + v.dump() + " not in " + schema["enum"].dump());
    }
    if (schema.contains("const") && schema["const"] != v) {
      errors.push_back(path + ": not " + schema["const"].dump());
    }
    if (schema.contains("minimum") && v.is_number() && v.get<double>() < schema["minimum"].get<double>()) {
      errors.push_back(path + ": below " + schema["minimum"].dump());
    }
    if (schema.contains("required") && v.is_object()) {
      for (const json& r : schema["required"]) {
        if (!v.contains(r.get<std::string>())) errors.push_back(path + ": no " + r.get<std::string>());
      }
    }
    if (schema.contains("properties") && v.is_object()) {
      for (const auto& [name, sub] : schema["properties"].items()) {
        if (v.contains(name)) Check(sub, v[name], path + "." + name, errors);
      }
    }
    if (schema.contains("items") && v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) {
        Check(schema["items"], v[i], path + "[" + std::to_string(i) + "]", errors);
      }
    }
    if (schema.contains("allOf")) {
      for (const json& sub : schema["allOf"]) Check(sub, v, path, errors);
    }
    if (schema.contains("oneOf")) {
      size_t matches = 0;
      for (const json& sub : schema["oneOf"]) {
        std::vector<std::string> e;
        Check(sub, v, path, e);
        matches += e.empty();
      }
      if (matches != 1) {
        errors.push_back(path + ": matches " + std::to_string(matches) + " of oneOf, not 1");
      }
    }
  }

  json root_;
};

TEST(JsonSchemaCheck, CatchesEachKeyword) {
  const SchemaCheck check(json::parse(R"({
    "type": "object", "required": ["a", "b"],
    "properties": {
      "a": {"type": ["integer", "null"], "minimum": 1},
      "b": {"type": "array", "items": {"$ref": "#/$defs/e"}},
      "c": {"oneOf": [{"type": "null"}, {"allOf": [{"type": "object"}, {"required": ["k"]}]}]},
      "d": {"const": "x"}
    },
    "$defs": {"e": {"enum": ["=", "<"]}}
  })"));
  EXPECT_TRUE(check.Errors(json::parse(R"({"a": 1, "b": ["=", "<"], "c": {"k": 1}, "d": "x"})")).empty());
  EXPECT_TRUE(check.Errors(json::parse(R"({"a": null, "b": [], "c": null})")).empty());
  EXPECT_EQ(check.Errors(json::parse(R"({"b": []})")).size(), 1u);             // required
  EXPECT_EQ(check.Errors(json::parse(R"({"a": "1", "b": []})")).size(), 1u);   // type
  EXPECT_EQ(check.Errors(json::parse(R"({"a": 0, "b": []})")).size(), 1u);     // minimum
  EXPECT_EQ(check.Errors(json::parse(R"({"a": 1, "b": [">"]})")).size(), 1u);  // items, $ref, enum
  EXPECT_EQ(check.Errors(json::parse(R"({"a": 1, "b": [], "c": {}})")).size(), 1u);  // oneOf/allOf
  EXPECT_EQ(check.Errors(json::parse(R"({"a": 1, "b": [], "d": "y"})")).size(), 1u);  // const
}

std::vector<json> JsonLines(const std::string& text) {
  std::vector<json> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    out.push_back(json::parse(std::string(line)));
  }
  return out;
}

TEST(DiffJsonSchema, SeedTextsConform) {
  const SchemaCheck check(ReadJson("docs/schemas/restack-diff.schema.json"));
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
  const SchemaCheck check(ReadJson("docs/schemas/restack-blame.schema.json"));
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
