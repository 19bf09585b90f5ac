// stack_text_test.cc - the stack-text codec: samples, k variants, pass-through, round trips, JSON
//
// Inputs live in tests/fuzz/corpus/stack_text/ (also the fuzzer's seeds):
//   seed-*.txt          the analysts' samples, copied byte for byte from
//                       /work/shared/samples/stacktext/ (pasted from WinDbg via a web page:
//                       the header lines carry no-break spaces, the frame lines do not)
//   restack-walk-*.txt  restack-walk's own output on tests/fixtures/wine dumps
//                       (cold_chunk and leaf_nopdata with --images tests/fixtures/store --all,
//                       exception with and without images; -sympath: cold_chunk with
//                       --sympath tests/fixtures/store too, exports and (Chunk @ ...));
//                       -inlines: restack-walk's printer on a walk through the inline
//                       fixture (tests/tools/inline_frames_test.cc), (Inline Function) rows
//   restack-sym-*.txt   restack-sym's output: [was: ...] marks; --inline_rows in kvn text
//   hand-*.txt          handwritten from knowledge of WinDbg's output (not captured from a
//                       debugger): k, kb, kn, kvn, kp, kP, knf, knc, kvL, x86 kv/kn, !analyze -v
//                       STACK_TEXT (old and new spacing), ~*kn, !process thread blocks, restack's
//                       kernel titles, warnings among frames, junk around stacks, CRLF.
//   regress-*.txt       inputs stack_text_fuzzer found round-trip bugs with (see the
//                       StackTextRegressionTest cases for the minimal forms)
#include "restack/sym/stack_text.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/file_read.h"

namespace restack::sym {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const fs::path kCorpus = fs::path(RESTACK_SOURCE_DIR) / "tests/fuzz/corpus/stack_text";
const fs::path kSharedSamples = fs::path(RESTACK_SOURCE_DIR) / "../shared/samples/stacktext";

// The file's text (empty when missing).
std::string ReadFile(const fs::path& path) { return test::ReadFileText(path).value_or(""); }

std::string Seed(const std::string& name) { return ReadFile(kCorpus / name); }

std::vector<fs::path> CorpusFiles() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kCorpus)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// The single stack of a text that must be nothing else.
const Stack& OnlyStack(const StackText& text) {
  static const Stack kNone;
  EXPECT_EQ(text.items.size(), 1u);
  const std::vector<const Stack*> stacks = StacksOf(text);
  EXPECT_EQ(stacks.size(), 1u);
  return stacks.empty() ? kNone : *stacks[0];
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t nl = text.find('\n', begin);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(begin, nl - begin));
    begin = nl + 1;
  }
  return lines;
}

const VerbatimLine* AsVerbatim(const StackTextItem& item) { return std::get_if<VerbatimLine>(&item); }

// ---------------------------------------------------------------------------
// The four samples.

struct SampleShape {
  const char* file;
  size_t frames;
};
constexpr SampleShape kSamples[] = {
    {"seed-thread-afd.txt", 7},
    {"seed-thread-hamachi-user.txt", 1},
    {"seed-win8-bitdefender-kv.txt", 20},
    {"seed-win81-tcpip-kv.txt", 22},
};

TEST(StackTextSampleTest, CorpusCopiesAreTheSharedSamples) {
  if (!fs::exists(kSharedSamples)) GTEST_SKIP() << "no " << kSharedSamples;
  for (const SampleShape& s : kSamples) {
    EXPECT_EQ(Seed(s.file), ReadFile(kSharedSamples / s.file)) << s.file;
  }
}

TEST(StackTextSampleTest, EveryFrameLineOfEverySampleIsAFrame) {
  for (const SampleShape& s : kSamples) {
    SCOPED_TRACE(s.file);
    const std::string text = Seed(s.file);
    const StackText parsed = ParseStackText(text);
    const Stack& stack = OnlyStack(parsed);
    EXPECT_TRUE(parsed.warnings.empty());
    ASSERT_EQ(stack.frames.size(), s.frames);
    // Every input line shaped "xxxxxxxx`xxxxxxxx xxxxxxxx`xxxxxxxx : " is a frame line.
    size_t frame_lines = 0;
    for (const std::string& line : Lines(text)) {
      frame_lines += line.size() > 38 && line[8] == '`' && line[26] == '`' && line.find(" : ") == 35;
    }
    EXPECT_EQ(frame_lines, s.frames);
    for (const Frame& f : stack.frames) {
      EXPECT_EQ(f.kind, FrameKind::kFull);
      EXPECT_TRUE(f.wide);
      EXPECT_TRUE(f.child_sp.has_value());
      EXPECT_TRUE(f.return_address.has_value());
      ASSERT_EQ(f.args.size(), 4u);
      for (const auto& a : f.args) EXPECT_TRUE(a.has_value());
      EXPECT_FALSE(f.call_site.text.empty());
      EXPECT_TRUE(!f.call_site.module.empty() || f.call_site.address.has_value()) << f.call_site.text;
      EXPECT_EQ(f.lines.size(), 1u);
    }
    ASSERT_TRUE(stack.column_header.has_value());
    EXPECT_TRUE(stack.column_header->addresses && stack.column_header->args &&
                stack.column_header->call_site);
    // The bottom of each sample: RetAddr 0.
    EXPECT_EQ(stack.frames.back().return_address, 0u);
  }
}

// seed-win81-tcpip-kv.txt, line 4:
// ffffd000`3a7bb820 fffff800`045c1f0a : 00000000`00000000 ffffd000`3ac72f00 ffffe000`088a1340
//   ffffe000`088a1340 : nt! ?? ::FNODOBFM::`string'+0x2a9ab
TEST(StackTextSampleTest, TcpipFrameOneIsFnodobfmStringInNt) {
  const StackText parsed = ParseStackText(Seed("seed-win81-tcpip-kv.txt"));
  const Stack& stack = OnlyStack(parsed);
  ASSERT_EQ(stack.frames.size(), 22u);
  ASSERT_TRUE(stack.prompt.has_value());
  EXPECT_EQ(stack.prompt->prompt, "1: kd>");
  EXPECT_EQ(stack.prompt->command, "kv");

  const Frame& f = stack.frames[1];
  EXPECT_EQ(f.call_site.text, "nt! ?? ::FNODOBFM::`string'+0x2a9ab");
  EXPECT_EQ(f.call_site.module, "nt");
  EXPECT_EQ(f.call_site.function, "?? ::FNODOBFM::`string'");
  EXPECT_EQ(f.call_site.offset, 0x2a9abu);
  EXPECT_EQ(f.child_sp, 0xffffd0003a7bb820u);
  EXPECT_EQ(f.return_address, 0xfffff800045c1f0au);
  EXPECT_THAT(f.args, ::testing::ElementsAre(0u, 0xffffd0003ac72f00u, 0xffffe000088a1340u,
                                             0xffffe000088a1340u));

  // Frame 0: KeBugCheckEx, its first argument the bug check code 0x44.
  EXPECT_EQ(stack.frames[0].call_site.function, "KeBugCheckEx");
  EXPECT_FALSE(stack.frames[0].call_site.offset.has_value());
  EXPECT_EQ(stack.frames[0].args[0], 0x44u);
  // Frame 20: the system call's trap frame; frame 21: user mode, no symbols.
  EXPECT_EQ(stack.frames[20].call_site.text, "nt!KiSystemServiceCopyEnd+0x13");
  EXPECT_EQ(stack.frames[20].trap_frame, 0xffffd0003a7bdb00u);
  EXPECT_EQ(stack.frames[21].call_site.address, 0x7ffbc0dc65eau);
  EXPECT_EQ(stack.frames[21].child_sp, 0xa4ef92eff8u);
}

TEST(StackTextSampleTest, BitdefenderDriversWithoutSymbolsAreModulePlusOffset) {
  const StackText parsed = ParseStackText(Seed("seed-win8-bitdefender-kv.txt"));
  const Stack& stack = OnlyStack(parsed);
  ASSERT_EQ(stack.frames.size(), 20u);
  const Frame& hamdrv = stack.frames[2];  // Hamdrv+0x1f0a
  EXPECT_EQ(hamdrv.call_site.module, "Hamdrv");
  EXPECT_EQ(hamdrv.call_site.function, "");
  EXPECT_EQ(hamdrv.call_site.offset, 0x1f0au);
  EXPECT_EQ(stack.frames[1].call_site.function, "?? ::FNODOBFM::`string'");
  EXPECT_EQ(stack.frames[1].call_site.offset, 0xb318u);
  EXPECT_EQ(stack.frames[14].call_site.text, "bdfndisf6+0x3997");
  // nt!ExpWorkerThread's first "argument" is a value above 2^63.
  EXPECT_EQ(stack.frames[17].args[0], 0x9212ecd941a9baffu);
  EXPECT_EQ(stack.frames[19].call_site.function, "KiStartSystemThread");
}

