// minidump_wine_test.cc - every Wine-written dump in tests/fixtures/wine/ against its truth
//
// Each tests/fixtures/wine/<scenario>.truth.json (tests/fixtures/tools/fxtruth.py) names
// its dump and holds, recorded from inside the crashing process, the thread ids and each
// frame's RSP. Without fixtures the tests skip.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "restack/dump/minidump.h"

namespace restack::dump {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> WineDumps() {
  std::vector<fs::path> dumps;
  const fs::path dir = fs::path(RESTACK_SOURCE_DIR) / "tests/fixtures/wine";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".dmp") dumps.push_back(entry.path());
  }
  std::sort(dumps.begin(), dumps.end());
  return dumps;
}

// A number written as a JSON number or as a string ("0x1234" or "4660").
std::optional<uint64_t> Number(const nlohmann::json& j) {
  if (j.is_number_unsigned() || j.is_number_integer()) return j.get<uint64_t>();
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    try {
      return std::stoull(s, nullptr, s.rfind("0x", 0) == 0 || s.rfind("0X", 0) == 0 ? 16 : 10);
    } catch (...) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> Field(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    if (j.contains(key)) return Number(j[key]);
  }
  return std::nullopt;
}

struct TruthThread {
  uint32_t id = 0;
  std::string context_source;  // "exception" or "thread"
  std::vector<uint64_t> rsps;  // each frame's RSP, innermost first
};

struct Truth {
  std::string dump;  // file name of the dump, beside the truth file
  std::vector<TruthThread> threads;
};

// A truth file as tests/fixtures/tools/fxtruth.py writes it:
// {"dump": "<name>.dmp", "threads": [{"thread_id": N, "context_source": "...",
//   "frames": [{"rip": "0x...", "rsp": "0x...", ...}, ...]}, ...]}.
Truth ReadTruth(const fs::path& path) {
  Truth truth;
  std::ifstream in(path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return truth;
  if (j.contains("dump") && j["dump"].is_string()) truth.dump = j["dump"].get<std::string>();
  if (!j.contains("threads") || !j["threads"].is_array()) return truth;
  for (const auto& t : j["threads"]) {
    std::optional<uint64_t> id = Field(t, {"thread_id", "tid", "id"});
    if (!id) continue;
    TruthThread tt;
    tt.id = static_cast<uint32_t>(*id);
    if (t.contains("context_source") && t["context_source"].is_string()) {
      tt.context_source = t["context_source"].get<std::string>();
    }
    if (t.contains("frames") && t["frames"].is_array()) {
      for (const auto& f : t["frames"]) {
        if (std::optional<uint64_t> rsp = Field(f, {"rsp"})) tt.rsps.push_back(*rsp);
      }
    }
    truth.threads.push_back(std::move(tt));
  }
  return truth;
}

std::vector<fs::path> TruthFiles() {
  std::vector<fs::path> files;
  const fs::path dir = fs::path(RESTACK_SOURCE_DIR) / "tests/fixtures/wine";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 11 && name.compare(name.size() - 11, 11, ".truth.json") == 0) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(MinidumpWineTest, EveryWineDumpParses) {
  const std::vector<fs::path> dumps = WineDumps();
  if (dumps.empty()) GTEST_SKIP() << "no tests/fixtures/wine/*.dmp yet";
  for (const fs::path& path : dumps) {
    SCOPED_TRACE(path.string());
    absl::StatusOr<Minidump> dump = Minidump::Open(path.string());
    ASSERT_TRUE(dump.ok()) << dump.status();
    for (const Warning& w : dump->warnings()) ADD_FAILURE() << "warning: " << w.what;
    ASSERT_TRUE(dump->system_info().has_value());
    EXPECT_TRUE(dump->system_info()->IsAmd64());
    EXPECT_FALSE(dump->threads().empty());
    EXPECT_FALSE(dump->modules().empty());
    EXPECT_FALSE(dump->memory_ranges().empty());
  }
}

TEST(MinidumpWineTest, WineDumpsHoldTheTruthsThreadsAndStacks) {
  int checked = 0;
  for (const fs::path& truth_path : TruthFiles()) {
    SCOPED_TRACE(truth_path.string());
    const Truth truth = ReadTruth(truth_path);
    ASSERT_FALSE(truth.dump.empty()) << "no \"dump\" in the truth file";
    absl::StatusOr<Minidump> dump = Minidump::Open((truth_path.parent_path() / truth.dump).string());
    ASSERT_TRUE(dump.ok()) << dump.status();
    EXPECT_FALSE(truth.threads.empty()) << "no threads recognised";
    for (const TruthThread& t : truth.threads) {
      SCOPED_TRACE(absl::StrFormat("thread 0x%x", t.id));
      const Thread* thread = dump->ThreadById(t.id);
      ASSERT_NE(thread, nullptr);
      if (t.context_source == "exception") {
        ASSERT_TRUE(dump->exception().has_value());
        EXPECT_EQ(dump->exception()->thread_id, t.id);
        ASSERT_TRUE(dump->exception()->context.has_value());
        if (!t.rsps.empty()) {
          EXPECT_EQ(dump->exception()->context->rsp(), t.rsps[0]);
        }
      } else if (thread->context.has_value() && !t.rsps.empty()) {
        EXPECT_EQ(thread->context->rsp(), t.rsps[0]);
      }
      // Every frame's RSP was recorded inside the process, on the thread's stack, which
      // Wine captures from the innermost RSP up: the word there must be in the dump.
      for (uint64_t rsp : t.rsps) {
        absl::StatusOr<uint64_t> word = dump->ReadU64(rsp);
        EXPECT_TRUE(word.ok()) << word.status();
        EXPECT_GE(rsp, thread->stack_start);
        EXPECT_LT(rsp - thread->stack_start, thread->stack_size);
        ++checked;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no tests/fixtures/wine/*.truth.json with RSPs yet";
}

}  // namespace
}  // namespace restack::dump
