// minidump.cc - MDMP parsing (Minidump::FromBytes / Open) and memory reads
#include "restack/dump/minidump.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "byte_reader.h"
#include "mapped_file.h"
#include "restack/dump/minidump_layout.h"
#include "utf16.h"

namespace restack::dump {

namespace {

using absl::StatusCode;

// Longest MINIDUMP_STRING accepted, in bytes: a Windows path is at most 32767 UTF-16
// units. Longer lengths are corruption, and would let one string be decoded huge.
constexpr uint64_t kMaxStringBytes = 0x10000;
// Longest CodeView record accepted (fixed part plus a PDB path of up to 32 KiB).
constexpr uint64_t kMaxCodeViewBytes = 0x8000 + sizeof(CV_INFO_PDB70);
// Per-entry warnings kept per stream; the rest are counted in one summary warning.
constexpr int kMaxEntryWarningsPerStream = 32;

std::string StreamLabel(uint32_t type) {
  std::string_view name = StreamTypeName(type);
  return name.empty() ? absl::StrFormat("stream type 0x%x", type) : std::string(name);
}

}  // namespace

std::string_view StreamTypeName(uint32_t type) {
  switch (type) {
    case UnusedStream: return "UnusedStream";
    case ReservedStream0: return "ReservedStream0";
    case ReservedStream1: return "ReservedStream1";
    case ThreadListStream: return "ThreadListStream";
    case ModuleListStream: return "ModuleListStream";
    case MemoryListStream: return "MemoryListStream";
    case ExceptionStream: return "ExceptionStream";
    case SystemInfoStream: return "SystemInfoStream";
    case ThreadExListStream: return "ThreadExListStream";
    case Memory64ListStream: return "Memory64ListStream";
    case CommentStreamA: return "CommentStreamA";
    case CommentStreamW: return "CommentStreamW";
    case HandleDataStream: return "HandleDataStream";
    case FunctionTableStream: return "FunctionTableStream";
    case UnloadedModuleListStream: return "UnloadedModuleListStream";
    case MiscInfoStream: return "MiscInfoStream";
    case MemoryInfoListStream: return "MemoryInfoListStream";
    case ThreadInfoListStream: return "ThreadInfoListStream";
    case HandleOperationListStream: return "HandleOperationListStream";
    case TokenStream: return "TokenStream";
    case JavaScriptDataStream: return "JavaScriptDataStream";
    case SystemMemoryInfoStream: return "SystemMemoryInfoStream";
    case ProcessVmCountersStream: return "ProcessVmCountersStream";
    case IptTraceStream: return "IptTraceStream";
    case ThreadNamesStream: return "ThreadNamesStream";
    case kWineElfModuleListStream: return "WineElfModuleListStream";
    case LastReservedStream: return "LastReservedStream";
    default: return "";
  }
}

bool SystemInfo::IsAmd64() const {
  return processor_architecture == kProcessorArchitectureAmd64;
}

std::string CodeViewRecord::GuidString() const {
  const auto& g = guid;
  const uint32_t data1 = g[0] | (g[1] << 8) | (g[2] << 16) | (uint32_t{g[3]} << 24);
  const uint32_t data2 = g[4] | (g[5] << 8);
  const uint32_t data3 = g[6] | (g[7] << 8);
  return absl::StrFormat("%08X%04X%04X%02X%02X%02X%02X%02X%02X%02X%02X", data1, data2, data3,
                         g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

// Fills a Minidump from its bytes. Kept out of the header: the only way in is
// Minidump::FromBytes.
class MinidumpParser {
 public:
  explicit MinidumpParser(Minidump& dump) : d_(dump), r_(dump.bytes_, dump.name_) {}

  absl::Status Parse();

 private:
  absl::Status ParseHeader();
  absl::Status ParseDirectory();
  absl::StatusOr<std::span<const uint8_t>> StreamBytes(const StreamInfo& stream) const;
  // Reads the list count at the start of a list stream and returns the offset (within
  // the stream) of entry 0: 4, or 8 when the writer padded the count to 8 bytes.
  absl::StatusOr<uint64_t> ListEntries(const StreamInfo& stream,
                                       std::span<const uint8_t> bytes, const char* list,
                                       const char* count_field, uint64_t entry_size,
                                       uint32_t* count) const;

  absl::Status ParseSystemInfo(const StreamInfo& stream);
  void ParseWineHostInfo(uint64_t start, uint64_t end);
  absl::Status ParseThreadList(const StreamInfo& stream);
  absl::Status ParseModuleList(const StreamInfo& stream);
  absl::Status ParseMemoryList(const StreamInfo& stream);
  absl::Status ParseMemory64List(const StreamInfo& stream);
  absl::Status ParseException(const StreamInfo& stream);
  void FinishMemory();

  // A MINIDUMP_STRING at `rva`, UTF-8; `what` names the field that points at it.
  absl::StatusOr<std::string> ReadString(uint64_t rva, std::string_view what);
  // An x64 CONTEXT at `location`; nullopt (and maybe a warning) if absent or broken.
  std::optional<X64Context> ReadContext(const MINIDUMP_LOCATION_DESCRIPTOR& location,
                                        std::string_view owner);
  std::optional<CodeViewRecord> ReadCodeView(const MINIDUMP_LOCATION_DESCRIPTOR& location,
                                             uint64_t module_offset);
  // Adds a range of memory whose bytes are at `file_offset`, clipping it at the end of
  // the file; `entry_offset` is the descriptor's own offset.
  void AddMemory(uint64_t start, uint64_t size, uint64_t file_offset, uint32_t stream_type,
                 uint64_t entry_offset);
  bool ChargeStringBudget(uint64_t bytes) {
    if (bytes > string_budget_) return false;
    string_budget_ -= bytes;
    return true;
  }

  void Warn(uint64_t offset, const absl::Status& status) {
    d_.warnings_.push_back({offset, std::string(status.message())});
  }
  template <typename... Args>
  void Warn(uint64_t offset, const absl::FormatSpec<Args...>& format, const Args&... args) {
    r_.Warn(d_.warnings_, offset, absl::StrFormat(format, args...));
  }
  // Per-entry warnings, capped per stream (see EndEntryWarnings).
  void EntryWarn(uint64_t offset, const absl::Status& status) {
    if (entry_warnings_++ < kMaxEntryWarningsPerStream) Warn(offset, status);
  }
  void BeginEntryWarnings() { entry_warnings_ = 0; }
  void EndEntryWarnings(const StreamInfo& stream) {
    if (entry_warnings_ > kMaxEntryWarningsPerStream) {
      Warn(stream.rva, "%s: %d more entry warnings like the above not listed",
           StreamLabel(stream.type), entry_warnings_ - kMaxEntryWarningsPerStream);
    }
    entry_warnings_ = 0;
  }

  Minidump& d_;
  ByteReader r_;
  uint64_t directory_end_ = 0;
  // Whether thread and exception contexts may be parsed as x64 (false once
  // SystemInfoStream names another architecture).
  bool contexts_are_x64_ = true;
  // Bytes of decoded strings (module names, PDB paths) still allowed: a bound derived
  // from the file size, so that entries pointing at one shared string cannot multiply it.
  uint64_t string_budget_ = 0;
  int entry_warnings_ = 0;
  std::vector<MemoryRange> pending_memory_;
  int memory_warnings_ = 0;
};

absl::Status MinidumpParser::Parse() {
  // What is required, decided here and nowhere else:
  //  - MINIDUMP_HEADER (signature, version) and the stream directory are REQUIRED:
  //    any problem with them is returned as an error and there is no Minidump.
  //  - Every stream is OPTIONAL. A broken SystemInfoStream, ThreadListStream,
  //    ModuleListStream, MemoryListStream, Memory64ListStream or ExceptionStream becomes
  //    a Warning and is absent; within a stream that is sound, a broken entry part (a
  //    thread's context, a module's name or CodeView record, a memory range's bytes)
  //    becomes a Warning and only that part is absent or clipped.
  //  - A second stream of a parsed type is a Warning and ignored (the first is used).
  //  - Streams of other types are listed in streams() and not parsed.
  absl::Status status = ParseHeader();
  if (!status.ok()) return status;
  status = ParseDirectory();
  if (!status.ok()) return status;
  string_budget_ = 2 * r_.size() + 0x100000;

  // First entry of each parsed type; later ones are duplicates.
  const StreamInfo* first[ThreadNamesStream + 1] = {};
  for (const StreamInfo& s : d_.streams_) {
    switch (s.type) {
      case ThreadListStream:
      case ModuleListStream:
      case MemoryListStream:
      case ExceptionStream:
      case SystemInfoStream:
      case Memory64ListStream:
        if (first[s.type] != nullptr) {
          Warn(d_.header_.stream_directory_rva + uint64_t{s.index} * sizeof(MINIDUMP_DIRECTORY),
               "MINIDUMP_DIRECTORY.StreamType: duplicate %s in directory entry %u, ignored "
               "(expected one, entry %u is used)",
               StreamLabel(s.type), s.index, first[s.type]->index);
        } else {
          first[s.type] = &s;
        }
        break;
      default:
        break;
    }
  }

  // System info first: its architecture decides whether contexts are x64.
  using ParseFn = absl::Status (MinidumpParser::*)(const StreamInfo&);
  const std::pair<uint32_t, ParseFn> order[] = {
      {SystemInfoStream, &MinidumpParser::ParseSystemInfo},
      {MemoryListStream, &MinidumpParser::ParseMemoryList},
      {Memory64ListStream, &MinidumpParser::ParseMemory64List},
      {ThreadListStream, &MinidumpParser::ParseThreadList},
      {ModuleListStream, &MinidumpParser::ParseModuleList},
      {ExceptionStream, &MinidumpParser::ParseException},
  };
  for (const auto& [type, parse] : order) {
    if (first[type] == nullptr) continue;
    absl::Status stream_status = (this->*parse)(*first[type]);
    if (!stream_status.ok()) Warn(first[type]->rva, stream_status);
  }
  FinishMemory();
  return absl::OkStatus();
}

absl::Status MinidumpParser::ParseHeader() {
  absl::StatusOr<MINIDUMP_HEADER> header = r_.Read<MINIDUMP_HEADER>(0);
  if (!header.ok()) return header.status();
  if (header->Signature != kMinidumpSignature) {
    return r_.Error(StatusCode::kInvalidArgument, offsetof(MINIDUMP_HEADER, Signature),
                    "MINIDUMP_HEADER.Signature: not a user-mode minidump (expected 0x%08x "
                    "\"MDMP\", got 0x%08x)",
                    kMinidumpSignature, header->Signature);
  }
  if ((header->Version & 0xFFFF) != kMinidumpVersion) {
    return r_.Error(StatusCode::kUnimplemented, offsetof(MINIDUMP_HEADER, Version),
                    "MINIDUMP_HEADER.Version: unknown format version (expected 0x%04x in the "
                    "low 16 bits, got 0x%08x)",
                    kMinidumpVersion, header->Version);
  }
  d_.header_ = {header->Signature,          header->Version,  header->NumberOfStreams,
                header->StreamDirectoryRva, header->CheckSum, header->TimeDateStamp,
                header->Flags};
  return absl::OkStatus();
}

absl::Status MinidumpParser::ParseDirectory() {
  const uint64_t rva = d_.header_.stream_directory_rva;
  const uint64_t count = d_.header_.stream_count;
  const uint64_t size = count * sizeof(MINIDUMP_DIRECTORY);  // < 2^36: no overflow
  if (count == 0) return absl::OkStatus();
  if (r_.Remaining(rva) < size) {
    return r_.Error(StatusCode::kOutOfRange, rva,
                    "MINIDUMP_HEADER.StreamDirectoryRva: stream directory of %u entries runs "
                    "past end of file (expected 0x%x bytes, got 0x%x)",
                    count, size, r_.Remaining(rva));
  }
  if (rva < sizeof(MINIDUMP_HEADER)) {
    return r_.Error(StatusCode::kDataLoss, rva,
                    "MINIDUMP_HEADER.StreamDirectoryRva: stream directory overlaps "
                    "MINIDUMP_HEADER (expected at least 0x%x, got 0x%x)",
                    sizeof(MINIDUMP_HEADER), rva);
  }
  directory_end_ = rva + size;
  // `count` is bounded by the file size here (size <= Remaining), so this is too.
  d_.streams_.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    absl::StatusOr<MINIDUMP_DIRECTORY> entry =
        r_.Read<MINIDUMP_DIRECTORY>(rva + uint64_t{i} * sizeof(MINIDUMP_DIRECTORY));
    if (!entry.ok()) return entry.status();  // unreachable: checked above
    d_.streams_.push_back({i, entry->StreamType, entry->Location.DataSize, entry->Location.Rva});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::span<const uint8_t>> MinidumpParser::StreamBytes(
    const StreamInfo& stream) const {
  const std::string label = StreamLabel(stream.type);
  absl::StatusOr<std::span<const uint8_t>> bytes =
      r_.Slice(stream.rva, stream.data_size, absl::StrCat(label, " (directory entry ",
                                                          stream.index, ")"));
  if (!bytes.ok()) return bytes.status();
  // A stream that overlaps the header or the directory is describing itself.
  const uint64_t begin = stream.rva;
  const uint64_t end = begin + stream.data_size;
  const uint64_t dir_begin = d_.header_.stream_directory_rva;
  if (begin < sizeof(MINIDUMP_HEADER) || (begin < directory_end_ && end > dir_begin)) {
    return r_.Error(StatusCode::kDataLoss, stream.rva,
                    "%s (directory entry %u): overlaps the header or stream directory "
                    "(expected data outside [0x0, 0x%x) and [0x%x, 0x%x), got [0x%x, 0x%x))",
                    label, stream.index, sizeof(MINIDUMP_HEADER), dir_begin, directory_end_,
                    begin, end);
  }
  return bytes;
}

absl::StatusOr<uint64_t> MinidumpParser::ListEntries(const StreamInfo& stream,
                                                     std::span<const uint8_t> bytes,
                                                     const char* list, const char* count_field,
                                                     uint64_t entry_size,
                                                     uint32_t* count) const {
  if (bytes.size() < sizeof(uint32_t)) {
    return r_.Error(StatusCode::kDataLoss, stream.rva,
                    "%s: stream too small for its count (expected at least 0x4 bytes, got 0x%x)",
                    list, bytes.size());
  }
  std::memcpy(count, bytes.data(), sizeof(uint32_t));
  const uint64_t needed = 4 + uint64_t{*count} * entry_size;  // < 2^40: no overflow
  if (needed > bytes.size()) {
    return r_.Error(StatusCode::kDataLoss, stream.rva,
                    "%s.%s: count exceeds the stream (expected at most %u for 0x%x bytes, "
                    "got %u)",
                    list, count_field, (bytes.size() - 4) / entry_size, bytes.size(), *count);
  }
  // Some writers pad the count to 8 bytes (LLVM's MinidumpFile::getListStream accepts
  // this too). Only an exact fit counts as padding: Wine may leave unused slots at the
  // end of a list stream when a callback skips entries.
  return needed + 4 == bytes.size() && *count > 0 ? 8 : 4;
}

absl::StatusOr<std::string> MinidumpParser::ReadString(uint64_t rva, std::string_view what) {
  absl::StatusOr<MINIDUMP_STRING> header =
      r_.Read<MINIDUMP_STRING>(rva, absl::StrFormat("MINIDUMP_STRING (from %s)", what));
  if (!header.ok()) return header.status();
  const uint64_t length = header->Length;
  if (length > kMaxStringBytes) {
    return r_.Error(StatusCode::kDataLoss, rva,
                    "MINIDUMP_STRING.Length (from %s): too long (expected at most 0x%x, "
                    "got 0x%x)",
                    what, kMaxStringBytes, length);
  }
  if (length > r_.Remaining(rva + 4)) {
    return r_.Error(StatusCode::kOutOfRange, rva,
                    "MINIDUMP_STRING.Length (from %s): runs past end of file (expected at "
                    "most 0x%x, got 0x%x)",
                    what, r_.Remaining(rva + 4), length);
  }
  if (!ChargeStringBudget(length)) {
    return r_.Error(StatusCode::kDataLoss, rva,
                    "MINIDUMP_STRING (from %s): strings decoded so far exceed what this "
                    "file's size allows (expected at most 0x%x more bytes, got 0x%x)",
                    what, string_budget_, length);
  }
  return Utf16LeToUtf8(r_.bytes().subspan(rva + 4, length));
}

std::optional<X64Context> MinidumpParser::ReadContext(
    const MINIDUMP_LOCATION_DESCRIPTOR& location, std::string_view owner) {
  if (location.DataSize == 0 || !contexts_are_x64_) return std::nullopt;
  absl::StatusOr<std::span<const uint8_t>> bytes =
      r_.Slice(location.Rva, location.DataSize, absl::StrFormat("CONTEXT (%s)", owner));
  if (!bytes.ok()) {
    EntryWarn(location.Rva, bytes.status());
    return std::nullopt;
  }
  absl::StatusOr<X64Context> context = ParseX64Context(*bytes, r_.name(), location.Rva);
  if (!context.ok()) {
    EntryWarn(location.Rva,
              absl::Status(context.status().code(),
                           absl::StrFormat("%s [%s]", context.status().message(), owner)));
    return std::nullopt;
  }
  return *std::move(context);
}

absl::Status MinidumpParser::ParseSystemInfo(const StreamInfo& stream) {
  absl::StatusOr<std::span<const uint8_t>> bytes = StreamBytes(stream);
  if (!bytes.ok()) return bytes.status();
  MINIDUMP_SYSTEM_INFO raw;
  if (!ReadStruct(*bytes, 0, &raw)) {
    return r_.Error(StatusCode::kDataLoss, stream.rva,
                    "MINIDUMP_SYSTEM_INFO: stream too small (expected 0x%x bytes, got 0x%x)",
                    sizeof(raw), bytes->size());
  }
  SystemInfo info;
  info.processor_architecture = raw.ProcessorArchitecture;
  info.processor_level = raw.ProcessorLevel;
  info.processor_revision = raw.ProcessorRevision;
  info.number_of_processors = raw.NumberOfProcessors;
  info.product_type = raw.ProductType;
  info.major_version = raw.MajorVersion;
  info.minor_version = raw.MinorVersion;
  info.build_number = raw.BuildNumber;
  info.platform_id = raw.PlatformId;
  info.suite_mask = raw.SuiteMask;
  if (raw.ProcessorArchitecture == kProcessorArchitectureAmd64 ||
      raw.ProcessorArchitecture == kProcessorArchitectureIntel) {
    char vendor[12];
    std::memcpy(vendor, raw.Cpu.VendorId(), sizeof(vendor));
    const bool printable = std::all_of(std::begin(vendor), std::end(vendor),
                                       [](char c) { return c >= 0x20 && c < 0x7F; });
    if (printable) info.cpu_vendor.assign(vendor, sizeof(vendor));
  }
  if (raw.CSDVersionRva != 0) {
    absl::StatusOr<std::string> csd =
        ReadString(raw.CSDVersionRva, "MINIDUMP_SYSTEM_INFO.CSDVersionRva");
    if (csd.ok()) {
      info.csd_version = *std::move(csd);
    } else {
      Warn(raw.CSDVersionRva, csd.status());
    }
  }
  d_.system_info_ = std::move(info);
  if (raw.ProcessorArchitecture != kProcessorArchitectureAmd64) {
    contexts_are_x64_ = false;
    Warn(stream.rva + offsetof(MINIDUMP_SYSTEM_INFO, ProcessorArchitecture),
         "MINIDUMP_SYSTEM_INFO.ProcessorArchitecture: not AMD64, thread and exception "
         "contexts are not parsed (expected %u, got %u)",
         kProcessorArchitectureAmd64, raw.ProcessorArchitecture);
  }
  // Wine's dbghelp writes "WINE" and its host strings between the struct and the CSD
  // string (dlls/dbghelp/minidump.c, dump_system_info); look only there.
  const uint64_t extra = uint64_t{stream.rva} + sizeof(raw);
  if (raw.CSDVersionRva > extra) ParseWineHostInfo(extra, raw.CSDVersionRva);
  return absl::OkStatus();
}

void MinidumpParser::ParseWineHostInfo(uint64_t start, uint64_t end) {
  // Layout: "WINE", uint32 count (3), uint32 offsets[count] from just after the marker,
  // then NUL-terminated build id, host sysname, host release.
  absl::StatusOr<std::span<const uint8_t>> block = r_.Slice(start, end - start, "Wine host info");
  if (!block.ok() || block->size() < 8 || std::memcmp(block->data(), "WINE", 4) != 0) return;
  const std::span<const uint8_t> body = block->subspan(4);
  uint32_t count;
  std::memcpy(&count, body.data(), 4);
  if (count < 3 || uint64_t{count} * 4 + 4 > body.size()) {
    Warn(start + 4, "Wine host info: count does not fit (expected 3 offsets in 0x%x bytes, got %u)",
         body.size(), count);
    return;
  }
  std::string fields[3];
  for (uint32_t i = 0; i < 3; ++i) {
    uint32_t offset;
    std::memcpy(&offset, body.data() + 4 + 4 * i, 4);
    const uint8_t* nul =
        offset < body.size()
            ? static_cast<const uint8_t*>(std::memchr(body.data() + offset, 0, body.size() - offset))
            : nullptr;
    if (nul == nullptr) {
      Warn(start + 8 + 4 * i,
           "Wine host info: string %u is not NUL-terminated inside the block (expected "
           "offset below 0x%x, got 0x%x)",
           i, body.size(), offset);
      return;
    }
    fields[i].assign(reinterpret_cast<const char*>(body.data() + offset),
                     nul - (body.data() + offset));
  }
  d_.system_info_->wine = WineHostInfo{fields[0], fields[1], fields[2]};
}

absl::Status MinidumpParser::ParseThreadList(const StreamInfo& stream) {
  absl::StatusOr<std::span<const uint8_t>> bytes = StreamBytes(stream);
  if (!bytes.ok()) return bytes.status();
  uint32_t count = 0;
  absl::StatusOr<uint64_t> first = ListEntries(stream, *bytes, "MINIDUMP_THREAD_LIST",
                                               "NumberOfThreads", sizeof(MINIDUMP_THREAD), &count);
  if (!first.ok()) return first.status();
  std::vector<Thread> threads;
  threads.reserve(count);  // bounded by the stream size (ListEntries)
  std::set<uint32_t> ids;
  BeginEntryWarnings();
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t offset = stream.rva + *first + uint64_t{i} * sizeof(MINIDUMP_THREAD);
    MINIDUMP_THREAD raw;
    ReadStruct(*bytes, *first + uint64_t{i} * sizeof(raw), &raw);  // fits: ListEntries
    Thread t;
    t.thread_id = raw.ThreadId;
    t.suspend_count = raw.SuspendCount;
    t.priority_class = raw.PriorityClass;
    t.priority = raw.Priority;
    t.teb = raw.Teb;
    t.stack_start = raw.Stack.StartOfMemoryRange;
    t.stack_size = raw.Stack.Memory.DataSize;
    t.stack_rva = raw.Stack.Memory.Rva;
    t.context_rva = raw.ThreadContext.Rva;
    t.context_size = raw.ThreadContext.DataSize;
    t.context = ReadContext(raw.ThreadContext, absl::StrFormat("thread 0x%x", raw.ThreadId));
    if (!ids.insert(raw.ThreadId).second) {
      EntryWarn(offset, DumpError(StatusCode::kDataLoss, r_.name(), offset,
                                  absl::StrFormat("MINIDUMP_THREAD.ThreadId: duplicate id "
                                                  "(expected unique, got 0x%x again)",
                                                  raw.ThreadId)));
    }
    threads.push_back(std::move(t));
  }
  EndEntryWarnings(stream);
  d_.threads_ = std::move(threads);
  return absl::OkStatus();
}

std::optional<CodeViewRecord> MinidumpParser::ReadCodeView(
    const MINIDUMP_LOCATION_DESCRIPTOR& location, uint64_t module_offset) {
  if (location.DataSize == 0) return std::nullopt;  // Wine writes no CodeView record
  const uint64_t rva = location.Rva;
  absl::StatusOr<std::span<const uint8_t>> bytes =
      r_.Slice(rva, location.DataSize, "MINIDUMP_MODULE.CvRecord");
  if (!bytes.ok()) {
    EntryWarn(module_offset, bytes.status());
    return std::nullopt;
  }
  uint32_t signature = 0;
  if (!ReadStruct(*bytes, 0, &signature)) {
    EntryWarn(module_offset, r_.Error(StatusCode::kDataLoss, rva,
                                      "MINIDUMP_MODULE.CvRecord: too small for a CodeView "
                                      "signature (expected at least 0x4 bytes, got 0x%x)",
                                      bytes->size()));
    return std::nullopt;
  }
  if (signature != kCvSignatureRsds) {
    EntryWarn(module_offset,
              r_.Error(signature == kCvSignatureNb10 ? StatusCode::kUnimplemented
                                                     : StatusCode::kDataLoss,
                       rva,
                       "CV_INFO_PDB70.CvSignature: not an RSDS CodeView record%s (expected "
                       "0x%08x, got 0x%08x)",
                       signature == kCvSignatureNb10 ? " (NB10/PDB 2.0 is not supported)" : "",
                       kCvSignatureRsds, signature));
    return std::nullopt;
  }
  CV_INFO_PDB70 raw;
  if (!ReadStruct(*bytes, 0, &raw)) {
    EntryWarn(module_offset, r_.Error(StatusCode::kDataLoss, rva,
                                      "CV_INFO_PDB70: record too small (expected at least "
                                      "0x%x bytes, got 0x%x)",
                                      sizeof(raw), bytes->size()));
    return std::nullopt;
  }
  if (bytes->size() > kMaxCodeViewBytes || !ChargeStringBudget(bytes->size())) {
    EntryWarn(module_offset, r_.Error(StatusCode::kDataLoss, rva,
                                      "CV_INFO_PDB70: record too large (expected at most "
                                      "0x%x bytes, got 0x%x)",
                                      std::min<uint64_t>(kMaxCodeViewBytes, string_budget_),
                                      bytes->size()));
    return std::nullopt;
  }
  CodeViewRecord cv;
  std::memcpy(cv.guid.data(), &raw.Signature, sizeof(raw.Signature));
  cv.age = raw.Age;
  const std::span<const uint8_t> path = bytes->subspan(sizeof(raw));
  const auto nul = std::find(path.begin(), path.end(), uint8_t{0});
  cv.pdb_path.assign(path.begin(), nul);
  return cv;
}

absl::Status MinidumpParser::ParseModuleList(const StreamInfo& stream) {
  absl::StatusOr<std::span<const uint8_t>> bytes = StreamBytes(stream);
  if (!bytes.ok()) return bytes.status();
  uint32_t count = 0;
  absl::StatusOr<uint64_t> first = ListEntries(stream, *bytes, "MINIDUMP_MODULE_LIST",
                                               "NumberOfModules", sizeof(MINIDUMP_MODULE), &count);
  if (!first.ok()) return first.status();
  std::vector<Module> modules;
  modules.reserve(count);  // bounded by the stream size (ListEntries)
  BeginEntryWarnings();
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t offset = stream.rva + *first + uint64_t{i} * sizeof(MINIDUMP_MODULE);
    MINIDUMP_MODULE raw;
    ReadStruct(*bytes, *first + uint64_t{i} * sizeof(raw), &raw);  // fits: ListEntries
    Module m;
    m.base = raw.BaseOfImage;
    m.size = raw.SizeOfImage;
    m.checksum = raw.CheckSum;
    m.timestamp = raw.TimeDateStamp;
    absl::StatusOr<std::string> name = ReadString(raw.ModuleNameRva, "MINIDUMP_MODULE.ModuleNameRva");
    if (name.ok()) {
      m.name = *std::move(name);
    } else {
      EntryWarn(offset, name.status());
    }
    if (raw.VersionInfo.dwSignature == kVsFfiSignature) {
      m.file_version = uint64_t{raw.VersionInfo.dwFileVersionMS} << 32 |
                       raw.VersionInfo.dwFileVersionLS;
      m.product_version = uint64_t{raw.VersionInfo.dwProductVersionMS} << 32 |
                          raw.VersionInfo.dwProductVersionLS;
    }
    m.code_view = ReadCodeView(raw.CvRecord, offset);
    modules.push_back(std::move(m));
  }
  EndEntryWarnings(stream);
  d_.modules_ = std::move(modules);
  return absl::OkStatus();
}

void MinidumpParser::AddMemory(uint64_t start, uint64_t size, uint64_t file_offset,
                               uint32_t stream_type, uint64_t entry_offset) {
  if (size == 0) return;
  if (size > std::numeric_limits<uint64_t>::max() - start) {
    EntryWarn(entry_offset,
              r_.Error(StatusCode::kDataLoss, entry_offset,
                       "%s: memory range wraps past the top of the address space "
                       "(expected start + size < 2^64, got start 0x%x size 0x%x)",
                       StreamLabel(stream_type), start, size));
    return;
  }
  const uint64_t present = std::min(size, r_.Remaining(file_offset));
  if (present < size) {
    EntryWarn(entry_offset,
              r_.Error(StatusCode::kOutOfRange, file_offset,
                       "%s: bytes of memory range 0x%x run past end of file, %s (expected "
                       "0x%x bytes, got 0x%x)",
                       StreamLabel(stream_type), start, present ? "clipped" : "dropped", size,
                       present));
    if (present == 0) return;
  }
  pending_memory_.push_back({start, present, file_offset, stream_type});
}

absl::Status MinidumpParser::ParseMemoryList(const StreamInfo& stream) {
  absl::StatusOr<std::span<const uint8_t>> bytes = StreamBytes(stream);
  if (!bytes.ok()) return bytes.status();
  uint32_t count = 0;
  absl::StatusOr<uint64_t> first =
      ListEntries(stream, *bytes, "MINIDUMP_MEMORY_LIST", "NumberOfMemoryRanges",
                  sizeof(MINIDUMP_MEMORY_DESCRIPTOR), &count);
  if (!first.ok()) return first.status();
  BeginEntryWarnings();
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t at = *first + uint64_t{i} * sizeof(MINIDUMP_MEMORY_DESCRIPTOR);
    MINIDUMP_MEMORY_DESCRIPTOR raw;
    ReadStruct(*bytes, at, &raw);  // fits: ListEntries
    AddMemory(raw.StartOfMemoryRange, raw.Memory.DataSize, raw.Memory.Rva, MemoryListStream,
              stream.rva + at);
  }
  EndEntryWarnings(stream);
  return absl::OkStatus();
}

absl::Status MinidumpParser::ParseMemory64List(const StreamInfo& stream) {
  absl::StatusOr<std::span<const uint8_t>> bytes = StreamBytes(stream);
  if (!bytes.ok()) return bytes.status();
  MINIDUMP_MEMORY64_LIST list;
  if (!ReadStruct(*bytes, 0, &list)) {
    return r_.Error(StatusCode::kDataLoss, stream.rva,
                    "MINIDUMP_MEMORY64_LIST: stream too small (expected at least 0x%x bytes, "
                    "got 0x%x)",
                    sizeof(list), bytes->size());
  }
  const uint64_t room = (bytes->size() - sizeof(list)) / sizeof(MINIDUMP_MEMORY_DESCRIPTOR64);
  if (list.NumberOfMemoryRanges > room) {
    return r_.Error(StatusCode::kDataLoss, stream.rva,
                    "MINIDUMP_MEMORY64_LIST.NumberOfMemoryRanges: count exceeds the stream "
                    "(expected at most %u for 0x%x bytes, got %u)",
                    room, bytes->size(), list.NumberOfMemoryRanges);
  }
  BeginEntryWarnings();
  uint64_t file_offset = list.BaseRva;
  for (uint64_t i = 0; i < list.NumberOfMemoryRanges; ++i) {
    const uint64_t at = sizeof(list) + i * sizeof(MINIDUMP_MEMORY_DESCRIPTOR64);
    MINIDUMP_MEMORY_DESCRIPTOR64 raw;
    ReadStruct(*bytes, at, &raw);  // fits: checked against `room`
    if (file_offset > r_.size()) {
      // Everything from here on lies past the end of the file: say so once.
      EntryWarn(stream.rva + at,
                r_.Error(StatusCode::kOutOfRange, stream.rva + at,
                         "MINIDUMP_MEMORY_DESCRIPTOR64: bytes of ranges %u..%u lie past end of "
                         "file, dropped (expected offset at most 0x%x, got 0x%x)",
                         i, list.NumberOfMemoryRanges - 1, r_.size(), file_offset));
      break;
    }
    AddMemory(raw.StartOfMemoryRange, raw.DataSize, file_offset, Memory64ListStream,
              stream.rva + at);
    // file_offset <= file size < 2^63, so only a huge DataSize can overflow this.
    file_offset = raw.DataSize > std::numeric_limits<uint64_t>::max() - file_offset
                      ? std::numeric_limits<uint64_t>::max()
                      : file_offset + raw.DataSize;
  }
  EndEntryWarnings(stream);
  return absl::OkStatus();
}

void MinidumpParser::FinishMemory() {
  if (pending_memory_.empty()) return;
  std::vector<MemoryRange> all = std::move(d_.memory_);
  all.insert(all.end(), pending_memory_.begin(), pending_memory_.end());
  pending_memory_.clear();
  // Sorted by start; for equal starts the range read first (MemoryListStream before
  // Memory64ListStream, then stream order) comes first and wins.
  std::vector<size_t> order(all.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&all](size_t a, size_t b) {
    return all[a].start != all[b].start ? all[a].start < all[b].start : a < b;
  });
  std::vector<MemoryRange> kept;
  kept.reserve(all.size());
  for (size_t i : order) {
    MemoryRange r = all[i];
    if (!kept.empty() && r.start < kept.back().end()) {
      const MemoryRange& prev = kept.back();
      // Wine saves 256 bytes around every thread's RIP, so threads stopped
      // near each other give overlapping ranges of identical bytes: merge
      // those silently; only different bytes for one address are suspect.
      const uint64_t common = std::min(r.end(), prev.end()) - r.start;
      const std::span<const uint8_t> file = r_.bytes();
      const bool same_bytes =
          std::equal(file.begin() + r.file_offset, file.begin() + r.file_offset + common,
                     file.begin() + prev.file_offset + (r.start - prev.start));
      if (!same_bytes && memory_warnings_++ < kMaxEntryWarningsPerStream) {
        Warn(r.file_offset,
             "%s: memory range [0x%x, 0x%x) overlaps [0x%x, 0x%x) read earlier with "
             "different bytes; the earlier bytes are kept (expected disjoint or equal "
             "ranges, got 0x%x bytes in common)",
             StreamLabel(r.stream_type), r.start, r.end(), prev.start, prev.end(), common);
      }
      if (r.end() <= prev.end()) continue;
      const uint64_t cut = prev.end() - r.start;
      r.start += cut;
      r.size -= cut;
      r.file_offset += cut;
    }
    kept.push_back(r);
  }
  if (memory_warnings_ > kMaxEntryWarningsPerStream) {
    Warn(kept.front().file_offset, "memory ranges: %d more overlap warnings not listed",
         memory_warnings_ - kMaxEntryWarningsPerStream);
  }
  d_.memory_ = std::move(kept);
}