TEST(StackTextSampleTest, AfdThreadHeaderIsUnderstood) {
  const StackText parsed = ParseStackText(Seed("seed-thread-afd.txt"));
  const Stack& stack = OnlyStack(parsed);
  ASSERT_EQ(stack.header.size(), 19u);
  EXPECT_EQ(stack.header[0].kind, HeaderLineKind::kPrompt);
  EXPECT_EQ(stack.header[1].kind, HeaderLineKind::kThread);
  for (size_t i = 2; i < stack.header.size(); ++i) {
    EXPECT_EQ(stack.header[i].kind, HeaderLineKind::kThreadDetail) << i;
  }
  EXPECT_EQ(stack.prompt->command, "!thread fffffa800c716900");
  ASSERT_TRUE(stack.thread.has_value());
  const ThreadInfo& t = *stack.thread;
  EXPECT_EQ(t.thread, 0xfffffa800c716900u);
  EXPECT_EQ(t.process_id, 0x1c40u);
  EXPECT_EQ(t.thread_id, 0x1da0u);
  EXPECT_EQ(t.teb, 0x7f7fc3b4000u);
  EXPECT_EQ(t.win32_thread, 0xfffff901007ffb90u);
  EXPECT_EQ(t.state, "RUNNING on processor 1");
  EXPECT_EQ(t.processor, 1u);
  ASSERT_EQ(t.irps.size(), 4u);
  EXPECT_EQ(t.irps[0].irp, 0xfffffa800f678980u);
  EXPECT_EQ(t.irps[0].detail, "(0006,0118) Flags: 00060000 Mdl: 00000000 <-- Npfs");
  EXPECT_EQ(t.irps[3].irp, 0xfffffa800c52a520u);
  EXPECT_EQ(t.impersonating, false);
  EXPECT_EQ(t.device_map, 0xfffff8a00000c280u);
  EXPECT_EQ(t.owning_process, 0xfffffa800c4c8940u);
  EXPECT_EQ(t.image, "hamachi-2.exe");
  EXPECT_FALSE(t.attached_process.has_value());  // N/A
  EXPECT_EQ(t.attached_image, "N/A");
  EXPECT_EQ(t.wait_start_tick, 864481u);
  EXPECT_EQ(t.ticks, "0");
  EXPECT_EQ(t.context_switch_count, 43034u);
  EXPECT_EQ(t.ideal_processor, 0u);
  EXPECT_EQ(t.user_time, "00:00:00.125");
  EXPECT_EQ(t.kernel_time, "00:00:00.140");
  EXPECT_EQ(t.win32_start_address, "0x000007fd00a44aa0");
  EXPECT_EQ(t.stack_init, 0xfffff8801ce29c90u);
  EXPECT_EQ(t.stack_current, 0xfffff8801ce29050u);
  EXPECT_EQ(t.stack_base, 0xfffff8801ce2a000u);
  EXPECT_EQ(t.stack_limit, 0xfffff8801ce24000u);
  EXPECT_EQ(t.priority, 8u);
  EXPECT_EQ(t.base_priority, 8u);
}

TEST(StackTextSampleTest, AfdTrapFrameAndBareAddressLastFrame) {
  const StackText parsed = ParseStackText(Seed("seed-thread-afd.txt"));
  const Stack& stack = OnlyStack(parsed);
  ASSERT_EQ(stack.frames.size(), 7u);
  const Frame& syscall = stack.frames[5];
  EXPECT_EQ(syscall.call_site.text, "nt!KiSystemServiceCopyEnd+0x13");
  EXPECT_EQ(syscall.trap_frame, 0xfffff8801ce29b00u);
  EXPECT_EQ(syscall.return_address, 0x7fd03242c5au);
  const Frame& user = stack.frames[6];
  EXPECT_EQ(user.call_site.text, "0x000007fd`03242c5a");
  EXPECT_EQ(user.call_site.address, 0x7fd03242c5au);
  EXPECT_EQ(user.call_site.module, "");
  EXPECT_EQ(user.child_sp, 0x1f9fcb8u);
  EXPECT_EQ(user.return_address, 0u);
  EXPECT_FALSE(user.trap_frame.has_value());
  EXPECT_EQ(stack.frames[1].call_site.module, "afd");
  EXPECT_EQ(stack.frames[1].call_site.function, "AfdEnumNetworkEvents");
  EXPECT_EQ(stack.frames[1].call_site.offset, 0x75u);
}

TEST(StackTextSampleTest, HamachiUserThreadIsOneFrameAtABareAddress) {
  const StackText parsed = ParseStackText(Seed("seed-thread-hamachi-user.txt"));
  const Stack& stack = OnlyStack(parsed);
  ASSERT_TRUE(stack.thread.has_value());
  EXPECT_EQ(stack.thread->thread, 0xffffe00004edd880u);  // "ffffe00004edd880<NBSP> Cid"
  EXPECT_EQ(stack.thread->process_id, 0x8a0u);
  EXPECT_EQ(stack.thread->thread_id, 0x968u);
  EXPECT_EQ(stack.thread->processor, 3u);
  EXPECT_EQ(stack.thread->irps.size(), 4u);
  EXPECT_EQ(stack.thread->stack_base, 0xffffd00035a47000u);
  ASSERT_EQ(stack.frames.size(), 1u);
  EXPECT_EQ(stack.frames[0].call_site.address, 0x7ff640361752u);
  EXPECT_EQ(stack.frames[0].child_sp, 0x1f8f7e0u);
}

