// sym_tool_test.cc - restack-sym on WinDbg-style text over the chunk fixture and the triage dump
//
// tests/fixtures/pdb/chunks_windbg.txt is what WinDbg prints with the
// publics-only PDB (chunks named after the string literal before them),
// written by make_windbg_text.py from chunks.truth.json's publics; the
// expected names come from the same truth file's probes (lld-link's map), not
// from restack.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/exit_code.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sym/sym.h"
#include "tests/tools/sym_run.h"
#include "walk/walk.h"

namespace restack::tools {
namespace {

constexpr char kDir[] = "tests/fixtures/pdb/";
constexpr char kImage[] =
    "tests/fixtures/pdb/store-publics/restack_chunks.dll/8E7D24127000/restack_chunks.dll";

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out = absl::StrSplit(text, '\n');
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

nlohmann::json Json(const std::string& name) {
  return nlohmann::json::parse(Read(std::string(kDir) + name));
}

// "Name+0x12" / "Name-0xb2" / "Name" as the truth gives name and offset.
std::string Expected(const nlohmann::json& probe) {
  const std::string off = probe["offset"].get<std::string>();
  std::string out = "restack_chunks!" + probe["name"].get<std::string>();
  if (off == "0x0") return out;
  return out + (off[0] == '-' ? off : "+" + off);
}

std::map<uint32_t, nlohmann::json> Probes() {
  std::map<uint32_t, nlohmann::json> out;
  const nlohmann::json truth = Json("chunks.truth.json");
  for (const nlohmann::json& p : truth["probes"]) {
    out[static_cast<uint32_t>(std::stoul(p["rva"].get<std::string>(), nullptr, 16))] = p;
  }
  return out;
}

uint32_t Rva(const nlohmann::json& v) {
  return static_cast<uint32_t>(std::stoul(v.get<std::string>(), nullptr, 16));
}

SymToolOptions ChunkOptions(const std::string& store) {
  SymToolOptions o;
  o.inputs = {std::string(kDir) + "chunks_windbg.txt"};
  o.sympath = "srv*" + std::string(kDir) + store;
  o.image_files = {kImage};
  return o;
}

// The call site of an output row and the chunk/was annotations.
struct Row {
  std::string call_site;
  bool chunk = false;
  std::string was;
};
Row RowOf(const std::string& line) {
  static const std::regex re(
      R"(^(?:[0-9a-f]{2} )?(?:.* : )?(.+?)( \(Chunk @ [0-9a-f`]+\))?(?: \[[^\]]* @ \d+\])?(?:    \[was: (.*)\])?$)");
  std::smatch m;
  Row r;
  if (std::regex_match(line, m, re)) {
    r.call_site = m[1];
    r.chunk = m[2].matched;
    r.was = m[3];
  }
  return r;
}

class SymToolChunksTest : public ::testing::TestWithParam<const char*> {};

TEST_P(SymToolChunksTest, KvFramesAreRenamedAfterTheirParents) {
  SymRun r = RunOn(ChunkOptions(GetParam()));
  EXPECT_EQ(r.rc, kExitOk) << r.err;
  const std::vector<std::string> in = Lines(Read(std::string(kDir) + "chunks_windbg.txt"));
  const std::vector<std::string> out = Lines(r.out);
  ASSERT_EQ(out.size(), in.size());
  // The prompt and column header pass through untouched.
  EXPECT_EQ(out[0], in[0]);
  EXPECT_EQ(out[1], in[1]);
  const std::map<uint32_t, nlohmann::json> probes = Probes();
  const nlohmann::json frames = Json("chunks_windbg.json")["kv_frames"];
  size_t chunks = 0, right = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    const nlohmann::json& probe = probes.at(Rva(frames[i]));
    const Row row = RowOf(out[2 + i]);
    SCOPED_TRACE(out[2 + i]);
    EXPECT_EQ(row.call_site, Expected(probe));
    const bool chunk = probe["kind"] == "chunk";
    EXPECT_EQ(row.chunk, chunk);
    // Changed rows say what they were; rows WinDbg got right stay as they were.
    const Row before = RowOf(in[2 + i]);
    if (before.call_site == row.call_site) {
      EXPECT_EQ(out[2 + i], in[2 + i]);
    } else {
      EXPECT_EQ(row.was, before.call_site);
      // The Child-SP, RetAddr and argument columns are kept byte for byte.
      EXPECT_EQ(out[2 + i].substr(0, out[2 + i].find(" : restack_chunks")),
                in[2 + i].substr(0, in[2 + i].find(" : restack_chunks")));
    }
    chunks += chunk;
    right += chunk && row.call_site == Expected(probe);
  }
  EXPECT_GE(chunks, 20u);
  EXPECT_EQ(right, chunks);
  std::printf("  %s PDB: %zu/%zu chunk frames named after their function\n", GetParam(), right, chunks);
}

TEST_P(SymToolChunksTest, KcNamesAndPlainLinesResolveWithoutAddresses) {
  SymRun r = RunOn(ChunkOptions(GetParam()));
  const std::vector<std::string> out = Lines(r.out);
  const std::map<uint32_t, nlohmann::json> probes = Probes();
  const nlohmann::json expect = Json("chunks_windbg.json");
  // Find the kc block and the plain lines after it.
  size_t kc = 0;
  while (kc < out.size() && out[kc] != "0: kd> kc") ++kc;
  ASSERT_LT(kc + 2, out.size());
  for (size_t i = 0; i < expect["kc_frames"].size(); ++i) {
    SCOPED_TRACE(out[kc + 2 + i]);
    const nlohmann::json& probe = probes.at(Rva(expect["kc_frames"][i]));
    const Row row = RowOf(out[kc + 2 + i]);
    EXPECT_EQ(row.call_site, Expected(probe));
  }
  const size_t plain = out.size() - expect["plain"].size();
  for (size_t i = 0; i < expect["plain"].size(); ++i) {
    SCOPED_TRACE(out[plain + i]);
    const nlohmann::json& probe = probes.at(Rva(expect["plain"][i]));
    // As llvm-symbolizer: the address itself names the function.
    EXPECT_EQ(RowOf(out[plain + i]).call_site, Expected(probe));
  }
}

TEST_P(SymToolChunksTest, ItsOwnOutputIsAFixedPoint) {
  SymRun first = RunOn(ChunkOptions(GetParam()));
  const std::filesystem::path tmp =
      std::filesystem::temp_directory_path() / absl::StrFormat("restack_sym_%d.txt", getpid());
  std::ofstream(tmp) << first.out;
  SymToolOptions again = ChunkOptions(GetParam());
  again.inputs = {tmp.string()};
  SymRun second = RunOn(again);
  std::filesystem::remove(tmp);
  EXPECT_EQ(second.rc, kExitOk) << second.err;
  const std::vector<std::string> a = Lines(first.out), b = Lines(second.out);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(b[i], a[i]) << "line " << i + 1;  // the first difference only
  }
}

