// runtime_function_table_test.cc - .pdata lookup, indirection and chains on synthetic images
//
// Expected values follow Windows' semantics: RtlLookupFunctionEntry's binary
// search over [BeginAddress, EndAddress), its one-level resolution of
// RUNTIME_FUNCTION_INDIRECT (UnwindData bit 0: UnwindData - 1 is the RVA of
// the entry to use), and the UNW_FLAG_CHAININFO walk of the system unwinder
// (dotnet/runtime src/coreclr/unwinder/amd64/unwinder.cpp,
// LookupPrimaryFunctionEntry and UNWIND_CHAIN_LIMIT = 32).
#include "restack/unwind/runtime_function_table.h"

#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "synthetic_image.h"

namespace restack::unwind {
namespace {

using testing::kFlagChainInfo;
using testing::RuntimeFunctionRow;
using testing::SyntheticImage;
using testing::UnwindInfoSpec;

// A primary UNWIND_INFO: version 1, no codes.
UnwindInfoSpec Primary() { return UnwindInfoSpec{}; }
// A chained UNWIND_INFO naming `parent`.
UnwindInfoSpec ChainedTo(RuntimeFunctionRow parent) {
  UnwindInfoSpec spec;
  spec.flags = kFlagChainInfo;
  spec.chained_parent = parent;
  return spec;
}

RuntimeFunctionTable MakeTable(const SyntheticImage& builder) {
  std::shared_ptr<const PeImage> image = builder.Build();
  EXPECT_NE(image, nullptr);
  absl::StatusOr<RuntimeFunctionTable> table =
      image ? RuntimeFunctionTable::Create(image) : absl::InternalError("no image");
  EXPECT_TRUE(table.ok()) << table.status();
  if (image == nullptr || !table.ok()) {
    // Keep the test running on an empty table; the failure is recorded.
    return *RuntimeFunctionTable::Create(SyntheticImage().WithoutExceptionDirectory().Build());
  }
  return *std::move(table);
}

void ExpectEntry(const std::optional<RuntimeFunction>& got, uint32_t begin, uint32_t end) {
  ASSERT_TRUE(got.has_value()) << "expected [0x" << std::hex << begin << ", 0x" << end << ")";
  EXPECT_EQ(got->begin, begin);
  EXPECT_EQ(got->end, end);
}

TEST(RuntimeFunctionTableTest, FindEntryBeginIsInclusiveEndIsExclusive) {
  SyntheticImage b;
  b.UnwindInfo(0x4000, Primary())
      .Function(0x1000, 0x1010, 0x4000)
      .Function(0x1020, 0x1030, 0x4000)
      .Function(0x1030, 0x1040, 0x4000);  // adjacent to the previous one
  RuntimeFunctionTable table = MakeTable(b);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_TRUE(table.warnings().empty());
  // BeginAddress is the first byte of the function.
  ExpectEntry(table.FindEntry(0x1000), 0x1000, 0x1010);
  ExpectEntry(table.FindEntry(0x100f), 0x1000, 0x1010);
  // EndAddress is one past the last byte: 0x1010 is in the gap.
  EXPECT_FALSE(table.FindEntry(0x1010).has_value());
  EXPECT_FALSE(table.FindEntry(0x101f).has_value());
  ExpectEntry(table.FindEntry(0x1020), 0x1020, 0x1030);
  ExpectEntry(table.FindEntry(0x102f), 0x1020, 0x1030);
  // Adjacent functions: the end of one is the begin of the next.
  ExpectEntry(table.FindEntry(0x1030), 0x1030, 0x1040);
  // Before the first and after the last entry.
  EXPECT_FALSE(table.FindEntry(0x0fff).has_value());
  EXPECT_FALSE(table.FindEntry(0x1040).has_value());
  EXPECT_FALSE(table.FindEntry(0).has_value());
  EXPECT_FALSE(table.FindEntry(0xffffffff).has_value());
}

TEST(RuntimeFunctionTableTest, ImageWithoutExceptionDirectoryHasAnEmptyTable) {
  SyntheticImage b;
  b.UnwindInfo(0x4000, Primary()).Function(0x1000, 0x1010, 0x4000).WithoutExceptionDirectory();
  RuntimeFunctionTable table = MakeTable(b);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.FindEntry(0x1000).has_value());
  absl::StatusOr<std::optional<FunctionResolution>> r = table.Resolve(0x1000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->has_value());
}

TEST(RuntimeFunctionTableTest, UnsortedInputIsSortedWithAWarning) {
  SyntheticImage b;
  b.UnwindInfo(0x4000, Primary())
      .Function(0x1200, 0x1210, 0x4000)
      .Function(0x1000, 0x1010, 0x4000)
      .Function(0x1100, 0x1110, 0x4000);
  RuntimeFunctionTable table = MakeTable(b);
  ASSERT_EQ(table.size(), 3u);
  // RtlLookupFunctionEntry binary-searches, which needs ascending BeginAddress.
  EXPECT_EQ(table.entries()[0].begin, 0x1000u);
  EXPECT_EQ(table.entries()[1].begin, 0x1100u);
  EXPECT_EQ(table.entries()[2].begin, 0x1200u);
  EXPECT_FALSE(table.warnings().empty());
  ExpectEntry(table.FindEntry(0x1005), 0x1000, 0x1010);
  ExpectEntry(table.FindEntry(0x1105), 0x1100, 0x1110);
  ExpectEntry(table.FindEntry(0x1205), 0x1200, 0x1210);
}

TEST(RuntimeFunctionTableTest, EmptyAndInvertedRangesAreDroppedWithWarnings) {
  SyntheticImage b;
  b.UnwindInfo(0x4000, Primary())
      .Function(0x1000, 0x1000, 0x4000)   // empty: contains no address
      .Function(0x1030, 0x1020, 0x4000)   // inverted
      .Function(0x1040, 0x1050, 0x4000);  // the only real function
  RuntimeFunctionTable table = MakeTable(b);
  ASSERT_EQ(table.size(), 1u);
  EXPECT_EQ(table.entries()[0].begin, 0x1040u);
  // One warning per dropped row.
  EXPECT_GE(table.warnings().size(), 2u);
  EXPECT_FALSE(table.FindEntry(0x1000).has_value());
  EXPECT_FALSE(table.FindEntry(0x1025).has_value());
  ExpectEntry(table.FindEntry(0x1040), 0x1040, 0x1050);
}

// Rows: [0] primary P, [1] indirect I -> row 0.
TEST(RuntimeFunctionTableTest, IndirectEntryResolvesToTheEntryItNames) {
  SyntheticImage b;
  b.UnwindInfo(0x4000, Primary())
      .Function(0x1000, 0x1040, 0x4000)
      .Function(0x1100, 0x1120, SyntheticImage::IndirectTo(SyntheticImage::PdataRowRva(0)));
  RuntimeFunctionTable table = MakeTable(b);
  // FindEntry is the raw .pdata row.
  std::optional<RuntimeFunction> raw = table.FindEntry(0x1110);
  ExpectEntry(raw, 0x1100, 0x1120);
  EXPECT_TRUE(raw->IsIndirect());
  EXPECT_EQ(raw->IndirectEntryRva(), SyntheticImage::PdataRowRva(0));
  // RtlLookupFunctionEntry: UnwindData - 1 is the RVA of the entry to use, so
  // the result is row 0 itself, even though its range does not hold 0x1110.
  absl::StatusOr<std::optional<RuntimeFunction>> entry = table.LookupFunctionEntry(0x1110);
  ASSERT_TRUE(entry.ok()) << entry.status();
  ASSERT_TRUE(entry->has_value());
  EXPECT_EQ(**entry, (RuntimeFunction{0x1000, 0x1040, 0x4000}));
  // A direct entry is returned as it is.
  entry = table.LookupFunctionEntry(0x1000);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(**entry, (RuntimeFunction{0x1000, 0x1040, 0x4000}));
  // No entry: nullopt, not an error.
  entry = table.LookupFunctionEntry(0x1080);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_FALSE(entry->has_value());
}

TEST(RuntimeFunctionTableTest, IndirectEntryMayNameAnEntryOutsidePdata) {
  // The named RUNTIME_FUNCTION may sit anywhere in the image (here .rdata).
  SyntheticImage b;
  b.UnwindInfo(0x4000, Primary())
      .Bytes(0x4800, testing::EncodeRuntimeFunction({0x1000, 0x1040, 0x4000}))
      .Function(0x1100, 0x1120, SyntheticImage::IndirectTo(0x4800));
  RuntimeFunctionTable table = MakeTable(b);
  absl::StatusOr<std::optional<RuntimeFunction>> entry = table.LookupFunctionEntry(0x1100);
  ASSERT_TRUE(entry.ok()) << entry.status();
  ASSERT_TRUE(entry->has_value());
  EXPECT_EQ(**entry, (RuntimeFunction{0x1000, 0x1040, 0x4000}));
}

void ExpectDataLossNamingImage(const absl::Status& status, const std::string& image) {
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), image)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "offset 0x")) << status;
}