TEST(StackTextSampleTest, KvReproducesEverySampleFrameLineByteForByte) {
  for (const SampleShape& s : kSamples) {
    SCOPED_TRACE(s.file);
    const std::string text = Seed(s.file);
    const StackText parsed = ParseStackText(text);
    for (const Frame& f : OnlyStack(parsed).frames) EXPECT_EQ(EmitFrame(f, TextFormat::kKv), f.lines[0]);
    // The whole kv text is the input but for the column header, whose
    // no-break spaces become WinDbg's spaces.
    const std::vector<std::string> in = Lines(text), out = Lines(EmitStackText(parsed, TextFormat::kKv));
    ASSERT_EQ(in.size(), out.size());
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i].substr(0, 8) == "Child-SP") {
        EXPECT_EQ(out[i], "Child-SP          RetAddr           : Args to Child" + std::string(59, ' ') +
                              ": Call Site");
      } else {
        EXPECT_EQ(out[i], in[i]) << "line " << i + 1;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Round trips.

TEST(StackTextRoundTripTest, OriginalFormatIsTheInputForEverySeed) {
  for (const fs::path& p : CorpusFiles()) {
    const std::string text = ReadFile(p);
    const StackText parsed = ParseStackText(text);
    EXPECT_EQ(EmitStackText(parsed, TextFormat::kOriginal), text) << p.filename();
    EXPECT_EQ(ParseStackText(EmitStackText(parsed, TextFormat::kOriginal)), parsed) << p.filename();
  }
}

// The fuzzer's properties, on every seed, with the default limits and with
// the small ones the fuzzer also uses.
TEST(StackTextRoundTripTest, EverySeedReadsBackAlikeFromKvAndKn) {
  StackTextOptions small;
  small.max_line_length = 256;
  small.max_frames = 3;
  small.max_thread_lines = 2;
  small.max_parameter_lines = 2;
  for (const fs::path& p : CorpusFiles()) {
    for (const StackTextOptions& options : {StackTextOptions{}, small}) {
      const std::string text = ReadFile(p);
      const StackText parsed = ParseStackText(text, options);
      EXPECT_EQ(EmitStackText(parsed, TextFormat::kOriginal), text);
      for (TextFormat format : {TextFormat::kKv, TextFormat::kRestackKn}) {
        SCOPED_TRACE(p.filename().string() + (format == TextFormat::kKv ? " kv" : " kn") +
                     (options.max_frames == 3 ? " small" : ""));
        const std::string emitted = EmitStackText(parsed, format);
        const StackText again = ParseStackText(emitted, options);
        EXPECT_EQ(Canonical(again, format), Canonical(parsed, format));
        EXPECT_EQ(EmitStackText(again, format), emitted);
        EXPECT_EQ(StacksOf(again).size(), StacksOf(parsed).size());
      }
    }
  }
}

TEST(StackTextRoundTripTest, KvKeepsEveryFieldOfTheSamples) {
  // parse(emit_kv(parse(x))) == parse(x) but for the input lines themselves.
  for (const SampleShape& s : kSamples) {
    const StackText parsed = ParseStackText(Seed(s.file));
    const StackText again = ParseStackText(EmitStackText(parsed, TextFormat::kKv));
    const Stack& a = OnlyStack(parsed);
    const Stack& b = OnlyStack(again);
    ASSERT_EQ(a.frames.size(), b.frames.size());
    for (size_t i = 0; i < a.frames.size(); ++i) EXPECT_EQ(a.frames[i], b.frames[i]) << s.file << " " << i;
    EXPECT_EQ(a.header, b.header);
    EXPECT_EQ(a.thread, b.thread);
    EXPECT_EQ(a.prompt, b.prompt);
  }
}

TEST(StackTextRoundTripTest, RestackWalkOutputIsWhatTheKnEmitterWrites) {
  for (const char* name : {"restack-walk-cold-chunk.txt", "restack-walk-leaf.txt", "restack-walk-cut.txt",
                           "restack-walk-exception.txt", "restack-walk-sympath.txt",
                           "restack-walk-inlines.txt", "hand-restack-kernel.txt"}) {
    const std::string text = Seed(name);
    const StackText parsed = ParseStackText(text);
    EXPECT_EQ(EmitStackText(parsed, TextFormat::kRestackKn), text) << name;
    EXPECT_EQ(ParseStackText(EmitStackText(parsed, TextFormat::kRestackKn)), parsed) << name;
  }
}

TEST(StackTextRoundTripTest, KnDropsArgumentsAndKeepsAnnotations) {
  const StackText parsed = ParseStackText(Seed("seed-win81-tcpip-kv.txt"));
  const std::vector<std::string> kn = Lines(EmitStackText(parsed, TextFormat::kRestackKn));
  ASSERT_EQ(kn.size(), 24u);
  EXPECT_EQ(kn[1], " # Child-SP          RetAddr               Call Site");
  EXPECT_EQ(kn[3], "01 ffffd000`3a7bb820 fffff800`045c1f0a     nt! ?? ::FNODOBFM::`string'+0x2a9ab");
  EXPECT_EQ(kn[22],
            "14 ffffd000`3a7bda90 00007ffb`c0dc65ea     nt!KiSystemServiceCopyEnd+0x13 (TrapFrame @ "
            "ffffd000`3a7bdb00)");
  const StackText again = ParseStackText(EmitStackText(parsed, TextFormat::kRestackKn));
  EXPECT_TRUE(OnlyStack(again).frames[1].args.empty());
  EXPECT_EQ(OnlyStack(again).frames[20].number, 0x14u);
}

TEST(StackTextRoundTripTest, KvOfRestackOutputIsWindbgKn) {
  const StackText parsed = ParseStackText(Seed("restack-walk-leaf.txt"));
  const std::vector<std::string> kv = Lines(EmitStackText(parsed, TextFormat::kKv));
  EXPECT_EQ(kv[1], " # Child-SP          RetAddr           Call Site");
  EXPECT_EQ(kv[3], "01 00000000`023dfdd0 00000001`40001302 restack_fx+0x1bb4    [trust: leaf]");
}

TEST(StackTextRoundTripTest, CanonicalForgetsOnlyWhatTheFormatCannotPrint) {
  const StackText parsed = ParseStackText(Seed("hand-kf.txt"));
  const Stack& kv = std::get<Stack>(Canonical(parsed, TextFormat::kKv).items[0]);
  EXPECT_FALSE(kv.frames[1].memory.has_value());
  EXPECT_TRUE(kv.frames[1].lines.empty());
  EXPECT_EQ(kv.frames[1].number, 1u);
  const Stack& orig = std::get<Stack>(Canonical(parsed, TextFormat::kOriginal).items[0]);
  EXPECT_EQ(orig.frames[1].memory, 8u);
  const StackText kb = ParseStackText(Seed("hand-kb-x64.txt"));
  const Stack& kn = std::get<Stack>(Canonical(kb, TextFormat::kRestackKn).items[0]);
  EXPECT_TRUE(kn.frames[2].args.empty());
  EXPECT_EQ(kn.frames[2].number, 2u);  // made explicit
}

// ---------------------------------------------------------------------------
// Each k variant, from the handwritten seeds.

TEST(StackTextVariantTest, KHasChildSpRetAddrAndCxxCallSites) {
  const StackText parsed = ParseStackText(Seed("hand-k-x64.txt"));
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 11u);
  for (const Frame& f : s.frames) EXPECT_TRUE(f.args.empty());
  EXPECT_EQ(s.frames[4].call_site.function,
            "std::basic_ostream<char,std::char_traits<char> >::operator<<");
  EXPECT_EQ(s.frames[4].call_site.offset, 0x3cu);
  EXPECT_EQ(s.frames[5].call_site.function, "`anonymous namespace'::Worker::Run");
  EXPECT_EQ(s.frames[6].call_site.function, "<lambda_1f2e3d4c5b6a79881726354453627180>::operator()");
  EXPECT_EQ(s.frames[6].call_site.parameters, "");
  EXPECT_EQ(s.frames[7].call_site.function, "Table<Entry<int>,std::less<int> >::Find");
  EXPECT_EQ(s.frames[8].call_site.module, "<Unloaded_Hamdrv.sys>");
  EXPECT_EQ(s.frames[8].call_site.offset, 0x1f0au);
  EXPECT_FALSE(s.column_header->args);
}

TEST(StackTextVariantTest, KbHasFourArguments) {
  const StackText parsed = ParseStackText(Seed("hand-kb-x64.txt"));
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 3u);
  EXPECT_THAT(s.frames[0].args, ::testing::ElementsAre(0u, 0u, 0u, 0x40u));
  EXPECT_EQ(s.prompt->command, "kb");
}

TEST(StackTextVariantTest, KnNumbersInlineRowsAndSourceLines) {
  const StackText parsed = ParseStackText(Seed("hand-kn-inline-source.txt"));
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 5u);
  const Frame& inl = s.frames[0];
  EXPECT_EQ(inl.kind, FrameKind::kInline);
  EXPECT_EQ(inl.number, 0u);
  EXPECT_FALSE(inl.child_sp.has_value());
  EXPECT_FALSE(inl.return_address.has_value());
  EXPECT_EQ(inl.call_site.function, "std::vector<int,std::allocator<int> >::operator[]");
  ASSERT_TRUE(inl.source.has_value());
  EXPECT_EQ(inl.source->file, "c:\\program files\\msvc\\include\\vector");
  EXPECT_EQ(inl.source->line, 1501u);
  EXPECT_EQ(s.frames[1].number, 1u);
  EXPECT_EQ(s.frames[1].source->line, 42u);
  EXPECT_TRUE(s.column_header->number);
}

TEST(StackTextVariantTest, KvnInlineRowHasDashesForArguments) {
  const StackText parsed = ParseStackText(Seed("hand-kvn-inline.txt"));
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 3u);
  EXPECT_EQ(s.frames[0].kind, FrameKind::kInline);
  ASSERT_EQ(s.frames[0].args.size(), 4u);
  for (const auto& a : s.frames[0].args) EXPECT_FALSE(a.has_value());
  for (const Frame& f : s.frames) EXPECT_EQ(EmitFrame(f, TextFormat::kKv), f.lines[0]);
  EXPECT_EQ(s.frames[2].call_site.function, "$filt$0");
  EXPECT_EQ(s.frames[2].call_site.offset, 0x2au);
}

TEST(StackTextVariantTest, KpKeepsParametersApartFromTheFunction) {
  const StackText parsed = ParseStackText(Seed("hand-kp.txt"));
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 4u);
  const CallSite& wmain = s.frames[1].call_site;
  EXPECT_EQ(wmain.function, "wmain");
  EXPECT_EQ(wmain.parameters, "(int argc = 0n1, wchar_t ** argv = 0x00000000`003a2f50)");
  EXPECT_EQ(wmain.offset, 0x36u);
  EXPECT_EQ(s.frames[1].source->file, "c:\\src\\app\\main.cpp");
  EXPECT_EQ(s.frames[2].call_site.function, "<lambda_3f1c9a2e>::operator()");
  EXPECT_EQ(s.frames[2].call_site.parameters, "(int x = 0n5)");
  EXPECT_EQ(s.frames[3].call_site.function, "Outer::operator()");
  EXPECT_EQ(s.frames[3].call_site.parameters, "");
}

TEST(StackTextVariantTest, KPParametersSpanIndentedLines) {
  const std::string text = Seed("hand-kP.txt");
  const StackText parsed = ParseStackText(text);
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 2u);
  const Frame& f = s.frames[0];
  EXPECT_EQ(f.lines.size(), 3u);
  EXPECT_EQ(f.call_site.function, "wmain");
  EXPECT_EQ(f.call_site.parameters,
            "(\n\t\t\tint argc = 0n1, \n\t\t\twchar_t ** argv = 0x00000000`003a2f50)");
  EXPECT_EQ(f.call_site.offset, 0x36u);
  EXPECT_EQ(f.source->line, 42u);
  EXPECT_EQ(s.frames[1].call_site.parameters, "(void)");
  EXPECT_EQ(EmitStackText(parsed, TextFormat::kKv), text);
}