INSTANTIATE_TEST_SUITE_P(Pdbs, SymToolChunksTest, ::testing::Values("store-publics", "store-full"));

TEST(SymToolTest, JsonMarksWhatChanged) {
  SymToolOptions o = ChunkOptions("store-publics");
  o.json = true;
  SymRun r = RunOn(o);
  EXPECT_EQ(r.rc, kExitOk) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_GE(lines.size(), 3u);
  nlohmann::json kv = nlohmann::json::parse(lines[0]);
  ASSERT_TRUE(kv["frames"].is_array());
  size_t was = 0;
  for (const nlohmann::json& f : kv["frames"]) {
    if (!f["was"].is_null()) {
      ++was;
      EXPECT_NE(f["was"].get<std::string>().find("`string'"), std::string::npos) << f.dump();
    }
  }
  EXPECT_GE(was, 20u);
  // Plain lines: one object each.
  nlohmann::json plain = nlohmann::json::parse(lines.back());
  EXPECT_EQ(plain["input"].get<std::string>().rfind("restack_chunks+0x", 0), 0u);
  EXPECT_FALSE(plain["function"].is_null());
}

TEST(SymToolTest, LinesOnlyWhenAsked) {
  SymToolOptions o = ChunkOptions("store-full");
  o.lines = true;
  SymRun r = RunOn(o);
  // Cc_Describe is C compiled with -gcodeview: its rows get a source line.
  EXPECT_NE(r.out.find("restack_chunks!Cc_Describe+0x2 [/tmp/restack-fixtures-pdb-build/full/chunks_c.c @ "),
            std::string::npos)
      << r.out;
  o.lines = false;
  EXPECT_EQ(RunOn(o).out.find("chunks_c.c @"), std::string::npos);
}

