// kernel_dump.cc - DUMP_HEADER64, layout recognition, physical and virtual reads
#include "restack/dump/kernel_dump.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_format.h"
#include "byte_reader.h"
#include "kernel_structures.h"
#include "mapped_file.h"
#include "physical_page_index.h"
#include "restack/dump/kernel_dump_layout.h"
#include "triage_dump.h"
#include "x64_paging.h"

namespace restack::dump {

struct KernelDump::State {
  std::string name;
  std::span<const uint8_t> bytes;
  std::shared_ptr<const void> keep_alive;
  DUMP_HEADER64 header{};
  KernelDumpKind kind = KernelDumpKind::kFull;
  PhysicalPageIndex pages;
  std::optional<TriageContents> triage;
  BugCheck bugcheck;
  std::optional<X64Context> header_context;
  std::optional<DebuggerData> kdbg;
  std::vector<KernelModule> modules;
  std::vector<UnloadedDriver> unloaded;
  std::vector<ProcessorContext> contexts;
  std::optional<uint32_t> bugcheck_processor;
  std::vector<SecondaryData> secondary;
  std::vector<Warning> warnings;
};

namespace {

constexpr uint64_t kPage = kKernelPageSize;
constexpr uint64_t kBitmapOffset = sizeof(DUMP_HEADER64) + sizeof(BMP_HEADER64);
constexpr uint64_t kRdmpRangesOffset = sizeof(DUMP_HEADER64) + sizeof(RDMP_HEADER64);
constexpr uint64_t kMaxRunPages = uint64_t{1} << 40;  // 4 PiB: more than any machine

// Sorts `runs` by PFN and drops those overlapping an earlier one (one summary
// warning); O(n log n) however many runs the file lists.
std::vector<PhysicalPageIndex::Run> DropOverlappingRuns(std::vector<PhysicalPageIndex::Run> runs,
                                                       const ByteReader& file, uint64_t where,
                                                       std::vector<Warning>& warnings) {
  std::stable_sort(runs.begin(), runs.end(),
                   [](const PhysicalPageIndex::Run& a, const PhysicalPageIndex::Run& b) {
                     return a.first_pfn < b.first_pfn;
                   });
  std::vector<PhysicalPageIndex::Run> kept;
  uint64_t dropped = 0;
  for (const PhysicalPageIndex::Run& r : runs) {
    if (!kept.empty() && r.first_pfn < kept.back().first_pfn + kept.back().count) {
      ++dropped;
      continue;
    }
    kept.push_back(r);
  }
  if (dropped > 0) {
    file.Warn(
        warnings, where,
        absl::StrFormat("%u physical page runs overlap earlier ones and are ignored", dropped));
  }
  return kept;
}

// DumpType values that agree with a recognised layout.
bool DumpTypeAgrees(KernelDumpKind kind, uint32_t type) {
  switch (kind) {
    case KernelDumpKind::kFull: return type == kDumpTypeFull;
    case KernelDumpKind::kBitmapFull:
    case KernelDumpKind::kBitmapKernel:
      return type == kDumpTypeBitmapFull || type == kDumpTypeBitmapKernel ||
             type == kDumpTypeAutomatic;
    case KernelDumpKind::kRdmpKernel: return type == kDumpTypeRdmpKernel;
    case KernelDumpKind::kRdmpKernelUser: return type == kDumpTypeRdmpKernelUser;
    case KernelDumpKind::kRdmpComplete: return type == kDumpTypeRdmpComplete;
    case KernelDumpKind::kTriage: return type == kDumpTypeTriage;
  }
  return false;
}

// Full dumps: PHYSICAL_MEMORY_DESCRIPTOR64 runs, pages packed from 0x2000.
absl::StatusOr<PhysicalPageIndex> FullDumpPages(const ByteReader& file, const DUMP_HEADER64& h,
                                                std::vector<Warning>& warnings) {
  if (h.NumberOfRuns > kMaxPhysicalRuns) {
    return file.Error(absl::StatusCode::kDataLoss, 0x88,
                      "PHYSICAL_MEMORY_DESCRIPTOR64.NumberOfRuns: %u runs do not fit the header "
                      "(expected at most %u)",
                      h.NumberOfRuns, kMaxPhysicalRuns);
  }
  std::vector<PhysicalPageIndex::Run> runs;
  uint64_t offset = sizeof(DUMP_HEADER64);
  uint64_t total = 0;
  for (uint32_t i = 0; i < h.NumberOfRuns; ++i) {
    PHYSICAL_MEMORY_RUN64 r;
    std::memcpy(&r, h.RunBuffer + i * sizeof(r), sizeof(r));
    if (r.BasePage + r.PageCount < r.BasePage || r.PageCount > kMaxRunPages) {
      return file.Error(absl::StatusCode::kDataLoss, 0x98 + i * sizeof(r),
                        "PHYSICAL_MEMORY_RUN64[%u]: 0x%x pages from PFN 0x%x overflow", i,
                        r.PageCount, r.BasePage);
    }
    runs.push_back({r.BasePage, r.PageCount, offset});
    offset += r.PageCount * kPage;  // at most 42 runs of 2^40 pages: no wrap
    total += r.PageCount;
  }
  runs = DropOverlappingRuns(std::move(runs), file, 0x98, warnings);
  if (total != h.NumberOfPages) {
    file.Warn(warnings, 0x90,
              absl::StrFormat("PHYSICAL_MEMORY_DESCRIPTOR64.NumberOfPages: 0x%x, but the runs hold "
                              "0x%x pages",
                              h.NumberOfPages, total));
  }
  if (offset > file.size()) {
    file.Warn(
        warnings, file.size(),
        absl::StrFormat("the runs need 0x%x bytes but the file has 0x%x: pages past the end are "
                        "missing (truncated dump)",
                        offset, file.size()));
  }
  return PhysicalPageIndex::FromRuns(std::move(runs));
}

absl::StatusOr<PhysicalPageIndex> BitmapDumpPages(const ByteReader& file,
                                                  std::vector<Warning>& warnings) {
  BMP_HEADER64 b{};
  ReadStruct(file.bytes(), sizeof(DUMP_HEADER64), &b);  // checked by the caller
  const uint64_t bitmap_bytes = b.Pages / 8 + (b.Pages % 8 != 0);
  uint64_t bits = b.Pages;
  if (bitmap_bytes > file.Remaining(kBitmapOffset)) {
    bits = file.Remaining(kBitmapOffset) * 8;
    file.Warn(warnings, 0x2030,
              absl::StrFormat("BMP_HEADER64.Pages: a bitmap of 0x%x bits runs past the end of the "
                              "file; reading 0x%x bits",
                              b.Pages, bits));
  }
  if (b.FirstPage < kBitmapOffset + (bits + 7) / 8 || b.FirstPage > file.size()) {  // bits fit the file
    return file.Error(absl::StatusCode::kDataLoss, 0x2020,
                      "BMP_HEADER64.FirstPage: 0x%x is not after the bitmap (which ends at 0x%x) "
                      "and within the file (0x%x bytes)",
                      b.FirstPage, kBitmapOffset + (bits + 7) / 8, file.size());
  }
  PhysicalPageIndex index = PhysicalPageIndex::FromBitmap(
      file.bytes().subspan(kBitmapOffset, (bits + 7) / 8), bits, b.FirstPage);
  if (index.present_pages() != b.TotalPresentPages) {
    file.Warn(
        warnings, 0x2028,
        absl::StrFormat("BMP_HEADER64.TotalPresentPages: 0x%x, but the bitmap has 0x%x bits set",
                        b.TotalPresentPages, index.present_pages()));
  }
  const uint64_t need = b.FirstPage + index.present_pages() * kPage;
  if (need > file.size()) {
    file.Warn(
        warnings, file.size(),
        absl::StrFormat("the bitmap's pages need 0x%x bytes but the file has 0x%x: pages past "
                        "the end are missing (truncated dump)",
                        need, file.size()));
  }
  return index;
}

absl::StatusOr<PhysicalPageIndex> RdmpDumpPages(const ByteReader& file, KernelDumpKind kind,
                                                std::vector<Warning>& warnings) {
  RDMP_HEADER64 r{};
  ReadStruct(file.bytes(), sizeof(DUMP_HEADER64), &r);  // checked by the caller
  if (r.FirstPageOffset < kRdmpRangesOffset || r.FirstPageOffset > file.size()) {
    return file.Error(absl::StatusCode::kDataLoss, 0x2018,
                      "RDMP_HEADER64.FirstPageOffset: 0x%x is not within the file (0x%x bytes) "
                      "after the ranges (0x%x)",
                      r.FirstPageOffset, file.size(), kRdmpRangesOffset);
  }
  if (r.FirstPageOffset != 0x2020 + r.MetadataSize) {
    file.Warn(
        warnings, 0x2010,
        absl::StrFormat("RDMP_HEADER64.MetadataSize: 0x%x does not end at FirstPageOffset 0x%x "
                        "(expected 0x%x); ranges are read up to FirstPageOffset",
                        r.MetadataSize, r.FirstPageOffset, r.FirstPageOffset - 0x2020));
  }
  // Complete dumps bound the ranges by TotalNumberOfPages too.
  const uint64_t total_limit = kind == KernelDumpKind::kRdmpComplete && r.Field1 != 0
                                   ? r.Field1
                                   : std::numeric_limits<uint64_t>::max();
  std::vector<PhysicalPageIndex::Run> runs;
  uint64_t page_offset = r.FirstPageOffset;
  uint64_t pages = 0;
  for (uint64_t at = kRdmpRangesOffset; at + sizeof(PFN_RANGE64) <= r.FirstPageOffset;
       at += sizeof(PFN_RANGE64)) {
    PFN_RANGE64 range{};
    if (!ReadStruct(file.bytes(), at, &range)) break;
    if (range.PageFileNumber == 0 || pages >= total_limit) break;
    if (range.PageFileNumber + range.NumberOfPages < range.PageFileNumber ||
        range.NumberOfPages > kMaxRunPages) {
      return file.Error(absl::StatusCode::kDataLoss, at,
                        "PFN range: 0x%x pages from PFN 0x%x overflow", range.NumberOfPages,
                        range.PageFileNumber);
    }
    if (page_offset > file.size()) break;  // the rest lies past the end (warned below)
    runs.push_back({range.PageFileNumber, range.NumberOfPages, page_offset});
    page_offset += range.NumberOfPages * kPage;  // <= file size + 2^52: no wrap
    pages += range.NumberOfPages;
  }
  runs = DropOverlappingRuns(std::move(runs), file, kRdmpRangesOffset, warnings);
  if (kind == KernelDumpKind::kRdmpComplete && total_limit == 0 && !runs.empty()) {
    file.Warn(warnings, 0x2028, "RDMP TotalNumberOfPages: 0, but ranges follow; they are read");
  }
  if (kind == KernelDumpKind::kRdmpComplete && r.Field1 != 0 && pages != total_limit) {
    file.Warn(warnings, 0x2028,
              absl::StrFormat("RDMP TotalNumberOfPages: 0x%x, but the ranges hold 0x%x pages",
                              total_limit, pages));
  }
  if (page_offset > file.size()) {
    file.Warn(warnings, file.size(),
              absl::StrFormat("the ranges' pages need 0x%x bytes but the file has 0x%x: pages past "
                              "the end are missing (truncated dump)",
                              page_offset, file.size()));
  }
  return PhysicalPageIndex::FromRuns(std::move(runs));
}

// Recognises the memory layout from the bytes after the header.
absl::StatusOr<KernelDumpKind> Recognise(const ByteReader& file, const DUMP_HEADER64& h) {
  BMP_HEADER64 b{};
  if (ReadStruct(file.bytes(), sizeof(DUMP_HEADER64), &b) && b.ValidDump == kBmpValidDump) {
    if (b.Signature == kBmpSignatureKernel) return KernelDumpKind::kBitmapKernel;
    if (b.Signature == kBmpSignatureFull) return KernelDumpKind::kBitmapFull;
  }
  RDMP_HEADER64 r{};
  if (ReadStruct(file.bytes(), sizeof(DUMP_HEADER64), &r) && r.Marker == kRdmpMarker &&
      r.Signature == kRdmpSignature && r.ValidDump == kBmpValidDump) {
    if (h.DumpType == kDumpTypeRdmpComplete) return KernelDumpKind::kRdmpComplete;
    if (h.DumpType == kDumpTypeRdmpKernelUser) return KernelDumpKind::kRdmpKernelUser;
    return KernelDumpKind::kRdmpKernel;
  }
  if (LooksLikeTriage(file, h.DumpType)) return KernelDumpKind::kTriage;
  // A full dump has a plausible run list whose pages start at 0x2000.
  if (h.NumberOfRuns <= kMaxPhysicalRuns && h.DumpType == kDumpTypeFull) {
    return KernelDumpKind::kFull;
  }
  if (h.NumberOfRuns > 0 && h.NumberOfRuns <= kMaxPhysicalRuns) {
    uint64_t pages = 0;
    for (uint32_t i = 0; i < h.NumberOfRuns; ++i) {
      PHYSICAL_MEMORY_RUN64 run;
      std::memcpy(&run, h.RunBuffer + i * sizeof(run), sizeof(run));
      pages += std::min<uint64_t>(run.PageCount, uint64_t{1} << 40);
    }
    if (pages == h.NumberOfPages && sizeof(DUMP_HEADER64) + pages * kPage <= file.size()) {
      return KernelDumpKind::kFull;
    }
  }
  return file.Error(absl::StatusCode::kUnimplemented, 0xF98,
                    "DUMP_HEADER64.DumpType: %u, and no known memory layout follows the header "
                    "(no SDMP/FDMP bitmap, RDMP or triage header at 0x2000, no usable run list)",
                    h.DumpType);
}

}  // namespace

std::string_view KernelDumpKindName(KernelDumpKind kind) {
  switch (kind) {
    case KernelDumpKind::kFull: return "full";
    case KernelDumpKind::kBitmapFull: return "bitmap-full";
    case KernelDumpKind::kBitmapKernel: return "bitmap-kernel";
    case KernelDumpKind::kRdmpKernel: return "rdmp-kernel";
    case KernelDumpKind::kRdmpKernelUser: return "rdmp-kernel-user";
    case KernelDumpKind::kRdmpComplete: return "rdmp-complete";
    case KernelDumpKind::kTriage: return "triage";
  }
  return "?";
}

KernelDump::KernelDump(std::unique_ptr<State> state) : s_(std::move(state)) {}
KernelDump::KernelDump(KernelDump&&) = default;
KernelDump& KernelDump::operator=(KernelDump&&) = default;
KernelDump::~KernelDump() = default;

absl::StatusOr<KernelDump> KernelDump::Open(const std::string& path) {
  absl::StatusOr<MappedFile> file = MapFileReadOnly(path);
  if (!file.ok()) return file.status();
  return FromBytes(file->bytes, file->owner, path);
}

absl::StatusOr<KernelDump> KernelDump::FromBytes(std::span<const uint8_t> bytes,
                                                 std::shared_ptr<const void> keep_alive,
                                                 std::string name) {
  auto s = std::make_unique<State>();
  s->name = std::move(name);
  s->bytes = bytes;
  s->keep_alive = std::move(keep_alive);
  const ByteReader file(bytes, s->name);
  // Required: the header, an x64 machine, a memory layout.
  if (!ReadStruct(bytes, 0, &s->header)) {
    return file.Error(absl::StatusCode::kOutOfRange, 0,
                      "DUMP_HEADER64: runs past end of file (expected 0x2000 bytes, got 0x%x)",
                      bytes.size());
  }
  const DUMP_HEADER64& h = s->header;
  if (h.Signature != kDumpSignature) {
    return file.Error(absl::StatusCode::kInvalidArgument, 0,
                      "DUMP_HEADER64.Signature: not a kernel dump (expected 'PAGE' 0x%x, got "
                      "0x%x)",
                      kDumpSignature, h.Signature);
  }
  if (h.ValidDump != kDumpValidDump64) {
    return file.Error(absl::StatusCode::kUnimplemented, 4,
                      "DUMP_HEADER64.ValidDump: not a 64-bit dump (expected 'DU64' 0x%x, got "
                      "0x%x)",
                      kDumpValidDump64, h.ValidDump);
  }
  if (h.MachineImageType != 0x8664) {
    return file.Error(absl::StatusCode::kUnimplemented, 0x30,
                      "DUMP_HEADER64.MachineImageType: unsupported machine 0x%x (restack reads "
                      "x64 dumps, 0x8664)",
                      h.MachineImageType);
  }
  absl::StatusOr<KernelDumpKind> kind = Recognise(file, h);
  if (!kind.ok()) return kind.status();
  s->kind = *kind;
  if (!DumpTypeAgrees(s->kind, h.DumpType)) {
    file.Warn(
        s->warnings, 0xF98,
        absl::StrFormat("DUMP_HEADER64.DumpType: %u, but the content is a %s dump; read as %s",
                        h.DumpType, KernelDumpKindName(s->kind), KernelDumpKindName(s->kind)));
  }

  uint64_t dump_end = h.RequiredDumpSpace;
  switch (s->kind) {
    case KernelDumpKind::kFull: {
      absl::StatusOr<PhysicalPageIndex> pages = FullDumpPages(file, h, s->warnings);
      if (!pages.ok()) return pages.status();
      s->pages = *std::move(pages);
      break;
    }
    case KernelDumpKind::kBitmapFull:
    case KernelDumpKind::kBitmapKernel: {
      absl::StatusOr<PhysicalPageIndex> pages = BitmapDumpPages(file, s->warnings);
      if (!pages.ok()) return pages.status();
      s->pages = *std::move(pages);
      break;
    }
    case KernelDumpKind::kRdmpKernel:
    case KernelDumpKind::kRdmpKernelUser:
    case KernelDumpKind::kRdmpComplete: {
      absl::StatusOr<PhysicalPageIndex> pages = RdmpDumpPages(file, s->kind, s->warnings);
      if (!pages.ok()) return pages.status();
      s->pages = *std::move(pages);
      break;
    }
    case KernelDumpKind::kTriage: {
      absl::StatusOr<TriageContents> triage = ParseTriage(file, h, s->warnings);
      if (!triage.ok()) return triage.status();
      s->triage = *std::move(triage);
      dump_end = s->triage->header.SizeOfDump;
      break;
    }
  }

  s->bugcheck.code = h.BugCheckCode;
  for (int i = 0; i < 4; ++i) s->bugcheck.parameters[i] = h.BugCheckParameter[i];
  absl::StatusOr<X64Context> context =
      ParseX64Context({h.ContextRecord, 0x4D0}, s->name, offsetof(DUMP_HEADER64, ContextRecord));
  if (context.ok()) {
    s->header_context = *std::move(context);
  } else {
    file.Warn(s->warnings, 0x348,
              absl::StrFormat("DUMP_HEADER64.ContextRecord: no usable x64 context (%s)",
                              context.status().message()));
  }
  // Bytes past the dump proper: secondary data, listed only.
  if (dump_end >= sizeof(DUMP_HEADER64) && dump_end < bytes.size()) {
    SecondaryData extra;
    extra.offset = dump_end;
    extra.size = bytes.size() - dump_end;
    for (uint64_t i = dump_end; i < bytes.size() && i < dump_end + 8; ++i) {
      const char c = static_cast<char>(bytes[i]);
      extra.magic += (c >= 0x20 && c < 0x7f) ? c : '.';
    }
    s->secondary.push_back(std::move(extra));
  }

  KernelDump dump(std::move(s));
  dump.ReadKernelFacts();
  return dump;
}

void KernelDump::ReadKernelFacts() {
  State& s = *s_;
  KernelWarnings warnings(s.name, s.warnings);
  s.kdbg = ReadDebuggerData(*this, s.header.KdDebuggerDataBlock, warnings);
  const bool kdbg_usable = s.kdbg && !s.kdbg->encoded;
  if (s.triage) {
    s.modules = s.triage->drivers;
    s.unloaded = s.triage->unloaded;
  } else {
    const uint64_t head = kdbg_usable && s.kdbg->ps_loaded_module_list != 0
                              ? s.kdbg->ps_loaded_module_list
                              : s.header.PsLoadedModuleList;
    s.modules = WalkModuleList(*this, head, s.header.MinorVersion, warnings);
    if (kdbg_usable) s.unloaded = ReadMmUnloadedDrivers(*this, *s.kdbg, warnings);
  }
  if (kdbg_usable) {
    s.contexts = ReadProcessorContexts(*this, *s.kdbg, s.header.NumberProcessors, warnings);
  }
  s.bugcheck_processor = FindBugcheckProcessor();
}

std::optional<uint32_t> KernelDump::FindBugcheckProcessor() {
  State& s = *s_;
  KernelWarnings warnings(s.name, s.warnings);
  // A triage dump copies the bugchecking processor's KPRCB, which holds its number.
  if (s.triage && s.kdbg && !s.kdbg->encoded && s.kdbg->offset_prcb_number != 0) {
    const TRIAGE_DUMP64& t = s.triage->header;
    uint16_t number;
    if (t.PrcbOffset >= sizeof(DUMP_HEADER64) + sizeof(TRIAGE_DUMP64) &&
        s.kdbg->offset_prcb_number + 2u <= std::max<uint32_t>(s.kdbg->size_prcb, 2u) &&
        uint64_t{t.PrcbOffset} + s.kdbg->offset_prcb_number + 2 <= t.SizeOfDump &&
        ReadStruct(s.bytes, uint64_t{t.PrcbOffset} + s.kdbg->offset_prcb_number, &number) &&
        number < s.header.NumberProcessors) {
      return number;
    }
  }
  if (!s.header_context) return std::nullopt;
  const uint64_t rsp = s.header_context->rsp();
  for (const ProcessorContext& pc : s.contexts) {
    if (pc.context.rip == s.header_context->rip && pc.context.rsp() == rsp) return pc.processor;
  }
  // KeBugCheckEx runs on the stack of the fault the header context describes,
  // a little deeper: the processor whose RSP is nearest below it. Kernel
  // stacks lie close together, so more than one candidate is reported.
  constexpr uint64_t kKernelStackSpan = 0x20000;
  const ProcessorContext* best = nullptr;
  uint32_t candidates = 0;
  for (const ProcessorContext& pc : s.contexts) {
    if (pc.context.rsp() <= rsp && rsp - pc.context.rsp() < kKernelStackSpan) {
      ++candidates;
      if (best == nullptr || pc.context.rsp() > best->context.rsp()) best = &pc;
    }
  }
  if (best != nullptr && candidates > 1) {
    warnings.Add(rsp, absl::StrFormat("%u processors' stacks lie just below the header "
                                      "context's RSP; processor %u (nearest) taken as the one "
                                      "that bugchecked",
                                      candidates, best->processor));
  }
  return best ? std::optional<uint32_t>(best->processor) : std::nullopt;
}

const std::string& KernelDump::name() const { return s_->name; }
KernelDumpKind KernelDump::kind() const { return s_->kind; }
uint32_t KernelDump::dump_type() const { return s_->header.DumpType; }
uint32_t KernelDump::major_version() const { return s_->header.MajorVersion; }
uint32_t KernelDump::build() const { return s_->header.MinorVersion; }
uint32_t KernelDump::processors() const { return s_->header.NumberProcessors; }
uint64_t KernelDump::system_time() const { return s_->header.SystemTime; }
uint64_t KernelDump::directory_table_base() const { return s_->header.DirectoryTableBase; }
const BugCheck& KernelDump::bugcheck() const { return s_->bugcheck; }
const std::optional<X64Context>& KernelDump::header_context() const {
  return s_->header_context;
}
const std::optional<DebuggerData>& KernelDump::debugger_data() const { return s_->kdbg; }
const std::vector<KernelModule>& KernelDump::modules() const { return s_->modules; }
const std::vector<UnloadedDriver>& KernelDump::unloaded_drivers() const { return s_->unloaded; }
const std::vector<ProcessorContext>& KernelDump::processor_contexts() const {
  return s_->contexts;
}
const std::vector<SecondaryData>& KernelDump::secondary_data() const { return s_->secondary; }
std::optional<uint32_t> KernelDump::bugcheck_processor() const { return s_->bugcheck_processor; }
const std::vector<Warning>& KernelDump::warnings() const { return s_->warnings; }

std::optional<std::pair<uint64_t, uint64_t>> KernelDump::stack_window() const {
  if (!s_->triage || s_->triage->header.SizeOfCallStack == 0) return std::nullopt;
  return std::make_pair(s_->triage->header.TopOfStack,
                        uint64_t{s_->triage->header.SizeOfCallStack});
}

const KernelModule* KernelDump::ModuleForAddress(uint64_t va) const {
  for (const KernelModule& m : s_->modules) {
    if (va >= m.base && va - m.base < m.size) return &m;
  }
  return nullptr;
}

absl::Status KernelDump::ReadPhysical(uint64_t pa, std::span<uint8_t> out) const {
  if (out.size() > std::numeric_limits<uint64_t>::max() - pa) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: physical 0x%x+0x%x passes the top of the address space", s_->name, pa, out.size()));
  }
  if (std::optional<std::string> missing = CopyPhysical(pa, out)) {
    return absl::NotFoundError(absl::StrFormat("%s: %s", s_->name, *missing));
  }
  return absl::OkStatus();
}

