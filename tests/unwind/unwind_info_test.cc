// unwind_info_test.cc - UNWIND_INFO / UNWIND_CODE decoding on synthetic images
//
// Expected slot counts are Windows' UnwindOpSlots (UnwindOpExtraSlotTable + 1,
// plus one for UWOP_ALLOC_LARGE with OpInfo != 0); operand scaling is that of
// UnwindPrologue in dotnet/runtime src/coreclr/unwinder/amd64/unwinder.cpp and
// of Microsoft's "x64 exception handling" documentation.
#include "restack/unwind/unwind_info.h"

#include <memory>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "synthetic_image.h"

namespace restack::unwind {
namespace {

using testing::Codes;
using testing::kFlagChainInfo;
using testing::kFlagEHandler;
using testing::kFlagUHandler;
using testing::RawSlot;
using testing::SyntheticImage;
using testing::UnwindInfoSpec;
namespace uwop = testing::uwop;
namespace reg = testing::reg;

constexpr uint32_t kInfoRva = 0x4000;

absl::StatusOr<UnwindInfo> DecodeSpec(const UnwindInfoSpec& spec,
                                      const std::string& name = "info.dll") {
  std::shared_ptr<const PeImage> image = SyntheticImage(name).UnwindInfo(kInfoRva, spec).Build();
  if (image == nullptr) return absl::InternalError("no image");
  return DecodeUnwindInfo(*image, kInfoRva);
}

void ExpectCode(const UnwindCode& c, uint8_t code_offset, UnwindOp op, uint8_t op_info,
                uint8_t slot, uint8_t slots) {
  EXPECT_EQ(c.code_offset, code_offset) << UnwindOpName(c.op);
  EXPECT_EQ(c.op, op) << UnwindOpName(c.op);
  EXPECT_EQ(c.op_info, op_info) << UnwindOpName(c.op);
  EXPECT_EQ(c.slot, slot) << UnwindOpName(c.op);
  EXPECT_EQ(c.slots, slots) << UnwindOpName(c.op);
}

TEST(UnwindInfoTest, DecodesTheHeaderFields) {
  UnwindInfoSpec spec;
  spec.version = 1;
  spec.flags = kFlagUHandler;
  spec.size_of_prolog = 0x1d;
  spec.frame_register = reg::kR13;
  spec.frame_offset = 0xa;
  spec.codes = Codes({uwop::SetFpreg(0x1d), uwop::PushNonvol(2, reg::kR13)});
  spec.handler_rva = 0x1800;
  absl::StatusOr<UnwindInfo> info = DecodeSpec(spec);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rva, kInfoRva);
  EXPECT_EQ(info->version, 1);
  EXPECT_EQ(info->flags, kFlagUHandler);
  EXPECT_EQ(info->size_of_prolog, 0x1d);
  EXPECT_EQ(info->count_of_codes, 2);
  // FrameRegister is the low nibble of byte 3, FrameOffset the high nibble.
  EXPECT_EQ(info->frame_register, reg::kR13);
  EXPECT_EQ(info->frame_offset, 0xa);
  EXPECT_FALSE(info->HasChainInfo());
}

TEST(UnwindInfoTest, DecodesEveryOperationWithItsSlotCountAndOperand) {
  UnwindInfoSpec spec;
  spec.size_of_prolog = 0x30;
  spec.frame_register = reg::kRbp;
  spec.frame_offset = 2;
  spec.codes = Codes({
      uwop::SaveXmm128Far(0x30, 15, 0x12350),         // slots 0..2
      uwop::SaveXmm128(0x2b, 6, 0x40),                // slots 3..4
      uwop::SaveNonvolFar(0x26, reg::kR15, 0x12345),  // slots 5..7
      uwop::SaveNonvol(0x21, reg::kRsi, 0x18),        // slots 8..9
      uwop::SetFpreg(0x1c),                           // slot 10
      uwop::AllocLarge32(0x18, 0x15678),              // slots 11..13
      uwop::AllocLarge16(0x11, 0x810),                // slots 14..15
      uwop::AllocSmall(0x0a, 40),                     // slot 16
      uwop::PushNonvol(0x06, reg::kR12),              // slot 17
      uwop::PushMachFrame(0x02, true),                // slot 18
      uwop::PushMachFrame(0x00, false),               // slot 19
  });
  absl::StatusOr<UnwindInfo> info = DecodeSpec(spec);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->count_of_codes, 20);
  ASSERT_EQ(info->codes.size(), 11u);
  const auto& c = info->codes;