TEST(StackTextVariantTest, KfMemoryColumn) {
  const StackText parsed = ParseStackText(Seed("hand-kf.txt"));
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 3u);
  EXPECT_TRUE(s.column_header->memory);
  EXPECT_FALSE(s.frames[0].memory.has_value());
  EXPECT_EQ(s.frames[1].memory, 8u);
  EXPECT_EQ(s.frames[2].memory, 0xa0u);
  EXPECT_EQ(s.frames[2].number, 2u);
  EXPECT_EQ(s.frames[2].child_sp, 0x14f770u);
}

TEST(StackTextVariantTest, KfWithoutNumbersReadsTheLoneColumnAsMemory) {
  const std::string text =
      "   Memory  Child-SP          RetAddr           Call Site\n"
      "        70 00000000`0014f1c0 00000000`00000000 KERNELBASE!WaitForSingleObjectEx+0x9c\n";
  const StackText parsed = ParseStackText(text);
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 1u);
  EXPECT_EQ(s.frames[0].memory, 0x70u);
  EXPECT_FALSE(s.frames[0].number.has_value());
}

TEST(StackTextVariantTest, KcIsCallSitesOnly) {
  const std::string text = Seed("hand-kc.txt");
  const StackText parsed = ParseStackText(text);
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 5u);
  for (const Frame& f : s.frames) EXPECT_EQ(f.kind, FrameKind::kCallSiteOnly);
  EXPECT_EQ(s.frames[0].call_site.function, "NtWaitForSingleObject");
  EXPECT_EQ(s.frames[3].call_site.module, "Hamdrv");
  EXPECT_EQ(s.frames[3].call_site.offset, 0x1f0au);
  EXPECT_EQ(s.frames[4].call_site.address, 0x77a0c541u);
  EXPECT_EQ(s.frames[4].number, 4u);
  EXPECT_EQ(EmitStackText(parsed, TextFormat::kKv), text);
}

TEST(StackTextVariantTest, KcRowsNeedTheCallSiteHeader) {
  // Without " # Call Site" above them, "00 ntdll!X" lines are not frames.
  const StackText parsed = ParseStackText("00 ntdll!NtWaitForSingleObject\n01 kernel32!Foo\n");
  EXPECT_TRUE(StacksOf(parsed).empty());
  EXPECT_EQ(parsed.items.size(), 2u);
}

TEST(StackTextVariantTest, KLHasNoSourceLines) {
  const StackText parsed = ParseStackText(Seed("hand-kL.txt"));
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 2u);
  for (const Frame& f : s.frames) {
    EXPECT_FALSE(f.source.has_value());
    EXPECT_EQ(f.args.size(), 4u);
  }
  EXPECT_EQ(s.prompt->command, "kvL");
}

TEST(StackTextVariantTest, X86KvHasThreeArgumentsFpoConvAndTrapFrame) {
  const std::string text = Seed("hand-x86-kv.txt");
  const StackText parsed = ParseStackText(text);
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 7u);
  for (const Frame& f : s.frames) {
    EXPECT_FALSE(f.wide);
    EXPECT_EQ(f.args.size(), 3u);
  }
  EXPECT_EQ(s.prompt->prompt, "0:000:x86>");
  EXPECT_EQ(s.frames[0].child_sp, 0x19fe8cu);
  EXPECT_EQ(s.frames[0].call_site.module, "ntdll_77010000");
  EXPECT_EQ(s.frames[0].fpo, "[3,0,0]");
  EXPECT_EQ(s.frames[3].fpo, "[Non-Fpo]");
  EXPECT_EQ(s.frames[3].conv, "cdecl");
  EXPECT_EQ(s.frames[3].source->file, "c:\\src\\app\\main.c");
  EXPECT_EQ(s.frames[4].fpo, "[0,0]");
  EXPECT_EQ(s.frames[4].trap_frame, 0x19ff58u);
  EXPECT_EQ(s.frames[6].fpo, "[SEH]");
  EXPECT_EQ(EmitStackText(parsed, TextFormat::kKv), text);
}

TEST(StackTextVariantTest, X86KnWithInlineRow) {
  const std::string text = Seed("hand-x86-k.txt");
  const StackText parsed = ParseStackText(text);
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 4u);
  EXPECT_EQ(s.frames[2].kind, FrameKind::kInline);
  EXPECT_FALSE(s.frames[2].wide);
  EXPECT_EQ(s.frames[3].return_address, 0u);
  EXPECT_EQ(s.prompt->prompt, "kd>");
  EXPECT_EQ(EmitStackText(parsed, TextFormat::kKv), text);
}

TEST(StackTextVariantTest, AnalyzeStackTextBlockAmongVerbatimLines) {
  const std::string text = Seed("hand-analyze.txt");
  const StackText parsed = ParseStackText(text);
  const std::vector<const Stack*> stacks = StacksOf(parsed);
  ASSERT_EQ(stacks.size(), 1u);
  const Stack& s = *stacks[0];
  EXPECT_TRUE(s.stack_text_label);
  EXPECT_FALSE(s.column_header.has_value());
  ASSERT_EQ(s.frames.size(), 3u);
  EXPECT_EQ(s.frames[1].call_site.function, "?? ::FNODOBFM::`string'");
  EXPECT_EQ(s.frames[2].call_site.text, "Hamdrv+0x1f0a");
  // Lines 1-6 before it and 11-15 after it stay where they were.
  ASSERT_EQ(parsed.items.size(), 12u);
  EXPECT_EQ(AsVerbatim(parsed.items[0])->text, "BUGCHECK_CODE:  44");
  EXPECT_EQ(AsVerbatim(parsed.items[4])->text, "LAST_CONTROL_TRANSFER:  from fffff803d802e6f2 to fffff803d8075440");
  EXPECT_EQ(s.first_line, 7u);
  EXPECT_EQ(AsVerbatim(parsed.items[9])->text, "STACK_COMMAND:  kb");
  EXPECT_EQ(EmitStackText(parsed, TextFormat::kKv), text);
}

TEST(StackTextVariantTest, AnalyzeStackTextWithWiderSpacing) {
  const StackText parsed = ParseStackText(Seed("hand-analyze-new.txt"));
  const std::vector<const Stack*> stacks = StacksOf(parsed);
  ASSERT_EQ(stacks.size(), 1u);
  ASSERT_EQ(stacks[0]->frames.size(), 3u);
  EXPECT_EQ(stacks[0]->frames[0].args[0], 0xau);
  EXPECT_EQ(stacks[0]->frames[2].trap_frame, 0xffffbb865d05f220u);
}

TEST(StackTextVariantTest, TildeStarThreadTitles) {
  const StackText parsed = ParseStackText(Seed("hand-tilde-star.txt"));
  const std::vector<const Stack*> stacks = StacksOf(parsed);
  ASSERT_EQ(stacks.size(), 2u);
  EXPECT_EQ(AsVerbatim(parsed.items[0])->text, "0:001> ~*kn");  // prints no stack itself
  const StackTitle& t0 = *stacks[0]->title;
  EXPECT_EQ(t0.marker, ' ');
  EXPECT_EQ(t0.thread_index, 0u);
  EXPECT_EQ(t0.process_id, 0x1a30u);
  EXPECT_EQ(t0.thread_id, 0x1b00u);
  EXPECT_EQ(t0.suspend_count, 1u);
  EXPECT_EQ(t0.teb, 0xd82ae0d000u);
  EXPECT_EQ(t0.rest, "Unfrozen");
  EXPECT_EQ(t0.context, "");
  const StackTitle& t1 = *stacks[1]->title;
  EXPECT_EQ(t1.marker, '.');
  EXPECT_EQ(t1.rest, "Unfrozen \"worker\"");
  EXPECT_EQ(stacks[1]->frames[0].call_site.function, "DbgBreakPoint");
  EXPECT_TRUE(IsStackCommand("~*kn"));
}

