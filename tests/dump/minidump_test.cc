// minidump_test.cc - Minidump parsing, memory reads and malformed-input handling
//
// Inputs come from tests/support/minidump_builder.h; malformed ones are built dumps with
// fields overwritten at offsets the builder reports.
#include "restack/dump/minidump.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "restack/dump/minidump_layout.h"
#include "tests/support/file_read.h"
#include "tests/support/minidump_builder.h"

namespace restack::dump {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using test::MinidumpBuilder;
using test::PutU32;
using test::PutU64;
using test::StackPlacement;
using test::SynthContext;
using test::SynthDump;
using test::SynthModule;
using test::SynthThread;
using test::TypicalDump;
using test::U16;

std::string Message(const absl::Status& status) { return std::string(status.message()); }
std::string Offset(uint64_t offset) { return absl::StrFormat("offset 0x%x:", offset); }

absl::StatusOr<Minidump> Parse(const std::vector<uint8_t>& bytes) {
  auto copy = std::make_shared<const std::vector<uint8_t>>(bytes);
  return Minidump::FromBytes(*copy, copy, "test.dmp");
}

// The first warning whose text contains `needle`, or nullptr.
const Warning* FindWarning(const Minidump& dump, const std::string& needle) {
  for (const Warning& w : dump.warnings()) {
    if (w.what.find(needle) != std::string::npos) return &w;
  }
  return nullptr;
}

std::string AllWarnings(const Minidump& dump) {
  std::string out;
  for (const Warning& w : dump.warnings()) out += w.what + "\n";
  return out;
}

// Stack pattern from TypicalDump(): the uint64 at address a is a ^ 0x5A5A5A5A5A5A5A5A.
constexpr uint64_t StackWord(uint64_t a) { return a ^ 0x5A5A5A5A5A5A5A5AULL; }

std::vector<uint8_t> Filled(size_t n, uint8_t first) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(first + i);
  return v;
}

// ---- well-formed dumps ----------------------------------------------------------------

TEST(MinidumpTest, ParsesTypicalDump) {
  const SynthDump synth = TypicalDump().SetTimestamp(0x65432100).SetFlags(0x1826).Build();
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->warnings().empty()) << AllWarnings(*dump);
  EXPECT_EQ(dump->name(), "test.dmp");

  const MinidumpHeader& h = dump->header();
  EXPECT_EQ(h.signature, kMinidumpSignature);
  EXPECT_EQ(h.version & 0xFFFF, 0xA793u);
  EXPECT_EQ(h.stream_count, 5u);
  EXPECT_EQ(h.stream_directory_rva, 0x20u);
  EXPECT_EQ(h.timestamp, 0x65432100u);
  EXPECT_EQ(h.flags, 0x1826u);

  ASSERT_EQ(dump->streams().size(), 5u);
  EXPECT_EQ(dump->streams()[0].type, SystemInfoStream);
  EXPECT_EQ(dump->streams()[1].type, ThreadListStream);
  EXPECT_EQ(dump->streams()[1].rva, synth.StreamRva(ThreadListStream));
  EXPECT_EQ(dump->streams()[1].data_size, 4u + 2 * 0x30);
  ASSERT_NE(dump->FindStream(ExceptionStream), nullptr);
  EXPECT_EQ(dump->FindStream(ExceptionStream)->data_size, 0xA8u);
  EXPECT_EQ(dump->FindStream(CommentStreamW), nullptr);

  ASSERT_TRUE(dump->system_info().has_value());
  const SystemInfo& s = *dump->system_info();
  EXPECT_TRUE(s.IsAmd64());
  EXPECT_EQ(s.processor_level, 6);
  EXPECT_EQ(s.processor_revision, 0x5E03);
  EXPECT_EQ(s.number_of_processors, 4);
  EXPECT_EQ(s.product_type, 1);
  EXPECT_EQ(s.major_version, 10u);
  EXPECT_EQ(s.minor_version, 0u);
  EXPECT_EQ(s.build_number, 19045u);
  EXPECT_EQ(s.platform_id, 2u);
  EXPECT_EQ(s.csd_version, "Service Pack 1");
  EXPECT_EQ(s.suite_mask, 0x100);
  EXPECT_EQ(s.cpu_vendor, "GenuineIntel");
  EXPECT_FALSE(s.wine.has_value());

  ASSERT_EQ(dump->threads().size(), 2u);
  const Thread& t0 = dump->threads()[0];
  EXPECT_EQ(t0.thread_id, 0x1234u);
  EXPECT_EQ(t0.teb, 0x3E0000u);
  EXPECT_EQ(t0.priority_class, 0x20u);
  EXPECT_EQ(t0.stack_start, 0x14F000u);
  EXPECT_EQ(t0.stack_size, 0x1000u);
  EXPECT_EQ(t0.context_size, 0x4D0u);
  EXPECT_EQ(t0.context_rva, synth.thread_contexts[0]);
  ASSERT_TRUE(t0.context.has_value());
  EXPECT_EQ(t0.context->rsp(), 0x14F800u);
  EXPECT_EQ(t0.context->rip, 0x140001234u);
  EXPECT_EQ(t0.context->gpr[kRax], 1u);
  EXPECT_EQ(t0.context->gpr[kR15], 0x10u);
  EXPECT_EQ(t0.context->xmm[15], (Uint128{0xF0F0F0F0F0F0F0F0ULL, 0x0F0F0F0F0F0F0F0FULL}));
  const Thread& t1 = dump->threads()[1];
  EXPECT_EQ(t1.thread_id, 0x5678u);
  EXPECT_EQ(t1.suspend_count, 1u);
  ASSERT_TRUE(t1.context.has_value());
  EXPECT_EQ(t1.context->rsp(), 0x24F400u);

  ASSERT_EQ(dump->modules().size(), 2u);
  const Module& exe = dump->modules()[0];
  EXPECT_EQ(exe.name, "C:\\app\\crashy.exe");
  EXPECT_EQ(exe.base, 0x140000000u);
  EXPECT_EQ(exe.size, 0x20000u);
  EXPECT_EQ(exe.end(), 0x140020000u);
  EXPECT_EQ(exe.checksum, 0x2A5F1u);
  EXPECT_EQ(exe.timestamp, 0x64F0A1B2u);
  EXPECT_EQ(exe.file_version, 0x0001000200030004u);
  EXPECT_EQ(exe.product_version, 0x0001000200030004u);
  ASSERT_TRUE(exe.code_view.has_value());
  EXPECT_EQ(exe.code_view->age, 2u);
  EXPECT_EQ(exe.code_view->pdb_path, "C:\\build\\crashy.pdb");
  const Module& ntdll = dump->modules()[1];
  EXPECT_EQ(ntdll.name, "C:\\Windows\\System32\\ntdll.dll");
  EXPECT_FALSE(ntdll.code_view.has_value());
  EXPECT_EQ(ntdll.file_version, 0u);

  // Stacks of both threads plus the code bytes around rip, sorted by start.
  ASSERT_EQ(dump->memory_ranges().size(), 3u);
  EXPECT_EQ(dump->memory_ranges()[0].start, 0x14F000u);
  EXPECT_EQ(dump->memory_ranges()[0].size, 0x1000u);
  EXPECT_EQ(dump->memory_ranges()[0].stream_type, MemoryListStream);
  EXPECT_EQ(dump->memory_ranges()[1].start, 0x24F000u);
  EXPECT_EQ(dump->memory_ranges()[2].start, 0x140001200u);

  ASSERT_TRUE(dump->exception().has_value());
  const ExceptionInfo& e = *dump->exception();
  EXPECT_EQ(e.thread_id, 0x1234u);
  EXPECT_EQ(e.code, 0xC0000005u);
  EXPECT_EQ(e.exception_address, 0x140001234u);
  EXPECT_THAT(e.parameters, ElementsAre(1u, 0xDEADBEEFu));
  ASSERT_TRUE(e.context.has_value());
  EXPECT_EQ(e.context->rip, 0x140001234u);
  EXPECT_EQ(e.context_rva, synth.exception_context);
}

