// minidump_builder.cc - MinidumpBuilder: field offsets from minidumpapiset.h / winnt.h docs
#include "tests/support/minidump_builder.h"

#include <algorithm>
#include <utility>

namespace restack::test {

void ByteWriter::U16(uint16_t v) {
  U8(v & 0xFF);
  U8(v >> 8);
}
void ByteWriter::U32(uint32_t v) {
  U16(v & 0xFFFF);
  U16(v >> 16);
}
void ByteWriter::U64(uint64_t v) {
  U32(static_cast<uint32_t>(v));
  U32(static_cast<uint32_t>(v >> 32));
}
void ByteWriter::Align(size_t n) {
  while (bytes_.size() % n != 0) U8(0);
}
void ByteWriter::PatchU32(size_t offset, uint32_t v) { PutU32(bytes_, offset, v); }
void ByteWriter::PatchU64(size_t offset, uint64_t v) { PutU64(bytes_, offset, v); }

void PutU16(std::vector<uint8_t>& bytes, size_t offset, uint16_t v) {
  bytes.at(offset) = v & 0xFF;
  bytes.at(offset + 1) = v >> 8;
}
void PutU32(std::vector<uint8_t>& bytes, size_t offset, uint32_t v) {
  PutU16(bytes, offset, v & 0xFFFF);
  PutU16(bytes, offset + 2, v >> 16);
}
void PutU64(std::vector<uint8_t>& bytes, size_t offset, uint64_t v) {
  PutU32(bytes, offset, static_cast<uint32_t>(v));
  PutU32(bytes, offset + 4, static_cast<uint32_t>(v >> 32));
}

std::u16string U16(const std::string& s) {
  std::u16string out;
  for (unsigned char c : s) out.push_back(c);
  return out;
}

std::vector<uint8_t> X64ContextBytes(const SynthContext& c) {
  std::vector<uint8_t> b(0x4D0, 0);
  PutU32(b, 0x30, c.flags);  // ContextFlags
  PutU32(b, 0x34, c.mxcsr);  // MxCsr
  PutU16(b, 0x38, c.seg_cs);
  PutU16(b, 0x3A, c.seg_ds);
  PutU16(b, 0x3C, c.seg_es);
  PutU16(b, 0x3E, c.seg_fs);
  PutU16(b, 0x40, c.seg_gs);
  PutU16(b, 0x42, c.seg_ss);
  PutU32(b, 0x44, c.eflags);
  for (size_t i = 0; i < 16; ++i) PutU64(b, 0x78 + 8 * i, c.gpr[i]);  // Rax..R15
  PutU64(b, 0xF8, c.rip);
  PutU16(b, 0x100, 0x027F);    // FltSave.ControlWord
  PutU32(b, 0x118, c.mxcsr);   // FltSave.MxCsr
  PutU32(b, 0x11C, 0xFFFF);    // FltSave.MxCsr_Mask
  for (size_t i = 0; i < 16; ++i) {  // FltSave.XmmRegisters[i] = Xmm0..15
    PutU64(b, 0x1A0 + 16 * i, c.xmm[i][0]);
    PutU64(b, 0x1A0 + 16 * i + 8, c.xmm[i][1]);
  }
  return b;
}

uint32_t SynthDump::StreamRva(uint32_t type) const {
  for (const Stream& s : streams) {
    if (s.type == type) return s.rva;
  }
  return 0;
}

MinidumpBuilder& MinidumpBuilder::SetSystemInfo(SynthSystemInfo info) {
  system_info_ = std::move(info);
  return *this;
}
MinidumpBuilder& MinidumpBuilder::AddThread(SynthThread thread) {
  threads_.push_back(std::move(thread));
  has_thread_list_ = true;
  return *this;
}
MinidumpBuilder& MinidumpBuilder::AddModule(SynthModule module) {
  modules_.push_back(std::move(module));
  has_module_list_ = true;
  return *this;
}
MinidumpBuilder& MinidumpBuilder::AddMemory(uint64_t va, std::vector<uint8_t> bytes) {
  memory_.emplace_back(va, std::move(bytes));
  return *this;
}
MinidumpBuilder& MinidumpBuilder::AddMemory64(uint64_t va, std::vector<uint8_t> bytes) {
  memory64_.emplace_back(va, std::move(bytes));
  return *this;
}
MinidumpBuilder& MinidumpBuilder::SetException(SynthException exception) {
  exception_ = std::move(exception);
  return *this;
}
MinidumpBuilder& MinidumpBuilder::AddRawStream(uint32_t type, std::vector<uint8_t> data) {
  raw_streams_.emplace_back(type, std::move(data));
  return *this;
}
MinidumpBuilder& MinidumpBuilder::AddUnusedStreams(uint32_t count) {
  unused_streams_ = count;
  return *this;
}
MinidumpBuilder& MinidumpBuilder::PadListCounts(bool pad) {
  pad_list_counts_ = pad;
  return *this;
}
MinidumpBuilder& MinidumpBuilder::SetTimestamp(uint32_t timestamp) {
  timestamp_ = timestamp;
  return *this;
}
MinidumpBuilder& MinidumpBuilder::SetFlags(uint64_t flags) {
  flags_ = flags;
  return *this;
}

namespace {

// Stream type numbers (MINIDUMP_STREAM_TYPE), spelled out independently of libdump.
constexpr uint32_t kThreadList = 3, kModuleList = 4, kMemoryList = 5, kException = 6,
                   kSystemInfo = 7, kMemory64List = 9;

void WriteMinidumpString(ByteWriter& w, const std::u16string& s) {
  w.U32(static_cast<uint32_t>(s.size() * 2));  // Length: bytes, without the terminator
  for (char16_t c : s) w.U16(c);
  w.U16(0);
}

}  // namespace

SynthDump MinidumpBuilder::Build() const {
  SynthDump out;
  ByteWriter w;

  // Which memory ranges exist: explicit ones plus thread stacks placed in a list.
  struct Range {
    uint64_t va;
    const std::vector<uint8_t>* bytes;
    int thread = -1;  // index of the thread whose Stack.Memory.Rva points here
  };
  std::vector<Range> list_ranges, list64_ranges;
  for (const auto& [va, bytes] : memory_) list_ranges.push_back({va, &bytes});
  for (size_t i = 0; i < threads_.size(); ++i) {
    const SynthThread& t = threads_[i];
    if (t.stack.empty()) continue;
    if (t.stack_placement == StackPlacement::kMemoryList) {
      list_ranges.push_back({t.stack_start, &t.stack, static_cast<int>(i)});
    } else if (t.stack_placement == StackPlacement::kMemory64List) {
      list64_ranges.push_back({t.stack_start, &t.stack, static_cast<int>(i)});
    }
  }
  for (const auto& [va, bytes] : memory64_) list64_ranges.push_back({va, &bytes});

  std::vector<uint32_t> types;
  if (system_info_) types.push_back(kSystemInfo);
  if (has_thread_list_) types.push_back(kThreadList);
  if (has_module_list_) types.push_back(kModuleList);
  if (!list_ranges.empty()) types.push_back(kMemoryList);
  if (exception_) types.push_back(kException);
  for (const auto& raw : raw_streams_) types.push_back(raw.first);
  if (!list64_ranges.empty()) types.push_back(kMemory64List);
  const uint32_t stream_count = static_cast<uint32_t>(types.size()) + unused_streams_;

  w.Zeros(0x20);  // MINIDUMP_HEADER, patched at the end
  out.directory_rva = static_cast<uint32_t>(w.size());
  w.Zeros(12 * size_t{stream_count});

  size_t raw_index = 0;
  for (uint32_t type : types) {
    w.Align(4);
    SynthDump::Stream stream{type, static_cast<uint32_t>(w.size()), 0};
    const size_t rva = w.size();
    switch (type) {
      case kSystemInfo: {
        const SynthSystemInfo& s = *system_info_;
        w.U16(s.processor_architecture);  // 0x00
        w.U16(s.processor_level);         // 0x02
        w.U16(s.processor_revision);      // 0x04
        w.U8(s.number_of_processors);     // 0x06
        w.U8(s.product_type);             // 0x07
        w.U32(s.major_version);           // 0x08
        w.U32(s.minor_version);           // 0x0C
        w.U32(s.build_number);            // 0x10
        w.U32(s.platform_id);             // 0x14
        w.U32(0);                         // 0x18 CSDVersionRva, patched
        w.U16(s.suite_mask);              // 0x1C
        w.U16(0);                         // 0x1E Reserved2
        std::string vendor = s.cpu_vendor;  // 0x20 Cpu.X86CpuInfo.VendorId[3]
        vendor.resize(12, '\0');
        for (char c : vendor) w.U8(static_cast<uint8_t>(c));
        w.U32(0x000906EA);  // 0x2C VersionInformation
        w.U32(0xBFEBFBFF);  // 0x30 FeatureInformation
        w.U32(0);           // 0x34 AMDExtendedCpuFeatures
        stream.size = 0x38;
        if (s.wine) {  // Wine's dbghelp: "WINE", count, offsets from after the marker, strings
          const SynthWineInfo& wi = *s.wine;
          for (char c : std::string("WINE")) w.U8(static_cast<uint8_t>(c));
          w.U32(3);
          const uint32_t o1 = 16, o2 = o1 + wi.build_id.size() + 1,
                         o3 = o2 + wi.host_system.size() + 1;
          w.U32(o1);
          w.U32(o2);
          w.U32(o3);
          for (const std::string* str : {&wi.build_id, &wi.host_system, &wi.host_release}) {
            for (char c : *str) w.U8(static_cast<uint8_t>(c));
            w.U8(0);
          }
        }
        out.csd_string = static_cast<uint32_t>(w.size());
        w.PatchU32(rva + 0x18, out.csd_string);
        WriteMinidumpString(w, s.csd_version);
        break;
      }
      case kThreadList: {
        w.U32(static_cast<uint32_t>(threads_.size()));  // NumberOfThreads
        if (pad_list_counts_) w.U32(0);
        for (const SynthThread& t : threads_) {
          out.thread_entries.push_back(static_cast<uint32_t>(w.size()));
          w.U32(t.id);              // 0x00
          w.U32(t.suspend_count);   // 0x04
          w.U32(t.priority_class);  // 0x08
          w.U32(t.priority);        // 0x0C
          w.U64(t.teb);             // 0x10
          w.U64(t.stack.empty() ? 0 : t.stack_start);          // 0x18 Stack.StartOfMemoryRange
          w.U32(static_cast<uint32_t>(t.stack.size()));        // 0x20 Stack.Memory.DataSize
          w.U32(0);                 // 0x24 Stack.Memory.Rva, patched
          w.U32(0);                 // 0x28 ThreadContext.DataSize, patched
          w.U32(0);                 // 0x2C ThreadContext.Rva, patched
        }
        stream.size = static_cast<uint32_t>(w.size() - rva);
        for (size_t i = 0; i < threads_.size(); ++i) {
          const SynthThread& t = threads_[i];
          const size_t entry = out.thread_entries[i];
          uint32_t context_rva = 0;
          std::vector<uint8_t> context =
              !t.raw_context.empty() ? t.raw_context
              : t.context            ? X64ContextBytes(*t.context)
                                     : std::vector<uint8_t>();
          if (!context.empty()) {
            w.Align(16);
            context_rva = static_cast<uint32_t>(w.size());
            w.Bytes(context);
            w.PatchU32(entry + 0x28, static_cast<uint32_t>(context.size()));
            w.PatchU32(entry + 0x2C, context_rva);
          }
          out.thread_contexts.push_back(context_rva);
          if (!t.stack.empty() && t.stack_placement == StackPlacement::kThreadOnly) {
            w.PatchU32(entry + 0x24, static_cast<uint32_t>(w.size()));
            w.Bytes(t.stack);
          }
        }
        break;
      }
      case kModuleList: {
        w.U32(static_cast<uint32_t>(modules_.size()));  // NumberOfModules
        if (pad_list_counts_) w.U32(0);
        for (const SynthModule& m : modules_) {
          out.module_entries.push_back(static_cast<uint32_t>(w.size()));
          w.U64(m.base);       // 0x00
          w.U32(m.size);       // 0x08
          w.U32(m.checksum);   // 0x0C
          w.U32(m.timestamp);  // 0x10
          w.U32(0);            // 0x14 ModuleNameRva, patched
          const bool version = m.file_version_ms != 0 || m.file_version_ls != 0;
          w.U32(version ? 0xFEEF04BD : 0);  // 0x18 VersionInfo.dwSignature
          w.U32(version ? 0x00010000 : 0);  // 0x1C dwStrucVersion
          w.U32(m.file_version_ms);         // 0x20 dwFileVersionMS
          w.U32(m.file_version_ls);         // 0x24 dwFileVersionLS
          w.U32(m.file_version_ms);         // 0x28 dwProductVersionMS
          w.U32(m.file_version_ls);         // 0x2C dwProductVersionLS
          w.Zeros(0x4C - 0x30);             // rest of VS_FIXEDFILEINFO
          w.U32(0);                         // 0x4C CvRecord.DataSize, patched
          w.U32(0);                         // 0x50 CvRecord.Rva, patched
          w.U32(0);                         // 0x54 MiscRecord.DataSize
          w.U32(0);                         // 0x58 MiscRecord.Rva
          w.U64(0);                         // 0x5C Reserved0
          w.U64(0);                         // 0x64 Reserved1
        }
        stream.size = static_cast<uint32_t>(w.size() - rva);
        for (size_t i = 0; i < modules_.size(); ++i) {
          const SynthModule& m = modules_[i];
          const size_t entry = out.module_entries[i];
          w.Align(4);
          out.module_names.push_back(static_cast<uint32_t>(w.size()));
          w.PatchU32(entry + 0x14, static_cast<uint32_t>(w.size()));
          WriteMinidumpString(w, m.name);
          std::vector<uint8_t> cv = m.raw_code_view;
          if (cv.empty() && m.code_view) {
            ByteWriter c;
            for (char ch : std::string("RSDS")) c.U8(static_cast<uint8_t>(ch));
            for (uint8_t b : m.code_view->guid) c.U8(b);
            c.U32(m.code_view->age);
            for (char ch : m.code_view->pdb_path) c.U8(static_cast<uint8_t>(ch));
            c.U8(0);
            cv = c.Take();
          }
          if (!cv.empty()) {
            w.Align(4);
            w.PatchU32(entry + 0x4C, static_cast<uint32_t>(cv.size()));
            w.PatchU32(entry + 0x50, static_cast<uint32_t>(w.size()));
            w.Bytes(cv);
          }
        }
        break;
      }
      case kMemoryList: {
        w.U32(static_cast<uint32_t>(list_ranges.size()));  // NumberOfMemoryRanges
        if (pad_list_counts_) w.U32(0);
        for (const Range& r : list_ranges) {
          out.memory_descriptors.push_back(static_cast<uint32_t>(w.size()));
          w.U64(r.va);                                      // StartOfMemoryRange
          w.U32(static_cast<uint32_t>(r.bytes->size()));    // Memory.DataSize
          w.U32(0);                                         // Memory.Rva, patched
        }
        stream.size = static_cast<uint32_t>(w.size() - rva);
        for (size_t i = 0; i < list_ranges.size(); ++i) {
          const uint32_t data = static_cast<uint32_t>(w.size());
          w.PatchU32(out.memory_descriptors[i] + 0xC, data);
          if (list_ranges[i].thread >= 0) {
            w.PatchU32(out.thread_entries.at(list_ranges[i].thread) + 0x24, data);
          }
          w.Bytes(*list_ranges[i].bytes);
        }
        break;
      }
      case kException: {
        const SynthException& e = *exception_;
        w.U32(e.thread_id);  // 0x00 ThreadId
        w.U32(0);            // 0x04 __alignment
        w.U32(e.code);       // 0x08 ExceptionCode
        w.U32(e.flags);      // 0x0C ExceptionFlags
        w.U64(e.record_address);     // 0x10 ExceptionRecord
        w.U64(e.exception_address);  // 0x18 ExceptionAddress
        w.U32(e.number_parameters.value_or(static_cast<uint32_t>(e.parameters.size())));  // 0x20
        w.U32(0);  // 0x24 __unusedAlignment
        for (size_t i = 0; i < 15; ++i) {  // 0x28 ExceptionInformation[15]
          w.U64(i < e.parameters.size() ? e.parameters[i] : 0);
        }
        w.U32(0);  // 0xA0 ThreadContext.DataSize, patched
        w.U32(0);  // 0xA4 ThreadContext.Rva, patched
        stream.size = 0xA8;
        if (e.context) {
          w.Align(16);
          out.exception_context = static_cast<uint32_t>(w.size());
          w.PatchU32(rva + 0xA0, 0x4D0);
          w.PatchU32(rva + 0xA4, out.exception_context);
          w.Bytes(X64ContextBytes(*e.context));
        }
        break;
      }
      case kMemory64List: {
        w.U64(list64_ranges.size());  // NumberOfMemoryRanges
        w.U64(0);                     // BaseRva, patched
        for (const Range& r : list64_ranges) {
          w.U64(r.va);             // StartOfMemoryRange
          w.U64(r.bytes->size());  // DataSize
        }
        stream.size = static_cast<uint32_t>(w.size() - rva);
        w.PatchU64(rva + 8, w.size());
        for (const Range& r : list64_ranges) w.Bytes(*r.bytes);
        break;
      }
      default: {
        const auto& raw = raw_streams_.at(raw_index++);
        w.Bytes(raw.second);
        stream.size = static_cast<uint32_t>(raw.second.size());
        break;
      }
    }
    out.streams.push_back(stream);
  }
  for (size_t i = 0; i < out.streams.size(); ++i) {  // MINIDUMP_DIRECTORY[i]
    w.PatchU32(out.directory_rva + 12 * i + 0, out.streams[i].type);
    w.PatchU32(out.directory_rva + 12 * i + 4, out.streams[i].size);
    w.PatchU32(out.directory_rva + 12 * i + 8, out.streams[i].rva);
  }
  // MINIDUMP_HEADER
  w.PatchU32(0x00, 0x504D444D);  // Signature "MDMP"
  w.PatchU32(0x04, 0x0000A793);  // Version
  w.PatchU32(0x08, stream_count);
  w.PatchU32(0x0C, out.directory_rva);
  w.PatchU32(0x10, 0);  // CheckSum
  w.PatchU32(0x14, timestamp_);
  w.PatchU64(0x18, flags_);
  out.bytes = w.Take();
  return out;
}

namespace {

// Stack bytes whose uint64 at address a is a ^ 0x5A5A5A5A5A5A5A5A, so tests can check
// any read without keeping a copy.
std::vector<uint8_t> PatternStack(uint64_t start, size_t size) {
  ByteWriter w;
  for (uint64_t a = start; a < start + size; a += 8) w.U64(a ^ 0x5A5A5A5A5A5A5A5AULL);
  return w.Take();
}

}  // namespace

MinidumpBuilder TypicalDump() {
  MinidumpBuilder b;
  b.SetSystemInfo({});

  SynthContext main_ctx;
  main_ctx.gpr = {0x1, 0x2, 0x3, 0x4, 0x14F800, 0x14F900, 0x7, 0x8,
                  0x9, 0xA, 0xB, 0xC, 0xD,      0xE,      0xF, 0x10};
  main_ctx.rip = 0x140001234;
  main_ctx.xmm[0] = {0x1111222233334444ULL, 0x5555666677778888ULL};
  main_ctx.xmm[15] = {0xF0F0F0F0F0F0F0F0ULL, 0x0F0F0F0F0F0F0F0FULL};
  SynthThread main_thread;
  main_thread.id = 0x1234;
  main_thread.teb = 0x3E0000;
  main_thread.stack_start = 0x14F000;
  main_thread.stack = PatternStack(0x14F000, 0x1000);
  main_thread.context = main_ctx;
  b.AddThread(main_thread);

  SynthContext worker_ctx;
  worker_ctx.gpr[4] = 0x24F400;  // rsp
  worker_ctx.gpr[5] = 0x24F480;  // rbp
  worker_ctx.rip = 0x7FFB00001010;
  SynthThread worker;
  worker.id = 0x5678;
  worker.suspend_count = 1;
  worker.teb = 0x3E2000;
  worker.stack_start = 0x24F000;
  worker.stack = PatternStack(0x24F000, 0x800);
  worker.context = worker_ctx;
  b.AddThread(worker);

  SynthModule exe;
  exe.name = U16("C:\\app\\crashy.exe");
  exe.base = 0x140000000;
  exe.size = 0x20000;
  exe.checksum = 0x2A5F1;
  exe.timestamp = 0x64F0A1B2;
  exe.file_version_ms = 0x00010002;
  exe.file_version_ls = 0x00030004;
  exe.code_view = SynthCodeView{{0x78, 0x56, 0x34, 0x12, 0xBC, 0x9A, 0xF0, 0xDE, 0x01, 0x23,
                                 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF},
                                2,
                                "C:\\build\\crashy.pdb"};
  b.AddModule(exe);
  SynthModule ntdll;
  ntdll.name = U16("C:\\Windows\\System32\\ntdll.dll");
  ntdll.base = 0x7FFB00000000;
  ntdll.size = 0x1F0000;
  b.AddModule(ntdll);

  b.AddMemory(0x140001200, std::vector<uint8_t>(0x80, 0xCC));  // code around rip

  SynthException e;
  e.thread_id = 0x1234;
  e.exception_address = 0x140001234;
  e.parameters = {1, 0xDEADBEEF};
  e.context = main_ctx;
  b.SetException(e);
  return b;
}

}  // namespace restack::test