TEST(StackTextVariantTest, ProcessListingThreadBlocks) {
  const StackText parsed = ParseStackText(Seed("hand-process-threads.txt"));
  const std::vector<const Stack*> stacks = StacksOf(parsed);
  ASSERT_EQ(stacks.size(), 2u);
  const ThreadInfo& t = *stacks[0]->thread;
  EXPECT_EQ(t.thread, 0xfffffa8004a8a060u);
  EXPECT_EQ(t.process_id, 4u);
  EXPECT_EQ(t.thread_id, 8u);
  EXPECT_EQ(t.state, "WAIT: (WrQueue) KernelMode Non-Alertable");
  EXPECT_FALSE(t.processor.has_value());
  EXPECT_EQ(t.ticks, "172 (0:00:00:02.683)");
  EXPECT_EQ(t.win32_start_address, "nt!ExpWorkerThread (0xfffff80002aa8770)");
  EXPECT_EQ(t.priority, 13u);
  EXPECT_EQ(t.base_priority, 12u);
  ASSERT_EQ(stacks[0]->frames.size(), 6u);
  EXPECT_EQ(stacks[0]->frames[0].child_sp, 0xfffff880031258b0u);  // indented rows
  // A thread without a resident stack: a stack of no frames.
  EXPECT_TRUE(stacks[1]->frames.empty());
  EXPECT_THAT(stacks[1]->header.back().text, HasSubstr("Kernel stack not resident."));
  EXPECT_EQ(AsVerbatim(parsed.items[0])->text, "PROCESS fffffa8004a2d9e0");
}

TEST(StackTextVariantTest, RestackKernelTitlesChunksAndTrust) {
  const StackText parsed = ParseStackText(Seed("hand-restack-kernel.txt"));
  const std::vector<const Stack*> stacks = StacksOf(parsed);
  ASSERT_EQ(stacks.size(), 4u);
  const StackTitle& bugcheck = *stacks[0]->title;
  EXPECT_EQ(bugcheck.context, "bugcheck");
  EXPECT_EQ(bugcheck.marker, '#');
  EXPECT_EQ(bugcheck.processor, 0u);
  EXPECT_EQ(bugcheck.prcb, 0xfffff803d84ad000u);
  EXPECT_EQ(bugcheck.kernel_thread, 0xfffffa800850a040u);
  EXPECT_EQ(bugcheck.context_source, "prcb-context");
  EXPECT_EQ(stacks[0]->frames[1].chunk_start, 0xfffff803d84ad000u);
  EXPECT_EQ(stacks[0]->frames[1].call_site.function, "KiBugCheckDispatch");
  EXPECT_EQ(stacks[0]->frames[2].trust, "scan");
  ASSERT_EQ(stacks[0]->notes.size(), 2u);
  EXPECT_EQ(stacks[0]->notes[0].before_frame, 3u);
  ASSERT_TRUE(stacks[0]->end.has_value());
  EXPECT_EQ(stacks[0]->end->reason, "outside_modules");
  EXPECT_EQ(stacks[0]->end->detail, "RIP 0xfffff8801a803059 is in no module");
  EXPECT_EQ(stacks[1]->title->context, "processor");
  EXPECT_EQ(stacks[1]->title->processor, 1u);
  EXPECT_EQ(stacks[2]->title->context, "header");
  EXPECT_FALSE(stacks[2]->frames[0].return_address.has_value());  // ????????`????????
  EXPECT_EQ(stacks[2]->end->reason, "unwind_failed");
  EXPECT_EQ(stacks[3]->title->context, "cxr");
  EXPECT_EQ(stacks[3]->title->cxr, 0xffff850429891720u);
  EXPECT_EQ(stacks[3]->frames[0].trust, "frame_pointer");
  EXPECT_EQ(stacks[3]->frames[0].call_site.address, 0xfffff803d80c4b77u);
}

TEST(StackTextVariantTest, RestackWalkOutputTitlesAndTrust) {
  const StackText leaf_text = ParseStackText(Seed("restack-walk-leaf.txt"));
  const std::vector<const Stack*> leaf = StacksOf(leaf_text);
  ASSERT_EQ(leaf.size(), 2u);
  EXPECT_EQ(leaf[0]->title->context, "thread");
  EXPECT_EQ(leaf[0]->title->thread_index, 1u);
  EXPECT_EQ(leaf[0]->title->thread_id, 0x158u);
  EXPECT_EQ(leaf[0]->title->teb, 0x67fd0000u);
  EXPECT_EQ(leaf[0]->frames[1].trust, "leaf");
  EXPECT_EQ(leaf[0]->frames[1].call_site.module, "restack_fx");
  EXPECT_EQ(leaf[0]->frames[1].call_site.offset, 0x1bb4u);

  // With --sympath: exports named, separated chunks marked.
  const StackText sympath_text = ParseStackText(Seed("restack-walk-sympath.txt"));
  const std::vector<const Stack*> sympath = StacksOf(sympath_text);
  ASSERT_EQ(sympath.size(), 3u);
  EXPECT_EQ(sympath[0]->frames[0].call_site.text, "restack_fx+0xa9f3");
  EXPECT_EQ(sympath[0]->frames[0].chunk_start, 0x14000a9d0u);
  EXPECT_EQ(sympath[0]->frames[2].call_site.module, "kernel32");
  EXPECT_EQ(sympath[0]->frames[2].call_site.function, "BaseThreadInitThunk");
  EXPECT_EQ(sympath[0]->frames[2].call_site.offset, 9u);
  EXPECT_EQ(sympath[2]->frames[0].call_site.function, "D_Spin1");

  const StackText cut = ParseStackText(Seed("restack-walk-cut.txt"));
  const Stack& s = *StacksOf(cut)[0];
  EXPECT_EQ(s.title->context, "exception");
  EXPECT_EQ(s.title->marker, '#');
  EXPECT_FALSE(s.frames[0].return_address.has_value());
  ASSERT_TRUE(s.end.has_value());
  EXPECT_EQ(s.end->reason, "image_missing");
  EXPECT_THAT(s.end->detail, StartsWith("no image for restack_fx.exe"));
}

TEST(StackTextVariantTest, WarningsAmongFramesKeepTheirPlace) {
  const std::string text = Seed("hand-warnings.txt");
  const StackText parsed = ParseStackText(text);
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 3u);
  ASSERT_EQ(s.header.size(), 2u);
  EXPECT_EQ(s.header[1].kind, HeaderLineKind::kNote);
  ASSERT_EQ(s.notes.size(), 2u);
  EXPECT_EQ(s.notes[0].before_frame, 1u);
  EXPECT_THAT(s.notes[0].text, StartsWith("WARNING: Stack unwind information not available."));
  EXPECT_EQ(s.notes[1].before_frame, 2u);
  EXPECT_THAT(s.notes[1].text, StartsWith("*** ERROR: Module load completed"));
  EXPECT_EQ(s.frames[0].call_site.address, 0x12345678u);
  EXPECT_EQ(s.frames[1].context_record, 0x14f900u);
  EXPECT_EQ(EmitStackText(parsed, TextFormat::kKv), text);
}

// ---------------------------------------------------------------------------
// Pass-through.

TEST(StackTextPassThroughTest, JunkLinesStayInOrder) {
  const std::string text = Seed("hand-junk-mixed.txt");
  const StackText parsed = ParseStackText(text);
  ASSERT_EQ(parsed.items.size(), 10u);
  const std::vector<std::string> lines = Lines(text);
  // Items 3 and 8 are stacks; the others the junk lines, in input order.
  size_t line = 0;
  for (size_t i = 0; i < parsed.items.size(); ++i) {
    if (const VerbatimLine* v = AsVerbatim(parsed.items[i])) {
      EXPECT_EQ(v->line, line + 1) << i;
      EXPECT_EQ(v->text, lines[line]) << i;
      ++line;
    } else {
      const Stack& s = std::get<Stack>(parsed.items[i]);
      EXPECT_EQ(s.first_line, line + 1) << i;
      line += s.header.size() + (s.column_header ? 1 : 0) + s.frames.size() + s.notes.size();
    }
  }
  EXPECT_EQ(line, lines.size());
  EXPECT_EQ(std::get<Stack>(parsed.items[3]).frames.size(), 1u);
  EXPECT_THAT(AsVerbatim(parsed.items[4])->text, HasSubstr("00000000`777d12 KERNELBASE"));  // truncated
  EXPECT_THAT(AsVerbatim(parsed.items[5])->text, HasSubstr("zzzzzzzz`3f4f1036"));  // not hex
  EXPECT_EQ(std::get<Stack>(parsed.items[8]).frames.size(), 1u);  // after "*** ERROR" alone
  EXPECT_EQ(AsVerbatim(parsed.items[9])->text, "thanks");
  EXPECT_FALSE(parsed.final_newline);
  for (TextFormat f : {TextFormat::kOriginal, TextFormat::kKv}) {
    EXPECT_EQ(EmitStackText(parsed, f), text);
  }
}

