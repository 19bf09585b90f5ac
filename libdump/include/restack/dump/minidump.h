// minidump.h - a parsed Windows user-mode minidump (MDMP) and its memory
//
// Minidump::Open() / FromBytes() validate everything once; the getters after that are
// cheap and cannot fail. The header and the stream directory are required (a broken one
// is an error); every other stream that is broken becomes a Warning and is absent.
// See docs/minidump.md.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "restack/dump/address_space.h"
#include "restack/dump/warning.h"
#include "restack/dump/x64_context.h"

namespace restack::dump {


// MINIDUMP_HEADER, as read.
struct MinidumpHeader {
  uint32_t signature = 0;             // 'MDMP'
  uint32_t version = 0;               // low 16 bits 0xA793; high 16 implementation-specific
  uint32_t stream_count = 0;          // NumberOfStreams
  uint32_t stream_directory_rva = 0;  // file offset of the directory
  uint32_t checksum = 0;
  uint32_t timestamp = 0;             // time_t, UTC
  uint64_t flags = 0;                 // MINIDUMP_TYPE
};

// One stream directory entry. Every entry is kept, including unknown types and
// UnusedStream padding, in directory order.
struct StreamInfo {
  uint32_t index = 0;      // position in the directory
  uint32_t type = 0;       // MINIDUMP_STREAM_TYPE or a vendor value
  uint32_t data_size = 0;  // Location.DataSize
  uint32_t rva = 0;        // Location.Rva (file offset)
};

// The Windows name of a stream type ("ThreadListStream"), or "" if restack does not
// know it.
std::string_view StreamTypeName(uint32_t type);

// Wine's host information, written by Wine's dbghelp right after MINIDUMP_SYSTEM_INFO
// (a "WINE" marker, then three NUL-terminated strings).
struct WineHostInfo {
  std::string build_id;      // e.g. "wine-8.0 (Debian 8.0~repack-4)"
  std::string host_system;   // uname sysname, e.g. "Linux"
  std::string host_release;  // uname release
};

// MINIDUMP_SYSTEM_INFO, as read.
struct SystemInfo {
  uint16_t processor_architecture = 0;  // kProcessorArchitecture* (9 = AMD64)
  uint16_t processor_level = 0;
  uint16_t processor_revision = 0;
  uint8_t number_of_processors = 0;
  uint8_t product_type = 0;
  uint32_t major_version = 0;
  uint32_t minor_version = 0;
  uint32_t build_number = 0;
  uint32_t platform_id = 0;
  std::string csd_version;  // from the MINIDUMP_STRING at CSDVersionRva; "" if none
  uint16_t suite_mask = 0;
  std::string cpu_vendor;   // x86/AMD64 only: cpuid vendor ("GenuineIntel"), else ""
  std::optional<WineHostInfo> wine;  // present in dumps written by Wine

  bool IsAmd64() const;
};

// One MINIDUMP_THREAD, with its context parsed.
struct Thread {
  uint32_t thread_id = 0;
  uint32_t suspend_count = 0;
  uint32_t priority_class = 0;
  uint32_t priority = 0;
  uint64_t teb = 0;
  uint64_t stack_start = 0;  // Stack.StartOfMemoryRange
  uint64_t stack_size = 0;   // Stack.Memory.DataSize
  uint32_t stack_rva = 0;    // Stack.Memory.Rva (0 in Wine full-memory dumps)
  uint32_t context_rva = 0;  // ThreadContext.Rva
  uint32_t context_size = 0; // ThreadContext.DataSize (0: no context recorded)
  std::optional<X64Context> context;  // absent if not recorded or not parseable
};

// A module's CodeView "RSDS" record (PDB 7.0).
struct CodeViewRecord {
  std::array<uint8_t, 16> guid{};  // GUID bytes as stored (Data1..3 little-endian)
  uint32_t age = 0;
  std::string pdb_path;            // PdbFileName, UTF-8 as stored

  // The GUID as symbol servers print it: Data1 %08X, Data2 %04X, Data3 %04X, then the
  // 8 Data4 bytes %02X each, no separators (32 upper-case hex digits).
  std::string GuidString() const;
};

// One MINIDUMP_MODULE.
struct Module {
  std::string name;  // MINIDUMP_STRING at ModuleNameRva, UTF-16 converted to UTF-8
  uint64_t base = 0;
  uint32_t size = 0;
  uint32_t checksum = 0;
  uint32_t timestamp = 0;  // TimeDateStamp of the PE header
  uint64_t file_version = 0;     // dwFileVersionMS << 32 | dwFileVersionLS; 0 if none
  uint64_t product_version = 0;  // dwProductVersionMS << 32 | dwProductVersionLS
  std::optional<CodeViewRecord> code_view;  // absent if CvRecord is empty or not RSDS