  // UWOP_SAVE_XMM128_FAR: 3 slots; the 32-bit offset is unscaled: 0x12350.
  ExpectCode(c[0], 0x30, UnwindOp::kSaveXmm128Far, 15, 0, 3);
  EXPECT_EQ(c[0].operand, 0x12350u);
  // UWOP_SAVE_XMM128: 2 slots; the 16-bit offset is scaled by 16: 4 * 16.
  ExpectCode(c[1], 0x2b, UnwindOp::kSaveXmm128, 6, 3, 2);
  EXPECT_EQ(c[1].operand, 0x40u);
  // UWOP_SAVE_NONVOL_FAR: 3 slots; unscaled: 0x12345, not 0x12345 * 8.
  ExpectCode(c[2], 0x26, UnwindOp::kSaveNonvolFar, reg::kR15, 5, 3);
  EXPECT_EQ(c[2].operand, 0x12345u);
  // UWOP_SAVE_NONVOL: 2 slots; scaled by 8: 3 * 8.
  ExpectCode(c[3], 0x21, UnwindOp::kSaveNonvol, reg::kRsi, 8, 2);
  EXPECT_EQ(c[3].operand, 0x18u);
  // UWOP_SET_FPREG: 1 slot; the offset is UNWIND_INFO.FrameOffset * 16 = 32.
  ExpectCode(c[4], 0x1c, UnwindOp::kSetFpreg, 0, 10, 1);
  EXPECT_EQ(c[4].operand, 32u);
  // UWOP_ALLOC_LARGE, OpInfo 1: 3 slots, unscaled 32-bit size 0x0001'5678.
  ExpectCode(c[5], 0x18, UnwindOp::kAllocLarge, 1, 11, 3);
  EXPECT_EQ(c[5].operand, 0x15678u);
  // UWOP_ALLOC_LARGE, OpInfo 0: 2 slots, 16-bit size scaled by 8: 0x102 * 8.
  ExpectCode(c[6], 0x11, UnwindOp::kAllocLarge, 0, 14, 2);
  EXPECT_EQ(c[6].operand, 0x810u);
  // UWOP_ALLOC_SMALL: 1 slot, OpInfo * 8 + 8 = 4 * 8 + 8.
  ExpectCode(c[7], 0x0a, UnwindOp::kAllocSmall, 4, 16, 1);
  EXPECT_EQ(c[7].operand, 40u);
  // UWOP_PUSH_NONVOL: 1 slot, operand is the register.
  ExpectCode(c[8], 0x06, UnwindOp::kPushNonvol, reg::kR12, 17, 1);
  EXPECT_EQ(c[8].operand, reg::kR12);
  // UWOP_PUSH_MACHFRAME: 1 slot, OpInfo 1 = with error code, 0 = without.
  ExpectCode(c[9], 0x02, UnwindOp::kPushMachFrame, 1, 18, 1);
  EXPECT_EQ(c[9].operand, 1u);
  ExpectCode(c[10], 0x00, UnwindOp::kPushMachFrame, 0, 19, 1);
  EXPECT_EQ(c[10].operand, 0u);
  EXPECT_TRUE(info->notes.empty());
}