TEST(StackTextPassThroughTest, MalformedFrameLinesAreKeptVerbatim) {
  const std::vector<std::string> bad = {
      // truncated Child-SP
      "fffff880`031a9d4 fffff803`d802e6f2 : 00000000`00000044 fffffa80`0ea3f910 00000000`00000f7a "
      "00000000`00000000 : nt!KeBugCheckEx",
      // not hex
      "fffff880`031a9dxx fffff803`d802e6f2 : 00000000`00000044 fffffa80`0ea3f910 00000000`00000f7a "
      "00000000`00000000 : nt!KeBugCheckEx",
      // the second colon missing
      "fffff880`031a9d48 fffff803`d802e6f2 : 00000000`00000044 fffffa80`0ea3f910 nt!KeBugCheckEx",
      // five arguments
      "fffff880`031a9d48 fffff803`d802e6f2 : 00000000`00000001 00000000`00000002 00000000`00000003 "
      "00000000`00000004 00000000`00000005 : nt!KeBugCheckEx",
      // no call site
      "fffff880`031a9d48 fffff803`d802e6f2",
      "fffff880`031a9d48 fffff803`d802e6f2 : 00000000`00000044 :",
      // one address column
      "fffff880`031a9d48 nt!KeBugCheckEx",
      // the backtick misplaced
      "fffff880031a9`d48 fffff803`d802e6f2 nt!KeBugCheckEx",
      // a frame number too long
      "0000001 fffff880`031a9d48 fffff803`d802e6f2 nt!KeBugCheckEx",
      // an IRP line outside a !thread block
      "    fffffa800f678980: (0006,0118) Flags: 00060000  Mdl: 00000000",
  };
  for (const std::string& line : bad) {
    const std::string text = line + "\n";
    const StackText parsed = ParseStackText(text);
    ASSERT_EQ(parsed.items.size(), 1u) << line;
    ASSERT_NE(AsVerbatim(parsed.items[0]), nullptr) << line;
    for (TextFormat f : {TextFormat::kOriginal, TextFormat::kKv, TextFormat::kRestackKn}) {
      EXPECT_EQ(EmitStackText(parsed, f), text) << line;
    }
  }
}

TEST(StackTextPassThroughTest, AbsurdlyLongLinesAreKeptVerbatim) {
  const std::string frame =
      "fffff880`031a9d48 fffff803`d802e6f2 : 00000000`00000044 fffffa80`0ea3f910 00000000`00000f7a "
      "00000000`00000000 : nt!";
  const std::string text = "7: kd> kv\n" + frame + std::string(70000, 'A') + "\n" + frame + "B\n";
  const StackText parsed = ParseStackText(text);
  ASSERT_EQ(parsed.warnings.size(), 1u);
  EXPECT_EQ(parsed.warnings[0].line, 2u);
  EXPECT_THAT(parsed.warnings[0].what, HasSubstr("kept verbatim"));
  ASSERT_EQ(parsed.items.size(), 3u);
  EXPECT_NE(AsVerbatim(parsed.items[0]), nullptr);  // a prompt without frames
  EXPECT_EQ(AsVerbatim(parsed.items[1])->text.size(), frame.size() + 70000);
  EXPECT_EQ(std::get<Stack>(parsed.items[2]).frames[0].call_site.function, "B");
  EXPECT_EQ(EmitStackText(parsed, TextFormat::kOriginal), text);

  // Just under the limit, a row whose kv/kn forms would not fit stays verbatim too.
  StackTextOptions small;
  small.max_line_length = 300;
  const std::string near = frame + std::string(300 - frame.size() - 4, 'C') + "\n";
  const StackText p2 = ParseStackText(near, small);
  ASSERT_EQ(p2.items.size(), 1u);
  EXPECT_NE(AsVerbatim(p2.items[0]), nullptr);
  EXPECT_TRUE(p2.warnings.empty());
}

TEST(StackTextPassThroughTest, CrlfLinesKeepTheirCarriageReturns) {
  const std::string text = Seed("hand-crlf-kv.txt");
  const StackText parsed = ParseStackText(text);
  const Stack& s = OnlyStack(parsed);
  ASSERT_EQ(s.frames.size(), 4u);
  EXPECT_EQ(s.frames[0].call_site.text, "nt!KeBugCheckEx");
  EXPECT_EQ(s.frames[0].lines[0].back(), '\r');
  EXPECT_EQ(s.prompt->command, "kv");
  EXPECT_EQ(EmitStackText(parsed, TextFormat::kOriginal), text);
}

TEST(StackTextPassThroughTest, PromptsOfOtherCommandsAndEmptyText) {
  const StackText parsed = ParseStackText("0:000> r\n0:000> lm\n\n0:000> kv\n");
  ASSERT_EQ(parsed.items.size(), 4u);
  for (const StackTextItem& item : parsed.items) EXPECT_NE(AsVerbatim(item), nullptr);
  const StackText empty = ParseStackText("");
  EXPECT_TRUE(empty.items.empty());
  EXPECT_EQ(EmitStackText(empty, TextFormat::kKv), "");
  EXPECT_EQ(EmitStackText(ParseStackText("\n"), TextFormat::kOriginal), "\n");
}

// ---------------------------------------------------------------------------
// Call sites and annotations.

TEST(StackTextCallSiteTest, ModuleFunctionAndOffset) {
  const CallSite cs = ParseCallSite("nt!KiSystemServiceCopyEnd+0x13");
  EXPECT_EQ(cs.module, "nt");
  EXPECT_EQ(cs.function, "KiSystemServiceCopyEnd");
  EXPECT_EQ(cs.offset, 0x13u);
  EXPECT_FALSE(cs.address.has_value());
  const CallSite m = ParseCallSite("Hamdrv+0x1f0a");
  EXPECT_EQ(m.module, "Hamdrv");
  EXPECT_EQ(m.function, "");
  EXPECT_EQ(m.offset, 0x1f0au);
  EXPECT_EQ(ParseCallSite("nt!KeBugCheckEx").offset, std::nullopt);
  EXPECT_EQ(ParseCallSite("Hamdrv").module, "Hamdrv");  // kc without symbols
}

TEST(StackTextCallSiteTest, BareAddresses) {
  EXPECT_EQ(ParseCallSite("0x000007fd`03242c5a").address, 0x7fd03242c5au);
  EXPECT_EQ(ParseCallSite("fffff880`01e7dcc9").address, 0xfffff88001e7dcc9u);
  EXPECT_EQ(ParseCallSite("0x12345678").address, 0x12345678u);
  EXPECT_EQ(ParseCallSite("0xfffff88001e7dcc9").address, 0xfffff88001e7dcc9u);
  EXPECT_FALSE(ParseCallSite("fffff880`01e7dc").address.has_value());
  EXPECT_FALSE(ParseCallSite("0x1234567890abcdef0").address.has_value());
}

TEST(StackTextCallSiteTest, CxxNames) {
  EXPECT_EQ(ParseCallSite("nt! ?? ::FNODOBFM::`string'+0x2a9ab").function, "?? ::FNODOBFM::`string'");
  EXPECT_EQ(ParseCallSite("app!foo<bar<int> >+0x1").function, "foo<bar<int> >");
  EXPECT_EQ(ParseCallSite("app!Stream::operator<<").function, "Stream::operator<<");
  EXPECT_EQ(ParseCallSite("app!Vec::operator+").function, "Vec::operator+");
  EXPECT_EQ(ParseCallSite("app!Vec::operator++0x4").function, "Vec::operator+");
  EXPECT_EQ(ParseCallSite("app!Vec::operator++0x4").offset, 4u);
  const CallSite call = ParseCallSite("app!<lambda_9>::operator()+0x11");
  EXPECT_EQ(call.function, "<lambda_9>::operator()");
  EXPECT_EQ(call.parameters, "");
  const CallSite kp = ParseCallSite("app!<lambda_9>::operator()(int x = 0n5)+0x11");
  EXPECT_EQ(kp.function, "<lambda_9>::operator()");
  EXPECT_EQ(kp.parameters, "(int x = 0n5)");
  EXPECT_EQ(ParseCallSite("app!$filt$0+0x2a").function, "$filt$0");
  EXPECT_EQ(ParseCallSite("app!`dynamic initializer for 'g_table''+0x5").function,
            "`dynamic initializer for 'g_table''");
}

TEST(StackTextCallSiteTest, TextThatIsNoCallSite) {
  const CallSite cs = ParseCallSite("as you can see");
  EXPECT_EQ(cs.module, "");
  EXPECT_EQ(cs.function, "");
  EXPECT_FALSE(cs.offset.has_value());
  EXPECT_FALSE(cs.address.has_value());
  EXPECT_EQ(cs.text, "as you can see");
}