  uint64_t end() const { return base + size; }
};

// A range of target memory held in the file.
struct MemoryRange {
  uint64_t start = 0;        // virtual address
  uint64_t size = 0;         // bytes present in the file (clipped at end of file)
  uint64_t file_offset = 0;  // where the bytes are
  uint32_t stream_type = 0;  // MemoryListStream or Memory64ListStream

  uint64_t end() const { return start + size; }
};

// The ExceptionStream.
struct ExceptionInfo {
  uint32_t thread_id = 0;
  uint32_t code = 0;  // ExceptionCode (NTSTATUS)
  uint32_t flags = 0;
  uint64_t record_address = 0;     // ExceptionRecord: address of a nested record
  uint64_t exception_address = 0;  // ExceptionAddress
  std::vector<uint64_t> parameters;  // ExceptionInformation[0..NumberParameters)
  uint32_t context_rva = 0;
  uint32_t context_size = 0;
  std::optional<X64Context> context;  // the context at the exception, if parseable
};

// A parsed user-mode minidump; also an AddressSpace over its memory ranges.
class Minidump : public AddressSpace {
 public:
  // Maps `path` read-only (the file is never written) and parses it. Files over 4 GiB
  // are fine. Errors: the OS error for open/stat/mmap (kNotFound for a missing file),
  // kInvalidArgument for a non-regular file, else as FromBytes.
  static absl::StatusOr<Minidump> Open(const std::string& path);

  // Parses `bytes`, which must stay valid while `keep_alive` (may be null) is held;
  // `name` labels messages. Errors (only for the header and the stream directory):
  // kOutOfRange if truncated, kInvalidArgument for a bad signature, kUnimplemented
  // for an unknown version.
  static absl::StatusOr<Minidump> FromBytes(std::span<const uint8_t> bytes,
                                            std::shared_ptr<const void> keep_alive,
                                            std::string name);

  // The name given to FromBytes, or the path given to Open.
  const std::string& name() const { return name_; }
  // The whole file.
  std::span<const uint8_t> bytes() const { return bytes_; }
  const MinidumpHeader& header() const { return header_; }
  // Every directory entry, in directory order.
  const std::vector<StreamInfo>& streams() const { return streams_; }
  // The first directory entry of `type`, or nullptr.
  const StreamInfo* FindStream(uint32_t type) const;
  // A stream's bytes; kOutOfRange if its location runs past the end of the file.
  absl::StatusOr<std::span<const uint8_t>> StreamData(const StreamInfo& stream) const;

  // SystemInfoStream; nullopt if absent or broken.
  const std::optional<SystemInfo>& system_info() const { return system_info_; }
  // ThreadListStream entries; empty if absent or broken.
  const std::vector<Thread>& threads() const { return threads_; }
  // The thread with that id, or nullptr.
  const Thread* ThreadById(uint32_t thread_id) const;
  // ModuleListStream entries, in stream order; empty if absent or broken.
  const std::vector<Module>& modules() const { return modules_; }
  // The module whose [base, base + size) holds `va`, or nullptr.
  const Module* ModuleForAddress(uint64_t va) const;
  // MemoryListStream and Memory64ListStream ranges merged, sorted by start, disjoint.
  const std::vector<MemoryRange>& memory_ranges() const { return memory_; }
  // The range holding `va` (O(log n)), or nullptr.
  const MemoryRange* FindMemoryRange(uint64_t va) const;
  // ExceptionStream; nullopt if absent or broken.
  const std::optional<ExceptionInfo>& exception() const { return exception_; }
  // What was dropped or degraded while parsing, in file order of discovery.
  const std::vector<Warning>& warnings() const { return warnings_; }

  // A thread's captured stack bytes [stack_start, stack_start + stack_size): from the
  // memory ranges if one range holds them all, else from Stack.Memory.Rva. kNotFound
  // if neither holds them.
  absl::StatusOr<std::span<const uint8_t>> StackMemoryOf(const Thread& thread) const;

  // AddressSpace: reads may span adjacent ranges.
  absl::Status ReadVirtual(uint64_t va, std::span<uint8_t> out) const override;

 private:
  Minidump() = default;
  friend class MinidumpParser;

  std::shared_ptr<const void> keep_alive_;
  std::span<const uint8_t> bytes_;
  std::string name_;
  MinidumpHeader header_;
  std::vector<StreamInfo> streams_;
  std::optional<SystemInfo> system_info_;
  std::vector<Thread> threads_;
  std::vector<Module> modules_;
  std::vector<MemoryRange> memory_;
  std::optional<ExceptionInfo> exception_;
  std::vector<Warning> warnings_;
};

}  // namespace restack::dump