// Rows: [0] P, [1] I1 -> row 2, [2] I2 -> row 0.
TEST(RuntimeFunctionTableTest, RejectsIndirectEntryNamingAnotherIndirectEntry) {
  SyntheticImage b("indirect2.dll");
  b.UnwindInfo(0x4000, Primary())
      .Function(0x1000, 0x1040, 0x4000)
      .Function(0x1100, 0x1120, SyntheticImage::IndirectTo(SyntheticImage::PdataRowRva(2)))
      .Function(0x1200, 0x1220, SyntheticImage::IndirectTo(SyntheticImage::PdataRowRva(0)));
  RuntimeFunctionTable table = MakeTable(b);
  // Windows resolves one level only; an indirect entry whose target is itself
  // indirect would hand RtlVirtualUnwind an "UNWIND_INFO" at an odd RVA.
  absl::StatusOr<std::optional<RuntimeFunction>> entry = table.LookupFunctionEntry(0x1110);
  ASSERT_FALSE(entry.ok());
  ExpectDataLossNamingImage(entry.status(), "indirect2.dll");
  absl::StatusOr<std::optional<FunctionResolution>> r = table.Resolve(0x1110);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  // The second-level entry alone resolves fine.
  entry = table.LookupFunctionEntry(0x1210);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ((*entry)->begin, 0x1000u);
}