TEST(StackTextCallSiteTest, FormatCallSiteReadsBack) {
  for (const CallSite& parts : {CallSite{"", "nt", "KeBugCheckEx", "", std::nullopt, std::nullopt},
                                CallSite{"", "Hamdrv", "", "", 0x1f0a, std::nullopt},
                                CallSite{"", "app", "wmain", "(int argc = 0n1)", 0x36, std::nullopt},
                                CallSite{"", "", "", "", std::nullopt, 0x7fd03242c5a}}) {
    CallSite expected = parts;
    expected.text = FormatCallSite(parts);
    EXPECT_EQ(ParseCallSite(expected.text), expected) << expected.text;
  }
  EXPECT_EQ(FormatCallSite({"", "", "", "", std::nullopt, 0x7fd03242c5a}), "0x000007fd`03242c5a");
}

TEST(StackTextCallSiteTest, AnnotationsAreReadInAnyOrder) {
  const std::string row =
      "00000000`0014f7a0 00000001`3f4f12a4 app!f+0x1 [c:\\a b\\f.c @ 7] (Chunk @ 00000001`3f4f0000)"
      " (CONTEXT @ 00000000`0014f900)    [trust: leaf] (TrapFrame @ fffff880`1ce29b00) (Foo @ 12)";
  const StackText parsed = ParseStackText(row + "\n");
  const Frame& f = OnlyStack(parsed).frames.at(0);
  EXPECT_EQ(f.call_site.text, "app!f+0x1");
  EXPECT_EQ(f.source->file, "c:\\a b\\f.c");
  EXPECT_EQ(f.source->line, 7u);
  EXPECT_EQ(f.chunk_start, 0x13f4f0000u);
  EXPECT_EQ(f.context_record, 0x14f900u);
  EXPECT_EQ(f.trust, "leaf");
  EXPECT_EQ(f.trap_frame, 0xfffff8801ce29b00u);
  EXPECT_THAT(f.other_annotations, ::testing::ElementsAre("(Foo @ 12)"));
  // kv puts them where WinDbg does: FPO/CONV, TrapFrame, CONTEXT, then source; trust last.
  EXPECT_EQ(EmitFrame(f, TextFormat::kKv),
            "00000000`0014f7a0 00000001`3f4f12a4 app!f+0x1 (TrapFrame @ fffff880`1ce29b00) (CONTEXT @ "
            "00000000`0014f900) (Chunk @ 00000001`3f4f0000) (Foo @ 12) [c:\\a b\\f.c @ 7]    [trust: leaf]");
  // A second annotation of a kind stays in the call site text.
  const StackText twice = ParseStackText(
      "00000000`0014f7a0 00000001`3f4f12a4 app!f (TrapFrame @ 1) (TrapFrame @ 2)\n");
  EXPECT_EQ(OnlyStack(twice).frames.at(0).call_site.text, "app!f (TrapFrame @ 1)");
  EXPECT_EQ(OnlyStack(twice).frames.at(0).trap_frame, 2u);
}

// ---------------------------------------------------------------------------
// Limits and hostile input.

TEST(StackTextRobustnessTest, UnclosedKPParametersStayOnOneLine) {
  const std::string text =
      "Child-SP          RetAddr           Call Site\n"
      "00000000`0014f7a0 00000001`3f4f12a4 app!f(\n"
      "\t\t\tint a = 0n1, \n"
      "\t\t\tint b = 0n2\n"
      "00000000`0014f7e0 00000000`00000000 app!g+0x4\n";
  const StackText parsed = ParseStackText(text);
  ASSERT_GE(parsed.items.size(), 1u);
  const Stack& s = std::get<Stack>(parsed.items[0]);
  ASSERT_EQ(s.frames.size(), 1u);
  EXPECT_EQ(s.frames[0].lines.size(), 1u);
  EXPECT_EQ(s.frames[0].call_site.function, "f(");
  EXPECT_EQ(EmitStackText(parsed, TextFormat::kOriginal), text);
  EXPECT_EQ(Canonical(ParseStackText(EmitStackText(parsed, TextFormat::kKv)), TextFormat::kKv),
            Canonical(parsed, TextFormat::kKv));
}

TEST(StackTextRobustnessTest, KPContinuationStopsAtItsLimit) {
  std::string text = "00000000`0014f7a0 00000001`3f4f12a4 app!f(\n";
  for (int i = 0; i < 70; ++i) text += "\t\t\tint a = 0n1, \n";
  text += "\t\t\tint z = 0n1)+0x5\n";
  const StackText parsed = ParseStackText(text);
  ASSERT_FALSE(StacksOf(parsed).empty());
  EXPECT_EQ(StacksOf(parsed)[0]->frames[0].lines.size(), 1u);
  StackTextOptions more;
  more.max_parameter_lines = 80;
  const StackText joined = ParseStackText(text, more);
  EXPECT_EQ(OnlyStack(joined).frames[0].lines.size(), 72u);
  EXPECT_EQ(OnlyStack(joined).frames[0].call_site.offset, 5u);
}

TEST(StackTextRobustnessTest, LongStacksAreSplitAtTheFrameLimit) {
  std::string text = " # Child-SP          RetAddr           Call Site\n";
  for (int i = 0; i < 7; ++i) {
    char row[128];
    std::snprintf(row, sizeof row, "%02x 00000000`0014f%03x 00000001`3f4f1%03x app!f%d+0x%x\n", i,
                  i * 0x10, i, i, i);
    text += row;
  }
  StackTextOptions options;
  options.max_frames = 3;
  const StackText parsed = ParseStackText(text, options);
  const std::vector<const Stack*> stacks = StacksOf(parsed);
  ASSERT_EQ(stacks.size(), 3u);
  EXPECT_EQ(stacks[0]->frames.size(), 3u);
  EXPECT_EQ(stacks[1]->frames.size(), 3u);
  EXPECT_EQ(stacks[2]->frames.size(), 1u);
  for (TextFormat f : {TextFormat::kKv, TextFormat::kRestackKn}) {
    const StackText again = ParseStackText(EmitStackText(parsed, f), options);
    EXPECT_EQ(Canonical(again, f), Canonical(parsed, f));
  }
}

TEST(StackTextRobustnessTest, ThreadBlocksAreBounded) {
  std::string text = "THREAD fffffa800c716900  Cid 1c40.1da0  Teb: 000007f7fc3b4000\n";
  for (int i = 0; i < 200; ++i) text += "Priority 8 BasePriority 8\n";
  const StackText parsed = ParseStackText(text);
  ASSERT_EQ(parsed.items.size(), 1u + 200 - 128);
  EXPECT_EQ(std::get<Stack>(parsed.items[0]).header.size(), 129u);
  EXPECT_EQ(EmitStackText(parsed, TextFormat::kOriginal), text);
}

TEST(StackTextRobustnessTest, PathologicalLinesTakeLinearTime) {
  // Brackets that nest, never match, or pile up annotations; each line ~60 KiB,
  // 4 MiB in all. Quadratic work here would take minutes.
  const std::string prefix = "00000000`0014f7a0 00000001`3f4f12a4 app!f";
  std::vector<std::string> bodies = {std::string(60000, '('), std::string(60000, ')'),
                                     std::string(60000, '['), std::string(60000, ']')};
  std::string many;
  while (many.size() < 60000) many += " (TrapFrame @ 1)";
  bodies.push_back(many);
  std::string others;
  while (others.size() < 60000) others += " (Foo @ 1)";
  bodies.push_back(others);
  std::string brackets;
  while (brackets.size() < 60000) brackets += " [x @ 1]";
  bodies.push_back(brackets);
  std::string text;
  while (text.size() < 4 * 1024 * 1024) {
    for (const std::string& b : bodies) text += prefix + b + "\n";
  }
  const auto start = std::chrono::steady_clock::now();
  const StackText parsed = ParseStackText(text);
  const std::string kv = EmitStackText(parsed, TextFormat::kKv);
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 30.0);
  EXPECT_EQ(EmitStackText(parsed, TextFormat::kOriginal), text);
}

// ---------------------------------------------------------------------------
// What stack_text_fuzzer found (the inputs are regress-*.txt; these are the
// minimal forms).

// kn numbers every row, so kc rows need the numbered " # Call Site" header
// even when the input's rows had no numbers (kn text was not a fixpoint).
TEST(StackTextRegressionTest, KnOfUnnumberedKcRowsHasTheNumberedHeader) {
  const StackText parsed = ParseStackText("Call Site\nntdll!NtWaitForSingleObject\n");
  const std::string kn = EmitStackText(parsed, TextFormat::kRestackKn);
  EXPECT_EQ(kn, " # Call Site\n00 ntdll!NtWaitForSingleObject\n");
  EXPECT_EQ(EmitStackText(ParseStackText(kn), TextFormat::kRestackKn), kn);
}

