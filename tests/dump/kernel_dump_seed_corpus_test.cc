// kernel_dump_seed_corpus_test.cc - writes and checks the kernel_dump fuzzer's seed corpus
//
// The seeds in tests/fuzz/corpus/kernel_dump/ are made by
// tests/support/kernel_dump_writer.h, one per layout plus broken variants. To
// (re)write them: RESTACK_WRITE_SEEDS=1 ./kernel_dump_seed_corpus_test (from
// the project root, as ctest runs it).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "restack/dump/kernel_dump.h"
#include "tests/support/kernel_dump_writer.h"
#include "tests/support/seed_corpus.h"

namespace restack::dump {
namespace {

namespace fs = std::filesystem;
using test::KernelDumpType;

const fs::path kCorpus = fs::path(RESTACK_SOURCE_DIR) / "tests/fuzz/corpus/kernel_dump";

std::vector<uint8_t> Written(const test::KernelScenario& s, KernelDumpType type) {
  test::WriteOptions o;
  o.runs = {{0x100, 0x30}};  // just what the typical scenario needs: small seeds
  absl::StatusOr<test::WrittenKernelDump> d = test::WriteKernelDump(s, type, o);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? d->bytes : std::vector<uint8_t>();
}

// name -> bytes. "ok-" seeds are consistent; "bad-" ones are deliberately broken.
test::Seeds Seeds() {
  const test::KernelScenario typical = test::TypicalKernelScenario();
  test::Seeds seeds;
  seeds.emplace_back("ok-full.dmp", Written(typical, KernelDumpType::kFull));
  seeds.emplace_back("ok-bitmap-kernel.dmp", Written(typical, KernelDumpType::kBitmapKernel));
  seeds.emplace_back("ok-rdmp-kernel.dmp", Written(typical, KernelDumpType::kRdmpKernel));
  seeds.emplace_back("ok-rdmp-complete.dmp", Written(typical, KernelDumpType::kRdmpComplete));
  seeds.emplace_back("ok-triage.dmp", Written(typical, KernelDumpType::kTriage));
  test::KernelScenario cyclic = typical;
  cyclic.corruption.module_list_cycle = true;
  seeds.emplace_back("bad-cyclic-modules.dmp", Written(cyclic, KernelDumpType::kBitmapKernel));
  test::KernelScenario lying = typical;
  lying.corruption.triage_driver_count = 5000;
  lying.corruption.triage_data_blocks_count = 500000;
  seeds.emplace_back("bad-triage-counts.dmp", Written(lying, KernelDumpType::kTriage));
  test::KernelScenario encoded = typical;
  encoded.encode_kdbg = true;
  seeds.emplace_back("bad-encoded-kdbg.dmp", Written(encoded, KernelDumpType::kRdmpKernel));
  return seeds;
}

TEST(KernelDumpSeedCorpusTest, WritesSeedsWhenAsked) {
  if (!test::SeedRewriteRequested()) {
    GTEST_SKIP() << "set RESTACK_WRITE_SEEDS=1 to rewrite " << kCorpus;
  }
  EXPECT_EQ(test::WriteSeeds(kCorpus, Seeds()), "");
}

TEST(KernelDumpSeedCorpusTest, CommittedSeedsMatchTheWriterAndParse) {
  for (const auto& [name, bytes] : Seeds()) {
    SCOPED_TRACE(name);
    const fs::path path = kCorpus / name;
    ASSERT_TRUE(fs::exists(path)) << "missing seed; rewrite with RESTACK_WRITE_SEEDS=1";
    EXPECT_EQ(test::ReadSeed(path), bytes) << "stale seed; rewrite with RESTACK_WRITE_SEEDS=1";
    absl::StatusOr<KernelDump> dump = KernelDump::Open(path.string());
    ASSERT_TRUE(dump.ok()) << dump.status();
    if (name.rfind("ok-", 0) == 0) {
      EXPECT_TRUE(dump->warnings().empty()) << dump->warnings().front().what;
    } else {
      EXPECT_FALSE(dump->warnings().empty());
    }
  }
}

}  // namespace
}  // namespace restack::dump