TEST(RuntimeFunctionTableTest, RejectsSelfReferencingIndirectEntry) {
  SyntheticImage b("selfref.dll");
  b.UnwindInfo(0x4000, Primary())
      .Function(0x1000, 0x1040, 0x4000)
      .Function(0x1100, 0x1120, SyntheticImage::IndirectTo(SyntheticImage::PdataRowRva(1)));
  RuntimeFunctionTable table = MakeTable(b);
  absl::StatusOr<std::optional<RuntimeFunction>> entry = table.LookupFunctionEntry(0x1100);
  ASSERT_FALSE(entry.ok());
  ExpectDataLossNamingImage(entry.status(), "selfref.dll");
  // The message points at the row the indirection names.
  EXPECT_TRUE(absl::StrContains(entry.status().message(),
                                absl::StrFormat("offset 0x%x", SyntheticImage::PdataRowRva(1))))
      << entry.status();
}

// Rows: [0] P (primary), [1] C1 chained to P, [2] C2 chained to C1.
SyntheticImage ChainImage() {
  SyntheticImage b;
  const RuntimeFunctionRow p{0x1000, 0x1040, 0x4000};
  const RuntimeFunctionRow c1{0x1100, 0x1120, 0x4040};
  const RuntimeFunctionRow c2{0x1200, 0x1220, 0x4080};
  b.UnwindInfo(0x4000, Primary())
      .UnwindInfo(0x4040, ChainedTo(p))
      .UnwindInfo(0x4080, ChainedTo(c1))
      .Function(p.begin, p.end, p.unwind_data)
      .Function(c1.begin, c1.end, c1.unwind_data)
      .Function(c2.begin, c2.end, c2.unwind_data)
      // [3] an indirect entry naming C1 (row 1).
      .Function(0x1300, 0x1310, SyntheticImage::IndirectTo(SyntheticImage::PdataRowRva(1)));
  return b;
}

TEST(RuntimeFunctionTableTest, ChainRootAtDepthOne) {
  RuntimeFunctionTable table = MakeTable(ChainImage());
  int depth = -1;
  absl::StatusOr<RuntimeFunction> root = table.PrimaryEntry({0x1100, 0x1120, 0x4040}, &depth);
  ASSERT_TRUE(root.ok()) << root.status();
  // C1's UNWIND_INFO names P, whose UNWIND_INFO has no UNW_FLAG_CHAININFO.
  EXPECT_EQ(*root, (RuntimeFunction{0x1000, 0x1040, 0x4000}));
  EXPECT_EQ(depth, 1);
}

TEST(RuntimeFunctionTableTest, ChainRootAtDepthTwo) {
  RuntimeFunctionTable table = MakeTable(ChainImage());
  int depth = -1;
  absl::StatusOr<RuntimeFunction> root = table.PrimaryEntry({0x1200, 0x1220, 0x4080}, &depth);
  ASSERT_TRUE(root.ok()) << root.status();
  // C2 -> C1 -> P: two parents followed.
  EXPECT_EQ(*root, (RuntimeFunction{0x1000, 0x1040, 0x4000}));
  EXPECT_EQ(depth, 2);
}