// Copies physical memory; on failure, what was missing (without the file name).
std::optional<std::string> KernelDump::CopyPhysical(uint64_t pa, std::span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    const uint64_t at = pa + done;
    const uint64_t in_page = at % kPage;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kPage - in_page, out.size() - done));
    std::optional<uint64_t> offset = s_->pages.FileOffset(at / kPage);
    const uint64_t size = s_->bytes.size();
    if (!offset || *offset > size || size - *offset < kPage) {
      return absl::StrFormat("physical page 0x%x not in dump%s", at & ~(kPage - 1),
                             offset ? " (the file is truncated)" : "");
    }
    std::memcpy(out.data() + done, s_->bytes.data() + *offset + in_page, n);
    done += n;
  }
  return std::nullopt;
}

Translation KernelDump::Translate(uint64_t va) const {
  if (s_->triage) {
    Translation t;
    t.fault = TranslationFault::kNoPageTables;
    t.detail = "a triage dump has no page tables";
    return t;
  }
  return TranslateX64(s_->header.DirectoryTableBase, va,
                      [this](uint64_t pa) -> std::optional<uint64_t> {
                        uint64_t entry;
                        if (CopyPhysical(pa, {reinterpret_cast<uint8_t*>(&entry), 8})) {
                          return std::nullopt;
                        }
                        return entry;
                      });
}