TEST(UnwindInfoTest, AllocSmallCoversEightTo128Bytes) {
  for (uint8_t op_info = 0; op_info < 16; ++op_info) {
    UnwindInfoSpec spec;
    spec.codes = {RawSlot(4, 2, op_info)};
    absl::StatusOr<UnwindInfo> info = DecodeSpec(spec);
    ASSERT_TRUE(info.ok()) << info.status();
    // OpInfo * 8 + 8: 8 bytes for OpInfo 0, 128 for OpInfo 15.
    EXPECT_EQ(info->codes[0].operand, op_info * 8u + 8u);
  }
}

TEST(UnwindInfoTest, AllocLargeSixteenBitFormReachesJustUnder512K) {
  UnwindInfoSpec spec;
  spec.codes = {RawSlot(7, 1, 0), 0xffff};
  absl::StatusOr<UnwindInfo> info = DecodeSpec(spec);
  ASSERT_TRUE(info.ok()) << info.status();
  // 0xffff qwords = 512K - 8 bytes.
  EXPECT_EQ(info->codes[0].operand, 0xffffu * 8);
}

TEST(UnwindInfoTest, SpareCodeTakesThreeSlotsAndIsNoted) {
  UnwindInfoSpec spec;
  spec.size_of_prolog = 1;
  // UWOP_SPARE_CODE (7): UnwindOpExtraSlotTable gives 2 extra slots, and
  // UnwindPrologue skips it with Index += 2 (+1).
  spec.codes = {RawSlot(3, 7, 0), 0x1111, 0x2222, RawSlot(1, 0, reg::kRbx)};
  absl::StatusOr<UnwindInfo> info = DecodeSpec(spec);
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->codes.size(), 2u);
  ExpectCode(info->codes[0], 3, UnwindOp::kSpareCode, 0, 0, 3);
  ExpectCode(info->codes[1], 1, UnwindOp::kPushNonvol, reg::kRbx, 3, 1);
  EXPECT_FALSE(info->notes.empty());
}

TEST(UnwindInfoTest, DecodesVersionTwoEpilogDescriptors) {
  UnwindInfoSpec spec;
  spec.version = 2;
  spec.size_of_prolog = 1;
  spec.codes = Codes({
      uwop::EpilogHeader(5, /*at_end=*/true),  // slot 0: size 5, one epilog at the end
      uwop::EpilogAt(0x40),                    // slot 1: an epilog 0x40 before the end
      uwop::EpilogAt(0x1c7),                   // slot 2: 0xc7 + (OpInfo 1) * 256
      uwop::EpilogPadding(),                   // slot 3: offset 0 = padding
      uwop::PushNonvol(1, reg::kRbx),          // slot 4
  });
  absl::StatusOr<UnwindInfo> info = DecodeSpec(spec);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->version, 2);
  // The first UWOP_EPILOG: size in CodeOffset, "at end" in OpInfo bit 0.
  EXPECT_EQ(info->epilog_size, 5);
  EXPECT_TRUE(info->epilog_at_end);
  // The others: OffsetLow (CodeOffset) + OffsetHigh (OpInfo) * 256; the
  // zero entry is padding and names no epilog.
  ASSERT_EQ(info->epilogs.size(), 2u);
  EXPECT_EQ(info->epilogs[0].offset_from_end, 0x40u);
  EXPECT_EQ(info->epilogs[1].offset_from_end, 0x1c7u);
  // The prolog view walks UWOP_EPILOG as two slots (UnwindPrologue:
  // Index += 1, then + 1), so slots 1 and 3 are swallowed.
  ASSERT_EQ(info->codes.size(), 3u);
  ExpectCode(info->codes[0], 5, UnwindOp::kEpilog, 1, 0, 2);
  ExpectCode(info->codes[1], 0xc7, UnwindOp::kEpilog, 1, 2, 2);
  ExpectCode(info->codes[2], 1, UnwindOp::kPushNonvol, reg::kRbx, 4, 1);
}