TEST(RuntimeFunctionTableTest, PrimaryEntryOfAPrimaryIsItself) {
  RuntimeFunctionTable table = MakeTable(ChainImage());
  int depth = -1;
  absl::StatusOr<RuntimeFunction> root = table.PrimaryEntry({0x1000, 0x1040, 0x4000}, &depth);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(*root, (RuntimeFunction{0x1000, 0x1040, 0x4000}));
  EXPECT_EQ(depth, 0);
}

TEST(RuntimeFunctionTableTest, RejectsCyclicChain) {
  // A's UNWIND_INFO names B as its parent, and B's names A.
  SyntheticImage b("cycle.dll");
  const RuntimeFunctionRow a{0x1000, 0x1010, 0x4000};
  const RuntimeFunctionRow bb{0x1100, 0x1110, 0x4040};
  b.UnwindInfo(a.unwind_data, ChainedTo(bb))
      .UnwindInfo(bb.unwind_data, ChainedTo(a))
      .Function(a.begin, a.end, a.unwind_data)
      .Function(bb.begin, bb.end, bb.unwind_data);
  RuntimeFunctionTable table = MakeTable(b);
  absl::StatusOr<RuntimeFunction> root = table.PrimaryEntry({a.begin, a.end, a.unwind_data});
  ASSERT_FALSE(root.ok());
  ExpectDataLossNamingImage(root.status(), "cycle.dll");
  absl::StatusOr<std::optional<FunctionResolution>> r = table.Resolve(0x1105);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
}

// A chain of `links` parents: entry k (k = 0..links) covers
// [0x1000 + 0x10k, +0x10) with UNWIND_INFO at 0x4000 + 0x20k chained to
// entry k + 1; the last entry is primary.
SyntheticImage ChainOfLength(int links) {
  SyntheticImage b;
  for (int k = 0; k <= links; ++k) {
    const uint32_t begin = 0x1000 + 0x10 * k;
    const uint32_t info = 0x4000 + 0x20 * k;
    if (k == links) {
      b.UnwindInfo(info, Primary());
    } else {
      b.UnwindInfo(info, ChainedTo({begin + 0x10, begin + 0x20, info + 0x20}));
    }
    b.Function(begin, begin + 0x10, info);
  }
  return b;
}

TEST(RuntimeFunctionTableTest, ChainOfThirtyTwoParentsIsAccepted) {
  // UNWIND_CHAIN_LIMIT: the system unwinder counts one per parent followed
  // and fails once the count exceeds 32, so 32 parents are still fine.
  RuntimeFunctionTable table = MakeTable(ChainOfLength(kMaxUnwindChainDepth));
  int depth = -1;
  absl::StatusOr<RuntimeFunction> root = table.PrimaryEntry(table.entries()[0], &depth);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->begin, 0x1000u + 0x10 * kMaxUnwindChainDepth);
  EXPECT_EQ(depth, 32);
  absl::StatusOr<std::optional<FunctionResolution>> r = table.Resolve(0x1000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->chain_depth, 32);
}

TEST(RuntimeFunctionTableTest, RejectsChainOfThirtyThreeParents) {
  // The 33rd parent makes ChainCount 33 > UNWIND_CHAIN_LIMIT.
  RuntimeFunctionTable table = MakeTable(ChainOfLength(kMaxUnwindChainDepth + 1));
  absl::StatusOr<RuntimeFunction> root = table.PrimaryEntry(table.entries()[0]);
  ASSERT_FALSE(root.ok());
  ExpectDataLossNamingImage(root.status(), "synthetic.dll");
  // One step further in, 32 parents remain: accepted.
  absl::StatusOr<RuntimeFunction> inner = table.PrimaryEntry(table.entries()[1]);
  EXPECT_TRUE(inner.ok()) << inner.status();
}

TEST(RuntimeFunctionTableTest, ResolveOfAPrimaryFunction) {
  RuntimeFunctionTable table = MakeTable(ChainImage());
  absl::StatusOr<std::optional<FunctionResolution>> r = table.Resolve(0x1020);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->has_value());
  const FunctionResolution& f = **r;
  const RuntimeFunction p{0x1000, 0x1040, 0x4000};
  EXPECT_EQ(f.found, p);
  EXPECT_EQ(f.kind, FunctionEntryKind::kPrimary);
  EXPECT_EQ(f.function_entry, p);
  EXPECT_EQ(f.primary, p);
  EXPECT_EQ(f.chain_depth, 0);
}

