// diff_frame_key_test.cc - call sites reduced to the keys restack-diff aligns on
#include "common/frame_key.h"

#include "gtest/gtest.h"

namespace restack::tools {
namespace {

TEST(FrameKey, NamedFrameDropsItsOffsetForMatching) {
  const FrameKey a = KeyOf("nt!KeExpandKernelStackAndCalloutInternal+0xe6");
  const FrameKey b = KeyOf("nt!KeExpandKernelStackAndCalloutInternal+0xe9");
  EXPECT_EQ(a.kind, FrameKeyKind::kFunction);
  EXPECT_EQ(a.name, "nt!KeExpandKernelStackAndCalloutInternal");
  EXPECT_TRUE(a.Matches(b));
  EXPECT_EQ(a.offset, 0xe6u);  // kept for display
  EXPECT_EQ(a.call_site, "nt!KeExpandKernelStackAndCalloutInternal+0xe6");
  EXPECT_FALSE(a.Matches(KeyOf("nt!KeExpandKernelStackAndCalloutEx+0xe6")));
}

TEST(FrameKey, ModuleOffsetKeepsTheRva) {
  const FrameKey a = KeyOf("Hamdrv+0x1f0a");
  EXPECT_EQ(a.kind, FrameKeyKind::kModuleOffset);
  EXPECT_EQ(a.name, "Hamdrv+0x1f0a");
  EXPECT_TRUE(a.Matches(KeyOf("hamdrv+0x1F0A")));  // module names compare as file names
  EXPECT_FALSE(a.Matches(KeyOf("Hamdrv+0x3059")));
}

TEST(FrameKey, StringLiteralChunksOfTwoBuildsLineUp) {
  const FrameKey win8 = KeyOf("nt! ?? ::FNODOBFM::`string'+0xb318");
  const FrameKey win81 = KeyOf("nt! ?? ::FNODOBFM::`string'+0x2a9ab");
  EXPECT_EQ(win8.kind, FrameKeyKind::kChunk);
  EXPECT_EQ(win8.name, "nt!<chunk>");
  EXPECT_TRUE(win8.Matches(win81));
  EXPECT_EQ(KeyOf("nt!??_C@_0BA@CKLMHCHN@IopfCompleteRequest?$AA@+0x10").name, "nt!<chunk>");
  // A chunk of another module is another key.
  EXPECT_FALSE(win8.Matches(KeyOf("hal! ?? ::FNODOBFM::`string'+0x10")));
}

TEST(FrameKey, RestackChunkFramesAreTheirFunction) {
  // restack names a chunk after its function, with (Chunk @ ...) beside it;
  // the codec leaves the annotation out of the call site.
  const FrameKey after = KeyOf("rsnt!IofCompleteRequest+0x17e");
  const FrameKey before = KeyOf("restack_chunks!Ck_Jmp-0xb2");
  EXPECT_EQ(after.kind, FrameKeyKind::kFunction);
  EXPECT_EQ(after.name, "rsnt!IofCompleteRequest");
  EXPECT_EQ(before.name, "restack_chunks!Ck_Jmp");
  EXPECT_TRUE(before.negative_offset);
}

TEST(FrameKey, BareAddressesMatchNothing) {
  const FrameKey a = KeyOf("0x00007ffb`c0dc65ea");
  EXPECT_EQ(a.kind, FrameKeyKind::kUnknown);
  EXPECT_EQ(a.name, "<unknown>");
  EXPECT_FALSE(a.Matches(KeyOf("0x00007ffb`c0dc65ea")));
  EXPECT_FALSE(KeyOf("this is not a call site").Matches(KeyOf("this is not a call site")));
}

TEST(FrameKey, ModuleAlone) {
  const FrameKey k = KeyOf("Hamdrv");
  EXPECT_EQ(k.kind, FrameKeyKind::kModule);
  EXPECT_TRUE(k.Matches(KeyOf("HAMDRV")));
  EXPECT_FALSE(k.Matches(KeyOf("Hamdrv+0x10")));
}

}  // namespace
}  // namespace restack::tools