TEST(UnwindInfoTest, DecodesVersionTwoEpilogsNotAtTheEnd) {
  UnwindInfoSpec spec;
  spec.version = 2;
  spec.codes = Codes({uwop::EpilogHeader(3, /*at_end=*/false), uwop::EpilogAt(0x20),
                      uwop::PushNonvol(1, reg::kRsi)});
  absl::StatusOr<UnwindInfo> info = DecodeSpec(spec);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->epilog_size, 3);
  // OpInfo bit 0 clear: no epilog at the function end.
  EXPECT_FALSE(info->epilog_at_end);
  ASSERT_EQ(info->epilogs.size(), 1u);
  EXPECT_EQ(info->epilogs[0].offset_from_end, 0x20u);
}

TEST(UnwindInfoTest, VersionTwoWithoutEpilogCodesHasNoEpilogs) {
  UnwindInfoSpec spec;
  spec.version = 2;
  spec.codes = Codes({uwop::AllocSmall(5, 0x28), uwop::PushNonvol(1, reg::kRbx)});
  absl::StatusOr<UnwindInfo> info = DecodeSpec(spec);
  ASSERT_TRUE(info.ok()) << info.status();
  // The first code is not UWOP_EPILOG: this entry describes no epilog.
  EXPECT_EQ(info->epilog_size, 0);
  EXPECT_FALSE(info->epilog_at_end);
  EXPECT_TRUE(info->epilogs.empty());
  EXPECT_EQ(info->codes.size(), 2u);
}

TEST(UnwindInfoTest, HandlerRvaFollowsTheEvenAlignedCodes) {
  UnwindInfoSpec spec;
  spec.flags = kFlagEHandler | kFlagUHandler;
  spec.codes = uwop::PushNonvol(1, reg::kRbx);  // one slot: padded to two
  spec.handler_rva = 0x1500;
  spec.handler_data = {0xaa, 0xbb, 0xcc, 0xdd};
  absl::StatusOr<UnwindInfo> info = DecodeSpec(spec);
  ASSERT_TRUE(info.ok()) << info.status();
  // Trailer at header (4) + 2 slots (4): the ULONG handler RVA, then its data
  // (GetLanguageSpecificData = &UnwindCode[(Count + 1) & ~1] + 1 ULONG).
  ASSERT_TRUE(info->handler_rva.has_value());
  EXPECT_EQ(*info->handler_rva, 0x1500u);
  EXPECT_EQ(info->handler_data_rva, kInfoRva + 8 + 4);
  EXPECT_FALSE(info->chained_parent.has_value());
  EXPECT_EQ(info->size_in_bytes, 12u);
}

TEST(UnwindInfoTest, NoHandlerWithoutHandlerFlags) {
  UnwindInfoSpec spec;
  spec.codes = Codes({uwop::AllocSmall(5, 0x28), uwop::PushNonvol(1, reg::kRbx)});
  absl::StatusOr<UnwindInfo> info = DecodeSpec(spec);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_FALSE(info->handler_rva.has_value());
  EXPECT_FALSE(info->chained_parent.has_value());
  EXPECT_EQ(info->size_in_bytes, 8u);
}

TEST(UnwindInfoTest, ChainedParentFollowsTheEvenAlignedCodes) {
  UnwindInfoSpec spec;
  spec.flags = kFlagChainInfo;
  spec.codes = Codes({uwop::SaveNonvol(9, reg::kRdi, 0x30), uwop::PushNonvol(1, reg::kRbx)});
  spec.chained_parent = testing::RuntimeFunctionRow{0x1000, 0x1040, 0x4100};
  absl::StatusOr<UnwindInfo> info = DecodeSpec(spec);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->HasChainInfo());
  // Three slots, padded to four: the RUNTIME_FUNCTION starts at +4 +8.
  ASSERT_TRUE(info->chained_parent.has_value());
  EXPECT_EQ(*info->chained_parent, (RuntimeFunction{0x1000, 0x1040, 0x4100}));
  EXPECT_FALSE(info->handler_rva.has_value());
  EXPECT_EQ(info->size_in_bytes, 4u + 8u + 12u);

  absl::StatusOr<std::optional<RuntimeFunction>> parent = [&] {
    std::shared_ptr<const PeImage> image = SyntheticImage().UnwindInfo(kInfoRva, spec).Build();
    return ReadChainedParent(*image, kInfoRva);
  }();
  ASSERT_TRUE(parent.ok()) << parent.status();
  ASSERT_TRUE(parent->has_value());
  EXPECT_EQ(**parent, (RuntimeFunction{0x1000, 0x1040, 0x4100}));
}

