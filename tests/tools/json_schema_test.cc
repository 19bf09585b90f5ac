// json_schema_test.cc - the schema validator (tests/tools/json_schema.h) on
// objects made to fail each keyword, then restack-walk's, restack-sym's and
// restack-info's real JSON against their schemas in docs/schemas/
//
// Each tool's test also breaks a copy of a real output (a required field
// removed, a value of the wrong type) and expects the schema to reject it,
// so that a schema which checks nothing cannot pass. restack-walk's inline
// frames are checked in inline_frames_test.cc (a synthetic walk through
// the inline fixture: no dump here has inlined code with its PDB);
// restack-diff's and restack-blame's JSON in diff_blame_schema_test.cc.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/exit_code.h"
#include "gtest/gtest.h"
#include "info/info.h"
#include "nlohmann/json.hpp"
#include "sym/sym.h"
#include "tests/tools/json_schema.h"
#include "walk/walk.h"

namespace restack::tools {
namespace {

using nlohmann::json;

constexpr char kWalkSchema[] = "docs/schemas/restack-walk.schema.json";
constexpr char kSymSchema[] = "docs/schemas/restack-sym.schema.json";
constexpr char kInfoSchema[] = "docs/schemas/restack-info.schema.json";

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
  // Names outside `properties` are allowed here (no additionalProperties).
  EXPECT_TRUE(check.Errors(json::parse(R"({"a": 1, "b": [], "z": 0})")).empty());