TEST(MinidumpTest, GuidStringPrintsDataFieldsAsLittleEndianIntegers) {
  absl::StatusOr<Minidump> dump = Parse(TypicalDump().Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  // Stored bytes 78 56 34 12 | BC 9A | F0 DE | 01 23 45 67 89 AB CD EF.
  EXPECT_EQ(dump->modules()[0].code_view->GuidString(), "123456789ABCDEF00123456789ABCDEF");
  EXPECT_EQ(dump->modules()[0].code_view->guid[0], 0x78);
}

TEST(MinidumpTest, LooksUpThreadsAndModules) {
  absl::StatusOr<Minidump> dump = Parse(TypicalDump().Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_NE(dump->ThreadById(0x5678), nullptr);
  EXPECT_EQ(dump->ThreadById(0x5678)->teb, 0x3E2000u);
  EXPECT_EQ(dump->ThreadById(0x9999), nullptr);
  ASSERT_NE(dump->ModuleForAddress(0x7FFB00001010), nullptr);
  EXPECT_EQ(dump->ModuleForAddress(0x7FFB00001010)->base, 0x7FFB00000000u);
  EXPECT_EQ(dump->ModuleForAddress(0x140020000), nullptr);  // one past the end
  EXPECT_EQ(dump->ModuleForAddress(0), nullptr);
}

TEST(MinidumpTest, ReadsStackAtRspThroughAddressSpace) {
  absl::StatusOr<Minidump> dump = Parse(TypicalDump().Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  const AddressSpace& memory = *dump;
  for (const Thread& t : dump->threads()) {
    absl::StatusOr<uint64_t> word = memory.ReadU64(t.context->rsp());
    ASSERT_TRUE(word.ok()) << word.status();
    EXPECT_EQ(*word, StackWord(t.context->rsp()));
  }
  // The last word of the first stack.
  absl::StatusOr<uint64_t> last = memory.ReadU64(0x14FFF8);
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, StackWord(0x14FFF8));
}

TEST(MinidumpTest, StackMemoryOfReturnsTheThreadsStack) {
  absl::StatusOr<Minidump> dump = Parse(TypicalDump().Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  absl::StatusOr<std::span<const uint8_t>> stack = dump->StackMemoryOf(dump->threads()[1]);
  ASSERT_TRUE(stack.ok()) << stack.status();
  ASSERT_EQ(stack->size(), 0x800u);
  uint64_t first;
  std::memcpy(&first, stack->data(), 8);
  EXPECT_EQ(first, StackWord(0x24F000));
}

TEST(MinidumpTest, ReadsMemorySpanningTwoRanges) {
  MinidumpBuilder b;
  b.AddMemory(0x10000, Filled(0x10, 0x00)).AddMemory(0x10010, Filled(0x10, 0x10));
  absl::StatusOr<Minidump> dump = Parse(b.Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->warnings().empty()) << AllWarnings(*dump);
  std::array<uint8_t, 8> out{};
  ASSERT_TRUE(dump->ReadVirtual(0x1000C, out).ok());
  EXPECT_THAT(out, ElementsAre(0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13));
  absl::StatusOr<uint64_t> word = dump->ReadU64(0x1000C);
  ASSERT_TRUE(word.ok()) << word.status();
  EXPECT_EQ(*word, 0x131211100F0E0D0CULL);
}

TEST(MinidumpTest, ReadsMemorySpanningMemoryListAndMemory64List) {
  MinidumpBuilder b;
  b.AddMemory64(0x20010, Filled(0x10, 0x10)).AddMemory(0x20000, Filled(0x10, 0x00));
  absl::StatusOr<Minidump> dump = Parse(b.Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->memory_ranges().size(), 2u);
  EXPECT_EQ(dump->memory_ranges()[0].stream_type, MemoryListStream);
  EXPECT_EQ(dump->memory_ranges()[1].stream_type, Memory64ListStream);
  std::array<uint8_t, 0x20> out{};
  ASSERT_TRUE(dump->ReadVirtual(0x20000, out).ok());
  EXPECT_EQ(out[0x00], 0x00);
  EXPECT_EQ(out[0x1F], 0x1F);
}

TEST(MinidumpTest, ReadAcrossGapIsNotFoundNamingTheFirstMissingAddress) {
  MinidumpBuilder b;
  b.AddMemory(0x10000, Filled(0x10, 0)).AddMemory(0x10020, Filled(0x10, 0));
  absl::StatusOr<Minidump> dump = Parse(b.Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  std::array<uint8_t, 0x18> out{};
  absl::Status status = dump->ReadVirtual(0x10008, out);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(status), HasSubstr("0x10010 not in dump"));
}

TEST(MinidumpTest, ReadOutsideAnyRangeIsNotFoundNeverZeros) {
  absl::StatusOr<Minidump> dump = Parse(TypicalDump().Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  for (uint64_t va : {0ULL, 0x14EFF8ULL, 0x150000ULL, 0x14FFFCULL /* straddles the end */,
                      0xFFFFFFFFFFFFFFF8ULL}) {
    absl::StatusOr<uint64_t> word = dump->ReadU64(va);
    ASSERT_FALSE(word.ok()) << absl::StrFormat("0x%x", va);
    EXPECT_EQ(word.status().code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(Message(word.status()), HasSubstr("not in dump"));
  }
  EXPECT_EQ(dump->FindMemoryRange(0x14EFFF), nullptr);
  ASSERT_NE(dump->FindMemoryRange(0x14FFFF), nullptr);
  EXPECT_EQ(dump->FindMemoryRange(0x14FFFF)->start, 0x14F000u);
  EXPECT_TRUE(dump->ReadVirtual(0x999, {}).ok());  // an empty read needs no memory
}

TEST(MinidumpTest, Memory64StackWithZeroRvaIsFoundThroughRanges) {
  // Wine's full-memory dumps leave MINIDUMP_THREAD.Stack.Memory.Rva at 0.
  MinidumpBuilder b;
  SynthThread t;
  t.id = 7;
  t.stack_start = 0x30000;
  t.stack = Filled(0x100, 1);
  t.stack_placement = StackPlacement::kMemory64List;
  b.AddThread(t);
  absl::StatusOr<Minidump> dump = Parse(b.Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->threads().size(), 1u);
  EXPECT_EQ(dump->threads()[0].stack_rva, 0u);
  EXPECT_FALSE(dump->threads()[0].context.has_value());
  absl::StatusOr<std::span<const uint8_t>> stack = dump->StackMemoryOf(dump->threads()[0]);
  ASSERT_TRUE(stack.ok()) << stack.status();
  EXPECT_EQ((*stack)[0], 1);
  EXPECT_EQ(stack->size(), 0x100u);
}

TEST(MinidumpTest, StackOutsideMemoryListsIsReadFromItsRva) {
  MinidumpBuilder b;
  SynthThread t;
  t.id = 8;
  t.stack_start = 0x40000;
  t.stack = Filled(0x40, 9);
  t.stack_placement = StackPlacement::kThreadOnly;
  b.AddThread(t);
  absl::StatusOr<Minidump> dump = Parse(b.Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->memory_ranges().empty());
  absl::StatusOr<std::span<const uint8_t>> stack = dump->StackMemoryOf(dump->threads()[0]);
  ASSERT_TRUE(stack.ok()) << stack.status();
  EXPECT_EQ((*stack)[0], 9);
  // It is not virtual memory of the dump, though.
  EXPECT_EQ(dump->ReadU64(0x40000).status().code(), absl::StatusCode::kNotFound);
}

TEST(MinidumpTest, ThreadWithoutStackHasNoStackMemory) {
  MinidumpBuilder b;
  SynthThread t;
  t.id = 9;
  b.AddThread(t);
  absl::StatusOr<Minidump> dump = Parse(b.Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_EQ(dump->StackMemoryOf(dump->threads()[0]).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(MinidumpTest, KeepsUnknownAndUnusedStreamsInDirectory) {
  const std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  const SynthDump synth = TypicalDump()
                              .AddRawStream(0x47670001, payload)  // Breakpad info
                              .AddRawStream(kWineElfModuleListStream, {0, 0, 0, 0})
                              .AddUnusedStreams(3)
                              .Build();
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->warnings().empty()) << AllWarnings(*dump);
  ASSERT_EQ(dump->streams().size(), 10u);
  const StreamInfo* breakpad = dump->FindStream(0x47670001);
  ASSERT_NE(breakpad, nullptr);
  EXPECT_EQ(breakpad->data_size, 5u);
  EXPECT_EQ(breakpad->index, 5u);
  EXPECT_EQ(StreamTypeName(breakpad->type), "");
  absl::StatusOr<std::span<const uint8_t>> data = dump->StreamData(*breakpad);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_THAT(*data, ElementsAre(1, 2, 3, 4, 5));
  EXPECT_EQ(StreamTypeName(kWineElfModuleListStream), "WineElfModuleListStream");
  for (uint32_t i = 7; i < 10; ++i) {
    EXPECT_EQ(dump->streams()[i].type, UnusedStream);
    EXPECT_EQ(dump->streams()[i].rva, 0u);
  }
  EXPECT_EQ(StreamTypeName(ThreadListStream), "ThreadListStream");
}

TEST(MinidumpTest, AcceptsListsWithCountPaddedToEightBytes) {
  absl::StatusOr<Minidump> dump = Parse(TypicalDump().PadListCounts(true).Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->warnings().empty()) << AllWarnings(*dump);
  ASSERT_EQ(dump->threads().size(), 2u);
  EXPECT_EQ(dump->threads()[1].thread_id, 0x5678u);
  ASSERT_EQ(dump->modules().size(), 2u);
  EXPECT_EQ(dump->modules()[1].name, "C:\\Windows\\System32\\ntdll.dll");
  EXPECT_EQ(dump->memory_ranges().size(), 3u);
}

TEST(MinidumpTest, ListStreamLongerThanItsEntriesIsAccepted) {
  // Wine reserves a slot per thread but writes fewer when a callback skips one.
  SynthDump synth = TypicalDump().Build();
  PutU32(synth.bytes, synth.StreamRva(ThreadListStream), 1);
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->threads().size(), 1u);
  EXPECT_EQ(dump->threads()[0].thread_id, 0x1234u);
}

TEST(MinidumpTest, ConvertsUtf16ModuleNamesToUtf8) {
  MinidumpBuilder b;
  SynthModule m;
  m.name = u"C:\\\u00DCn\u00EFcode\\\U0001F600.dll";
  m.base = 0x10000000;
  m.size = 0x1000;
  b.AddModule(m);
  SynthModule bad;
  bad.name = std::u16string(u"a") + char16_t(0xD800) + u"b";  // unpaired surrogate
  b.AddModule(bad);
  absl::StatusOr<Minidump> dump = Parse(b.Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->modules().size(), 2u);
  EXPECT_EQ(dump->modules()[0].name, "C:\\\xC3\x9Cn\xC3\xAF" "code\\\xF0\x9F\x98\x80.dll");
  EXPECT_EQ(dump->modules()[1].name, "a\xEF\xBF\xBD" "b");
}

TEST(MinidumpTest, EmptyCodeViewRecordIsAbsentWithoutWarning) {
  // Wine writes CvRecord = {0, 0} for every module.
  MinidumpBuilder b;
  SynthModule m;
  m.name = U16("C:\\windows\\system32\\kernel32.dll");
  m.base = 0x7B600000;
  m.size = 0x80000;
  b.AddModule(m);
  absl::StatusOr<Minidump> dump = Parse(b.Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->warnings().empty()) << AllWarnings(*dump);
  EXPECT_FALSE(dump->modules()[0].code_view.has_value());
}

TEST(MinidumpTest, ParsesWineHostInfoAfterSystemInfo) {
  test::SynthSystemInfo info;
  info.wine = test::SynthWineInfo{};
  info.csd_version = u"";
  MinidumpBuilder b;
  b.SetSystemInfo(info);
  absl::StatusOr<Minidump> dump = Parse(b.Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->warnings().empty()) << AllWarnings(*dump);
  ASSERT_TRUE(dump->system_info()->wine.has_value());
  EXPECT_EQ(dump->system_info()->wine->build_id, "wine-8.0 (Debian 8.0~repack-4)");
  EXPECT_EQ(dump->system_info()->wine->host_system, "Linux");
  EXPECT_EQ(dump->system_info()->wine->host_release, "6.1.0-test");
  EXPECT_EQ(dump->system_info()->csd_version, "");
}

TEST(MinidumpTest, DumpWithoutStreamsIsEmptyNotAnError) {
  absl::StatusOr<Minidump> dump = Parse(MinidumpBuilder().Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->streams().empty());
  EXPECT_TRUE(dump->threads().empty());
  EXPECT_FALSE(dump->system_info().has_value());
  EXPECT_FALSE(dump->exception().has_value());
}

// ---- Open() ---------------------------------------------------------------------------

class TempFile {
 public:
  explicit TempFile(const std::vector<uint8_t>& bytes) {
    char name[] = "/tmp/restack_minidump_test_XXXXXX";
    const int fd = mkstemp(name);
    path_ = name;
    if (fd >= 0) {
      if (!bytes.empty()) {
        [[maybe_unused]] ssize_t n = write(fd, bytes.data(), bytes.size());
      }
      close(fd);
    }
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The file's bytes (empty when missing).
std::vector<uint8_t> ReadAll(const std::string& path) {
  return test::ReadFileBytes(path).value_or(std::vector<uint8_t>{});
}

TEST(MinidumpTest, OpenMapsTheFileAndNeverWritesIt) {
  const SynthDump synth = TypicalDump().Build();
  TempFile file(synth.bytes);
  ASSERT_EQ(chmod(file.path().c_str(), 0444), 0);
  {
    absl::StatusOr<Minidump> dump = Minidump::Open(file.path());
    ASSERT_TRUE(dump.ok()) << dump.status();
    EXPECT_EQ(dump->name(), file.path());
    EXPECT_EQ(dump->threads().size(), 2u);
    absl::StatusOr<uint64_t> word = dump->ReadU64(0x14F800);
    ASSERT_TRUE(word.ok()) << word.status();
    EXPECT_EQ(*word, StackWord(0x14F800));
    // Moving the dump keeps the mapping alive.
    Minidump moved = *std::move(dump);
    EXPECT_EQ(moved.ReadU64(0x14F800).value_or(0), StackWord(0x14F800));
  }
  EXPECT_EQ(ReadAll(file.path()), synth.bytes);
}

TEST(MinidumpTest, OpenReportsMissingFileAsNotFound) {
  absl::StatusOr<Minidump> dump = Minidump::Open("/nonexistent/restack/x.dmp");
  ASSERT_FALSE(dump.ok());
  EXPECT_EQ(dump.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(dump.status()), HasSubstr("/nonexistent/restack/x.dmp"));
}

TEST(MinidumpTest, OpenRejectsDirectory) {
  absl::StatusOr<Minidump> dump = Minidump::Open("/tmp");
  ASSERT_FALSE(dump.ok());
  EXPECT_EQ(dump.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MinidumpTest, OpenRejectsEmptyFileAsTruncated) {
  TempFile file({});
  absl::StatusOr<Minidump> dump = Minidump::Open(file.path());
  ASSERT_FALSE(dump.ok());
  EXPECT_EQ(dump.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(Message(dump.status()), HasSubstr(file.path() + ": offset 0x0: MINIDUMP_HEADER"));
}

TEST(MinidumpTest, OpenReadsMemoryStoredBeyondFourGiB) {
  // Memory64ListStream.BaseRva is 64-bit: full-memory dumps put bytes past 4 GiB. The
  // file is sparse, so this costs no disk.
  MinidumpBuilder b;
  b.AddMemory64(0x7FF700000000, Filled(0x10, 0xA0));
  SynthDump synth = b.Build();
  const uint32_t list = synth.StreamRva(Memory64ListStream);
  const uint64_t far = 0x100000010ULL;  // 4 GiB + 16
  PutU64(synth.bytes, list + 8, far);
  const std::vector<uint8_t> data = Filled(0x10, 0xA0);
  TempFile file(synth.bytes);
  {
    std::FILE* f = std::fopen(file.path().c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    if (fseeko(f, static_cast<off_t>(far), SEEK_SET) != 0 ||
        std::fwrite(data.data(), 1, data.size(), f) != data.size()) {
      std::fclose(f);
      GTEST_SKIP() << "cannot write a sparse file past 4 GiB in /tmp";
    }
    std::fclose(f);
  }
  absl::StatusOr<Minidump> dump = Minidump::Open(file.path());
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->warnings().empty()) << AllWarnings(*dump);
  ASSERT_EQ(dump->memory_ranges().size(), 1u);
  EXPECT_EQ(dump->memory_ranges()[0].file_offset, far);
  absl::StatusOr<uint64_t> word = dump->ReadU64(0x7FF700000008);
  ASSERT_TRUE(word.ok()) << word.status();
  EXPECT_EQ(*word, 0xAFAEADACABAAA9A8ULL);
}

// ---- required parts: hard errors -------------------------------------------------------

TEST(MinidumpTest, RejectsTruncatedHeader) {
  std::vector<uint8_t> bytes = TypicalDump().Build().bytes;
  bytes.resize(0x1F);
  absl::StatusOr<Minidump> dump = Parse(bytes);
  ASSERT_FALSE(dump.ok());
  EXPECT_EQ(dump.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(Message(dump.status()),
              HasSubstr("test.dmp: offset 0x0: MINIDUMP_HEADER: runs past end of file "
                        "(expected 0x20 bytes, got 0x1f)"));
}

TEST(MinidumpTest, RejectsBadSignature) {
  std::vector<uint8_t> bytes = TypicalDump().Build().bytes;
  PutU32(bytes, 0, 0x45474150);  // "PAGE": a kernel dump
  absl::StatusOr<Minidump> dump = Parse(bytes);
  ASSERT_FALSE(dump.ok());
  EXPECT_EQ(dump.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(dump.status()), HasSubstr("offset 0x0: MINIDUMP_HEADER.Signature"));
  EXPECT_THAT(Message(dump.status()), HasSubstr("got 0x45474150"));
}

TEST(MinidumpTest, RejectsUnknownVersion) {
  std::vector<uint8_t> bytes = TypicalDump().Build().bytes;
  PutU32(bytes, 4, 0x0000A794);
  absl::StatusOr<Minidump> dump = Parse(bytes);
  ASSERT_FALSE(dump.ok());
  EXPECT_EQ(dump.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(Message(dump.status()), HasSubstr("offset 0x4: MINIDUMP_HEADER.Version"));
}

TEST(MinidumpTest, AcceptsImplementationSpecificHighVersionBits) {
  std::vector<uint8_t> bytes = TypicalDump().Build().bytes;
  PutU32(bytes, 4, 0x4C8AA793);  // Windows puts a build number in the high word
  absl::StatusOr<Minidump> dump = Parse(bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_EQ(dump->header().version, 0x4C8AA793u);
}

TEST(MinidumpTest, RejectsStreamDirectoryPastEof) {
  std::vector<uint8_t> bytes = TypicalDump().Build().bytes;
  PutU32(bytes, 8, 0xFFFFFFFF);  // NumberOfStreams: far more than the file holds
  absl::StatusOr<Minidump> dump = Parse(bytes);
  ASSERT_FALSE(dump.ok());
  EXPECT_EQ(dump.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(Message(dump.status()), HasSubstr(Offset(0x20)));
  EXPECT_THAT(Message(dump.status()), HasSubstr("stream directory of 4294967295 entries"));
}

TEST(MinidumpTest, RejectsStreamDirectoryRvaPastEof) {
  std::vector<uint8_t> bytes = TypicalDump().Build().bytes;
  PutU32(bytes, 0xC, 0xFFFFFFF0);  // StreamDirectoryRva
  absl::StatusOr<Minidump> dump = Parse(bytes);
  ASSERT_FALSE(dump.ok());
  EXPECT_EQ(dump.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(Message(dump.status()), HasSubstr(Offset(0xFFFFFFF0)));
}

TEST(MinidumpTest, RejectsStreamDirectoryOverlappingHeader) {
  std::vector<uint8_t> bytes = TypicalDump().Build().bytes;
  PutU32(bytes, 0xC, 0x8);
  absl::StatusOr<Minidump> dump = Parse(bytes);
  ASSERT_FALSE(dump.ok());
  EXPECT_EQ(dump.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(dump.status()), HasSubstr(Offset(0x8)));
}

// ---- optional streams: warnings ---------------------------------------------------------

TEST(MinidumpTest, RejectsThreadCountExceedingStreamAsWarning) {
  SynthDump synth = TypicalDump().Build();
  const uint32_t rva = synth.StreamRva(ThreadListStream);
  PutU32(synth.bytes, rva, 0xFFFFFFFF);  // NumberOfThreads lies
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->threads().empty());
  const Warning* w = FindWarning(*dump, "NumberOfThreads");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, rva);
  EXPECT_THAT(w->what, HasSubstr("test.dmp: " + Offset(rva)));
  EXPECT_THAT(w->what, HasSubstr("expected at most 2 for 0x64 bytes, got 4294967295"));
  // Everything else is still there.
  EXPECT_EQ(dump->modules().size(), 2u);
  EXPECT_TRUE(dump->exception().has_value());
}

TEST(MinidumpTest, RejectsStreamPastEofAsWarning) {
  SynthDump synth = TypicalDump().Build();
  // Directory entry 2 is the module list; make its DataSize run past the end.
  ASSERT_EQ(synth.streams[2].type, ModuleListStream);
  PutU32(synth.bytes, synth.DirectoryEntry(2) + 4, 0x7FFFFFFF);
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->modules().empty());
  const Warning* w = FindWarning(*dump, "ModuleListStream");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, synth.streams[2].rva);
  EXPECT_THAT(w->what, HasSubstr(Offset(synth.streams[2].rva)));
  EXPECT_THAT(w->what, HasSubstr("runs past end of file"));
  const StreamInfo* listed = dump->FindStream(ModuleListStream);
  ASSERT_NE(listed, nullptr);  // still listed
  EXPECT_EQ(dump->StreamData(*listed).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(MinidumpTest, RejectsStreamThatPointsBackAtTheDirectory) {
  // A cycle: the thread list "is" the stream directory.
  SynthDump synth = TypicalDump().Build();
  ASSERT_EQ(synth.streams[1].type, ThreadListStream);
  PutU32(synth.bytes, synth.DirectoryEntry(1) + 8, synth.directory_rva);
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->threads().empty());
  const Warning* w = FindWarning(*dump, "overlaps the header or stream directory");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, synth.directory_rva);
  EXPECT_THAT(w->what, HasSubstr(Offset(synth.directory_rva) + " ThreadListStream"));
}

TEST(MinidumpTest, RejectsCsdStringPointingAtHeader) {
  SynthDump synth = TypicalDump().Build();
  // CSDVersionRva = 4: the string's Length is MINIDUMP_HEADER.Version (0xA793).
  PutU32(synth.bytes, synth.StreamRva(SystemInfoStream) + 0x18, 4);
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_TRUE(dump->system_info().has_value());  // the string alone is lost
  EXPECT_EQ(dump->system_info()->csd_version, "");
  const Warning* w = FindWarning(*dump, "CSDVersionRva");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, 4u);
  EXPECT_THAT(w->what, HasSubstr(Offset(4) + " MINIDUMP_STRING.Length"));
}

TEST(MinidumpTest, RejectsDuplicateStreamAndUsesTheFirst) {
  const SynthDump synth =
      TypicalDump().AddRawStream(ThreadListStream, std::vector<uint8_t>(4, 0xFF)).Build();
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_EQ(dump->threads().size(), 2u);
  const Warning* w = FindWarning(*dump, "duplicate ThreadListStream");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, synth.DirectoryEntry(5));
  EXPECT_THAT(w->what, HasSubstr(Offset(synth.DirectoryEntry(5))));
  EXPECT_THAT(w->what, HasSubstr("entry 1 is used"));
}

TEST(MinidumpTest, RejectsModuleNameLengthPastEof) {
  SynthDump synth = TypicalDump().Build();
  const uint32_t name = synth.module_names[1];
  PutU32(synth.bytes, name, 0xFFF0);  // under the sanity cap, past the end of the file
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->modules().size(), 2u);
  EXPECT_EQ(dump->modules()[1].name, "");
  EXPECT_EQ(dump->modules()[1].base, 0x7FFB00000000u);  // the module itself stays
  const Warning* w = FindWarning(*dump, "MINIDUMP_STRING.Length");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, synth.module_entries[1]);
  EXPECT_THAT(w->what, HasSubstr(Offset(name)));
  EXPECT_THAT(w->what, HasSubstr("runs past end of file"));
}

TEST(MinidumpTest, RejectsAbsurdModuleNameLength) {
  SynthDump synth = TypicalDump().Build();
  const uint32_t name = synth.module_names[0];
  PutU32(synth.bytes, name, 0xFFFFFFFE);
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  const Warning* w = FindWarning(*dump, "MINIDUMP_STRING.Length");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_THAT(w->what, HasSubstr(Offset(name)));
  EXPECT_THAT(w->what, HasSubstr("too long (expected at most 0x10000, got 0xfffffffe)"));
}

TEST(MinidumpTest, RejectsModuleNamesAliasedBeyondTheFilesBudget) {
  // Many modules sharing one long name must not multiply it without bound.
  MinidumpBuilder b;
  for (int i = 0; i < 60; ++i) {
    SynthModule m;
    m.name = i == 0 ? std::u16string(0x7FFF, u'x') : u"m";
    m.base = 0x10000000 + 0x10000 * i;
    m.size = 0x1000;
    b.AddModule(m);
  }
  SynthDump synth = b.Build();
  for (int i = 1; i < 60; ++i) PutU32(synth.bytes, synth.module_entries[i] + 0x14, synth.module_names[0]);
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->modules().size(), 60u);
  EXPECT_EQ(dump->modules()[0].name.size(), 0x7FFFu);
  EXPECT_EQ(dump->modules()[59].name, "");
  EXPECT_NE(FindWarning(*dump, "exceed what this file's size allows"), nullptr)
      << AllWarnings(*dump);
}

TEST(MinidumpTest, RejectsTruncatedThreadContextAsWarning) {
  MinidumpBuilder b;
  SynthThread t;
  t.id = 1;
  t.raw_context = std::vector<uint8_t>(0x100, 0);
  b.AddThread(t);
  const SynthDump synth = b.Build();
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->threads().size(), 1u);
  EXPECT_FALSE(dump->threads()[0].context.has_value());
  const Warning* w = FindWarning(*dump, "CONTEXT");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, synth.thread_contexts[0]);
  EXPECT_THAT(w->what, HasSubstr(Offset(synth.thread_contexts[0])));
  EXPECT_THAT(w->what, HasSubstr("[thread 0x1]"));
}

TEST(MinidumpTest, RejectsThreadContextPastEofAsWarning) {
  SynthDump synth = TypicalDump().Build();
  PutU32(synth.bytes, synth.thread_entries[1] + 0x2C, 0xFFFFFF00);  // ThreadContext.Rva
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->threads()[0].context.has_value());
  EXPECT_FALSE(dump->threads()[1].context.has_value());
  const Warning* w = FindWarning(*dump, "CONTEXT (thread 0x5678)");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_THAT(w->what, HasSubstr(Offset(0xFFFFFF00)));
}

TEST(MinidumpTest, RejectsX86ContextAsWarning) {
  MinidumpBuilder b;
  SynthThread t;
  t.id = 2;
  t.context = SynthContext{};
  t.context->flags = 0x0001003F;  // CONTEXT_i386 | ...
  b.AddThread(t);
  const SynthDump synth = b.Build();
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_FALSE(dump->threads()[0].context.has_value());
  const Warning* w = FindWarning(*dump, "CONTEXT_i386");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_THAT(w->what, HasSubstr(Offset(synth.thread_contexts[0] + 0x30)));
}

TEST(MinidumpTest, SkipsContextsOfNonAmd64Dumps) {
  test::SynthSystemInfo info;
  info.processor_architecture = 12;  // ARM64
  MinidumpBuilder b = TypicalDump();
  b.SetSystemInfo(info);
  const SynthDump synth = b.Build();
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_FALSE(dump->system_info()->IsAmd64());
  EXPECT_EQ(dump->system_info()->cpu_vendor, "");
  EXPECT_FALSE(dump->threads()[0].context.has_value());
  EXPECT_FALSE(dump->exception()->context.has_value());
  ASSERT_EQ(dump->warnings().size(), 1u) << AllWarnings(*dump);
  EXPECT_THAT(dump->warnings()[0].what, HasSubstr("ProcessorArchitecture: not AMD64"));
  EXPECT_EQ(dump->warnings()[0].offset, synth.StreamRva(SystemInfoStream));
}

TEST(MinidumpTest, WarnsOnDuplicateThreadIds) {
  MinidumpBuilder b;
  SynthThread t;
  t.id = 5;
  b.AddThread(t).AddThread(t);
  const SynthDump synth = b.Build();
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_EQ(dump->threads().size(), 2u);
  const Warning* w = FindWarning(*dump, "duplicate id");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, synth.thread_entries[1]);
}

TEST(MinidumpTest, ClipsMemoryRangeRunningPastEof) {
  MinidumpBuilder b;
  b.AddMemory(0x50000, Filled(0x20, 0));
  SynthDump synth = b.Build();
  const uint32_t descriptor = synth.memory_descriptors[0];
  PutU32(synth.bytes, descriptor + 8, 0x1000);  // DataSize lies; the file ends after 0x20
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->memory_ranges().size(), 1u);
  EXPECT_EQ(dump->memory_ranges()[0].size, 0x20u);
  const Warning* w = FindWarning(*dump, "run past end of file, clipped");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, descriptor);
  EXPECT_EQ(dump->ReadU64(0x50020).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(dump->ReadU64(0x50018).ok());
}

TEST(MinidumpTest, DropsMemoryRangeWhoseBytesArePastEof) {
  MinidumpBuilder b;
  b.AddMemory(0x50000, Filled(0x20, 0)).AddMemory(0x60000, Filled(0x20, 0));
  SynthDump synth = b.Build();
  PutU32(synth.bytes, synth.memory_descriptors[1] + 0xC, 0xFFFFFFF0);  // Memory.Rva
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->memory_ranges().size(), 1u);
  const Warning* w = FindWarning(*dump, "dropped");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, synth.memory_descriptors[1]);
  EXPECT_THAT(w->what, HasSubstr(Offset(0xFFFFFFF0)));
}