TEST(UnwindInfoTest, ReadChainedParentOfAPrimaryIsNothing) {
  std::shared_ptr<const PeImage> image = SyntheticImage().UnwindInfo(kInfoRva, {}).Build();
  absl::StatusOr<std::optional<RuntimeFunction>> parent = ReadChainedParent(*image, kInfoRva);
  ASSERT_TRUE(parent.ok()) << parent.status();
  EXPECT_FALSE(parent->has_value());
}

// --- Rejected input: the code, and a message holding the image and offset. ---

void ExpectRejected(const absl::StatusOr<UnwindInfo>& info, absl::StatusCode code,
                    const std::string& image = "info.dll") {
  ASSERT_FALSE(info.ok()) << "decoded " << info->codes.size() << " codes";
  EXPECT_EQ(info.status().code(), code) << info.status();
  EXPECT_TRUE(absl::StrContains(info.status().message(), "offset 0x")) << info.status();
  EXPECT_TRUE(absl::StrContains(info.status().message(), image)) << info.status();
}

TEST(UnwindInfoTest, RejectsVersionZero) {
  UnwindInfoSpec spec;
  spec.version = 0;
  // Versions other than 1 and 2 are known to exist but not implemented.
  ExpectRejected(DecodeSpec(spec), absl::StatusCode::kUnimplemented);
}

TEST(UnwindInfoTest, RejectsVersionThree) {
  UnwindInfoSpec spec;
  spec.version = 3;
  ExpectRejected(DecodeSpec(spec), absl::StatusCode::kUnimplemented);
}

TEST(UnwindInfoTest, RejectsUnknownOperationsElevenToFifteen) {
  // UnwindPrologue: UnwindOp > UWOP_PUSH_MACHFRAME (10) is E_UNEXPECTED.
  for (uint8_t op = 11; op <= 15; ++op) {
    SCOPED_TRACE(op);
    UnwindInfoSpec spec;
    spec.codes = {RawSlot(1, 0, reg::kRbx), RawSlot(0, op, 0)};
    ExpectRejected(DecodeSpec(spec), absl::StatusCode::kDataLoss);
  }
}

TEST(UnwindInfoTest, RejectsAllocLargeOverrunningCountOfCodes) {
  UnwindInfoSpec spec;
  // UWOP_ALLOC_LARGE with OpInfo 1 needs three slots; CountOfCodes gives two.
  spec.codes = {RawSlot(7, 1, 1), 0x1000, 0x0001};
  spec.count_of_codes = 2;
  ExpectRejected(DecodeSpec(spec), absl::StatusCode::kDataLoss);
}

TEST(UnwindInfoTest, RejectsSaveNonvolOverrunningCountOfCodes) {
  UnwindInfoSpec spec;
  // UWOP_SAVE_NONVOL in the last slot: its offset slot lies past CountOfCodes.
  spec.codes = Codes({uwop::PushNonvol(1, reg::kRbx), {RawSlot(6, 4, reg::kRsi)}});
  ExpectRejected(DecodeSpec(spec), absl::StatusCode::kDataLoss);
}

TEST(UnwindInfoTest, RejectsSaveXmm128FarOverrunningCountOfCodes) {
  UnwindInfoSpec spec;
  spec.codes = {RawSlot(6, 9, 6), 0x0040};
  ExpectRejected(DecodeSpec(spec), absl::StatusCode::kDataLoss);
}

