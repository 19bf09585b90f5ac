// minidump_wine_test.cc - every Wine-written dump in tests/fixtures/wine/ against its truth
//
// Each tests/fixtures/wine/<name>.dmp may have <name>.truth.json beside it, recorded by
// the fixture generator from inside the crashing process: thread ids and their RSPs.
// Without fixtures the tests skip.
#include <filesystem>
#include <fstream>
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
  std::optional<uint64_t> rsp;
};

// Threads from a truth file: {"threads": [{"tid"|"thread_id"|"id": ..., "rsp": ...}]}.
std::vector<TruthThread> TruthThreads(const fs::path& truth) {
  std::vector<TruthThread> out;
  std::ifstream in(truth);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("threads") || !j["threads"].is_array()) return out;
  for (const auto& t : j["threads"]) {
    std::optional<uint64_t> id = Field(t, {"tid", "thread_id", "id"});
    if (!id) continue;
    TruthThread tt;
    tt.id = static_cast<uint32_t>(*id);
    tt.rsp = Field(t, {"rsp", "RSP", "stack_pointer"});
    out.push_back(tt);
  }
  return out;
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
  for (const fs::path& path : WineDumps()) {
    fs::path truth = path;
    truth.replace_extension(".truth.json");
    if (!fs::exists(truth)) continue;
    SCOPED_TRACE(path.string());
    absl::StatusOr<Minidump> dump = Minidump::Open(path.string());
    ASSERT_TRUE(dump.ok()) << dump.status();
    const std::vector<TruthThread> threads = TruthThreads(truth);
    EXPECT_FALSE(threads.empty()) << truth << ": no threads recognised";
    for (const TruthThread& t : threads) {
      const Thread* thread = dump->ThreadById(t.id);
      ASSERT_NE(thread, nullptr) << absl::StrFormat("thread 0x%x missing", t.id);
      if (!t.rsp) continue;
      // The truth's RSP was recorded inside the process, so its stack word is in the dump.
      absl::StatusOr<uint64_t> word = dump->ReadU64(*t.rsp);
      EXPECT_TRUE(word.ok()) << word.status();
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no tests/fixtures/wine/*.truth.json with RSPs yet";
}

}  // namespace
}  // namespace restack::dump