TEST(SymToolTest, BasesThatDisagreeAreReported) {
  // Frame 3's RetAddr moved by 64 KiB: one vote against many.
  std::string text = Read(std::string(kDir) + "chunks_windbg.txt");
  const size_t at = text.find("00000001`800011a3");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 17, "00000001`800111a3");
  const std::filesystem::path tmp =
      std::filesystem::temp_directory_path() / absl::StrFormat("restack_sym_bad_%d.txt", getpid());
  std::ofstream(tmp) << text;
  SymToolOptions o = ChunkOptions("store-publics");
  o.inputs = {tmp.string()};
  SymRun r = RunOn(o);
  std::filesystem::remove(tmp);
  EXPECT_EQ(r.rc, kExitPartial);
  EXPECT_NE(r.err.find("frames disagree on its base"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("00000001`80000000"), std::string::npos) << r.err;
}

// Without images, every line of the seed's texts passes through as it was.
TEST(SymToolTest, SeedTextsPassThroughWithoutImages) {
  for (const auto& entry : std::filesystem::directory_iterator("../shared/samples/stacktext")) {
    SymToolOptions o;
    o.inputs = {entry.path().string()};
    SymRun r = RunOn(o);
    EXPECT_EQ(r.out, Read(entry.path().string())) << entry.path();
    // Modules named but not given: said once each, and the exit says partial.
    if (r.err.find("module '") != std::string::npos) {
      EXPECT_EQ(r.rc, kExitPartial) << entry.path();
    } else {
      EXPECT_EQ(r.rc, kExitOk) << entry.path() << r.err;
    }
  }
}

TEST(SymToolTest, AMissingInputIsAnError) {
  SymToolOptions o;
  o.inputs = {"no/such/file.txt"};
  SymRun r = RunOn(o);
  EXPECT_EQ(r.rc, kExitError);
  EXPECT_NE(r.err.find("no/such/file.txt"), std::string::npos) << r.err;
}

// restack-walk without symbols, then restack-sym with the dump's module list:
// the same names restack-walk gives with symbols.
TEST(SymToolTest, DumpModuleListGivesBasesAndImages) {
  constexpr char kTriage[] = "../shared/real/dumps/triage_x64.dmp";
  constexpr uint64_t kCxr = 0xffff850429891720;
  WalkToolOptions walk;
  walk.dumps = {kTriage};
  walk.image_paths = {"../shared/real/symbols"};
  walk.cxr = kCxr;
  std::ostringstream plain, named, err;
  RunWalk(walk, plain, err);
  walk.sympath = "srv*../shared/real/symbols";
  RunWalk(walk, named, err);
  ASSERT_NE(plain.str(), named.str());
  const std::filesystem::path tmp =
      std::filesystem::temp_directory_path() / absl::StrFormat("restack_sym_walk_%d.txt", getpid());
  std::ofstream(tmp) << plain.str();
  SymToolOptions o;
  o.inputs = {tmp.string()};
  o.dump = kTriage;
  o.sympath = "srv*../shared/real/symbols";
  SymRun r = RunOn(o);
  std::filesystem::remove(tmp);
  const std::vector<std::string> got = Lines(r.out), want = Lines(named.str());
  ASSERT_EQ(got.size(), want.size()) << r.out;
  size_t amdppm = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    // Changed rows carry [was: ...]; otherwise equal to restack-walk's.
    const std::string line = got[i].substr(0, got[i].find("    [was: "));
    EXPECT_EQ(line, want[i]);
    amdppm += got[i].find("amdppm!") != std::string::npos;
  }
  EXPECT_EQ(amdppm, 6u);
}

}  // namespace
}  // namespace restack::tools
