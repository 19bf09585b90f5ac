// inline_frames_test.cc - inline frames in restack-sym and restack-walk's output
//
// tests/fixtures/pdb/inlines/: restack_inlines.dll, its PDB (12 S_INLINESITE
// records) and inlines.truth.json, llvm-symbolizer-19 --inlines at every
// instruction of the exports (tests/fixtures/README.md). restack-sym's plain
// lines must give llvm-symbolizer's frames, innermost first, with their
// lines; FrameSymbolizer, PrintStackText and StackToJson must put the same
// frames before the physical frame as WinDbg's kn does, numbered with it, in
// text the stack-text codec reads back as it was, and JSON that conforms to
// docs/schemas/restack-walk.schema.json.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/exit_code.h"
#include "common/frame_symbols.h"
#include "common/stack_output.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "restack/sym/image_locator.h"
#include "restack/sym/stack_text.h"
#include "sym/sym.h"
#include "tests/tools/json_schema.h"
#include "tests/tools/sym_run.h"

namespace restack::tools {
namespace {

constexpr char kDir[] = "tests/fixtures/pdb/inlines";
constexpr char kImage[] = "tests/fixtures/pdb/inlines/restack_inlines.dll";
constexpr uint64_t kBase = 0x180000000;
constexpr char kSrc[] = "/tmp/restack-fixtures-pdb-build/inlines/";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out = absl::StrSplit(text, '\n');
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / absl::StrFormat("restack_inl_%d_%s", getpid(), name);
  std::ofstream(path) << text;
  return path.string();
}

SymToolOptions InlineOptions(const std::string& input) {
  SymToolOptions o;
  o.inputs = {input};
  o.sympath = kDir;  // a plain directory: the PDB beside the image
  o.image_files = {kImage};
  o.lines = true;
  return o;
}

nlohmann::json Truth() {
  std::ifstream in(std::string(kDir) + "/inlines.truth.json");
  return nlohmann::json::parse(in);
}

// One answered frame of restack-sym's plain-line output.
struct Answer {
  bool inline_frame = false;
  std::string function;  // "" for module+0xRVA
  std::string file;
  uint64_t line = 0;
};

std::optional<Answer> ParseAnswer(const std::string& line) {
  static const std::regex re(
      R"(^(\(Inline Function\) )?restack_inlines(?:!([^+ ]+))?(?:\+0x[0-9a-f]+)?(?: \[(.*) @ (\d+)\])?$)");
  std::smatch m;
  if (!std::regex_match(line, m, re)) return std::nullopt;
  Answer a;
  a.inline_frame = m[1].matched;
  a.function = m[2];
  a.file = m[3];
  a.line = m[4].matched ? std::stoull(m[4]) : 0;
  return a;
}

// Every probe as a `restack_inlines+0xRVA` line: the answers, grouped per
// input line (inline frames, then the physical one), equal llvm-symbolizer's
// frames, names and lines, but for the differences docs/symbols.md gives.
TEST(SymToolInlineTest, PlainLinesGiveLlvmSymbolizersFramesAtEveryProbe) {
  const nlohmann::json truth = Truth();
  const nlohmann::json& probes = truth["probes"];
  ASSERT_GE(probes.size(), 160u);
  std::string input;
  for (const nlohmann::json& p : probes) {
    input += "restack_inlines+" + p["rva"].get<std::string>() + "\n";
  }
  const std::string path = WriteTemp("probes.txt", input);
  const SymRun r = RunOn(InlineOptions(path));
  ASSERT_EQ(r.rc, kExitOk) << r.err;
  const std::vector<std::string> out = Lines(r.out);

  size_t next = 0, agree = 0, caller_line = 0, padding = 0, inline_frames = 0;
  for (const nlohmann::json& p : probes) {
    const std::string rva = p["rva"].get<std::string>();
    // This probe's answers: "(Inline Function)" lines, then one more.
    std::vector<Answer> got;
    while (next < out.size()) {
      std::optional<Answer> a = ParseAnswer(out[next]);
      ASSERT_TRUE(a.has_value()) << rva << ": " << out[next];
      ++next;
      got.push_back(*a);
      if (!a->inline_frame) break;
    }
    const nlohmann::json& frames = p["frames"];  // innermost first; the last is the procedure
    ASSERT_FALSE(got.empty()) << rva;
    std::vector<std::string> want_text, got_text;
    for (const nlohmann::json& f : frames) {
      want_text.push_back(absl::StrFormat("%s %s:%d", f["function"].get<std::string>(),
                                          f["file"].get<std::string>(), f["line"].get<int>()));
    }
    for (const Answer& a : got) {
      got_text.push_back(absl::StrFormat("%s %s:%d", a.function, a.file, a.line));
    }
    inline_frames += got.size() - 1;
    for (size_t k = 0; k + 1 < got.size(); ++k) EXPECT_TRUE(got[k].inline_frame) << rva;
    if (got_text == want_text) {
      ++agree;
      continue;
    }
    const nlohmann::json& procedure = frames.back();
    if (frames.size() == 1 && procedure["line"] == 0 && procedure["file"] == "" &&
        got.size() == 1 && got[0].function.empty()) {
      // Alignment padding after a function: llvm-symbolizer names it after
      // the function before (line 0), restack does not (docs/symbols.md).
      ++padding;
      continue;
    }
    // The first bytes of In_Header and In_Loop: their C13 tables have a
    // zero-length row (the line of `{`: 115, 132) ahead of the row of the
    // code there (116, the call of hdr_hash; 134) at the same address;
    // llvm-symbolizer takes the former (tests/fixtures/README.md), restack
    // the latter. Everything else of these probes must agree.
    const std::map<std::string, std::pair<int, uint64_t>> kZeroLengthRow = {
        {"0x1130", {115, 116}}, {"0x11e0", {132, 134}}};
    if (auto known = kZeroLengthRow.find(rva);
        known != kZeroLengthRow.end() && got.size() == frames.size() &&
        procedure["line"] == known->second.first && got.back().line == known->second.second) {
      got.back().line = known->second.first;
      got_text.back() = absl::StrFormat("%s %s:%d", got.back().function, got.back().file,
                                        got.back().line);
      EXPECT_EQ(got_text, want_text) << rva;
      ++caller_line;
      continue;
    }
    ADD_FAILURE() << rva << "\n  llvm-symbolizer: " << absl::StrJoin(want_text, " <- ")
                  << "\n  restack-sym:     " << absl::StrJoin(got_text, " <- ");
  }
  EXPECT_EQ(next, out.size()) << "answers left over";
  std::printf("[ inlines  ] restack-sym equals llvm-symbolizer-19 --inlines (names and lines of "
              "every frame) at %zu of %zu probes; %zu padding probes unnamed, %zu procedure lines "
              "differ (zero-length rows); %zu inline frames printed\n",
              agree, probes.size(), padding, caller_line, inline_frames);
  EXPECT_EQ(agree + padding + caller_line, probes.size());
  EXPECT_EQ(padding, 6u);
  EXPECT_EQ(caller_line, 2u);
  EXPECT_GE(inline_frames, 150u);

  // --json: the same frames as "inlines", innermost first.
  SymToolOptions json = InlineOptions(path);
  json.json = true;
  const std::vector<std::string> objects = Lines(RunOn(json).out);
  ASSERT_EQ(objects.size(), probes.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    const nlohmann::json j = nlohmann::json::parse(objects[i]);
    const nlohmann::json& frames = probes[i]["frames"];
    ASSERT_EQ(j["inlines"].size() + 1, frames.size()) << objects[i];
    for (size_t k = 0; k < j["inlines"].size(); ++k) {
      EXPECT_EQ(j["inlines"][k]["function"], frames[k]["function"]) << objects[i];
      EXPECT_EQ(j["inlines"][k]["source"]["line"], frames[k]["line"]) << objects[i];
    }
  }
  std::filesystem::remove(path);
}

TEST(SymToolInlineTest, PlainLinesAreAFixedPointAndCanBeTurnedOff) {
  const std::string path =
      WriteTemp("plain.txt", "restack_inlines+0x1049\nrestack_inlines+0x1118\nrestack_inlines+0x12a0\n");
  for (bool lines : {true, false}) {
    SymToolOptions o = InlineOptions(path);
    o.lines = lines;
    const SymRun first = RunOn(o);
    ASSERT_EQ(first.rc, kExitOk) << first.err;
    const std::vector<std::string> out = Lines(first.out);
    ASSERT_EQ(out.size(), 7u) << first.out;  // 3 + 1 inline frames, 3 answers
    EXPECT_EQ(out[0].substr(0, 42), "(Inline Function) restack_inlines!mix3+0xb");
    EXPECT_EQ(out[3].substr(0, 29), "restack_inlines!In_Chain+0x29");
    // check_range's cold range: the offset counts from the site's first byte (0x10d4).
    EXPECT_EQ(out[4].substr(0, 50), "(Inline Function) restack_inlines!check_range+0x44");
    EXPECT_EQ(out[6].substr(0, 29), "restack_inlines!In_Plain+0x10");
    const std::string again = WriteTemp("again.txt", first.out);
    SymToolOptions o2 = o;
    o2.inputs = {again};
    EXPECT_EQ(RunOn(o2).out, first.out);
    std::filesystem::remove(again);
  }
  SymToolOptions off = InlineOptions(path);
  off.inlines = false;
  EXPECT_EQ(Lines(RunOn(off).out).size(), 3u);
  std::filesystem::remove(path);
}

// A walk through the fixture, built by hand: frame 0 in mix3 (inside mix2,
// inside mix1, inside In_Chain), callers returning into check_range's cold
// range, into hdr_step (inside hdr_hash), and into In_Plain (nothing inlined).
class InlineWalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image = sym::OpenImageFile(kImage);
    ASSERT_TRUE(image.ok()) << image.status();
    module_.name = "restack_inlines.dll";
    module_.base = kBase;
    module_.size = (*image)->size_of_image();
    ASSERT_TRUE(module_.AttachImage(*image).ok());
    const uint64_t rips[] = {0x1049, 0x1119, 0x1171, 0x12a3};
    for (size_t i = 0; i < 4; ++i) {
      unwind::StackFrame f;
      f.rip = kBase + rips[i];
      f.rsp = 0x14f700 + 0x40 * i;
      f.exact_rip = i == 0;
      f.trust = i == 0 ? unwind::FrameTrust::kContext : unwind::FrameTrust::kUnwindInfo;
      f.module = &module_;
      walk_.frames.push_back(f);
    }
    walk_.end = unwind::WalkEnd::kRipZero;
    absl::StatusOr<sym::SymbolPath> path = sym::SymbolPath::Parse(kDir);
    ASSERT_TRUE(path.ok());
    resolver_.emplace(*path);
    origin_.dump = "synthetic.dmp";
    origin_.context = "exception";
    origin_.thread_id = 0x1a30;
  }

  std::vector<FrameSymbol> Symbols(bool inlines) {
    FrameSymbolizer symbolizer(&*resolver_, inlines);
    std::vector<FrameSymbol> out;
    for (size_t i = 0; i < walk_.frames.size(); ++i) out.push_back(symbolizer.Symbolize(walk_, i));
    return out;
  }
  std::string Text(bool inlines) {
    const std::vector<FrameSymbol> symbols = Symbols(inlines);
    std::ostringstream out;
    PrintStackText(origin_, walk_, out, &symbols);
    return out.str();
  }

  unwind::Module module_;
  unwind::StackWalk walk_;
  std::optional<sym::SymbolResolver> resolver_;
  StackOrigin origin_;
};