// An image cut to `size` bytes with `spec` at `rva`.
absl::StatusOr<UnwindInfo> DecodeAtEnd(uint32_t size, uint32_t rva, const UnwindInfoSpec& spec) {
  std::shared_ptr<const PeImage> image =
      SyntheticImage("short.dll").SizeOfImage(size).UnwindInfo(rva, spec).Build();
  if (image == nullptr) return absl::InternalError("no image");
  return DecodeUnwindInfo(*image, rva);
}

TEST(UnwindInfoTest, RejectsHeaderPastTheImage) {
  // Two of the four header bytes lie in the image.
  ExpectRejected(DecodeAtEnd(0x5000, 0x4ffe, {}), absl::StatusCode::kOutOfRange, "short.dll");
  // Wholly outside.
  ExpectRejected(DecodeAtEnd(0x5000, 0x7000, {}), absl::StatusCode::kOutOfRange, "short.dll");
}

TEST(UnwindInfoTest, RejectsCodesPastTheImage) {
  UnwindInfoSpec spec;
  spec.codes = Codes({uwop::AllocSmall(5, 0x28), uwop::PushNonvol(1, reg::kRbx)});
  // Header at 0x4ffc..0x5000, codes at 0x5000: past the end.
  ExpectRejected(DecodeAtEnd(0x5000, 0x4ffc, spec), absl::StatusCode::kOutOfRange, "short.dll");
}

TEST(UnwindInfoTest, RejectsChainedParentPastTheImage) {
  UnwindInfoSpec spec;
  spec.flags = kFlagChainInfo;
  spec.codes = Codes({uwop::AllocSmall(5, 0x28), uwop::PushNonvol(1, reg::kRbx)});
  spec.chained_parent = testing::RuntimeFunctionRow{0x1000, 0x1010, 0x4000};
  // Header + codes = 8 bytes end 4 bytes before the end; the parent needs 12.
  ExpectRejected(DecodeAtEnd(0x5000, 0x4ff4, spec), absl::StatusCode::kOutOfRange, "short.dll");
}

TEST(UnwindInfoTest, RejectsHandlerRvaPastTheImage) {
  UnwindInfoSpec spec;
  spec.flags = kFlagEHandler;
  spec.codes = Codes({uwop::AllocSmall(5, 0x28), uwop::PushNonvol(1, reg::kRbx)});
  spec.handler_rva = 0x1500;
  // Header + codes end exactly at the end of the image.
  ExpectRejected(DecodeAtEnd(0x5000, 0x4ff8, spec), absl::StatusCode::kOutOfRange, "short.dll");
}

TEST(UnwindInfoTest, UnwindOpNamesAreWindowsNames) {
  EXPECT_EQ(UnwindOpName(UnwindOp::kPushNonvol), "UWOP_PUSH_NONVOL");
  EXPECT_EQ(UnwindOpName(UnwindOp::kAllocLarge), "UWOP_ALLOC_LARGE");
  EXPECT_EQ(UnwindOpName(UnwindOp::kAllocSmall), "UWOP_ALLOC_SMALL");
  EXPECT_EQ(UnwindOpName(UnwindOp::kSetFpreg), "UWOP_SET_FPREG");
  EXPECT_EQ(UnwindOpName(UnwindOp::kSaveNonvol), "UWOP_SAVE_NONVOL");
  EXPECT_EQ(UnwindOpName(UnwindOp::kSaveNonvolFar), "UWOP_SAVE_NONVOL_FAR");
  EXPECT_EQ(UnwindOpName(UnwindOp::kEpilog), "UWOP_EPILOG");
  EXPECT_EQ(UnwindOpName(UnwindOp::kSpareCode), "UWOP_SPARE_CODE");
  EXPECT_EQ(UnwindOpName(UnwindOp::kSaveXmm128), "UWOP_SAVE_XMM128");
  EXPECT_EQ(UnwindOpName(UnwindOp::kSaveXmm128Far), "UWOP_SAVE_XMM128_FAR");
  EXPECT_EQ(UnwindOpName(UnwindOp::kPushMachFrame), "UWOP_PUSH_MACHFRAME");
}

}  // namespace
}  // namespace restack::unwind