TEST(RuntimeFunctionTableTest, ResolveOfAChainedFunction) {
  RuntimeFunctionTable table = MakeTable(ChainImage());
  absl::StatusOr<std::optional<FunctionResolution>> r = table.Resolve(0x1210);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->has_value());
  const FunctionResolution& f = **r;
  const RuntimeFunction c2{0x1200, 0x1220, 0x4080};
  EXPECT_EQ(f.found, c2);
  EXPECT_EQ(f.kind, FunctionEntryKind::kChained);
  // Not indirect: RtlLookupFunctionEntry returns the row itself.
  EXPECT_EQ(f.function_entry, c2);
  EXPECT_EQ(f.primary, (RuntimeFunction{0x1000, 0x1040, 0x4000}));
  EXPECT_EQ(f.chain_depth, 2);
}

TEST(RuntimeFunctionTableTest, IndirectEntryResolvesToChainRoot) {
  RuntimeFunctionTable table = MakeTable(ChainImage());
  absl::StatusOr<std::optional<FunctionResolution>> r = table.Resolve(0x1305);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->has_value());
  const FunctionResolution& f = **r;
  // The row found is the indirect one...
  EXPECT_EQ(f.found, (RuntimeFunction{0x1300, 0x1310, SyntheticImage::PdataRowRva(1) + 1}));
  EXPECT_EQ(f.kind, FunctionEntryKind::kIndirect);
  // ...RtlLookupFunctionEntry replaces it by C1 (row 1)...
  EXPECT_EQ(f.function_entry, (RuntimeFunction{0x1100, 0x1120, 0x4040}));
  // ...whose chain root is P, one parent away.
  EXPECT_EQ(f.primary, (RuntimeFunction{0x1000, 0x1040, 0x4000}));
  EXPECT_EQ(f.chain_depth, 1);
}

TEST(RuntimeFunctionTableTest, ResolveInAGapIsNotAnError) {
  RuntimeFunctionTable table = MakeTable(ChainImage());
  absl::StatusOr<std::optional<FunctionResolution>> r = table.Resolve(0x1050);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->has_value());
}

TEST(RuntimeFunctionTableTest, KindOfEachRow) {
  RuntimeFunctionTable table = MakeTable(ChainImage());
  auto kind = [&](RuntimeFunction e) {
    absl::StatusOr<FunctionEntryKind> k = table.KindOf(e);
    EXPECT_TRUE(k.ok()) << k.status();
    return k.value_or(FunctionEntryKind::kPrimary);
  };
  // No UNW_FLAG_CHAININFO: primary.
  EXPECT_EQ(kind({0x1000, 0x1040, 0x4000}), FunctionEntryKind::kPrimary);
  // UNW_FLAG_CHAININFO: chained, at any depth.
  EXPECT_EQ(kind({0x1100, 0x1120, 0x4040}), FunctionEntryKind::kChained);
  EXPECT_EQ(kind({0x1200, 0x1220, 0x4080}), FunctionEntryKind::kChained);
  // UnwindData bit 0: indirect, whatever it names.
  EXPECT_EQ(kind({0x1300, 0x1310, SyntheticImage::PdataRowRva(1) + 1}),
            FunctionEntryKind::kIndirect);
  EXPECT_EQ(FunctionEntryKindName(FunctionEntryKind::kPrimary), "primary");
  EXPECT_EQ(FunctionEntryKindName(FunctionEntryKind::kChained), "chained");
  EXPECT_EQ(FunctionEntryKindName(FunctionEntryKind::kIndirect), "indirect");
}

TEST(RuntimeFunctionTableTest, ReadEntryAtReadsAnyStoredRow) {
  RuntimeFunctionTable table = MakeTable(ChainImage());
  absl::StatusOr<RuntimeFunction> row = table.ReadEntryAt(SyntheticImage::PdataRowRva(2));
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(*row, (RuntimeFunction{0x1200, 0x1220, 0x4080}));
  // Past the image: out of range, with the offset.
  absl::StatusOr<RuntimeFunction> past = table.ReadEntryAt(SyntheticImage::kSizeOfImage - 4);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.status().code(), absl::StatusCode::kOutOfRange) << past.status();
  EXPECT_TRUE(absl::StrContains(past.status().message(), "offset 0x")) << past.status();
}

}  // namespace
}  // namespace restack::unwind