std::string Src(const char* file, int line) { return absl::StrFormat(" [%s%s @ %d]", kSrc, file, line); }

TEST_F(InlineWalkTest, FramesHoldTheInlineChainInnermostFirst) {
  const std::vector<FrameSymbol> s = Symbols(true);
  ASSERT_EQ(s.size(), 4u);
  ASSERT_EQ(s[0].inlines.size(), 3u);
  EXPECT_EQ(s[0].inlines[0].call_site, "restack_inlines!mix3+0xb");  // mix3's site at 0x103e
  EXPECT_EQ(s[0].inlines[0].origin, "inline");
  EXPECT_EQ(s[0].inlines[0].source_line, 35u);
  EXPECT_EQ(s[0].inlines[1].call_site, "restack_inlines!mix2+0xf");  // 0x103a
  EXPECT_EQ(s[0].inlines[2].call_site, "restack_inlines!mix1+0x29");  // 0x1020
  EXPECT_EQ(s[0].call_site, "restack_inlines!In_Chain+0x29");
  EXPECT_EQ(s[0].source_line, 58u);  // the call of mix1
  // A return address is looked up at the call (0x1118), its offsets are its own.
  ASSERT_EQ(s[1].inlines.size(), 1u);
  EXPECT_EQ(s[1].inlines[0].call_site, "restack_inlines!check_range+0x45");
  EXPECT_EQ(s[1].inlines[0].source_line, 82u);
  EXPECT_EQ(s[1].call_site, "restack_inlines!In_Cold+0x49");
  EXPECT_EQ(s[1].source_line, 90u);
  ASSERT_EQ(s[2].inlines.size(), 2u);
  EXPECT_EQ(s[2].inlines[0].call_site, "restack_inlines!hdr_step+0x1");
  EXPECT_EQ(s[2].inlines[0].source_file, std::string(kSrc) + "inlines_hdr.h");
  EXPECT_EQ(s[2].inlines[1].call_site, "restack_inlines!hdr_hash+0x41");
  EXPECT_EQ(s[2].inlines[1].source_line, 12u);
  EXPECT_EQ(s[2].source_line, 116u);
  EXPECT_TRUE(s[3].inlines.empty());
  EXPECT_EQ(s[3].call_site, "restack_inlines!In_Plain+0x13");
  // Off: no inline frames, and the same physical names.
  const std::vector<FrameSymbol> off = Symbols(false);
  for (size_t i = 0; i < off.size(); ++i) {
    EXPECT_TRUE(off[i].inlines.empty());
    EXPECT_EQ(off[i].call_site, s[i].call_site);
  }
}