TEST(MinidumpTest, TrimsOverlappingMemoryRangesWithWarning) {
  MinidumpBuilder b;
  b.AddMemory(0x10000, Filled(0x20, 0x00)).AddMemory(0x10010, Filled(0x20, 0x80));
  const SynthDump synth = b.Build();
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->memory_ranges().size(), 2u);
  EXPECT_EQ(dump->memory_ranges()[0].end(), 0x10020u);
  EXPECT_EQ(dump->memory_ranges()[1].start, 0x10020u);  // the overlap is cut off
  EXPECT_EQ(dump->memory_ranges()[1].size, 0x10u);
  const Warning* w = FindWarning(*dump, "overlaps");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_THAT(w->what, HasSubstr("0x10 bytes in common"));
  // The first range wins inside the overlap; the second supplies the rest.
  std::array<uint8_t, 2> out{};
  ASSERT_TRUE(dump->ReadVirtual(0x1001F, out).ok());
  EXPECT_THAT(out, ElementsAre(0x1F, 0x90));
}

TEST(MinidumpTest, MergesOverlappingRangesWithEqualBytesSilently) {
  // Wine saves 256 bytes around each thread's RIP: threads stopped near each
  // other give overlapping ranges holding the same bytes.
  MinidumpBuilder b;
  b.AddMemory(0x10000, Filled(0x20, 0x00)).AddMemory(0x10010, Filled(0x20, 0x10));
  absl::StatusOr<Minidump> dump = Parse(b.Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->warnings().empty()) << AllWarnings(*dump);
  std::array<uint8_t, 2> out{};
  ASSERT_TRUE(dump->ReadVirtual(0x1002E, out).ok());
  EXPECT_THAT(out, ElementsAre(0x2E, 0x2F));
}

