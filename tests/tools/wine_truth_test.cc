// wine_truth_test.cc - walks of Wine-written minidumps against the programs' own truth
//
// tests/fixtures/regenerate.sh runs the fixture programs under wine64; each
// records, for every stopped thread, the true chain of (RIP, Child-SP) and the
// nonvolatile registers it set, taken at its call sites (never from unwind
// data), and writes <scenario>.dmp beside <scenario>.truth.json. restack must
// reproduce every truth frame exactly.
#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/dump_target.h"
#include "common/frame_symbols.h"
#include "common/input_file.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace restack::tools {
namespace {

constexpr char kWineDir[] = "tests/fixtures/wine";
constexpr char kStore[] = "tests/fixtures/store";

std::vector<std::string> TruthFiles() {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(kWineDir)) {
    while (dirent* e = ::readdir(d)) {
      if (absl::EndsWith(e->d_name, ".truth.json")) out.push_back(e->d_name);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  if (out.empty()) out.push_back("");  // one skipped instance
  return out;
}

uint64_t ParseHex(const nlohmann::json& v) {
  return std::stoull(v.get<std::string>(), nullptr, 16);
}

// xmm truth values are 32 hex digits, high quadword first.
unwind::Uint128 ParseXmm(const nlohmann::json& v) {
  std::string s = v.get<std::string>();
  if (absl::StartsWith(s, "0x")) s = s.substr(2);
  s.insert(0, 32 - std::min<size_t>(32, s.size()), '0');
  return {std::stoull(s.substr(16, 16), nullptr, 16), std::stoull(s.substr(0, 16), nullptr, 16)};
}

int RegisterIndex(const std::string& name) {
  for (unsigned i = 0; i < unwind::kRegisterCount; ++i) {
    if (unwind::RegisterName(i) == name) return static_cast<int>(i);
  }
  return -1;
}

class WineTruthTest : public ::testing::TestWithParam<std::string> {};

TEST_P(WineTruthTest, WalkEqualsTheRecordedTruth) {
  if (GetParam().empty()) GTEST_SKIP() << "no Wine fixtures in " << kWineDir;
  std::ifstream in(absl::StrFormat("%s/%s", kWineDir, GetParam()));
  ASSERT_TRUE(in.good());
  const nlohmann::json truth = nlohmann::json::parse(in);
  const std::string dump_path =
      absl::StrFormat("%s/%s", kWineDir, truth["dump"].get<std::string>());
  absl::StatusOr<InputFile> input = OpenInput(dump_path);
  ASSERT_TRUE(input.ok()) << input.status();
  const sym::ImageLocator locator({kStore});
  absl::StatusOr<std::unique_ptr<DumpTarget>> target =
      OpenDumpTarget(input->bytes, input->owner, input->name, locator);
  ASSERT_TRUE(target.ok()) << target.status();
  ASSERT_TRUE((*target)->minidump.has_value());
  const dump::Minidump& dump = *(*target)->minidump;

  size_t frames_compared = 0;
  for (const nlohmann::json& t : truth["threads"]) {
    const uint32_t tid = t["thread_id"].get<uint32_t>();
    SCOPED_TRACE(absl::StrFormat("%s thread 0x%x", GetParam(), tid));
    const dump::Thread* thread = dump.ThreadById(tid);
    ASSERT_NE(thread, nullptr);
    const dump::X64Context* context = nullptr;
    if (t["context_source"] == "exception") {
      ASSERT_TRUE(dump.exception().has_value());
      ASSERT_EQ(dump.exception()->thread_id, tid);
      ASSERT_TRUE(dump.exception()->context.has_value());
      context = &*dump.exception()->context;
    } else {
      ASSERT_TRUE(thread->context.has_value());
      context = &*thread->context;
    }
    unwind::WalkOptions options;
    options.stacks = ThreadStackBounds(*thread);
    const unwind::StackWalk walk =
        unwind::WalkStack(ToRegisterContext(*context), *(*target)->memory, (*target)->modules,
                          options);
    const nlohmann::json& frames = t["frames"];
    for (size_t i = 0; i < frames.size(); ++i) {
      const nlohmann::json& f = frames[i];
      SCOPED_TRACE(absl::StrFormat("frame %u (%s)", i, f.value("function", "?")));
      ASSERT_LT(i, walk.frames.size())
          << "walk ended early: " << unwind::WalkEndName(walk.end) << ": " << walk.status;
      const unwind::StackFrame& got = walk.frames[i];
      EXPECT_EQ(absl::StrFormat("0x%x", got.rip), absl::StrFormat("0x%x", ParseHex(f["rip"])));
      EXPECT_EQ(absl::StrFormat("0x%x", got.rsp), absl::StrFormat("0x%x", ParseHex(f["rsp"])));
      if (f.contains("regs")) {
        for (const auto& [name, value] : f["regs"].items()) {
          const int r = RegisterIndex(name);
          ASSERT_GE(r, 0) << name;
          EXPECT_TRUE(got.context.IsKnown(r)) << name << " unknown";
          if (r >= static_cast<int>(unwind::kRegXmm0)) {
            EXPECT_EQ(got.context.xmm[r - unwind::kRegXmm0], ParseXmm(value)) << name;
          } else if (r < 16) {
            EXPECT_EQ(absl::StrFormat("0x%x", got.context.gpr[r]),
                      absl::StrFormat("0x%x", ParseHex(value)))
                << name;
          }
        }
      }
      ++frames_compared;
    }
  }
  RecordProperty("frames_compared", static_cast<int>(frames_compared));
}

// With the fixture store as symbol path (the fixtures' PDBs sit there), every
// truth frame is named after the function the program says it is in: chunk
// frames (the truth's "<Func>_cold1" / "<Func>_c1" labels) after their
// function, marked as chunks; frames in Wine's kernel32 after its export.
TEST_P(WineTruthTest, SymbolizedFramesNameTheTruthsFunctions) {
  if (GetParam().empty()) GTEST_SKIP() << "no Wine fixtures in " << kWineDir;
  std::ifstream in(absl::StrFormat("%s/%s", kWineDir, GetParam()));
  const nlohmann::json truth = nlohmann::json::parse(in);
  absl::StatusOr<InputFile> input =
      OpenInput(absl::StrFormat("%s/%s", kWineDir, truth["dump"].get<std::string>()));
  ASSERT_TRUE(input.ok()) << input.status();
  absl::StatusOr<std::unique_ptr<DumpTarget>> target =
      OpenDumpTarget(input->bytes, input->owner, input->name, sym::ImageLocator({kStore}));
  ASSERT_TRUE(target.ok()) << target.status();
  const dump::Minidump& dump = *(*target)->minidump;
  absl::StatusOr<sym::SymbolPath> path = sym::SymbolPath::Parse(std::string("srv*") + kStore);
  ASSERT_TRUE(path.ok());
  sym::SymbolResolver resolver(*path);
  FrameSymbolizer symbolizer(&resolver);
  const std::regex chunk_label(R"(^(.*)_(?:cold|c)\d+$)");
  size_t named = 0, chunks = 0;
  for (const nlohmann::json& t : truth["threads"]) {
    const dump::Thread* thread = dump.ThreadById(t["thread_id"].get<uint32_t>());
    ASSERT_NE(thread, nullptr);
    const dump::X64Context& context = t["context_source"] == "exception"
                                          ? *dump.exception()->context
                                          : *thread->context;
    unwind::WalkOptions options;
    options.stacks = ThreadStackBounds(*thread);
    const unwind::StackWalk walk = unwind::WalkStack(ToRegisterContext(context),
                                                     *(*target)->memory, (*target)->modules, options);
    const nlohmann::json& frames = t["frames"];
    for (size_t i = 0; i < frames.size() && i < walk.frames.size(); ++i) {
      const std::string function = frames[i].value("function", "");
      if (function.empty()) continue;
      const FrameSymbol s = symbolizer.Symbolize(walk, i);
      SCOPED_TRACE(absl::StrFormat("%s thread 0x%x frame %u: truth %s, restack %s", GetParam(),
                                   t["thread_id"].get<uint32_t>(), i, function, s.call_site));
      if (absl::StrContains(function, "!")) {  // "kernel32!BaseThreadInitThunk+0x9 (nearest export)"
        EXPECT_EQ(s.call_site, function.substr(0, function.find(' ')));
        ++named;
        continue;
      }
      std::smatch m;
      const bool chunk = std::regex_match(function, m, chunk_label);
      EXPECT_EQ(s.function, chunk ? m[1].str() : function);
      // The truth labels some chunk frames by their function only.
      if (chunk) {
        EXPECT_TRUE(s.chunk.has_value());
      }
      named += s.function == (chunk ? m[1].str() : function);
      chunks += chunk;
    }
  }
  RecordProperty("frames_named", static_cast<int>(named));
  RecordProperty("chunk_frames", static_cast<int>(chunks));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, WineTruthTest, ::testing::ValuesIn(TruthFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           if (info.param.empty()) return std::string("none");
                           std::string name = info.param.substr(0, info.param.find('.'));
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace restack::tools
