// real_images_test.cc - every RUNTIME_FUNCTION of real Microsoft images
//
// Expected counts come from ../shared/real/README.md (counted independently
// of restack). The property test builds, for every entry, the stack a
// completed prolog would leave and checks that one unwind step returns to the
// caller exactly.
#include <map>
#include <memory>
#include <string>

#include "fake_memory.h"
#include "gtest/gtest.h"
#include "restack/sym/image_locator.h"
#include "restack/unwind/runtime_function_table.h"
#include "restack/unwind/unwind_info.h"
#include "restack/unwind/virtual_unwind.h"

namespace restack::unwind {
namespace {

struct RealImage {
  const char* path;
  size_t entries;
  size_t chained;
  size_t indirect;
};

// ../shared/real/README.md
constexpr RealImage kRealImages[] = {
    {"../shared/real/symbols/amdppm.sys/c9c030003b000/amdppm.sys", 519, 19, 0},
    {"../shared/real/symbols/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys", 3796, 607, 0},
    {"../shared/real/symbols/fltMgr.sys/49BB82CA6e000/fltMgr.sys", 1528, 527, 0},
    {"../shared/real/symbols/kernel32.dll/4CE7C78B11f000/kernel32.dll", 3224, 787, 428},
};

class RealImageTest : public ::testing::TestWithParam<RealImage> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::shared_ptr<const PeImage>> image = sym::OpenImageFile(GetParam().path);
    ASSERT_TRUE(image.ok()) << image.status();
    image_ = *image;
    absl::StatusOr<RuntimeFunctionTable> table = RuntimeFunctionTable::Create(image_);
    ASSERT_TRUE(table.ok()) << table.status();
    table_ = std::make_unique<RuntimeFunctionTable>(*std::move(table));
  }
  std::shared_ptr<const PeImage> image_;
  std::unique_ptr<RuntimeFunctionTable> table_;
};

TEST_P(RealImageTest, CountsMatchTheReadme) {
  size_t chained = 0, indirect = 0;
  for (const RuntimeFunction& e : table_->entries()) {
    absl::StatusOr<FunctionEntryKind> kind = table_->KindOf(e);
    ASSERT_TRUE(kind.ok()) << kind.status();
    chained += *kind == FunctionEntryKind::kChained;
    indirect += *kind == FunctionEntryKind::kIndirect;
  }
  EXPECT_EQ(table_->size(), GetParam().entries);
  EXPECT_EQ(chained, GetParam().chained);
  EXPECT_EQ(indirect, GetParam().indirect);
  EXPECT_TRUE(table_->warnings().empty()) << table_->warnings().front().what;
}

TEST_P(RealImageTest, EveryEntryDecodesAndResolvesToAPrimaryRoot) {
  for (const RuntimeFunction& e : table_->entries()) {
    absl::StatusOr<std::optional<FunctionResolution>> r = table_->Resolve(e.begin);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->found, e);
    EXPECT_FALSE((*r)->function_entry.IsIndirect());
    absl::StatusOr<FunctionEntryKind> root_kind = table_->KindOf((*r)->primary);
    ASSERT_TRUE(root_kind.ok()) << root_kind.status();
    EXPECT_EQ(*root_kind, FunctionEntryKind::kPrimary);
    // Every UNWIND_INFO on the way decodes without error.
    RuntimeFunction cur = (*r)->function_entry;
    for (int depth = 0; depth <= (*r)->chain_depth; ++depth) {
      absl::StatusOr<UnwindInfo> info = DecodeUnwindInfo(*image_, cur.unwind_data);
      ASSERT_TRUE(info.ok()) << info.status();
      if (!info->chained_parent) break;
      cur = *info->chained_parent;
    }
  }
}

// Simulates the prolog of `entry`'s function (parents first, then the chained
// children down to `entry`) on a synthetic stack, then checks that one
// VirtualUnwind at the end of `entry`'s prolog restores the caller.
class PrologSimulator {
 public:
  static constexpr uint64_t kImageBase = 0x140000000;
  static constexpr uint64_t kCallerRsp = 0x7ff0'0000'8000;
  static constexpr uint64_t kReturnAddress = 0x7ff6'1234'5678;