TEST_F(InlineWalkTest, TextHasWindbgsInlineRowsNumberedWithTheFrames) {
  const std::string text = Text(true);
  const std::string want =
      "#  0  Id: 1a30 Suspend: 0 Teb: 00000000`00000000 (exception context)\n"
      " # Child-SP          RetAddr               Call Site\n"
      "00 (Inline Function) --------`--------     restack_inlines!mix3+0xb" + Src("inlines.c", 35) + "\n"
      "01 (Inline Function) --------`--------     restack_inlines!mix2+0xf" + Src("inlines.c", 42) + "\n"
      "02 (Inline Function) --------`--------     restack_inlines!mix1+0x29" + Src("inlines.c", 51) + "\n"
      "03 00000000`0014f700 00000001`80001119     restack_inlines!In_Chain+0x29" + Src("inlines.c", 58) + "\n"
      "04 (Inline Function) --------`--------     restack_inlines!check_range+0x45" + Src("inlines.c", 82) + "\n"
      "05 00000000`0014f740 00000001`80001171     restack_inlines!In_Cold+0x49" + Src("inlines.c", 90) + "\n"
      "06 (Inline Function) --------`--------     restack_inlines!hdr_step+0x1" + Src("inlines_hdr.h", 3) + "\n"
      "07 (Inline Function) --------`--------     restack_inlines!hdr_hash+0x41" + Src("inlines_hdr.h", 12) + "\n"
      "08 00000000`0014f780 00000001`800012a3     restack_inlines!In_Header+0x41" + Src("inlines.c", 116) + "\n"
      "09 00000000`0014f7c0 00000000`00000000     restack_inlines!In_Plain+0x13" + Src("inlines.c", 161) + "\n";
  EXPECT_EQ(text, want);
  // The stack-text codec's seed (tests/sym/stack_text_test.cc) is this text,
  // as restack-walk prints it (a blank line after each stack).
  std::ifstream seed("tests/fuzz/corpus/stack_text/restack-walk-inlines.txt");
  std::stringstream seed_text;
  seed_text << seed.rdbuf();
  EXPECT_EQ(seed_text.str(), text + "\n");
  // Without inline frames: the four physical rows, numbered 00-03.
  const std::vector<std::string> off = Lines(Text(false));
  ASSERT_EQ(off.size(), 6u);
  EXPECT_EQ(off[2].substr(0, 72), "00 00000000`0014f700 00000001`80001119     restack_inlines!In_Chain+0x29");
  EXPECT_EQ(off[5].substr(0, 72), "03 00000000`0014f7c0 00000000`00000000     restack_inlines!In_Plain+0x13");
}

