// kernel_dump_malformed_test.cc - kernel dumps built to break the reader
//
// Each case comes from a review finding: wrapping file offsets, quadratic
// range lists, lying counts, ambiguous processors, overlapping triage ranges,
// truncation, short KDBG blocks, reads past the top of the address space.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "restack/dump/kernel_dump.h"
#include "tests/support/file_read.h"
#include "tests/support/kernel_dump_writer.h"

namespace restack::dump {
namespace {

using test::KernelDumpType;
using test::KernelScenario;
using test::PutU32;
using test::PutU64;

constexpr char kTriage[] = "../shared/real/dumps/triage_x64.dmp";

// The file's bytes (empty when missing).
std::vector<uint8_t> ReadFile(const char* path) {
  return test::ReadFileBytes(path).value_or(std::vector<uint8_t>{});
}
uint32_t Get32(const std::vector<uint8_t>& b, uint64_t at) {
  uint32_t v;
  std::memcpy(&v, &b[at], 4);
  return v;
}
// Parses a copy that the dump keeps alive.
absl::StatusOr<KernelDump> Parse(const std::vector<uint8_t>& bytes) {
  auto copy = std::make_shared<const std::vector<uint8_t>>(bytes);
  return KernelDump::FromBytes(*copy, copy, "malformed.dmp");
}
bool HasWarning(const KernelDump& d, const std::string& needle) {
  for (const Warning& w : d.warnings()) {
    if (absl::StrContains(w.what, needle)) return true;
  }
  return false;
}
std::vector<uint8_t> Written(const KernelScenario& s, KernelDumpType type) {
  absl::StatusOr<test::WrittenKernelDump> d = test::WriteKernelDump(s, type);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? d->bytes : std::vector<uint8_t>();
}

// An RDMP (DumpType 8) dump whose ranges are `ranges`, followed by `pages`
// zero pages.
std::vector<uint8_t> RdmpWithRanges(const std::vector<std::pair<uint64_t, uint64_t>>& ranges,
                                    uint64_t pages = 0) {
  std::vector<uint8_t> b = Written(test::TypicalKernelScenario(), KernelDumpType::kRdmpKernel);
  b.resize(0x2000);
  const uint64_t first_page = 0x2030 + 16 * (ranges.size() + 1);
  b.resize(first_page, 0);
  PutU32(b, 0x2000, 0x40);
  std::memcpy(&b[0x2004], "RDMPDUMP", 8);
  PutU64(b, 0x2010, first_page - 0x2020);
  PutU64(b, 0x2018, first_page);
  for (size_t i = 0; i < ranges.size(); ++i) {
    PutU64(b, 0x2030 + 16 * i, ranges[i].first);
    PutU64(b, 0x2038 + 16 * i, ranges[i].second);
  }
  b.resize(first_page + pages * 0x1000, 0);
  return b;
}

TEST(KernelDumpMalformedTest, RdmpPageOffsetsThatWouldWrapAreNeverRead) {
  // 4095 ranges of 2^40 pages each: their file offsets would pass 2^64.
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (int i = 0; i < 4095; ++i) ranges.push_back({(uint64_t{1} << 41) * (i + 1), uint64_t{1} << 40});
  ranges.push_back({0x10, 1});
  absl::StatusOr<KernelDump> d = Parse(RdmpWithRanges(ranges));
  ASSERT_TRUE(d.ok()) << d.status();
  uint8_t byte;
  EXPECT_EQ(d->ReadPhysical(0x10000, {&byte, 1}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(d->ReadPhysical(uint64_t{1} << 53, {&byte, 1}).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(HasWarning(*d, "truncated")) << d->warnings().size();
}

TEST(KernelDumpMalformedTest, ManyOverlappingRdmpRangesGiveOneWarning) {
  // 1,000 copies of one range, their pages present: each after the first
  // overlaps. (Ranges whose pages lie past the end of the file are not read.)
  std::vector<std::pair<uint64_t, uint64_t>> ranges(1000, {0x100, 1});
  absl::StatusOr<KernelDump> d = Parse(RdmpWithRanges(ranges, 1000));
  ASSERT_TRUE(d.ok()) << d.status();
  int overlap_warnings = 0;
  for (const Warning& w : d->warnings()) overlap_warnings += absl::StrContains(w.what, "overlap");
  EXPECT_EQ(overlap_warnings, 1);
  EXPECT_TRUE(HasWarning(*d, "999 physical page runs overlap"));
}

TEST(KernelDumpMalformedTest, BitmapPagesNearTwoToTheSixtyFourIsReportedNotEmptied) {
  std::vector<uint8_t> b = Written(test::TypicalKernelScenario(), KernelDumpType::kBitmapKernel);
  PutU64(b, 0x2030, ~uint64_t{0});  // BMP_HEADER64.Pages
  absl::StatusOr<KernelDump> d = Parse(b);
  if (d.ok()) {
    EXPECT_TRUE(HasWarning(*d, "BMP_HEADER64.Pages")) << d->warnings().size();
  } else {
    EXPECT_TRUE(absl::StrContains(d.status().message(), "offset 0x20")) << d.status();
  }
}

TEST(KernelDumpMalformedTest, ReadsPastTheTopOfTheAddressSpaceAreRefused) {
  absl::StatusOr<KernelDump> d = Parse(Written(test::TypicalKernelScenario(), KernelDumpType::kFull));
  ASSERT_TRUE(d.ok());
  uint8_t out[16];
  EXPECT_EQ(d->ReadVirtual(0xFFFFFFFFFFFFFFF8, out).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(d->ReadPhysical(0xFFFFFFFFFFFFFFF8, out).code(), absl::StatusCode::kOutOfRange);
}

TEST(KernelDumpMalformedTest, TheNearestProcessorBelowTheFaultIsTheBugcheckProcessor) {
  // Processor 0 idles 64 KiB below the fault's RSP; processor 1 (KeBugCheckEx)
  // is 2 KiB below it. Both qualify; the nearest wins, with a warning.
  KernelScenario s = test::TypicalKernelScenario();
  const uint64_t fault_rsp = s.header_context.gpr[4];
  ASSERT_EQ(s.processor_blocks.size(), 2u);
  s.processor_blocks[0].context->gpr[4] = fault_rsp - 0x10000;
  s.processor_blocks[0].context->rip = 0xFFFFF8047BD8D14D;
  s.processor_blocks[1].context->gpr[4] = fault_rsp - 0x800;
  s.processor_blocks[1].context->rip = 0xFFFFF8047BDF5A80;
  absl::StatusOr<KernelDump> d = Parse(Written(s, KernelDumpType::kFull));
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->bugcheck_processor().has_value());
  EXPECT_EQ(*d->bugcheck_processor(), 1u);
  EXPECT_TRUE(HasWarning(*d, "nearest"));
}

TEST(KernelDumpMalformedTest, TriageDriverCountIsCappedAndNamesStayInThePool) {
  std::vector<uint8_t> b = ReadFile(kTriage);
  ASSERT_FALSE(b.empty());
  // DriverCount (TRIAGE_DUMP64 + 0x34) claims a million entries.
  PutU32(b, 0x2034, 1000000);
  absl::StatusOr<KernelDump> d = Parse(b);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_LE(d->modules().size(), 16384u);
  EXPECT_GE(d->modules().size(), 151u);  // the real entries are all read
  EXPECT_TRUE(HasWarning(*d, "DriverCount"));
}

TEST(KernelDumpMalformedTest, EarlierTriageRangesWinOverlapsWithAWarning) {
  std::vector<uint8_t> b = ReadFile(kTriage);
  // Data block 0 (at DataBlocksOffset) moved onto the stack window's start.
  const uint32_t blocks = Get32(b, 0x2078);
  uint64_t top;
  std::memcpy(&top, &b[0x2048], 8);
  PutU64(b, blocks, top - 0x10);
  absl::StatusOr<KernelDump> original = Parse(ReadFile(kTriage));
  absl::StatusOr<KernelDump> d = Parse(b);
  ASSERT_TRUE(d.ok() && original.ok());
  uint8_t want[16], got[16];
  ASSERT_TRUE(original->ReadVirtual(top, want).ok());
  ASSERT_TRUE(d->ReadVirtual(top, got).ok());
  EXPECT_EQ(std::memcmp(want, got, 16), 0) << "the stack window must win";
  EXPECT_TRUE(HasWarning(*d, "overlaps an earlier one with different bytes"));
}

TEST(KernelDumpMalformedTest, TruncatedTriageDumpStillOpensWithAWarning) {
  std::vector<uint8_t> b = ReadFile(kTriage);
  b.resize(1 << 20);  // 'TRGD' (in the last 4 bytes of SizeOfDump) is gone
  absl::StatusOr<KernelDump> d = Parse(b);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->kind(), KernelDumpKind::kTriage);
  EXPECT_TRUE(HasWarning(*d, "truncated"));
  EXPECT_EQ(d->bugcheck().code, 0x1000007Eu);
}

TEST(KernelDumpMalformedTest, AShortKdbgStillGivesTheFieldsItHolds) {
  std::vector<uint8_t> b = ReadFile(kTriage);
  // DebuggerDataSize (TRIAGE_DUMP64 + 0x74) and KDDEBUGGER_DATA64.Size: 0x330,
  // which ends before OffsetPrcbContext (0x338).
  PutU32(b, 0x2074, 0x330);
  const uint32_t kdbg = Get32(b, 0x2070);
  PutU32(b, kdbg + 0x14, 0x330);
  absl::StatusOr<KernelDump> d = Parse(b);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->debugger_data().has_value());
  EXPECT_EQ(d->debugger_data()->offset_prcb_context, 0);
  EXPECT_NE(d->debugger_data()->ki_processor_block, 0u);
  EXPECT_TRUE(HasWarning(*d, "older than restack reads"));
  EXPECT_EQ(d->modules().size(), 151u);
}

}  // namespace
}  // namespace restack::dump
