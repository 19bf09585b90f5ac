// minidump_builder.h - writes synthetic MDMP bytes for tests (independent of libdump's layouts)
//
// Like rust-minidump's minidump-synth, this deliberately does not use the production
// structs in restack/dump/minidump_layout.h: every field is written at an offset spelled
// out here from Microsoft's documentation, so that a layout mistake in libdump cannot
// hide behind the same mistake in the tests.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace restack::test {

// A growable little-endian byte buffer.
class ByteWriter {
 public:
  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

  void U8(uint8_t v) { bytes_.push_back(v); }
  void U16(uint16_t v);
  void U32(uint32_t v);
  void U64(uint64_t v);
  void Bytes(const std::vector<uint8_t>& v) { bytes_.insert(bytes_.end(), v.begin(), v.end()); }
  void Zeros(size_t n) { bytes_.insert(bytes_.end(), n, 0); }
  void Align(size_t n);
  void PatchU32(size_t offset, uint32_t v);
  void PatchU64(size_t offset, uint64_t v);

 private:
  std::vector<uint8_t> bytes_;
};

// Writes little-endian values into an existing buffer (for corrupting built dumps).
void PutU16(std::vector<uint8_t>& bytes, size_t offset, uint16_t v);
void PutU32(std::vector<uint8_t>& bytes, size_t offset, uint32_t v);
void PutU64(std::vector<uint8_t>& bytes, size_t offset, uint64_t v);

// An x64 CONTEXT to write. Defaults are what a user-mode thread on Windows x64 has.
struct SynthContext {
  uint32_t flags = 0x0010001F;  // CONTEXT_AMD64 | CONTROL | INTEGER | SEGMENTS | FP | DEBUG
  std::array<uint64_t, 16> gpr{};  // rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15
  uint64_t rip = 0;
  uint32_t eflags = 0x202;
  uint16_t seg_cs = 0x33, seg_ds = 0x2B, seg_es = 0x2B, seg_fs = 0x53, seg_gs = 0x2B,
           seg_ss = 0x2B;
  uint32_t mxcsr = 0x1F80;
  std::array<std::array<uint64_t, 2>, 16> xmm{};  // {low, high}
};

// The 0x4D0 bytes of an x64 CONTEXT (winnt.h), written field by field.
std::vector<uint8_t> X64ContextBytes(const SynthContext& c);

// Where a thread's stack bytes go.
enum class StackPlacement {
  kMemoryList,    // a MemoryListStream range; Stack.Memory.Rva points at its bytes
  kMemory64List,  // a Memory64ListStream range; Stack.Memory.Rva = 0 (Wine full-memory dumps)
  kThreadOnly,    // written after the thread list, in no memory list
};

struct SynthThread {
  uint32_t id = 0;
  uint32_t suspend_count = 0;
  uint32_t priority_class = 0x20;
  uint32_t priority = 0;
  uint64_t teb = 0;
  uint64_t stack_start = 0;
  std::vector<uint8_t> stack;  // empty: Stack descriptor is all zeros
  StackPlacement stack_placement = StackPlacement::kMemoryList;
  std::optional<SynthContext> context;  // nullopt: ThreadContext is {0, 0}
  std::vector<uint8_t> raw_context;     // if non-empty, written instead of `context`
};

struct SynthCodeView {
  std::array<uint8_t, 16> guid{};  // as stored (Data1..3 little-endian)
  uint32_t age = 1;
  std::string pdb_path;
};

struct SynthModule {
  std::u16string name;  // written as a MINIDUMP_STRING
  uint64_t base = 0;
  uint32_t size = 0;
  uint32_t checksum = 0;
  uint32_t timestamp = 0;
  uint32_t file_version_ms = 0, file_version_ls = 0;  // VS_FIXEDFILEINFO if either != 0
  std::optional<SynthCodeView> code_view;  // nullopt: CvRecord {0, 0}, as Wine writes
  std::vector<uint8_t> raw_code_view;      // if non-empty, written instead of `code_view`
};

struct SynthWineInfo {
  std::string build_id = "wine-8.0 (Debian 8.0~repack-4)";
  std::string host_system = "Linux";
  std::string host_release = "6.1.0-test";
};