  static uint64_t ValueOf(unsigned reg) { return 0x1111'0000'0000'0000ull + reg * 0x0101; }
  static Uint128 XmmValueOf(unsigned reg) { return {0xAAAA'0000'0000'0000ull + reg, 0xBBBB + reg}; }

  // Returns false (and why) when the entry's codes cannot be simulated.
  bool Build(const PeImage& image, const RuntimeFunction& function_entry, std::string* why) {
    // Collect the chain: [function_entry, parent, ..., root].
    std::vector<UnwindInfo> chain;
    RuntimeFunction cur = function_entry;
    for (int depth = 0; depth <= kMaxUnwindChainDepth; ++depth) {
      absl::StatusOr<UnwindInfo> info = DecodeUnwindInfo(image, cur.unwind_data);
      if (!info.ok()) {
        *why = std::string(info.status().message());
        return false;
      }
      chain.push_back(*info);
      if (!info->chained_parent) break;
      cur = *info->chained_parent;
    }
    memory_.Clear();
    saved_.clear();
    saved_xmm_.clear();
    uint64_t rsp = kCallerRsp;
    machine_frame_ = false;
    // The call (or interrupt) that entered the function.
    const UnwindInfo& root = chain.back();
    bool root_has_machframe = false;
    for (const UnwindCode& c : root.codes) root_has_machframe |= c.op == UnwindOp::kPushMachFrame;
    if (!root_has_machframe) {
      rsp -= 8;
      memory_.WriteU64(rsp, kReturnAddress);
    }
    // Execute prologs forward: root first, each in reverse code order.
    for (auto info = chain.rbegin(); info != chain.rend(); ++info) {
      std::optional<uint64_t> frame_pointer_base;
      std::vector<const UnwindCode*> saves;
      for (auto c = info->codes.rbegin(); c != info->codes.rend(); ++c) {
        switch (c->op) {
          case UnwindOp::kPushNonvol:
            if (c->op_info == 4) {
              *why = "push rsp";
              return false;
            }
            rsp -= 8;
            memory_.WriteU64(rsp, ValueOf(c->op_info));
            saved_[c->op_info] = ValueOf(c->op_info);
            break;
          case UnwindOp::kAllocLarge:
          case UnwindOp::kAllocSmall:
            rsp -= c->operand;
            break;
          case UnwindOp::kSetFpreg:
            frame_pointer_base = rsp;  // fp = rsp + FrameOffset*16
            frame_register_ = info->frame_register;
            frame_offset_ = uint64_t{info->frame_offset} * 16;
            break;
          case UnwindOp::kSaveNonvol:
          case UnwindOp::kSaveNonvolFar:
          case UnwindOp::kSaveXmm128:
          case UnwindOp::kSaveXmm128Far:
            saves.push_back(&*c);
            break;
          case UnwindOp::kPushMachFrame: {
            machine_frame_ = true;
            // RIP, CS, EFLAGS, RSP, SS (+ error code below).
            rsp -= 40;
            memory_.WriteU64(rsp, kReturnAddress);
            memory_.WriteU64(rsp + 8, 0x33);
            memory_.WriteU64(rsp + 16, 0x246);
            memory_.WriteU64(rsp + 24, kCallerRsp);
            memory_.WriteU64(rsp + 32, 0x2b);
            if (c->op_info != 0) {
              rsp -= 8;
              memory_.WriteU64(rsp, 0xEC);
            }
            break;
          }
          case UnwindOp::kEpilog:
          case UnwindOp::kSpareCode:
            break;
        }
      }
      // Saves are relative to the establisher frame, known at the prolog's end.
      const uint64_t frame_base = frame_pointer_base.value_or(rsp);
      if (info == chain.rbegin() || frame_pointer_base) establisher_ = frame_base;
      for (const UnwindCode* c : saves) {
        const uint64_t at = establisher_ + c->operand;
        if (c->op == UnwindOp::kSaveNonvol || c->op == UnwindOp::kSaveNonvolFar) {
          memory_.WriteU64(at, ValueOf(c->op_info));
          saved_[c->op_info] = ValueOf(c->op_info);
        } else {
          Uint128 v = XmmValueOf(c->op_info);
          memory_.WriteU64(at, v.low);
          memory_.WriteU64(at + 8, v.high);
          saved_xmm_[c->op_info] = v;
        }
      }
    }
    end_rsp_ = rsp;
    return true;
  }

  RegisterContext Context(uint64_t rip) const {
    RegisterContext ctx;
    ctx.SetRip(rip);
    ctx.SetRsp(end_rsp_);
    // Registers hold garbage after the prolog, except the frame register.
    for (unsigned r = 0; r < 16; ++r) {
      if (r != 4) ctx.SetGpr(r, 0xdead'0000 + r);
    }
    if (frame_register_ != 0) ctx.SetGpr(frame_register_, establisher_ + frame_offset_);
    return ctx;
  }

  const testing::FakeMemory& memory() const { return memory_; }
  const std::map<unsigned, uint64_t>& saved() const { return saved_; }
  const std::map<unsigned, Uint128>& saved_xmm() const { return saved_xmm_; }
  bool machine_frame() const { return machine_frame_; }

 private:
  testing::FakeMemory memory_;
  std::map<unsigned, uint64_t> saved_;
  std::map<unsigned, Uint128> saved_xmm_;
  uint64_t end_rsp_ = 0;
  uint64_t establisher_ = 0;
  unsigned frame_register_ = 0;
  uint64_t frame_offset_ = 0;
  bool machine_frame_ = false;
};

TEST_P(RealImageTest, EndOfPrologUnwindsToTheCallerExactly) {
  size_t checked = 0;
  for (const RuntimeFunction& row : table_->entries()) {
    absl::StatusOr<std::optional<FunctionResolution>> r = table_->Resolve(row.begin);
    ASSERT_TRUE(r.ok() && r->has_value());
    const RuntimeFunction entry = (*r)->function_entry;
    PrologSimulator sim;
    std::string why;
    if (!sim.Build(*image_, entry, &why)) {
      ADD_FAILURE() << "entry 0x" << std::hex << row.begin << ": " << why;
      continue;
    }
    absl::StatusOr<UnwindInfo> info = DecodeUnwindInfo(*image_, entry.unwind_data);
    ASSERT_TRUE(info.ok());
    // End of the prolog of the row (for an indirect row, its start: control
    // is in a region of the function past the primary's prolog).
    const uint64_t rip = PrologSimulator::kImageBase +
                         (row.IsIndirect() ? row.begin : row.begin + info->size_of_prolog);
    RegisterContext ctx = sim.Context(rip);
    // Epilog detection is off: the instruction after a prolog may itself be
    // an epilog (empty body); that case is covered by the Wine fixtures.
    UnwindOptions options;
    options.detect_epilog = false;
    absl::StatusOr<UnwindStep> step = VirtualUnwind(*table_, PrologSimulator::kImageBase, rip,
                                                    entry, ctx, sim.memory(), options);
    ASSERT_TRUE(step.ok()) << "entry 0x" << std::hex << row.begin << ": " << step.status();
    EXPECT_EQ(ctx.rip, PrologSimulator::kReturnAddress) << "entry 0x" << std::hex << row.begin;
    EXPECT_EQ(ctx.rsp(), PrologSimulator::kCallerRsp) << "entry 0x" << std::hex << row.begin;
    EXPECT_EQ(step->machine_frame, sim.machine_frame());
    for (const auto& [reg, value] : sim.saved()) {
      EXPECT_TRUE(ctx.IsKnown(reg));
      EXPECT_EQ(ctx.gpr[reg], value) << "entry 0x" << std::hex << row.begin << " reg " << reg;
    }
    for (const auto& [reg, value] : sim.saved_xmm()) {
      EXPECT_EQ(ctx.xmm[reg], value) << "entry 0x" << std::hex << row.begin << " xmm" << reg;
    }
    ++checked;
  }
  EXPECT_EQ(checked, table_->size());
}

INSTANTIATE_TEST_SUITE_P(ShareReal, RealImageTest, ::testing::ValuesIn(kRealImages),
                         [](const ::testing::TestParamInfo<RealImage>& info) {
                           std::string name = std::string(info.param.path);
                           name = name.substr(name.find_last_of('/') + 1);
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// fltMgr.sys: 86 chained entries lie 64 KiB or more from their parent
// (../shared/real/README.md).
TEST(RealImageChunks, FltMgrHas86FarSeparatedChunks) {
  absl::StatusOr<std::shared_ptr<const PeImage>> image =
      sym::OpenImageFile(kRealImages[2].path);
  ASSERT_TRUE(image.ok()) << image.status();
  absl::StatusOr<RuntimeFunctionTable> table = RuntimeFunctionTable::Create(*image);
  ASSERT_TRUE(table.ok());
  size_t far = 0;
  for (const RuntimeFunction& e : table->entries()) {
    absl::StatusOr<RuntimeFunction> root = table->PrimaryEntry(e);
    ASSERT_TRUE(root.ok()) << root.status();
    const uint32_t distance = e.begin > root->begin ? e.begin - root->begin : root->begin - e.begin;
    far += distance >= 0x10000;
  }
  EXPECT_EQ(far, 86u);
}

}  // namespace
}  // namespace restack::unwind