TEST(MinidumpTest, DropsMemoryRangeWrappingTheAddressSpace) {
  MinidumpBuilder b;
  b.AddMemory(0xFFFFFFFFFFFFFFF0ULL, Filled(0x20, 0));
  const SynthDump synth = b.Build();
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->memory_ranges().empty());
  const Warning* w = FindWarning(*dump, "wraps past the top");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, synth.memory_descriptors[0]);
}

TEST(MinidumpTest, RejectsMemory64CountExceedingStreamAsWarning) {
  MinidumpBuilder b;
  b.AddMemory64(0x10000, Filled(0x10, 0));
  SynthDump synth = b.Build();
  const uint32_t rva = synth.StreamRva(Memory64ListStream);
  PutU64(synth.bytes, rva, 0x8000000000000000ULL);
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->memory_ranges().empty());
  const Warning* w = FindWarning(*dump, "MINIDUMP_MEMORY64_LIST.NumberOfMemoryRanges");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, rva);
  EXPECT_THAT(w->what, HasSubstr(Offset(rva)));
}

TEST(MinidumpTest, DropsMemory64RangesPastEofWithOneWarning) {
  MinidumpBuilder b;
  for (int i = 0; i < 100; ++i) b.AddMemory64(0x10000 + 0x100 * i, Filled(0x10, 0));
  SynthDump synth = b.Build();
  const uint32_t rva = synth.StreamRva(Memory64ListStream);
  PutU64(synth.bytes, rva + 8, synth.bytes.size() - 0x18);  // BaseRva: 1.5 ranges fit
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->memory_ranges().size(), 2u);
  EXPECT_EQ(dump->memory_ranges()[1].size, 0x8u);
  EXPECT_LE(dump->warnings().size(), 3u) << AllWarnings(*dump);
  EXPECT_NE(FindWarning(*dump, "ranges 2..99 lie past end of file"), nullptr)
      << AllWarnings(*dump);
}