absl::Status MinidumpParser::ParseException(const StreamInfo& stream) {
  absl::StatusOr<std::span<const uint8_t>> bytes = StreamBytes(stream);
  if (!bytes.ok()) return bytes.status();
  MINIDUMP_EXCEPTION_STREAM raw;
  if (!ReadStruct(*bytes, 0, &raw)) {
    return r_.Error(StatusCode::kDataLoss, stream.rva,
                    "MINIDUMP_EXCEPTION_STREAM: stream too small (expected 0x%x bytes, got 0x%x)",
                    sizeof(raw), bytes->size());
  }
  ExceptionInfo e;
  e.thread_id = raw.ThreadId;
  e.code = raw.ExceptionRecord.ExceptionCode;
  e.flags = raw.ExceptionRecord.ExceptionFlags;
  e.record_address = raw.ExceptionRecord.ExceptionRecord;
  e.exception_address = raw.ExceptionRecord.ExceptionAddress;
  uint32_t n = raw.ExceptionRecord.NumberParameters;
  if (n > kExceptionMaximumParameters) {
    Warn(stream.rva + offsetof(MINIDUMP_EXCEPTION_STREAM, ExceptionRecord) +
             offsetof(MINIDUMP_EXCEPTION, NumberParameters),
         "MINIDUMP_EXCEPTION.NumberParameters: too many, the first %u are kept (expected at "
         "most %u, got %u)",
         kExceptionMaximumParameters, kExceptionMaximumParameters, n);
    n = kExceptionMaximumParameters;
  }
  e.parameters.assign(raw.ExceptionRecord.ExceptionInformation,
                      raw.ExceptionRecord.ExceptionInformation + n);
  e.context_rva = raw.ThreadContext.Rva;
  e.context_size = raw.ThreadContext.DataSize;
  BeginEntryWarnings();
  e.context = ReadContext(raw.ThreadContext, "exception");
  EndEntryWarnings(stream);
  if (d_.FindStream(ThreadListStream) != nullptr && !d_.threads_.empty() &&
      d_.ThreadById(raw.ThreadId) == nullptr) {
    Warn(stream.rva, "MINIDUMP_EXCEPTION_STREAM.ThreadId: not in the thread list (got 0x%x)",
         raw.ThreadId);
  }
  d_.exception_ = std::move(e);
  return absl::OkStatus();
}

