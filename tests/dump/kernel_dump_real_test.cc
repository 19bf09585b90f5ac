// kernel_dump_real_test.cc - the real Windows 10 triage dump in ../shared/real/dumps
//
// Expected facts come from ../shared/real/README.md and the store layout of
// ../shared/real/symbols (keys that name the image files), not from restack.
#include <algorithm>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "restack/dump/kernel_dump.h"

namespace restack::dump {
namespace {

constexpr char kTriage[] = "../shared/real/dumps/triage_x64.dmp";

class TriageDumpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<KernelDump> d = KernelDump::Open(kTriage);
    ASSERT_TRUE(d.ok()) << d.status();
    dump_ = new KernelDump(*std::move(d));
  }
  static void TearDownTestSuite() { delete dump_; }
  const KernelModule* Module(const std::string& name) {
    for (const KernelModule& m : dump_->modules()) {
      if (absl::EqualsIgnoreCase(m.name, name)) return &m;
    }
    return nullptr;
  }
  static KernelDump* dump_;
};
KernelDump* TriageDumpTest::dump_ = nullptr;

TEST_F(TriageDumpTest, IsATriageDumpOfBuild19041With16Processors) {
  // README: "Windows 10 (build 19041) x64 kernel minidump (DumpType 4)", "16 processors".
  EXPECT_EQ(dump_->kind(), KernelDumpKind::kTriage);
  EXPECT_EQ(dump_->dump_type(), 4u);
  EXPECT_EQ(dump_->build(), 19041u);
  EXPECT_EQ(dump_->processors(), 16u);
  EXPECT_TRUE(dump_->warnings().empty()) << dump_->warnings().front().what;
}

TEST_F(TriageDumpTest, BugcheckIsSystemThreadExceptionNotHandledInAmdppm) {
  // README: 0x1000007E; parameter 2 is the faulting address, in amdppm.sys;
  // parameter 4 is the context record of the fault.
  const BugCheck& b = dump_->bugcheck();
  EXPECT_EQ(b.code, 0x1000007Eu);
  const KernelModule* amdppm = Module("amdppm.sys");
  ASSERT_NE(amdppm, nullptr);
  EXPECT_GE(b.parameters[1], amdppm->base);
  EXPECT_LT(b.parameters[1], amdppm->end());
  EXPECT_EQ(dump_->ModuleForAddress(b.parameters[1]), amdppm);
  // The context record at parameter 4 is in the dump and faulted at parameter 2.
  std::vector<uint8_t> bytes(0x4D0);
  ASSERT_TRUE(dump_->ReadVirtual(b.parameters[3], bytes).ok());
  absl::StatusOr<X64Context> ctx = ParseX64Context(bytes);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(ctx->rip, b.parameters[1]);
}

TEST_F(TriageDumpTest, Lists151DriversWithTheStoreKeysOfTheRealImages) {
  // README: 151 loaded drivers; the issue: amdppm.sys c9c030003b000,
  // Wdf01000.sys a9a9d36ed1000, ntoskrnl.exe 0D8333E61046000.
  EXPECT_EQ(dump_->modules().size(), 151u);
  for (const auto& [name, key] : {std::pair{"amdppm.sys", "c9c030003b000"},
                                  std::pair{"Wdf01000.sys", "a9a9d36ed1000"},
                                  std::pair{"ntoskrnl.exe", "0D8333E61046000"}}) {
    const KernelModule* m = Module(name);
    ASSERT_NE(m, nullptr) << name;
    EXPECT_TRUE(absl::EqualsIgnoreCase(absl::StrFormat("%08X%x", m->timestamp, m->size), key))
        << name;
    EXPECT_NE(m->base, 0u);
    EXPECT_TRUE(absl::StartsWith(m->full_name, "\\SystemRoot\\")) << m->full_name;
  }
  // Every driver has a name, and no two overlap.
  std::vector<KernelModule> sorted = dump_->modules();
  std::sort(sorted.begin(), sorted.end(),
            [](const KernelModule& a, const KernelModule& b) { return a.base < b.base; });
  for (size_t i = 0; i < sorted.size(); ++i) {
    EXPECT_FALSE(sorted[i].name.empty());
    if (i > 0) {
      EXPECT_LE(sorted[i - 1].end(), sorted[i].base) << sorted[i].name;
    }
  }
}

TEST_F(TriageDumpTest, ListsUnloadedDriversAndTheDumpBlob) {
  ASSERT_FALSE(dump_->unloaded_drivers().empty());
  for (const UnloadedDriver& u : dump_->unloaded_drivers()) {
    EXPECT_TRUE(absl::EndsWith(u.name, ".sys") || absl::EndsWith(u.name, ".dll")) << u.name;
    EXPECT_LT(u.start, u.end) << u.name;
  }
  // Windows appends secondary data after TRIAGE_DUMP64.SizeOfDump.
  ASSERT_EQ(dump_->secondary_data().size(), 1u);
  EXPECT_EQ(dump_->secondary_data()[0].magic, "DumpBlob");
  EXPECT_EQ(dump_->secondary_data()[0].offset + dump_->secondary_data()[0].size, 1444532u);
}

TEST_F(TriageDumpTest, BugcheckProcessorIsInKeBugCheckExOnTheFaultingThreadsStack) {
  // KeBugCheckEx (in ntoskrnl) runs on the same kernel stack as the fault,
  // deeper; the triage stack window starts at its RSP.
  std::optional<uint32_t> cpu = dump_->bugcheck_processor();
  ASSERT_TRUE(cpu.has_value());
  const ProcessorContext* pc = nullptr;
  for (const ProcessorContext& c : dump_->processor_contexts()) {
    if (c.processor == *cpu) pc = &c;
  }
  ASSERT_NE(pc, nullptr);
  EXPECT_EQ(dump_->ModuleForAddress(pc->context.rip), Module("ntoskrnl.exe"));
  ASSERT_TRUE(dump_->stack_window().has_value());
  EXPECT_EQ(pc->context.rsp(), dump_->stack_window()->first);
  EXPECT_LT(pc->context.rsp(), dump_->header_context()->rsp());
}

TEST_F(TriageDumpTest, MemoryOutsideTheCopiedRangesIsNotInDump) {
  uint8_t byte;
  absl::Status s = dump_->ReadVirtual(0xfffff80000000000, {&byte, 1});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(s.message(), "not in dump")) << s;
  EXPECT_EQ(dump_->Translate(0xfffff80000000000).fault, TranslationFault::kNoPageTables);
}

}  // namespace
}  // namespace restack::dump