// A call site beginning with ':' read as kb columns once kn dropped the
// arguments, so the row did not read back; such a row is no frame.
TEST(StackTextRegressionTest, CallSiteStartingWithAColonIsNoFrame) {
  const std::string text =
      "00000000`0014f7a0 00000001`3f4f12a4 : 00000000`00000000 00000000`00000000 :            : Call Site\n";
  const StackText parsed = ParseStackText(text);
  ASSERT_EQ(parsed.items.size(), 1u);
  EXPECT_NE(AsVerbatim(parsed.items[0]), nullptr);
  // Likewise three 8-digit values after x86 columns: kn would read them as arguments.
  const StackText x86 = ParseStackText("0019fe8c 76f2e96d : 00000128 : 00000001 00000002 00000003 f!g\n");
  EXPECT_TRUE(StacksOf(x86).empty());
}

// Carriage returns beyond the one before "\n" stayed in the call site, and
// each kv round trip lost one of them.
TEST(StackTextRegressionTest, StrayCarriageReturnsAreWhitespace) {
  const std::string text = "00000000`0014f6c8 000007fe`fd8e10dc ntdll!NtWait\r\r\r\n";
  const StackText parsed = ParseStackText(text);
  const Stack& s = OnlyStack(parsed);
  EXPECT_EQ(s.frames[0].call_site.text, "ntdll!NtWait");
  const std::string kv = EmitStackText(parsed, TextFormat::kKv);
  EXPECT_EQ(kv, "00000000`0014f6c8 000007fe`fd8e10dc ntdll!NtWait\n");
  EXPECT_EQ(EmitStackText(parsed, TextFormat::kOriginal), text);
}

// Found by reading the code, not by the fuzzer: kv moves (CONV: ...) before
// [file @ line]; when parentheses were counted outside quotes that changed the
// depth at the end of the first line, and the rewritten row swallowed the
// indented line after it. Only a first line ending with '(' continues now.
TEST(StackTextRegressionTest, AnnotationOrderDoesNotChangeWhereARowEnds) {
  const std::string text =
      "00000000`0014f7a0 00000001`3f4f12a4 f [s\" @ 1] (CONV: \")\n"
      "\tx)\n";
  const StackText parsed = ParseStackText(text);
  ASSERT_EQ(parsed.items.size(), 2u);
  EXPECT_EQ(std::get<Stack>(parsed.items[0]).frames[0].conv, "\"");
  const StackText again = ParseStackText(EmitStackText(parsed, TextFormat::kKv));
  EXPECT_EQ(Canonical(again, TextFormat::kKv), Canonical(parsed, TextFormat::kKv));
}

// ---------------------------------------------------------------------------
// JSON Lines.

TEST(StackTextJsonTest, AfdStackObject) {
  const StackText parsed = ParseStackText(Seed("seed-thread-afd.txt"));
  const nlohmann::json j = StackToJson(OnlyStack(parsed), 0);
  EXPECT_EQ(j["prompt"], "7: kd>");
  EXPECT_EQ(j["command"], "!thread fffffa800c716900");
  EXPECT_EQ(j["thread"]["processor"], 1);
  EXPECT_EQ(j["thread"]["thread_id"], 0x1da0);
  EXPECT_EQ(j["thread"]["stack_base"], "0xfffff8801ce2a000");
  EXPECT_EQ(j["thread"]["irps"].size(), 4u);
  const nlohmann::json& frames = j["frames"];
  ASSERT_EQ(frames.size(), 7u);
  EXPECT_EQ(frames[1]["module"], "afd");
  EXPECT_EQ(frames[1]["function"], "AfdEnumNetworkEvents");
  EXPECT_EQ(frames[1]["offset"], "0x75");
  EXPECT_EQ(frames[1]["child_sp"], "0xfffff8801ce29440");
  EXPECT_EQ(frames[1]["return_address"], "0xfffff88000b590a7");
  EXPECT_EQ(frames[1]["args"][0], "0xfffff8801ce29918");
  EXPECT_EQ(frames[5]["trap_frame"], "0xfffff8801ce29b00");
  EXPECT_TRUE(frames[6]["module"].is_null());
  EXPECT_EQ(frames[6]["address"], "0x7fd03242c5a");
  EXPECT_EQ(frames[6]["return_address"], "0x0");
  EXPECT_EQ(frames[6]["inline"], false);
  EXPECT_TRUE(frames[6]["source"].is_null());
  EXPECT_EQ(j["complete"], true);
  EXPECT_TRUE(j["end"].is_null());
}

TEST(StackTextJsonTest, RestackTitleFieldsAreTopLevelAsInRestackWalk) {
  const StackText parsed = ParseStackText(Seed("restack-walk-cut.txt"));
  const nlohmann::json j = StackToJson(*StacksOf(parsed)[0], 0);
  EXPECT_EQ(j["context"], "exception");
  EXPECT_EQ(j["thread_index"], 1);
  EXPECT_EQ(j["thread_id"], 0x1a0);
  EXPECT_EQ(j["end"], "image_missing");
  EXPECT_EQ(j["complete"], false);
  EXPECT_TRUE(j["frames"][0]["return_address"].is_null());
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_THAT(j["warnings"][0].get<std::string>(), StartsWith("stack ended early (image_missing)"));
  const StackText kernel = ParseStackText(Seed("hand-restack-kernel.txt"));
  const nlohmann::json k = StackToJson(*StacksOf(kernel)[0], 0);
  EXPECT_EQ(k["context"], "bugcheck");
  EXPECT_EQ(k["processor"], 0);
  EXPECT_EQ(k["prcb"], "0xfffff803d84ad000");
  EXPECT_EQ(k["kernel_thread"], "0xfffffa800850a040");
  EXPECT_EQ(k["context_source"], "prcb-context");
  EXPECT_EQ(k["frames"][1]["chunk_start"], "0xfffff803d84ad000");
  EXPECT_EQ(k["frames"][2]["trust"], "scan");
}

TEST(StackTextJsonTest, OneLinePerStack) {
  for (const fs::path& p : CorpusFiles()) {
    const StackText parsed = ParseStackText(ReadFile(p));
    const std::vector<std::string> lines = Lines(EmitJsonLines(parsed));
    ASSERT_EQ(lines.size(), StacksOf(parsed).size()) << p.filename();
    for (size_t i = 0; i < lines.size(); ++i) {
      const nlohmann::json j = nlohmann::json::parse(lines[i], nullptr, false);
      ASSERT_FALSE(j.is_discarded()) << p.filename();
      EXPECT_EQ(j["index"], i);
      EXPECT_EQ(j["frames"].size(), StacksOf(parsed)[i]->frames.size());
    }
  }
}

// restack-sym's marks: a chunk placed before its function ("Parent-0xb2")
// and "[was: old call site]" after a row it changed.
TEST(StackTextRestackSymTest, NegativeOffsetsAndWasAnnotationsRoundTrip) {
  CallSite cs = ParseCallSite("restack_chunks!Ck_Before-0xaf");
  EXPECT_EQ(cs.module, "restack_chunks");
  EXPECT_EQ(cs.function, "Ck_Before");
  EXPECT_EQ(cs.offset, 0xafu);
  EXPECT_TRUE(cs.negative_offset);
  EXPECT_EQ(FormatCallSite(cs), "restack_chunks!Ck_Before-0xaf");
  // module-0x.. is no module+offset: an offset from a base is never negative.
  EXPECT_TRUE(ParseCallSite("amdppm-0x10").module.empty());
  EXPECT_FALSE(ParseCallSite("nt!KeBugCheckEx+0x10").negative_offset);

  const std::string row =
      "fffff880`01ce2000 00000001`80001002 : 00000000`00000000 00000000`00000000 "
      "00000000`00000000 fffffa80`0c716900 : restack_chunks!Ck_Before-0xaf (Chunk @ "
      "00000001`8000106e)    [was: restack_chunks!?? ::KEIKPGEB::`string'+0x1b]\n";
  StackText t = ParseStackText(row);
  std::vector<const Stack*> stacks = StacksOf(t);
  ASSERT_EQ(stacks.size(), 1u);
  ASSERT_EQ(stacks[0]->frames.size(), 1u);
  const Frame& f = stacks[0]->frames[0];
  EXPECT_EQ(f.call_site.text, "restack_chunks!Ck_Before-0xaf");
  EXPECT_EQ(f.chunk_start, 0x18000106eu);
  EXPECT_EQ(f.was, "restack_chunks!?? ::KEIKPGEB::`string'+0x1b");
  EXPECT_EQ(EmitStackText(t, TextFormat::kKv), row);
  nlohmann::json j = StackToJson(*stacks[0], 0);
  EXPECT_EQ(j["frames"][0]["offset"], "-0xaf");
  EXPECT_EQ(j["frames"][0]["was"], "restack_chunks!?? ::KEIKPGEB::`string'+0x1b");
}

}  // namespace
}  // namespace restack::sym