// ---- Minidump -----------------------------------------------------------------------

absl::StatusOr<Minidump> Minidump::Open(const std::string& path) {
  absl::StatusOr<MappedFile> file = MapFileReadOnly(path);
  if (!file.ok()) return file.status();
  return FromBytes(file->bytes, std::move(file->owner), path);
}

absl::StatusOr<Minidump> Minidump::FromBytes(std::span<const uint8_t> bytes,
                                             std::shared_ptr<const void> keep_alive,
                                             std::string name) {
  Minidump dump;
  dump.keep_alive_ = std::move(keep_alive);
  dump.bytes_ = bytes;
  dump.name_ = std::move(name);
  absl::Status status = MinidumpParser(dump).Parse();
  if (!status.ok()) return status;
  return dump;
}

const StreamInfo* Minidump::FindStream(uint32_t type) const {
  for (const StreamInfo& s : streams_) {
    if (s.type == type) return &s;
  }
  return nullptr;
}

absl::StatusOr<std::span<const uint8_t>> Minidump::StreamData(const StreamInfo& stream) const {
  return ByteReader(bytes_, name_).Slice(stream.rva, stream.data_size,
                                         absl::StrCat(StreamLabel(stream.type),
                                                      " (directory entry ", stream.index, ")"));
}

const Thread* Minidump::ThreadById(uint32_t thread_id) const {
  for (const Thread& t : threads_) {
    if (t.thread_id == thread_id) return &t;
  }
  return nullptr;
}