TEST(MinidumpTest, CapsPerEntryWarnings) {
  MinidumpBuilder b;
  for (int i = 0; i < 100; ++i) b.AddMemory(0xFFFFFFFFFFFFFF00ULL, Filled(0x200, 0));
  absl::StatusOr<Minidump> dump = Parse(b.Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_EQ(dump->warnings().size(), 33u);
  EXPECT_THAT(dump->warnings().back().what, HasSubstr("68 more entry warnings"));
}

TEST(MinidumpTest, ClampsExceptionParameterCount) {
  test::SynthException e;
  e.thread_id = 0x1234;
  e.parameters = {1, 2, 3};
  e.number_parameters = 0xFFFFFFFF;
  MinidumpBuilder b = TypicalDump();
  b.SetException(e);
  const SynthDump synth = b.Build();
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_TRUE(dump->exception().has_value());
  EXPECT_EQ(dump->exception()->parameters.size(), 15u);
  EXPECT_EQ(dump->exception()->parameters[2], 3u);
  const Warning* w = FindWarning(*dump, "NumberParameters");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, synth.StreamRva(ExceptionStream) + 0x20);
}

TEST(MinidumpTest, WarnsWhenExceptionThreadIsNotInThreadList) {
  test::SynthException e;
  e.thread_id = 0xAAAA;
  MinidumpBuilder b = TypicalDump();
  b.SetException(e);
  absl::StatusOr<Minidump> dump = Parse(b.Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->exception().has_value());
  EXPECT_FALSE(dump->exception()->context.has_value());
  EXPECT_NE(FindWarning(*dump, "ThreadId: not in the thread list (got 0xaaaa)"), nullptr)
      << AllWarnings(*dump);
}