  const SchemaCheck more(json::parse(R"({
    "type": "object", "additionalProperties": false,
    "properties": {
      "h": {"type": ["string", "null"], "pattern": "^0x[0-9a-f]+$"},
      "s": {"type": "string", "pattern": "[0-9]"},
      "p": {"type": "array", "minItems": 1, "maxItems": 2},
      "m": {"type": "object", "additionalProperties": {"type": "integer"}}
    }
  })"));
  EXPECT_TRUE(more.Errors(json::parse(R"({"h": "0x1f", "s": "a1b", "p": [1, 2], "m": {"x": 1}})")).empty());
  EXPECT_TRUE(more.Errors(json::parse(R"({"h": null, "p": [1]})")).empty());  // pattern: strings only
  EXPECT_EQ(more.Errors(json::parse(R"({"q": 1})")).size(), 1u);              // additionalProperties: false
  EXPECT_EQ(more.Errors(json::parse(R"({"m": {"x": "1"}})")).size(), 1u);     // additionalProperties: a schema
  EXPECT_EQ(more.Errors(json::parse(R"({"h": "0x1F"})")).size(), 1u);         // pattern
  EXPECT_EQ(more.Errors(json::parse(R"({"s": "abc"})")).size(), 1u);          // pattern, searched
  EXPECT_EQ(more.Errors(json::parse(R"({"p": []})")).size(), 1u);             // minItems
  EXPECT_EQ(more.Errors(json::parse(R"({"p": [1, 2, 3]})")).size(), 1u);      // maxItems
  // The path names the place; a oneOf that nothing matches says why for each branch.
  EXPECT_EQ(more.Errors(json::parse(R"({"m": {"x": "1"}})")),
            std::vector<std::string>{"$.m.x: not of type \"integer\""});
  EXPECT_EQ(check.Errors(json::parse(R"({"a": 1, "b": [], "c": 5})")),
            std::vector<std::string>{"$.c: matches 0 of oneOf, not 1; [0] $.c: not of type \"null\" "
                                     "[1] $.c: not of type \"object\""});
}

TEST(JsonSchemaCheck, ListsKeywordsItDoesNotCheck) {
  const SchemaCheck check(json::parse(R"({
    "type": "object",
    "properties": {
      "a": {"type": "integer", "maximum": 3},
      "b": {"$ref": "other.json#/x"},
      "c": {"items": {"$ref": "#/$defs/gone"}},
      "d": {"oneOf": [{"patternProperties": {}}, {"$ref": "#/$defs/e"}]}
    },
    "$defs": {"e": {"type": "null", "title": "an annotation"}}
  })"));
  EXPECT_EQ(check.Unsupported(),
            (std::vector<std::string>{"#/properties/a: maximum", "#/properties/b: $ref other.json#/x",
                                      "#/properties/c/items: $ref #/$defs/gone",
                                      "#/properties/d/oneOf/0: patternProperties"}));
}

// Every committed schema: only keywords SchemaCheck checks, every $ref found.
TEST(JsonSchemaCheck, CommittedSchemasUseOnlyCheckedKeywords) {
  size_t schemas = 0;
  for (const auto& entry : std::filesystem::directory_iterator("docs/schemas")) {
    if (entry.path().extension() != ".json") continue;
    ++schemas;
    const SchemaCheck check = SchemaCheck::FromFile(entry.path().string());
    EXPECT_EQ(check.Unsupported(), NoErrors()) << entry.path();
  }
  EXPECT_GE(schemas, 5u);  // walk, info, sym, diff, blame
}

// Every object of `lines` conforms.
void ExpectConform(const SchemaCheck& check, const std::vector<json>& lines) {
  for (const json& j : lines) EXPECT_EQ(check.Errors(j), NoErrors()) << j.dump().substr(0, 3000);
}

// A broken copy of a real output: the schema must say so.
void ExpectRejected(const SchemaCheck& check, const json& broken, const std::string& what) {
  EXPECT_NE(check.Errors(broken), NoErrors()) << what;
}

// A tool's JSON Lines: `run` (RunWalk, RunSym, RunInfo) with `options` and
// --json, which must print its output (exit 0, or 3: a stack cut short, a
// module without an image).
template <typename Options>
std::vector<json> ToolJson(int (*run)(const Options&, std::ostream&, std::ostream&), Options options) {
  options.json = true;
  std::ostringstream out, err;
  const int rc = run(options, out, err);
  EXPECT_TRUE(rc == kExitOk || rc == kExitPartial) << rc << ": " << err.str();
  return JsonLines(out.str());
}

std::vector<json> WalkJson(const WalkToolOptions& options) { return ToolJson(&RunWalk, options); }
std::vector<json> SymJson(const SymToolOptions& options) { return ToolJson(&RunSym, options); }
// restack-info's one object.
json InfoJson(const InfoToolOptions& options) {
  const std::vector<json> lines = ToolJson(&RunInfo, options);
  EXPECT_EQ(lines.size(), 1u);
  return lines.empty() ? json() : lines[0];
}

// The physical frames of `stacks` (those with every field) for which `pred` holds.
template <typename Pred>
size_t CountFrames(const std::vector<json>& stacks, Pred pred) {
  size_t n = 0;
  for (const json& s : stacks) {
    for (const json& f : s["frames"]) n += !f["inline"].get<bool>() && pred(f) ? 1 : 0;
  }
  return n;
}

// Wine-run minidumps with the fixture store's PDBs: separated chunks, every
// thread (a stack scan, a walk cut at a missing image), the registers.
TEST(WalkJsonSchema, WineDumpsWithRegistersConform) {
  const SchemaCheck check = SchemaCheck::FromFile(kWalkSchema);
  const std::vector<json> stacks =
      WalkJson({.dumps = {"tests/fixtures/wine/cold_chunk.dmp", "tests/fixtures/wine/exception.dmp"},
                .sympath = "srv*tests/fixtures/store",
                .all_threads = true,
                .registers = true,
                .jobs = 1});
  ASSERT_GE(stacks.size(), 5u);
  ExpectConform(check, stacks);
  std::set<std::string> contexts, ends, trusts, origins;
  for (const json& s : stacks) {
    contexts.insert(s["context"].get<std::string>());
    ends.insert(s["end"].get<std::string>());
    for (const json& f : s["frames"]) {
      trusts.insert(f.value("trust", ""));
      if (!f["symbol"].is_null()) origins.insert(f["symbol"]["origin"].get<std::string>());
    }
  }
  EXPECT_EQ(contexts, (std::set<std::string>{"exception", "thread"}));
  EXPECT_TRUE(ends.count("rip_zero") && ends.count("image_missing"));
  EXPECT_TRUE(trusts.count("context") && trusts.count("unwind_info") && trusts.count("scan"));
  EXPECT_TRUE(origins.count("public") && origins.count("export"));
  EXPECT_GE(CountFrames(stacks, [](const json& f) { return !f["chunk_start"].is_null(); }), 3u);
  EXPECT_EQ(CountFrames(stacks, [](const json& f) { return !f.contains("registers"); }), 0u);
  EXPECT_GE(CountFrames(stacks, [](const json& f) { return f.value("registers", json::object()).contains("xmm15"); }),
            1u);

  json broken = stacks[0];
  broken["frames"][0].erase("trust");
  ExpectRejected(check, broken, "a frame without trust");
  broken = stacks[0];
  broken["frames"][0]["registers"]["rip"] = 0x140001f91;
  ExpectRejected(check, broken, "a register as a number");
  broken = stacks[0];
  broken["frames"][0]["registers"]["xmm0"] = "0x1";
  ExpectRejected(check, broken, "an XMM register of fewer than 32 digits");
  broken = stacks[0];
  broken["end"] = "done";
  ExpectRejected(check, broken, "an end outside the enum");
}

// The kernel fixture's syscall: a frame unwound through a KTRAP_FRAME into
// user mode, source lines from rsdrv's PDB, every processor, the header.
TEST(WalkJsonSchema, KernelTrapFrameAndTrustConform) {
  const SchemaCheck check = SchemaCheck::FromFile(kWalkSchema);
  WalkToolOptions options{.dumps = {"tests/fixtures/kernel/scenarios/syscall.triage.dmp"},
                          .sympath = "srv*tests/fixtures/kernel/store",
                          .all_threads = true,
                          .registers = true};
  std::vector<json> stacks = WalkJson(options);
  options.all_threads = false;
  options.header_context = true;
  for (json& j : WalkJson(options)) stacks.push_back(std::move(j));
  ASSERT_GE(stacks.size(), 3u);
  ExpectConform(check, stacks);
  std::set<std::string> contexts;
  for (const json& s : stacks) contexts.insert(s["context"].get<std::string>());
  EXPECT_EQ(contexts, (std::set<std::string>{"bugcheck", "processor", "header"}));
  EXPECT_GE(CountFrames(stacks, [](const json& f) { return !f["trap_frame"].is_null(); }), 1u);
  EXPECT_GE(CountFrames(stacks, [](const json& f) { return f["trust"] == "trap_frame"; }), 1u);
  EXPECT_GE(CountFrames(stacks, [](const json& f) { return !f["source"].is_null(); }), 2u);
  EXPECT_GE(CountFrames(stacks, [](const json& f) { return f["module"].is_null(); }), 1u);
  EXPECT_GE(CountFrames(stacks,
                        [](const json& f) { return f.contains("unwind") && f["unwind"]["machine_frame"].get<bool>(); }),
            1u);

  ASSERT_EQ(stacks[0]["context"], "bugcheck");
  json broken = stacks[0];
  broken.erase("context_source");
  ExpectRejected(check, broken, "a processor's stack without context_source");
  broken = stacks[0];
  for (json& f : broken["frames"]) {
    if (!f["trap_frame"].is_null()) f["trap_frame"] = 0xffff850429885e70;
  }
  ExpectRejected(check, broken, "trap_frame as a number");
}

// A real Windows 10 triage dump from the CONTEXT record its bugcheck names:
// the walk stops at the kernel, whose image is not there.
TEST(WalkJsonSchema, RealTriageCxrConforms) {
  const SchemaCheck check = SchemaCheck::FromFile(kWalkSchema);
  const std::vector<json> stacks = WalkJson({.dumps = {"../shared/real/dumps/triage_x64.dmp"},
                                             .image_paths = {"../shared/real/symbols"},
                                             .cxr = 0xffff850429891720});
  ASSERT_EQ(stacks.size(), 1u);
  ExpectConform(check, stacks);
  EXPECT_EQ(stacks[0]["context"], "cxr");
  EXPECT_EQ(stacks[0]["cxr"], "0xffff850429891720");
  EXPECT_EQ(stacks[0]["end"], "image_missing");
  EXPECT_GE(stacks[0]["frames"].size(), 10u);

  json broken = stacks[0];
  broken.erase("cxr");
  ExpectRejected(check, broken, "a .cxr stack without cxr");
  broken = stacks[0];
  broken["complete"] = true;
  ExpectRejected(check, broken, "complete with an end other than rip_zero");
  broken = stacks[0];
  broken["frames"][1]["unexpected"] = 1;
  ExpectRejected(check, broken, "a field the schema does not name");
}

bool IsStack(const json& j) { return j.contains("frames"); }

// WinDbg's kv, kc and plain lines naming chunks after string literals,
// re-resolved with the publics PDB (README's example).
TEST(SymJsonSchema, ChunksTextConforms) {
  const SchemaCheck check = SchemaCheck::FromFile(kSymSchema);
  const std::vector<json> lines = SymJson(
      {.inputs = {"tests/fixtures/pdb/chunks_windbg.txt"},
       .sympath = "srv*tests/fixtures/pdb/store-publics",
       .image_files = {"tests/fixtures/pdb/store-publics/restack_chunks.dll/8E7D24127000/restack_chunks.dll"}});
  ExpectConform(check, lines);
  const json* stack = nullptr;
  const json* plain = nullptr;
  size_t stacks = 0, was = 0, chunks = 0;
  for (const json& j : lines) {
    if (IsStack(j)) {
      ++stacks;
      stack = &j;
      for (const json& f : j["frames"]) was += !f["was"].is_null();
    } else {
      plain = &j;
      chunks += !j["chunk_start_rva"].is_null();
    }
  }
  EXPECT_GE(stacks, 2u);
  EXPECT_GE(was, 20u);
  EXPECT_GE(chunks, 1u);
  ASSERT_NE(stack, nullptr);
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ((*stack)["input"], "tests/fixtures/pdb/chunks_windbg.txt");

  json broken = *stack;
  broken.erase("input");
  ExpectRejected(check, broken, "a stack without input");
  broken = *stack;
  broken["frames"][0]["was"] = 1;
  ExpectRejected(check, broken, "was as a number");
  broken = *plain;
  broken["displacement"] = "0x1";
  ExpectRejected(check, broken, "a plain line's displacement as a string");
  broken = *plain;
  broken.erase("inlines");
  ExpectRejected(check, broken, "a plain line without inlines");
}

// Plain lines in the inline fixture's inlined code, with --lines: the inline
// frames and their source lines.
TEST(SymJsonSchema, PlainLinesWithInlinesConform) {
  const SchemaCheck check = SchemaCheck::FromFile(kSymSchema);
  const std::string path = ::testing::TempDir() + "/json_schema_inline_lines.txt";
  std::ofstream(path) << "restack_inlines+0x1049\nrestack_inlines+0x1119\nrestack_inlines!In_Chain+0x29\n"
                         "restack_inlines+0x1000\n";
  const std::vector<json> lines = SymJson({.inputs = {path},
                                           .sympath = "tests/fixtures/pdb/inlines",
                                           .image_files = {"tests/fixtures/pdb/inlines/restack_inlines.dll"},
                                           .lines = true});
  std::filesystem::remove(path);
  ASSERT_EQ(lines.size(), 4u);
  ExpectConform(check, lines);
  EXPECT_EQ(lines[0]["inlines"].size(), 3u);  // mix3, mix2, mix1 in In_Chain
  EXPECT_FALSE(lines[0]["inlines"][0]["source"].is_null());
  EXPECT_FALSE(lines[0]["source"].is_null());

  json broken = lines[0];
  broken["inlines"][0].erase("function");
  ExpectRejected(check, broken, "an inline frame without function");
  broken = lines[0];
  broken["source"]["line"] = "58";
  ExpectRejected(check, broken, "a source line as a string");
}

// Every stack-text corpus file (WinDbg's k variants, !thread, !analyze,
// restack's own text), and restack-walk text given --inline_rows.
TEST(SymJsonSchema, StackTextCorpusConforms) {
  const SchemaCheck check = SchemaCheck::FromFile(kSymSchema);
  SymToolOptions options;
  for (const auto& entry : std::filesystem::directory_iterator("tests/fuzz/corpus/stack_text")) {
    options.inputs.push_back(entry.path().string());
  }
  std::vector<json> lines = SymJson(options);
  for (json& j : SymJson({.inputs = {"tests/fuzz/corpus/stack_text/restack-walk-inlines.txt"},
                          .sympath = "tests/fixtures/pdb/inlines",
                          .image_files = {"tests/fixtures/pdb/inlines/restack_inlines.dll"},
                          .inline_rows = true})) {
    lines.push_back(std::move(j));
  }
  ExpectConform(check, lines);
  size_t threads = 0, titles = 0, inline_rows = 0;
  for (const json& j : lines) {
    if (!IsStack(j)) continue;
    threads += !j["thread"].is_null();
    titles += !j["title"].is_null();
    for (const json& f : j["frames"]) inline_rows += f["inline"].get<bool>();
  }
  EXPECT_GE(options.inputs.size(), 30u);
  EXPECT_GE(threads, 3u);
  EXPECT_GE(titles, 5u);
  EXPECT_GE(inline_rows, 3u);
}

constexpr char kAmdppm[] = "../shared/real/symbols/amdppm.sys/c9c030003b000/amdppm.sys";

// A driver with its RSDS record, with and without --unwind; kernel32 (indirect
// entries, handlers); a Wine image without a PDB record.
TEST(InfoJsonSchema, ImagesConform) {
  const SchemaCheck check = SchemaCheck::FromFile(kInfoSchema);
  const json amdppm = InfoJson({.path = kAmdppm});
  const json amdppm_unwind = InfoJson({.path = kAmdppm, .unwind = true});
  const json kernel32 = InfoJson({.path = "../shared/real/symbols/kernel32.dll/4CE7C78B11f000/kernel32.dll",
                                  .unwind = true});
  const json wine = InfoJson({.path = "tests/fixtures/store/kernel32.dll/63F14E2B195000/kernel32.dll"});
  ExpectConform(check, {amdppm, amdppm_unwind, kernel32, wine});
  EXPECT_FALSE(amdppm.contains("functions"));
  EXPECT_EQ(amdppm_unwind["functions"].size(), 519u);
  EXPECT_TRUE(wine["pdb"].is_null());
  size_t indirect = 0, handlers = 0, chained = 0, epilogs = 0;
  for (const json& f : kernel32["functions"]) {
    indirect += f.contains("indirect_to");
    handlers += f.contains("unwind_info") && f["unwind_info"].contains("handler_rva");
    chained += f.contains("unwind_info") && f["unwind_info"].contains("chained_parent");
  }
  for (const json& f : amdppm_unwind["functions"]) {
    epilogs += f.contains("unwind_info") && f["unwind_info"].contains("epilog_size");
  }
  EXPECT_EQ(indirect, 428u);
  EXPECT_GE(handlers, 1u);
  EXPECT_GE(chained, 1u);
  EXPECT_GE(epilogs, 1u);

  json broken = amdppm;
  broken.erase("image_key");
  ExpectRejected(check, broken, "an image without image_key");
  broken = amdppm;
  broken["runtime_functions"]["count"] = "519";
  ExpectRejected(check, broken, "a count as a string");
  broken = amdppm_unwind;
  broken["functions"][1]["unwind_info"]["codes"][0]["op"] = "UWOP_JUMP";
  ExpectRejected(check, broken, "an unwind code outside the enum");
}

// A Wine-run minidump (system, exception); kernel dumps: the real triage
// dump (secondary data, unloaded modules) and the fixture's triage dump.
TEST(InfoJsonSchema, DumpsConform) {
  const SchemaCheck check = SchemaCheck::FromFile(kInfoSchema);
  const json minidump = InfoJson({.path = "tests/fixtures/wine/exception.dmp"});
  const json triage = InfoJson({.path = "../shared/real/dumps/triage_x64.dmp"});
  const json syscall = InfoJson({.path = "tests/fixtures/kernel/scenarios/syscall.triage.dmp"});
  ExpectConform(check, {minidump, triage, syscall});
  EXPECT_EQ(minidump["kind"], "minidump");
  EXPECT_TRUE(minidump.contains("system") && minidump.contains("exception"));
  EXPECT_EQ(triage["kind"], "kernel");
  EXPECT_EQ(triage["layout"], "triage");
  EXPECT_EQ(triage["bugcheck"]["code"], "0x1000007e");
  EXPECT_FALSE(triage["secondary_data"].empty());
  EXPECT_FALSE(triage["unloaded_modules"].empty());

  json broken = minidump;
  broken["threads"][0]["rip"] = 1;
  ExpectRejected(check, broken, "a thread's rip as a number");
  broken = minidump;
  broken.erase("streams");
  ExpectRejected(check, broken, "a minidump without streams");
  broken = triage;
  broken["bugcheck"]["parameters"].erase(3);
  ExpectRejected(check, broken, "three bugcheck parameters");
  broken = triage;
  broken["layout"] = "mini";
  ExpectRejected(check, broken, "a layout outside the enum");
}

// --status: a named error, a bugcheck code with bit 28 set, HRESULT_FROM_NT,
// success, an unnamed facility, -1.
TEST(InfoJsonSchema, StatusConforms) {
  const SchemaCheck check = SchemaCheck::FromFile(kInfoSchema);
  std::vector<json> objects;
  for (const char* value : {"0xC0000005", "0x1000007E", "0xD0000005", "0", "0x40000000", "0x8FFF0001", "-1"}) {
    objects.push_back(InfoJson({.status = value}));
  }
  ExpectConform(check, objects);
  EXPECT_EQ(objects[0]["name"], "STATUS_ACCESS_VIOLATION");
  EXPECT_FALSE(objects[1]["bugcheck"].is_null());
  EXPECT_FALSE(objects[2]["notes"].empty());
  size_t unnamed_facility = 0, unknown = 0;
  for (const json& j : objects) {
    unnamed_facility += j["facility_name"].is_null();
    unknown += !j["known"].get<bool>();
  }
  EXPECT_GE(unnamed_facility, 1u);
  EXPECT_GE(unknown, 1u);

  json broken = objects[0];
  broken.erase("nt_error");
  ExpectRejected(check, broken, "a status without nt_error");
  broken = objects[0];
  broken["known"] = "yes";
  ExpectRejected(check, broken, "known as a string");
  broken = objects[1];
  broken["bugcheck"]["parameters"] = json::array({"", ""});
  ExpectRejected(check, broken, "two bugcheck parameters");
}

}  // namespace
}  // namespace restack::tools