const Module* Minidump::ModuleForAddress(uint64_t va) const {
  for (const Module& m : modules_) {
    if (va >= m.base && va - m.base < m.size) return &m;
  }
  return nullptr;
}

const MemoryRange* Minidump::FindMemoryRange(uint64_t va) const {
  auto it = std::upper_bound(memory_.begin(), memory_.end(), va,
                             [](uint64_t a, const MemoryRange& r) { return a < r.start; });
  if (it == memory_.begin()) return nullptr;
  --it;
  return va - it->start < it->size ? &*it : nullptr;
}

absl::StatusOr<std::span<const uint8_t>> Minidump::StackMemoryOf(const Thread& thread) const {
  if (thread.stack_size == 0) {
    return absl::NotFoundError(absl::StrFormat("%s: thread 0x%x: no stack memory recorded",
                                               name_, thread.thread_id));
  }
  if (const MemoryRange* r = FindMemoryRange(thread.stack_start);
      r != nullptr && thread.stack_size <= r->end() - thread.stack_start) {
    return bytes_.subspan(r->file_offset + (thread.stack_start - r->start), thread.stack_size);
  }
  if (thread.stack_rva != 0 && thread.stack_rva <= bytes_.size() &&
      bytes_.size() - thread.stack_rva >= thread.stack_size) {
    return bytes_.subspan(thread.stack_rva, thread.stack_size);
  }
  return absl::NotFoundError(absl::StrFormat(
      "%s: thread 0x%x: stack 0x%x not in dump (expected 0x%x bytes at 0x%x or at file offset "
      "0x%x)",
      name_, thread.thread_id, thread.stack_start, thread.stack_size, thread.stack_start,
      thread.stack_rva));
}

absl::Status Minidump::ReadVirtual(uint64_t va, std::span<uint8_t> out) const {
  uint64_t address = va;
  size_t done = 0;
  auto it = std::upper_bound(memory_.begin(), memory_.end(), va,
                             [](uint64_t a, const MemoryRange& r) { return a < r.start; });
  if (it != memory_.begin()) --it;
  while (done < out.size()) {
    // Ranges are sorted and disjoint: the next byte is in `it` or nowhere.
    if (it == memory_.end() || address < it->start || address - it->start >= it->size) {
      return absl::NotFoundError(
          absl::StrFormat("%s: 0x%x not in dump (reading 0x%x bytes at 0x%x)", name_, address,
                          out.size(), va));
    }
    const uint64_t in_range = it->size - (address - it->start);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(in_range, out.size() - done));
    std::memcpy(out.data() + done, bytes_.data() + it->file_offset + (address - it->start), n);
    done += n;
    address += n;  // ranges end at or below 2^64 - 1, so this does not wrap
    ++it;
  }
  return absl::OkStatus();
}

}  // namespace restack::dump
