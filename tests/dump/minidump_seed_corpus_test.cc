// minidump_seed_corpus_test.cc - writes and checks the minidump fuzzer's seed corpus
//
// The seeds in tests/fuzz/corpus/minidump/ are made by tests/support/minidump_builder.h.
// To (re)write them: RESTACK_WRITE_SEEDS=1 ./minidump_seed_corpus_test (from the project
// root, as ctest runs it).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "restack/dump/minidump.h"
#include "restack/dump/minidump_layout.h"
#include "tests/support/minidump_builder.h"
#include "tests/support/seed_corpus.h"

namespace restack::dump {
namespace {

namespace fs = std::filesystem;
using namespace restack::test;

const fs::path kCorpus = fs::path(RESTACK_SOURCE_DIR) / "tests/fuzz/corpus/minidump";

// name -> bytes. Names starting "ok-" are well-formed; "bad-" ones are deliberately broken.
std::vector<std::pair<std::string, std::vector<uint8_t>>> Seeds() {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> seeds;
  seeds.emplace_back("ok-typical.dmp", TypicalDump().Build().bytes);
  seeds.emplace_back("ok-padded-lists.dmp", TypicalDump().PadListCounts(true).Build().bytes);
  seeds.emplace_back("ok-empty.dmp", MinidumpBuilder().Build().bytes);

  {  // Shaped like a Wine full-memory dump: Wine host info, no CodeView, stacks in
     // Memory64ListStream with Stack.Memory.Rva = 0, the 0xfff0 ELF module list, padding.
    SynthSystemInfo info;
    info.wine = SynthWineInfo{};
    info.csd_version = u"";
    MinidumpBuilder b;
    b.SetSystemInfo(info);
    SynthContext ctx;
    ctx.gpr[4] = 0x21F000 - 0x100;
    ctx.rip = 0x7B012345;
    SynthThread t;
    t.id = 0x20;
    t.stack_start = 0x21E000;
    t.stack = std::vector<uint8_t>(0x1000, 0x41);
    t.stack_placement = StackPlacement::kMemory64List;
    t.context = ctx;
    b.AddThread(t);
    SynthModule m;
    m.name = U16("C:\\windows\\system32\\ntdll.dll");
    m.base = 0x7B000000;
    m.size = 0x100000;
    b.AddModule(m);
    b.AddMemory64(0x7B012300, std::vector<uint8_t>(0x100, 0x90));
    b.AddRawStream(kWineElfModuleListStream, {0, 0, 0, 0});
    b.AddUnusedStreams(2);
    SynthException e;
    e.thread_id = 0x20;
    e.exception_address = 0x7B012345;
    e.context = ctx;
    b.SetException(e);
    seeds.emplace_back("ok-wine-like.dmp", b.Build().bytes);
  }
  {  // Adjacent, overlapping and unsorted ranges across both memory lists.
    MinidumpBuilder b;
    b.AddMemory(0x30000, std::vector<uint8_t>(0x40, 1));
    b.AddMemory(0x10000, std::vector<uint8_t>(0x40, 2));
    b.AddMemory(0x10040, std::vector<uint8_t>(0x40, 3));
    b.AddMemory64(0x10060, std::vector<uint8_t>(0x40, 4));
    b.AddMemory64(0x20000, std::vector<uint8_t>(0x40, 5));
    seeds.emplace_back("ok-memory-ranges.dmp", b.Build().bytes);
  }
  {  // Names outside ASCII, an NB10 and a short RSDS record, a raw comment stream.
    MinidumpBuilder b;
    SynthModule m;
    m.name = u"C:\\\u00DCn\u00EFcode\\\U0001F600.dll";
    m.base = 0x10000000;
    m.size = 0x1000;
    m.code_view = SynthCodeView{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 7, "a.pdb"};
    b.AddModule(m);
    m.raw_code_view = {'N', 'B', '1', '0', 0, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0, 'x', 0};
    b.AddModule(m);
    m.raw_code_view = {'R', 'S', 'D', 'S', 1, 2};
    b.AddModule(m);
    b.AddRawStream(CommentStreamW, {'h', 0, 'i', 0});
    seeds.emplace_back("ok-modules.dmp", b.Build().bytes);
  }
  {  // An x86 system and context.
    SynthSystemInfo info;
    info.processor_architecture = 0;
    MinidumpBuilder b;
    b.SetSystemInfo(info);
    SynthThread t;
    t.id = 1;
    t.raw_context = std::vector<uint8_t>(0x2CC, 0);
    b.AddThread(t);
    seeds.emplace_back("ok-x86.dmp", b.Build().bytes);
  }
  {  // Broken on purpose: lying counts and locations.
    SynthDump d = TypicalDump().Build();
    PutU32(d.bytes, d.StreamRva(ThreadListStream), 0x7FFFFFFF);
    PutU32(d.bytes, d.module_names[0], 0xFFFFFFF0);
    PutU32(d.bytes, d.memory_descriptors[0] + 8, 0x10000000);
    seeds.emplace_back("bad-lying-counts.dmp", std::move(d.bytes));
  }
  {
    SynthDump d = TypicalDump().Build();
    PutU32(d.bytes, d.DirectoryEntry(1) + 8, d.directory_rva);  // thread list = directory
    seeds.emplace_back("bad-cyclic-stream.dmp", std::move(d.bytes));
  }
  {
    std::vector<uint8_t> bytes = TypicalDump().Build().bytes;
    bytes.resize(bytes.size() / 2);
    seeds.emplace_back("bad-truncated.dmp", std::move(bytes));
  }
  return seeds;
}

TEST(MinidumpSeedCorpusTest, WritesSeedsWhenAsked) {
  if (!SeedRewriteRequested()) GTEST_SKIP() << "set RESTACK_WRITE_SEEDS=1 to rewrite " << kCorpus;
  EXPECT_EQ(WriteSeeds(kCorpus, Seeds()), "");
}

TEST(MinidumpSeedCorpusTest, CommittedSeedsMatchTheBuilderAndParse) {
  for (const auto& [name, bytes] : Seeds()) {
    SCOPED_TRACE(name);
    const fs::path path = kCorpus / name;
    ASSERT_TRUE(fs::exists(path)) << "missing seed; rewrite with RESTACK_WRITE_SEEDS=1";
    absl::StatusOr<Minidump> dump = Minidump::Open(path.string());
    if (name.rfind("ok-", 0) == 0) {
      ASSERT_TRUE(dump.ok()) << dump.status();
      EXPECT_EQ(std::vector<uint8_t>(dump->bytes().begin(), dump->bytes().end()), bytes)
          << "seed differs from the builder; rewrite with RESTACK_WRITE_SEEDS=1";
    }
  }
}

}  // namespace
}  // namespace restack::dump