struct SynthSystemInfo {
  uint16_t processor_architecture = 9;  // AMD64
  uint16_t processor_level = 6;
  uint16_t processor_revision = 0x5E03;
  uint8_t number_of_processors = 4;
  uint8_t product_type = 1;
  uint32_t major_version = 10;
  uint32_t minor_version = 0;
  uint32_t build_number = 19045;
  uint32_t platform_id = 2;
  std::u16string csd_version = u"Service Pack 1";
  uint16_t suite_mask = 0x100;
  std::string cpu_vendor = "GenuineIntel";  // 12 characters
  std::optional<SynthWineInfo> wine;        // the block Wine's dbghelp appends
};

struct SynthException {
  uint32_t thread_id = 0;
  uint32_t code = 0xC0000005;
  uint32_t flags = 0;
  uint64_t record_address = 0;
  uint64_t exception_address = 0;
  std::vector<uint64_t> parameters;  // at most 15 are written
  std::optional<uint32_t> number_parameters;  // overrides NumberParameters if set
  std::optional<SynthContext> context;
};

// A built dump plus where its parts ended up (file offsets), for corrupting tests.
struct SynthDump {
  std::vector<uint8_t> bytes;
  uint32_t directory_rva = 0;
  struct Stream {
    uint32_t type = 0;
    uint32_t rva = 0;
    uint32_t size = 0;
  };
  std::vector<Stream> streams;        // in directory order
  std::vector<uint32_t> thread_entries;   // each MINIDUMP_THREAD
  std::vector<uint32_t> thread_contexts;  // each thread's CONTEXT (0 if none)
  std::vector<uint32_t> module_entries;   // each MINIDUMP_MODULE
  std::vector<uint32_t> module_names;     // each module's MINIDUMP_STRING
  std::vector<uint32_t> memory_descriptors;  // MINIDUMP_MEMORY_DESCRIPTORs, in order
  uint32_t exception_context = 0;
  uint32_t csd_string = 0;

  // Offset of the first stream of `type`, or 0.
  uint32_t StreamRva(uint32_t type) const;
  // Offset of directory entry `index`.
  uint32_t DirectoryEntry(uint32_t index) const { return directory_rva + 12 * index; }
};

// Assembles a minidump: header, directory, then SystemInfo, ThreadList, ModuleList,
// MemoryList, Exception, raw streams and Memory64List, in that order.
class MinidumpBuilder {
 public:
  MinidumpBuilder& SetSystemInfo(SynthSystemInfo info);
  MinidumpBuilder& AddThread(SynthThread thread);
  MinidumpBuilder& AddModule(SynthModule module);
  // A MemoryListStream range.
  MinidumpBuilder& AddMemory(uint64_t va, std::vector<uint8_t> bytes);
  // A Memory64ListStream range.
  MinidumpBuilder& AddMemory64(uint64_t va, std::vector<uint8_t> bytes);
  MinidumpBuilder& SetException(SynthException exception);
  // Any stream, written as given.
  MinidumpBuilder& AddRawStream(uint32_t type, std::vector<uint8_t> data);
  // UnusedStream directory entries {0, {0, 0}} at the end, as Wine pads its directory.
  MinidumpBuilder& AddUnusedStreams(uint32_t count);
  // Writes 4 bytes of padding after each list count (8-byte aligned lists).
  MinidumpBuilder& PadListCounts(bool pad);
  MinidumpBuilder& SetTimestamp(uint32_t timestamp);
  MinidumpBuilder& SetFlags(uint64_t flags);

  SynthDump Build() const;

 private:
  std::optional<SynthSystemInfo> system_info_;
  std::vector<SynthThread> threads_;
  bool has_thread_list_ = false;
  std::vector<SynthModule> modules_;
  bool has_module_list_ = false;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> memory_;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> memory64_;
  std::optional<SynthException> exception_;
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> raw_streams_;
  uint32_t unused_streams_ = 0;
  bool pad_list_counts_ = false;
  uint32_t timestamp_ = 0x65000000;
  uint64_t flags_ = 0;
};

// UTF-16 from ASCII/Latin-1, for names.
std::u16string U16(const std::string& s);

// A small but complete dump: AMD64 system info, two threads with contexts and stacks,
// two modules (one with an RSDS record), an exception on the first thread. Used by
// tests and to make the fuzz seed corpus.
MinidumpBuilder TypicalDump();

}  // namespace restack::test