TEST_F(InlineWalkTest, TextReadsBackThroughTheStackTextCodec) {
  const std::string text = Text(true);
  const sym::StackText parsed = sym::ParseStackText(text);
  const std::vector<const sym::Stack*> stacks = sym::StacksOf(parsed);
  ASSERT_EQ(stacks.size(), 1u);
  const sym::Stack& s = *stacks[0];
  ASSERT_EQ(s.frames.size(), 10u);
  const std::vector<size_t> inline_rows = {0, 1, 2, 4, 6, 7};
  for (size_t i = 0; i < s.frames.size(); ++i) {
    const bool inl = std::find(inline_rows.begin(), inline_rows.end(), i) != inline_rows.end();
    EXPECT_EQ(s.frames[i].kind, inl ? sym::FrameKind::kInline : sym::FrameKind::kFull) << i;
    EXPECT_EQ(s.frames[i].number, i);
    EXPECT_TRUE(s.frames[i].source.has_value()) << i;
  }
  EXPECT_EQ(s.frames[1].call_site.function, "mix2");
  EXPECT_EQ(s.frames[1].call_site.offset, 0xfu);
  EXPECT_EQ(s.frames[7].source->file, std::string(kSrc) + "inlines_hdr.h");
  EXPECT_EQ(s.frames[3].return_address, kBase + 0x1119);
  // Losslessly: restack's kn emitter writes the same text, which reads back
  // the same.
  EXPECT_EQ(sym::EmitStackText(parsed, sym::TextFormat::kRestackKn), text);
  EXPECT_EQ(sym::ParseStackText(sym::EmitStackText(parsed, sym::TextFormat::kRestackKn)), parsed);
  const sym::StackText kv = sym::ParseStackText(sym::EmitStackText(parsed, sym::TextFormat::kKv));
  EXPECT_EQ(sym::Canonical(kv, sym::TextFormat::kKv), sym::Canonical(parsed, sym::TextFormat::kKv));
}

