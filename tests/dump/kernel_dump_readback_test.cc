// kernel_dump_readback_test.cc - KernelDump reads back what tests/support/kernel_dump_writer wrote
//
// One scenario (TypicalKernelScenario plus special mappings) is written as every kernel
// dump kind and read back through the public API; expected values are the scenario's
// own (the writer's values come from the real triage dump in ../shared/real/dumps/).
// Malformed inputs come from the writer's corruption knobs or from bytes patched at
// offsets its layout reports.
#include <cstring>
#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "restack/dump/kernel_dump.h"
#include "tests/support/kernel_dump_writer.h"

namespace restack::dump {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using test::DumpBlob;
using test::KernelDumpType;
using test::KernelScenario;
using test::PageSize;
using test::PutU32;
using test::PutU64;
using test::TypicalKernelScenario;
using test::WriteKernelDump;
using test::WriteOptions;
using test::WrittenKernelDump;

constexpr uint64_t kPage = 0x1000;
// Addresses of TypicalKernelScenario's mappings and of the ones Special() adds.
constexpr uint64_t kCodePage = 0xFFFFF8048B583000;   // 0xCC bytes
constexpr uint64_t kStackSlot = 0xFFFF850429892128;  // [rsp + 8] = amdppm.sys return address
constexpr uint64_t kTransitionPage = 0xFFFFF80470001000;
constexpr uint64_t kNotPresentPage = 0xFFFFF80470002000;
constexpr uint64_t kOutsideTable = 0xFFFFF80470400000;
constexpr uint64_t kLarge2MiB = 0xFFFFF80470600000;
constexpr uint64_t kLarge1GiB = 0xFFFFF80500000000;

std::string AllWarnings(const KernelDump& dump) {
  std::string out;
  for (const Warning& w : dump.warnings()) out += w.what + "\n";
  return out;
}

absl::StatusOr<KernelDump> Parse(const std::vector<uint8_t>& bytes) {
  auto copy = std::make_shared<const std::vector<uint8_t>>(bytes);
  return KernelDump::FromBytes(*copy, copy, "synthetic.dmp");
}

WrittenKernelDump Write(const KernelScenario& s, KernelDumpType type, const WriteOptions& o = {}) {
  absl::StatusOr<WrittenKernelDump> d = WriteKernelDump(s, type, o);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *std::move(d) : WrittenKernelDump{};
}

bool StoresOnlyUsedPages(KernelDumpType type) {
  return type == KernelDumpType::kBitmapKernel || type == KernelDumpType::kRdmpKernel ||
         type == KernelDumpType::kRdmpKernelUser;
}

// The typical scenario plus one mapping of each special kind. A 1 GiB page needs 1 GiB
// of physical layout, which dumps of every page would hold in full (2 GiB in memory):
// those get it only in the sparse-file test below.
KernelScenario Special(KernelDumpType type) {
  KernelScenario s = TypicalKernelScenario();
  s.dtb_low_bits = 0x002;  // CR3 flag bits the reader must mask
  s.MapTransition(kTransitionPage, std::vector<uint8_t>(kPage, 0x7E));
  s.MapNotPresent(kNotPresentPage);
  s.MapPageTableOutsideDump(kOutsideTable);
  s.MapLarge(kLarge2MiB, std::vector<uint8_t>(0x1800, 0x2B), PageSize::k2MiB);
  if (StoresOnlyUsedPages(type)) {
    s.MapLarge(kLarge1GiB, std::vector<uint8_t>(0x10, 0x1B), PageSize::k1GiB);
  }
  return s;
}

struct TypeCase {
  const char* name;
  KernelDumpType type;
  KernelDumpKind kind;
  uint32_t dump_type;
};
constexpr TypeCase kPhysicalCases[] = {
    {"Full", KernelDumpType::kFull, KernelDumpKind::kFull, 1},
    {"BitmapFull", KernelDumpType::kBitmapFull, KernelDumpKind::kBitmapFull, 5},
    {"BitmapKernel", KernelDumpType::kBitmapKernel, KernelDumpKind::kBitmapKernel, 6},
    {"RdmpKernel", KernelDumpType::kRdmpKernel, KernelDumpKind::kRdmpKernel, 8},
    {"RdmpKernelUser", KernelDumpType::kRdmpKernelUser, KernelDumpKind::kRdmpKernelUser, 9},
    {"RdmpComplete", KernelDumpType::kRdmpComplete, KernelDumpKind::kRdmpComplete, 10},
};

class KernelDumpReadbackTest : public ::testing::TestWithParam<TypeCase> {};

TEST_P(KernelDumpReadbackTest, HeaderFacts) {
  const KernelScenario s = Special(GetParam().type);
  const WrittenKernelDump d = Write(s, GetParam().type);
  absl::StatusOr<KernelDump> dump = Parse(d.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_EQ(dump->kind(), GetParam().kind);
  EXPECT_EQ(dump->dump_type(), GetParam().dump_type);
  EXPECT_EQ(dump->major_version(), 0xFu);
  EXPECT_EQ(dump->build(), 19041u);
  EXPECT_EQ(dump->processors(), 2u);
  EXPECT_EQ(dump->system_time(), s.system_time);
  EXPECT_EQ(dump->bugcheck().code, 0x1000007Eu);
  EXPECT_EQ(dump->bugcheck().parameters, s.bugcheck_parameters);
  ASSERT_TRUE(dump->header_context());
  EXPECT_EQ(dump->header_context()->rip, s.header_context.rip);
  EXPECT_EQ(dump->header_context()->rsp(), s.header_context.gpr[4]);
  EXPECT_EQ(dump->directory_table_base() & ~0xFFFull, d.layout.directory_table_base & ~0xFFFull);
}

TEST_P(KernelDumpReadbackTest, VirtualMemoryThroughThePageTables) {
  const WrittenKernelDump d = Write(Special(GetParam().type), GetParam().type);
  absl::StatusOr<KernelDump> dump = Parse(d.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();

  const Translation code = dump->Translate(kCodePage + 0x10);
  EXPECT_EQ(code.fault, TranslationFault::kNone) << code.detail;
  EXPECT_EQ(code.physical, d.layout.PhysicalAddress(kCodePage + 0x10));
  EXPECT_EQ(code.page_size, kPage);
  std::vector<uint8_t> bytes(4);
  ASSERT_TRUE(dump->ReadVirtual(kCodePage, bytes).ok());
  EXPECT_THAT(bytes, ElementsAre(0xCC, 0xCC, 0xCC, 0xCC));
  absl::StatusOr<uint64_t> slot = dump->ReadU64(kStackSlot);
  ASSERT_TRUE(slot.ok()) << slot.status();
  EXPECT_EQ(*slot, 0xFFFFF8048B581234u);

  // Transition PTE (P = 0, bit 11 = 1, bit 10 = 0): still readable.
  std::vector<uint8_t> transition(2);
  EXPECT_TRUE(dump->ReadVirtual(kTransitionPage + 0x10, transition).ok());
  EXPECT_THAT(transition, ElementsAre(0x7E, 0x7E));

  // Not present, not transition.
  const Translation not_present = dump->Translate(kNotPresentPage);
  EXPECT_EQ(not_present.fault, TranslationFault::kNotMapped) << not_present.detail;
  EXPECT_FALSE(not_present.physical);
  EXPECT_EQ(dump->ReadVirtual(kNotPresentPage, transition).code(), absl::StatusCode::kNotFound);

  // A present PDE whose page table is not in the file.
  const Translation outside = dump->Translate(kOutsideTable + 0x3000);
  EXPECT_EQ(outside.fault, TranslationFault::kNotInDump) << outside.detail;

  // 2 MiB and 1 GiB leaves.
  const Translation large = dump->Translate(kLarge2MiB + 0x1004);
  EXPECT_EQ(large.fault, TranslationFault::kNone) << large.detail;
  EXPECT_EQ(large.page_size, 0x200000u);
  EXPECT_EQ(large.physical, d.layout.PhysicalAddress(kLarge2MiB + 0x1004));
  std::vector<uint8_t> one(1);
  ASSERT_TRUE(dump->ReadVirtual(kLarge2MiB + 0x17FF, one).ok());
  EXPECT_EQ(one[0], 0x2B);
  if (StoresOnlyUsedPages(GetParam().type)) {
    const Translation huge = dump->Translate(kLarge1GiB + 8);
    EXPECT_EQ(huge.page_size, 0x40000000u);
    EXPECT_EQ(huge.physical, d.layout.PhysicalAddress(kLarge1GiB + 8));
    ASSERT_TRUE(dump->ReadVirtual(kLarge1GiB + 8, one).ok());
    EXPECT_EQ(one[0], 0x1B);
    // Frames of the 1 GiB page past its bytes are not stored.
    EXPECT_EQ(dump->ReadVirtual(kLarge1GiB + 0x100000, one).code(), absl::StatusCode::kNotFound);
  }

  // Physical reads: a page in the hole between the default runs is not in the dump.
  std::vector<uint8_t> page(8);
  EXPECT_EQ(dump->ReadPhysical(0xA0 * kPage, page).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(dump->ReadPhysical(*d.layout.PhysicalAddress(kCodePage), page).ok());
  EXPECT_EQ(page[0], 0xCC);
}

TEST_P(KernelDumpReadbackTest, KernelStructures) {
  const KernelScenario s = Special(GetParam().type);
  const WrittenKernelDump d = Write(s, GetParam().type);
  absl::StatusOr<KernelDump> dump = Parse(d.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();

  ASSERT_TRUE(dump->debugger_data()) << AllWarnings(*dump);
  const DebuggerData& kdbg = *dump->debugger_data();
  EXPECT_EQ(kdbg.address, d.layout.kdbg);
  EXPECT_FALSE(kdbg.encoded);
  EXPECT_EQ(kdbg.size, 0x380u);
  EXPECT_EQ(kdbg.kern_base, 0xFFFFF8047BA00000u);
  EXPECT_EQ(kdbg.ps_loaded_module_list, d.layout.ps_loaded_module_list);
  EXPECT_EQ(kdbg.ki_processor_block, d.layout.ki_processor_block);
  EXPECT_EQ(kdbg.mm_unloaded_drivers, d.layout.mm_unloaded_drivers);
  EXPECT_EQ(kdbg.mm_last_unloaded_driver, d.layout.mm_last_unloaded_driver);
  EXPECT_EQ(kdbg.size_prcb, 0xAF00);
  EXPECT_EQ(kdbg.offset_prcb_current_thread, 0x8);
  EXPECT_EQ(kdbg.offset_prcb_proc_state_context, 0x1F0);
  EXPECT_EQ(kdbg.offset_prcb_context, 0x85C0);

  ASSERT_EQ(dump->modules().size(), 3u) << AllWarnings(*dump);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const KernelModule& m = dump->modules()[i];
    EXPECT_EQ(m.name, s.modules[i].name);
    EXPECT_EQ(m.full_name, s.modules[i].full_name);
    EXPECT_EQ(m.base, s.modules[i].base);
    EXPECT_EQ(m.size, s.modules[i].size);
    EXPECT_EQ(m.timestamp, s.modules[i].timestamp);
    EXPECT_EQ(m.checksum, s.modules[i].checksum);
  }
  const KernelModule* amdppm = dump->ModuleForAddress(s.header_context.rip);
  ASSERT_NE(amdppm, nullptr);
  EXPECT_EQ(amdppm->name, "amdppm.sys");

  // Most recent first, as WinDbg lists them: the slot before MmLastUnloadedDriver.
  ASSERT_EQ(dump->unloaded_drivers().size(), 2u) << AllWarnings(*dump);
  EXPECT_EQ(dump->unloaded_drivers()[0].name, "WdBoot.sys");
  EXPECT_EQ(dump->unloaded_drivers()[0].start, 0xFFFFF80479D30000u);
  EXPECT_EQ(dump->unloaded_drivers()[0].end, 0xFFFFF80479D42000u);
  EXPECT_EQ(dump->unloaded_drivers()[0].unload_time, s.unloaded[1].unload_time);
  EXPECT_EQ(dump->unloaded_drivers()[1].name, s.unloaded[0].name);

  // Both processors: processor 1's context (its own RIP) can only come from its KPRCB.
  bool found_cpu1 = false;
  for (const ProcessorContext& c : dump->processor_contexts()) {
    if (c.processor == 1 && c.source != "header") {
      found_cpu1 = true;
      EXPECT_EQ(c.prcb, d.layout.prcbs[1]);
      EXPECT_EQ(c.current_thread, s.processor_blocks[1].current_thread);
      EXPECT_EQ(c.context.rip, s.processor_blocks[1].context->rip);
    }
  }
  EXPECT_TRUE(found_cpu1) << AllWarnings(*dump);
  EXPECT_TRUE(dump->warnings().empty()) << AllWarnings(*dump);
}

TEST_P(KernelDumpReadbackTest, SecondaryDataPastRequiredDumpSpace) {
  WriteOptions o;
  o.secondary_data = DumpBlob({0x10, 0, 0, 0, 1, 2, 3, 4});
  const WrittenKernelDump d = Write(TypicalKernelScenario(), GetParam().type, o);
  absl::StatusOr<KernelDump> dump = Parse(d.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->secondary_data().size(), 1u) << AllWarnings(*dump);
  EXPECT_EQ(dump->secondary_data()[0].offset, d.layout.dump_size);
  EXPECT_EQ(dump->secondary_data()[0].size, 16u);
  EXPECT_THAT(dump->secondary_data()[0].magic, HasSubstr("DumpBlob"));
}

TEST_P(KernelDumpReadbackTest, HeaderWithoutPageFill) {
  WriteOptions o;
  o.page_fill = false;
  const WrittenKernelDump d = Write(TypicalKernelScenario(), GetParam().type, o);
  absl::StatusOr<KernelDump> dump = Parse(d.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_EQ(dump->kind(), GetParam().kind);
  EXPECT_EQ(dump->modules().size(), 3u) << AllWarnings(*dump);
}

INSTANTIATE_TEST_SUITE_P(AllPhysicalKinds, KernelDumpReadbackTest,
                         ::testing::ValuesIn(kPhysicalCases),
                         [](const ::testing::TestParamInfo<TypeCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(KernelDumpReadbackKindTest, KindComesFromTheContentNotTheDumpType) {
  WriteOptions o;
  o.dump_type = 5;  // 'SDMP' labelled 5
  absl::StatusOr<KernelDump> sdmp =
      Parse(Write(TypicalKernelScenario(), KernelDumpType::kBitmapKernel, o).bytes);
  ASSERT_TRUE(sdmp.ok()) << sdmp.status();
  EXPECT_EQ(sdmp->kind(), KernelDumpKind::kBitmapKernel);
  EXPECT_EQ(sdmp->dump_type(), 5u);

  o.dump_type = 6;  // 'FDMP' labelled 6
  absl::StatusOr<KernelDump> fdmp =
      Parse(Write(TypicalKernelScenario(), KernelDumpType::kBitmapFull, o).bytes);
  ASSERT_TRUE(fdmp.ok()) << fdmp.status();
  EXPECT_EQ(fdmp->kind(), KernelDumpKind::kBitmapFull);
  EXPECT_EQ(fdmp->dump_type(), 6u);
}

TEST(KernelDumpReadbackKindTest, UnalignedBitmapFirstPage) {
  WriteOptions o;
  o.first_page_offset = 0x3003;
  const WrittenKernelDump d = Write(TypicalKernelScenario(), KernelDumpType::kBitmapKernel, o);
  absl::StatusOr<KernelDump> dump = Parse(d.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  absl::StatusOr<uint64_t> slot = dump->ReadU64(kStackSlot);
  ASSERT_TRUE(slot.ok()) << slot.status();
  EXPECT_EQ(*slot, 0xFFFFF8048B581234u);
  EXPECT_EQ(dump->modules().size(), 3u) << AllWarnings(*dump);
}

TEST(KernelDumpReadbackKindTest, BitmapWithPartialLastByte) {
  // 0x100 + 0x103 = 0x203 pages: the bitmap's last byte holds 3 bits, all set.
  WriteOptions o;
  o.runs = {{0x1, 0x9E}, {0x100, 0x103}};
  o.first_allocated_pfn = 0x1C0;  // the scenario's frames end at PFN 0x202
  const WrittenKernelDump d = Write(TypicalKernelScenario(), KernelDumpType::kBitmapFull, o);
  absl::StatusOr<KernelDump> dump = Parse(d.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  std::vector<uint8_t> page(8);
  EXPECT_TRUE(dump->ReadPhysical(0x202 * kPage, page).ok());
  EXPECT_EQ(dump->ReadPhysical(0x203 * kPage, page).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(dump->modules().size(), 3u) << AllWarnings(*dump);
}

TEST(KernelDumpReadbackKindTest, RdmpCompleteWithRunsFromPfnZero) {
  WriteOptions o;
  o.runs = {{0x0, 0x9F}, {0x100, 0x100}};
  const WrittenKernelDump d = Write(TypicalKernelScenario(), KernelDumpType::kRdmpComplete, o);
  absl::StatusOr<KernelDump> dump = Parse(d.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  std::vector<uint8_t> page(8);
  EXPECT_TRUE(dump->ReadPhysical(0x1 * kPage, page).ok());
  EXPECT_EQ(dump->modules().size(), 3u) << AllWarnings(*dump);
}

TEST(KernelDumpReadbackKindTest, TriageDump) {
  const KernelScenario s = TypicalKernelScenario();
  WriteOptions o;
  o.secondary_data = DumpBlob({0x10, 0, 0, 0});
  const WrittenKernelDump d = Write(s, KernelDumpType::kTriage, o);
  absl::StatusOr<KernelDump> dump = Parse(d.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_EQ(dump->kind(), KernelDumpKind::kTriage);
  EXPECT_EQ(dump->dump_type(), 4u);
  EXPECT_EQ(dump->bugcheck().code, 0x1000007Eu);
  ASSERT_TRUE(dump->header_context());
  EXPECT_EQ(dump->header_context()->rip, s.header_context.rip);

  // Stack window, cut where the stack mapping ends.
  ASSERT_TRUE(dump->stack_window());
  EXPECT_EQ(dump->stack_window()->first, s.header_context.gpr[4]);
  EXPECT_EQ(dump->stack_window()->second, 0x1EE0u);
  absl::StatusOr<uint64_t> slot = dump->ReadU64(kStackSlot);
  ASSERT_TRUE(slot.ok()) << slot.status();
  EXPECT_EQ(*slot, 0xFFFFF8048B581234u);
  // Data blocks: the code page and the KPRCBs.
  std::vector<uint8_t> code(2);
  ASSERT_TRUE(dump->ReadVirtual(kCodePage + 0xFFE, code).ok());
  EXPECT_THAT(code, ElementsAre(0xCC, 0xCC));
  EXPECT_TRUE(dump->ReadU64(d.layout.prcbs[1] + 0x8).ok());
  // Nothing else: no page tables.
  EXPECT_EQ(dump->Translate(kCodePage).fault, TranslationFault::kNoPageTables);
  EXPECT_EQ(dump->ReadU64(0xFFFFF8047BA00000).status().code(), absl::StatusCode::kNotFound);

  // KDBG copy.
  ASSERT_TRUE(dump->debugger_data()) << AllWarnings(*dump);
  EXPECT_EQ(dump->debugger_data()->address, d.layout.kdbg);
  EXPECT_EQ(dump->debugger_data()->ki_processor_block, d.layout.ki_processor_block);

  // Driver list: DUMP_STRING full paths; base names derived from them.
  ASSERT_EQ(dump->modules().size(), 3u) << AllWarnings(*dump);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const KernelModule& m = dump->modules()[i];
    EXPECT_EQ(m.name, s.modules[i].name);
    EXPECT_EQ(m.full_name, s.modules[i].full_name);
    EXPECT_EQ(m.base, s.modules[i].base);
    EXPECT_EQ(m.size, s.modules[i].size);
    EXPECT_EQ(m.timestamp, s.modules[i].timestamp);
    EXPECT_EQ(m.checksum, s.modules[i].checksum);
  }
  // Unloaded drivers: inline names, no unload time.
  ASSERT_EQ(dump->unloaded_drivers().size(), 2u) << AllWarnings(*dump);
  EXPECT_EQ(dump->unloaded_drivers()[0].name, "dam.sys");
  EXPECT_EQ(dump->unloaded_drivers()[0].start, 0xFFFFF80487DE0000u);
  EXPECT_EQ(dump->unloaded_drivers()[0].unload_time, 0u);

  // Processor 1's context from KiProcessorBlock/KPRCB data blocks.
  bool found_cpu1 = false;
  for (const ProcessorContext& c : dump->processor_contexts()) {
    if (c.processor == 1 && c.source != "header") {
      found_cpu1 = true;
      EXPECT_EQ(c.context.rip, s.processor_blocks[1].context->rip);
    }
  }
  EXPECT_TRUE(found_cpu1) << AllWarnings(*dump);

  ASSERT_EQ(dump->secondary_data().size(), 1u);
  EXPECT_EQ(dump->secondary_data()[0].offset, d.layout.triage.size_of_dump);
  EXPECT_TRUE(dump->warnings().empty()) << AllWarnings(*dump);
}

TEST(KernelDumpReadbackKindTest, TriageUnloadedNameLongerThanTheInlineBuffer) {
  KernelScenario s = TypicalKernelScenario();
  s.unloaded = {{"averyverylongdriver.sys", 0xFFFFF80400000000, 0xFFFFF80400010000, 0}};
  absl::StatusOr<KernelDump> dump = Parse(Write(s, KernelDumpType::kTriage).bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->unloaded_drivers().size(), 1u) << AllWarnings(*dump);
  EXPECT_EQ(dump->unloaded_drivers()[0].name, "averyverylon");  // 12 WCHARs
}

TEST(KernelDumpReadbackKindTest, DumpDescribingMoreThan4GiBIsSparseAndReadable) {
  WriteOptions o;
  o.runs = {{0x1, 0x9E}, {0x100, 0x100000}};
  o.first_allocated_pfn = 0x100100 - 0x40;  // file offsets past 4 GiB
  const std::string path = ::testing::TempDir() + "kernel_dump_readback_4g.dmp";
  absl::StatusOr<test::KernelDumpLayout> layout =
      test::WriteKernelDumpFile(TypicalKernelScenario(), KernelDumpType::kBitmapFull, path, o);
  ASSERT_TRUE(layout.ok()) << layout.status();
  ASSERT_GT(*layout->FileOffsetOfVirtual(kCodePage), 0x100000000u);
  {
    absl::StatusOr<KernelDump> dump = KernelDump::Open(path);
    ASSERT_TRUE(dump.ok()) << dump.status();
    std::vector<uint8_t> code(1);
    ASSERT_TRUE(dump->ReadVirtual(kCodePage, code).ok());
    EXPECT_EQ(code[0], 0xCC);
    EXPECT_EQ(dump->modules().size(), 3u) << AllWarnings(*dump);
  }
  std::remove(path.c_str());
}

TEST(KernelDumpReadbackKindTest, OneGiBPageInAFullDumpFile) {
  KernelScenario s = TypicalKernelScenario();
  s.MapLarge(kLarge1GiB, std::vector<uint8_t>(0x10, 0x1B), PageSize::k1GiB);
  const std::string path = ::testing::TempDir() + "kernel_dump_readback_1g.dmp";
  absl::StatusOr<test::KernelDumpLayout> layout =
      test::WriteKernelDumpFile(s, KernelDumpType::kFull, path);
  ASSERT_TRUE(layout.ok()) << layout.status();
  {
    absl::StatusOr<KernelDump> dump = KernelDump::Open(path);
    ASSERT_TRUE(dump.ok()) << dump.status();
    const Translation huge = dump->Translate(kLarge1GiB + 0x12345);
    EXPECT_EQ(huge.page_size, 0x40000000u);
    EXPECT_EQ(huge.physical, 0x40000000u + 0x12345);  // the first 1 GiB-aligned frame
    std::vector<uint8_t> bytes(2);
    ASSERT_TRUE(dump->ReadVirtual(kLarge1GiB + 0xF, bytes).ok());
    EXPECT_THAT(bytes, ElementsAre(0x1B, 0x00));
  }
  std::remove(path.c_str());
}

// --- Malformed input: broken optional parts are warnings, never failures ---

TEST(KernelDumpReadbackMalformedTest, CyclicModuleListEndsWithAWarning) {
  KernelScenario s = TypicalKernelScenario();
  s.corruption.module_list_cycle = true;
  absl::StatusOr<KernelDump> dump = Parse(Write(s, KernelDumpType::kBitmapKernel).bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_LE(dump->modules().size(), 3u);
  EXPECT_FALSE(dump->warnings().empty());
}

TEST(KernelDumpReadbackMalformedTest, ModuleListHeadPointingNowhere) {
  KernelScenario s = TypicalKernelScenario();
  s.corruption.module_list_head_flink = 0xFFFFF80411110000;
  absl::StatusOr<KernelDump> dump = Parse(Write(s, KernelDumpType::kFull).bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->modules().empty());
  EXPECT_FALSE(dump->warnings().empty());
}

TEST(KernelDumpReadbackMalformedTest, LyingUnloadedDriverCountIsBounded) {
  KernelScenario s = TypicalKernelScenario();
  s.corruption.last_unloaded_driver = 0x7FFFFFFF;
  absl::StatusOr<KernelDump> dump = Parse(Write(s, KernelDumpType::kFull).bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  // MmUnloadedDrivers has MI_UNLOADED_DRIVERS (50) entries; no more are read.
  EXPECT_LE(dump->unloaded_drivers().size(), 50u);
  EXPECT_FALSE(dump->warnings().empty());
}

// MmLastUnloadedDriver is the next slot of a 50-entry ring: after it wraps,
// slots past it still hold older drivers.
TEST(KernelDumpReadbackTest2, UnloadedDriversAfterTheRingWrapped) {
  KernelScenario s = TypicalKernelScenario();
  s.corruption.last_unloaded_driver = 1;  // slot 1 is next: slot 0 newest, slot 1 oldest
  absl::StatusOr<KernelDump> dump = Parse(Write(s, KernelDumpType::kFull).bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->unloaded_drivers().size(), 2u) << AllWarnings(*dump);
  EXPECT_EQ(dump->unloaded_drivers()[0].name, s.unloaded[0].name);
  EXPECT_EQ(dump->unloaded_drivers()[1].name, s.unloaded[1].name);
}

TEST(KernelDumpReadbackMalformedTest, EncodedKdbgIsFlagged) {
  KernelScenario s = TypicalKernelScenario();
  s.encode_kdbg = true;
  absl::StatusOr<KernelDump> dump = Parse(Write(s, KernelDumpType::kBitmapKernel).bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_TRUE(dump->debugger_data());
  EXPECT_TRUE(dump->debugger_data()->encoded);
  EXPECT_FALSE(dump->warnings().empty());
  // The header still names the module list.
  EXPECT_EQ(dump->bugcheck().code, 0x1000007Eu);
}

TEST(KernelDumpReadbackMalformedTest, UnmappedKdbg) {
  KernelScenario s = TypicalKernelScenario();
  s.corruption.kdbg_unmapped = true;
  absl::StatusOr<KernelDump> dump = Parse(Write(s, KernelDumpType::kFull).bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_FALSE(dump->debugger_data());
  EXPECT_FALSE(dump->warnings().empty());
  ASSERT_TRUE(dump->header_context());
}

TEST(KernelDumpReadbackMalformedTest, TriageCountsPastTheEnd) {
  KernelScenario s = TypicalKernelScenario();
  s.corruption.triage_driver_count = 5000;
  s.corruption.triage_unloaded_count = 5000;
  s.corruption.triage_data_blocks_count = 500000;
  absl::StatusOr<KernelDump> dump = Parse(Write(s, KernelDumpType::kTriage).bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_FALSE(dump->warnings().empty());
  // Lying counts read no garbage: the real entries, and nothing after them.
  ASSERT_EQ(dump->modules().size(), s.modules.size()) << AllWarnings(*dump);
  for (size_t i = 0; i < s.modules.size(); ++i) EXPECT_EQ(dump->modules()[i].name, s.modules[i].name);
  ASSERT_EQ(dump->unloaded_drivers().size(), s.unloaded.size()) << AllWarnings(*dump);
  EXPECT_EQ(dump->unloaded_drivers()[0].name, s.unloaded[0].name);
}

// KLDR_DATA_TABLE_ENTRY keeps TimeDateStamp at 0x80 before Windows 7 (the
// wdbgexts layout), nowhere in Windows 7/8, at 0x9C from Windows 10 on; an
// image header in the dump is preferred to either.
TEST(KernelDumpReadbackTimestampTest, OldLayoutBeforeWindows7) {
  KernelScenario s = TypicalKernelScenario();
  s.build = 3790;
  s.ldr_entry_layout = test::LdrEntryLayout::kWdbgexts;
  absl::StatusOr<KernelDump> dump = Parse(Write(s, KernelDumpType::kFull).bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->modules().size(), s.modules.size());
  for (size_t i = 0; i < s.modules.size(); ++i) {
    EXPECT_EQ(dump->modules()[i].timestamp, s.modules[i].timestamp);
  }
}

TEST(KernelDumpReadbackTimestampTest, Windows7HasNoLoaderTimestamp) {
  KernelScenario s = TypicalKernelScenario();
  s.build = 7601;
  s.ldr_entry_layout = test::LdrEntryLayout::kWdbgexts;  // whatever lies at 0x80 is not a timestamp
  absl::StatusOr<KernelDump> dump = Parse(Write(s, KernelDumpType::kFull).bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  for (const KernelModule& m : dump->modules()) EXPECT_EQ(m.timestamp, 0u) << m.name;
  bool warned = false;
  for (const Warning& w : dump->warnings()) {
    warned |= absl::StrContains(w.what, "no known TimeDateStamp");
  }
  EXPECT_TRUE(warned) << AllWarnings(*dump);
}

TEST(KernelDumpReadbackTimestampTest, ImageHeaderInTheDumpWins) {
  KernelScenario s = TypicalKernelScenario();
  s.build = 7601;
  // A PE header at the first module's base whose TimeDateStamp is 0x5EED5EED.
  std::vector<uint8_t> header(0x1000, 0);
  header[0] = 'M';
  header[1] = 'Z';
  header[0x3C] = 0x80;
  header[0x80] = 'P';
  header[0x81] = 'E';
  const uint32_t stamp = 0x5EED5EED;
  std::memcpy(&header[0x88], &stamp, 4);
  s.Map(s.modules[0].base, header);
  absl::StatusOr<KernelDump> dump = Parse(Write(s, KernelDumpType::kFull).bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_EQ(dump->modules()[0].timestamp, stamp);
  EXPECT_EQ(dump->modules()[1].timestamp, 0u);
}

TEST(KernelDumpReadbackMalformedTest, RejectsBadSignatureAndShortHeader) {
  std::vector<uint8_t> bytes = Write(TypicalKernelScenario(), KernelDumpType::kFull).bytes;
  std::vector<uint8_t> bad = bytes;
  bad[0] = 'X';
  EXPECT_EQ(Parse(bad).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<uint8_t> short_header(bytes.begin(), bytes.begin() + 0x1000);
  EXPECT_EQ(Parse(short_header).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(KernelDumpReadbackMalformedTest, TruncatedPagesAreMissingNotZero) {
  const WrittenKernelDump d = Write(TypicalKernelScenario(), KernelDumpType::kBitmapKernel);
  const uint64_t code = *d.layout.FileOffsetOfVirtual(kCodePage);
  std::vector<uint8_t> cut(d.bytes.begin(), d.bytes.begin() + code);
  absl::StatusOr<KernelDump> dump = Parse(cut);
  if (!dump.ok()) {
    // Acceptable: a recognised but inconsistent file.
    EXPECT_EQ(dump.status().code(), absl::StatusCode::kDataLoss) << dump.status();
    return;
  }
  std::vector<uint8_t> one(1);
  EXPECT_EQ(dump->ReadVirtual(kCodePage, one).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(dump->warnings().empty());
}

}  // namespace
}  // namespace restack::dump