TEST(MinidumpTest, RejectsTooSmallExceptionStreamAsWarning) {
  SynthDump synth = TypicalDump().Build();
  ASSERT_EQ(synth.streams[4].type, ExceptionStream);
  PutU32(synth.bytes, synth.DirectoryEntry(4) + 4, 0xA0);
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_FALSE(dump->exception().has_value());
  const Warning* w = FindWarning(*dump, "MINIDUMP_EXCEPTION_STREAM: stream too small");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_THAT(w->what, HasSubstr(Offset(synth.streams[4].rva)));
}

TEST(MinidumpTest, RejectsNb10CodeViewAsUnsupported) {
  MinidumpBuilder b;
  SynthModule m;
  m.name = U16("old.dll");
  m.raw_code_view = {'N', 'B', '1', '0', 0, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0, 'x', 0};
  b.AddModule(m);
  const SynthDump synth = b.Build();
  absl::StatusOr<Minidump> dump = Parse(synth.bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_FALSE(dump->modules()[0].code_view.has_value());
  const Warning* w = FindWarning(*dump, "NB10");
  ASSERT_NE(w, nullptr) << AllWarnings(*dump);
  EXPECT_EQ(w->offset, synth.module_entries[0]);
}

TEST(MinidumpTest, RejectsTruncatedRsdsRecord) {
  MinidumpBuilder b;
  SynthModule m;
  m.name = U16("short.dll");
  m.raw_code_view = {'R', 'S', 'D', 'S', 1, 2, 3, 4, 5, 6, 7, 8};
  b.AddModule(m);
  absl::StatusOr<Minidump> dump = Parse(b.Build().bytes);
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_FALSE(dump->modules()[0].code_view.has_value());
  EXPECT_NE(FindWarning(*dump, "CV_INFO_PDB70: record too small (expected at least 0x18 "
                               "bytes, got 0xc)"),
            nullptr)
      << AllWarnings(*dump);
}

TEST(MinidumpTest, SurvivesEveryTruncationOfATypicalDump) {
  const std::vector<uint8_t> full = TypicalDump().Build().bytes;
  for (size_t n = 0; n < full.size(); n += 7) {
    std::vector<uint8_t> bytes(full.begin(), full.begin() + n);
    absl::StatusOr<Minidump> dump = Parse(bytes);
    if (!dump.ok()) {
      EXPECT_EQ(dump.status().code(), absl::StatusCode::kOutOfRange) << n;
      EXPECT_THAT(Message(dump.status()), HasSubstr("offset 0x")) << n;
      continue;
    }
    for (const Warning& w : dump->warnings()) {
      EXPECT_THAT(w.what, HasSubstr("test.dmp: offset 0x")) << n;
    }
    for (const MemoryRange& r : dump->memory_ranges()) {
      EXPECT_LE(r.file_offset + r.size, n);
    }
  }
}

}  // namespace
}  // namespace restack::dump