TEST_F(InlineWalkTest, JsonListsInlineFramesBeforeTheirFrame) {
  const std::vector<FrameSymbol> symbols = Symbols(true);
  const nlohmann::json j = StackToJson(origin_, walk_, {}, &symbols);
  const nlohmann::json& frames = j["frames"];
  ASSERT_EQ(frames.size(), 10u);
  for (size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(frames[i]["index"], i);
  const nlohmann::json& mix3 = frames[0];
  EXPECT_EQ(mix3["inline"], true);
  EXPECT_EQ(mix3["call_site"], "restack_inlines!mix3+0xb");
  EXPECT_EQ(mix3["symbol"]["function"], "mix3");
  EXPECT_EQ(mix3["symbol"]["displacement"], 0xb);
  EXPECT_EQ(mix3["symbol"]["origin"], "inline");
  EXPECT_EQ(mix3["source"]["line"], 35);
  EXPECT_EQ(mix3["rip"], "0x180001049");
  EXPECT_EQ(mix3["child_sp"], nullptr);
  EXPECT_EQ(mix3["return_address"], nullptr);
  EXPECT_EQ(mix3["chunk_start"], nullptr);
  EXPECT_EQ(mix3["module"], "restack_inlines.dll");
  EXPECT_EQ(mix3["offset"], "0x1049");
  EXPECT_FALSE(mix3.contains("trust"));
  const nlohmann::json& in_chain = frames[3];
  EXPECT_EQ(in_chain["inline"], false);
  EXPECT_EQ(in_chain["call_site"], "restack_inlines!In_Chain+0x29");
  EXPECT_EQ(in_chain["source"]["line"], 58);
  EXPECT_EQ(in_chain["return_address"], "0x180001119");
  EXPECT_EQ(in_chain["trust"], "context");
  EXPECT_EQ(frames[4]["call_site"], "restack_inlines!check_range+0x45");
  EXPECT_EQ(frames[4]["rip"], "0x180001119");
  EXPECT_EQ(frames[9]["inline"], false);
  EXPECT_FALSE(frames[9].contains("unwind"));  // the last frame
  // Without inline frames the indices are the walk's.
  const std::vector<FrameSymbol> off = Symbols(false);
  const nlohmann::json k = StackToJson(origin_, walk_, {}, &off);
  ASSERT_EQ(k["frames"].size(), 4u);
  EXPECT_EQ(k["frames"][3]["index"], 3);
}

// The same walk's JSON, with and without registers and inline frames,
// against docs/schemas/restack-walk.schema.json: an inline frame has its
// own, shorter shape.
TEST_F(InlineWalkTest, JsonConformsToTheWalkSchema) {
  const SchemaCheck check = SchemaCheck::FromFile("docs/schemas/restack-walk.schema.json");
  const std::vector<FrameSymbol> symbols = Symbols(true);
  const std::vector<FrameSymbol> off = Symbols(false);
  const nlohmann::json j = StackToJson(origin_, walk_, {}, &symbols);
  for (const nlohmann::json& stack :
       {j, StackToJson(origin_, walk_, {.registers = true}, &symbols), StackToJson(origin_, walk_, {}, &off)}) {
    EXPECT_EQ(check.Errors(stack), NoErrors()) << stack.dump();
  }
  const nlohmann::json& mix3 = j["frames"][0];
  ASSERT_EQ(mix3["inline"], true);
  ASSERT_FALSE(mix3["source"].is_null());
  nlohmann::json broken = j;
  broken["frames"][0]["trust"] = "context";  // a physical frame's field
  EXPECT_NE(check.Errors(broken), NoErrors());
  broken = j;
  broken["frames"][0]["child_sp"] = "0x14f700";
  EXPECT_NE(check.Errors(broken), NoErrors());
  broken = j;
  broken["frames"][0]["symbol"]["origin"] = "procedure";
  EXPECT_NE(check.Errors(broken), NoErrors());
  broken = j;
  broken["frames"][0].erase("module");
  EXPECT_NE(check.Errors(broken), NoErrors());
}

// restack-sym leaves pasted rows alone unless asked; --inline_rows inserts
// the rows restack-walk would print, renumbered, and is a fixed point.
TEST_F(InlineWalkTest, SymInsertsInlineRowsOnlyWhenAsked) {
  const std::string off = Text(false), on = Text(true);
  const std::string path = WriteTemp("walk.txt", off);
  SymToolOptions o = InlineOptions(path);
  o.lines = false;
  SymRun plain = RunOn(o);
  EXPECT_EQ(plain.rc, kExitOk) << plain.err;
  EXPECT_EQ(plain.out, off);  // every name right already: nothing changes

  o.inline_rows = true;
  SymRun rows = RunOn(o);
  EXPECT_EQ(rows.rc, kExitOk) << rows.err;
  const std::vector<std::string> got = Lines(rows.out), want = Lines(on);
  ASSERT_EQ(got.size(), want.size()) << rows.out;
  for (size_t i = 0; i < got.size(); ++i) {
    if (want[i].find("(Inline Function)") != std::string::npos) {
      EXPECT_EQ(got[i], want[i]);  // byte for byte restack-walk's inline row
    } else {
      // Physical rows: renumbered; their own [file @ line] as they were.
      EXPECT_EQ(got[i].substr(0, 44), want[i].substr(0, 44));
    }
  }
  const std::string again = WriteTemp("walk2.txt", rows.out);
  SymToolOptions o2 = o;
  o2.inputs = {again};
  EXPECT_EQ(RunOn(o2).out, rows.out);
  std::filesystem::remove(again);
  std::filesystem::remove(path);
}

// WinDbg kv rows (arguments, no inline rows: a debugger without the PDB's
// inline sites): inserted rows take WinDbg's kv inline layout, which the kv
// emitter writes byte for byte, and notes stay where they were.
TEST(SymToolInlineTest, KvRowsGetWindbgsInlineLayout) {
  const std::string text =
      "0:000> kvn\n"
      " # Child-SP          RetAddr           : Args to Child                                                           : Call Site\n"
      "00 00000000`0014f700 00000001`80001119 : 00000000`00000001 00000000`00000002 00000000`00000003 00000000`00000004 : restack_inlines!In_Chain+0x29\n"
      "WARNING: a note between the frames\n"
      "01 00000000`0014f740 00000001`800012a3 : 00000000`00000005 00000000`00000006 00000000`00000007 00000000`00000008 : restack_inlines!In_Cold+0x49\n"
      "02 00000000`0014f780 00000000`00000000 : 00000000`00000009 00000000`0000000a 00000000`0000000b 00000000`0000000c : restack_inlines!In_Plain+0x13\n";
  const std::string path = WriteTemp("kv.txt", text);
  SymToolOptions o = InlineOptions(path);
  o.lines = false;
  o.inline_rows = true;
  const SymRun r = RunOn(o);
  EXPECT_EQ(r.rc, kExitOk) << r.err;
  const std::string dashes = "--------`-------- --------`-------- --------`-------- --------`--------";
  const std::vector<std::string> want = {
      "0:000> kvn",
      " # Child-SP          RetAddr           : Args to Child                                                           : Call Site",
      "00 (Inline Function) --------`-------- : " + dashes + " : restack_inlines!mix3+0xb",
      "01 (Inline Function) --------`-------- : " + dashes + " : restack_inlines!mix2+0xf",
      "02 (Inline Function) --------`-------- : " + dashes + " : restack_inlines!mix1+0x29",
      "03 00000000`0014f700 00000001`80001119 : 00000000`00000001 00000000`00000002 00000000`00000003 00000000`00000004 : restack_inlines!In_Chain+0x29",
      "WARNING: a note between the frames",
      "04 (Inline Function) --------`-------- : " + dashes + " : restack_inlines!check_range+0x45",
      "05 00000000`0014f740 00000001`800012a3 : 00000000`00000005 00000000`00000006 00000000`00000007 00000000`00000008 : restack_inlines!In_Cold+0x49",
      "06 00000000`0014f780 00000000`00000000 : 00000000`00000009 00000000`0000000a 00000000`0000000b 00000000`0000000c : restack_inlines!In_Plain+0x13",
  };
  EXPECT_EQ(Lines(r.out), want);
  const sym::StackText parsed = sym::ParseStackText(r.out);
  const sym::Stack& s = *sym::StacksOf(parsed).at(0);
  ASSERT_EQ(s.frames.size(), 7u);
  for (const sym::Frame& f : s.frames) {
    EXPECT_EQ(sym::EmitFrame(f, sym::TextFormat::kKv), f.lines[0]);
    EXPECT_EQ(f.args.size(), 4u);
  }
  ASSERT_EQ(s.notes.size(), 1u);
  EXPECT_EQ(s.notes[0].before_frame, 4u);
  // JSON: the inserted frames are inline frames of the stack.
  SymToolOptions j = o;
  j.json = true;
  const nlohmann::json stack = nlohmann::json::parse(Lines(RunOn(j).out).at(0));
  ASSERT_EQ(stack["frames"].size(), 7u);
  EXPECT_EQ(stack["frames"][4]["inline"], true);
  EXPECT_EQ(stack["frames"][4]["function"], "check_range");
  EXPECT_EQ(stack["frames"][5]["number"], 5);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace restack::tools