absl::Status KernelDump::ReadVirtual(uint64_t va, std::span<uint8_t> out) const {
  if (out.size() > std::numeric_limits<uint64_t>::max() - va) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: 0x%x+0x%x passes the top of the address space", s_->name, va, out.size()));
  }
  size_t done = 0;
  if (s_->triage) {
    const std::vector<TriageRegion>& regions = s_->triage->regions;
    while (done < out.size()) {
      const uint64_t at = va + done;
      auto it = std::upper_bound(regions.begin(), regions.end(), at,
                                 [](uint64_t a, const TriageRegion& r) { return a < r.va; });
      if (it == regions.begin() || at >= std::prev(it)->end()) {
        return absl::NotFoundError(
            absl::StrFormat("%s: 0x%x not in dump (reading 0x%x bytes at 0x%x; a triage dump "
                            "holds only its stack window and data blocks)",
                            s_->name, at, out.size(), va));
      }
      const TriageRegion& r = *std::prev(it);
      const size_t n = static_cast<size_t>(std::min<uint64_t>(r.end() - at, out.size() - done));
      std::memcpy(out.data() + done, s_->bytes.data() + r.file_offset + (at - r.va), n);
      done += n;
    }
    return absl::OkStatus();
  }
  while (done < out.size()) {
    const uint64_t at = va + done;
    Translation t = Translate(at);
    if (!t.physical) {
      return absl::NotFoundError(absl::StrFormat("%s: 0x%x not in dump (%s)", s_->name, at,
                                                 t.detail));
    }
    const uint64_t in_page = at % t.page_size;
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(t.page_size - in_page, out.size() - done));
    if (std::optional<std::string> missing = CopyPhysical(*t.physical, out.subspan(done, n))) {
      return absl::NotFoundError(absl::StrFormat("%s: 0x%x not in dump (%s)", s_->name, at,
                                                 *missing));
    }
    done += n;
  }
  return absl::OkStatus();
}

}  // namespace restack::dump
