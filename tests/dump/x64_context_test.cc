// x64_context_test.cc - ParseX64Context against CONTEXT bytes written by the test builder
#include "restack/dump/x64_context.h"

#include <string>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/minidump_builder.h"

namespace restack::dump {
namespace {

using ::testing::HasSubstr;
using test::SynthContext;
using test::X64ContextBytes;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(X64ContextTest, ParsesRegistersInWindowsOrder) {
  SynthContext c;
  for (size_t i = 0; i < 16; ++i) c.gpr[i] = 0x1000 + i;
  c.rip = 0x7FF612345678;
  c.eflags = 0x10246;
  c.seg_fs = 0x53;
  c.mxcsr = 0x1FA0;
  c.xmm[0] = {0x0123456789ABCDEFULL, 0xFEDCBA9876543210ULL};
  c.xmm[15] = {0xAAAA, 0xBBBB};
  absl::StatusOr<X64Context> ctx = ParseX64Context(X64ContextBytes(c));
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  for (size_t i = 0; i < 16; ++i) EXPECT_EQ(ctx->gpr[i], 0x1000 + i) << X64GprName(i);
  EXPECT_EQ(ctx->rsp(), 0x1004u);
  EXPECT_EQ(ctx->rbp(), 0x1005u);
  EXPECT_EQ(ctx->rip, 0x7FF612345678u);
  EXPECT_EQ(ctx->eflags, 0x10246u);
  EXPECT_EQ(ctx->seg_cs, 0x33);
  EXPECT_EQ(ctx->seg_ss, 0x2B);
  EXPECT_EQ(ctx->seg_fs, 0x53);
  EXPECT_EQ(ctx->mxcsr, 0x1FA0u);
  EXPECT_EQ(ctx->xmm[0], (Uint128{0x0123456789ABCDEFULL, 0xFEDCBA9876543210ULL}));
  EXPECT_EQ(ctx->xmm[15], (Uint128{0xAAAA, 0xBBBB}));
  EXPECT_EQ(ctx->context_flags, 0x10001Fu);
}

TEST(X64ContextTest, FlagsSayWhichPartsAreValid) {
  SynthContext c;
  c.flags = 0x00100001;  // CONTEXT_CONTROL only
  absl::StatusOr<X64Context> control = ParseX64Context(X64ContextBytes(c));
  ASSERT_TRUE(control.ok()) << control.status();
  EXPECT_TRUE(control->HasControl());
  EXPECT_FALSE(control->HasInteger());
  EXPECT_FALSE(control->HasSegments());
  EXPECT_FALSE(control->HasFloatingPoint());
  EXPECT_TRUE(control->IsGprValid(kRsp));  // rsp comes with CONTROL
  EXPECT_FALSE(control->IsGprValid(kRax));
  EXPECT_FALSE(control->IsGprValid(kRbp));

  c.flags = 0x0010000E;  // INTEGER | SEGMENTS | FLOATING_POINT
  absl::StatusOr<X64Context> rest = ParseX64Context(X64ContextBytes(c));
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_FALSE(rest->HasControl());
  EXPECT_TRUE(rest->HasInteger());
  EXPECT_TRUE(rest->HasSegments());
  EXPECT_TRUE(rest->HasFloatingPoint());
  EXPECT_FALSE(rest->IsGprValid(kRsp));
  EXPECT_TRUE(rest->IsGprValid(kR15));
  EXPECT_FALSE(rest->IsGprValid(16));
}

TEST(X64ContextTest, AcceptsLongerContextWithXstateTail) {
  SynthContext c;
  c.rip = 0x1234;
  std::vector<uint8_t> bytes = X64ContextBytes(c);
  bytes.resize(0x4D0 + 0x340, 0xEE);
  absl::StatusOr<X64Context> ctx = ParseX64Context(bytes);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(ctx->rip, 0x1234u);
}

TEST(X64ContextTest, RejectsShortInput) {
  std::vector<uint8_t> bytes = X64ContextBytes(SynthContext{});
  bytes.resize(0x4CF);
  absl::StatusOr<X64Context> ctx = ParseX64Context(bytes, "t.dmp", 0x2000);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(Message(ctx.status()), HasSubstr("t.dmp: offset 0x2000: CONTEXT"));
  EXPECT_THAT(Message(ctx.status()), HasSubstr("expected at least 0x4d0 bytes, got 0x4cf"));
}

TEST(X64ContextTest, RejectsEmptyInput) {
  absl::StatusOr<X64Context> ctx = ParseX64Context({}, "t.dmp", 0x40);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(Message(ctx.status()), HasSubstr("offset 0x40"));
}

TEST(X64ContextTest, RejectsContextWithoutAmd64Flag) {
  SynthContext c;
  c.flags = 0x0000000B;  // parts, but no CONTEXT_AMD64
  absl::StatusOr<X64Context> ctx = ParseX64Context(X64ContextBytes(c), "t.dmp", 0x1000);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.status().code(), absl::StatusCode::kInvalidArgument);
  // ContextFlags is at CONTEXT + 0x30.
  EXPECT_THAT(Message(ctx.status()), HasSubstr("offset 0x1030: CONTEXT.ContextFlags"));
  EXPECT_THAT(Message(ctx.status()), HasSubstr("got 0xb"));
}

TEST(X64ContextTest, RejectsX86ContextAsUnimplemented) {
  SynthContext c;
  c.flags = 0x0001003F;  // CONTEXT_i386 | ...
  absl::StatusOr<X64Context> ctx = ParseX64Context(X64ContextBytes(c), "t.dmp", 0);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(Message(ctx.status()), HasSubstr("offset 0x30"));
}

TEST(X64ContextTest, GprNamesFollowWindowsRegisterNumbers) {
  EXPECT_EQ(X64GprName(kRax), "rax");
  EXPECT_EQ(X64GprName(kRcx), "rcx");
  EXPECT_EQ(X64GprName(kRsp), "rsp");
  EXPECT_EQ(X64GprName(kRdi), "rdi");
  EXPECT_EQ(X64GprName(kR15), "r15");
  EXPECT_EQ(X64GprName(16), "?");
}

}  // namespace
}  // namespace restack::dump
