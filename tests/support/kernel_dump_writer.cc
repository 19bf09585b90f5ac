// kernel_dump_writer.cc - KernelScenario -> physical memory with page tables -> dump bytes
//
// Three steps, one per section below:
//   1. BuildKernelStructures: the KDBG, lists, KPRCBs and CONTEXTs as bytes at VAs.
//   2. BuildImage: frames allocated from the physical layout, x64 page tables built for
//      the kernel structures and the scenario's mappings.
//   3. EmitPhysical / EmitTriage: one image serialised as a dump kind, streamed to a
//      Sink (a vector or a sparse file).
// Field offsets are spelled out here (see kernel_dump_writer.h for the sources); none
// come from libdump.
#include "tests/support/kernel_dump_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/str_format.h"

namespace restack::test {
namespace {

constexpr uint64_t kPage = 0x1000;

// --- DUMP_HEADER64 (wdbgexts.h; kdmp-parser HEADER64): 0x2000 bytes at offset 0 ---
constexpr uint64_t kHeaderSize = 0x2000;
constexpr uint32_t kSignaturePage = 0x45474150;  // 'PAGE', also the fill pattern
constexpr uint32_t kValidDumpDu64 = 0x34365544;  // 'DU64'
constexpr size_t kHdrSignature = 0x000;
constexpr size_t kHdrValidDump = 0x004;
constexpr size_t kHdrMajorVersion = 0x008;
constexpr size_t kHdrMinorVersion = 0x00C;
constexpr size_t kHdrDirectoryTableBase = 0x010;
constexpr size_t kHdrPfnDataBase = 0x018;
constexpr size_t kHdrPsLoadedModuleList = 0x020;
constexpr size_t kHdrPsActiveProcessHead = 0x028;
constexpr size_t kHdrMachineImageType = 0x030;
constexpr size_t kHdrNumberProcessors = 0x034;
constexpr size_t kHdrBugCheckCode = 0x038;
constexpr size_t kHdrBugCheckParameter1 = 0x040;  // Parameter1..4, u64 each
constexpr size_t kHdrKdDebuggerDataBlock = 0x080;
constexpr size_t kHdrPhysicalMemoryBlock = 0x088;  // in a 700-byte buffer
constexpr size_t kHdrContextRecord = 0x348;        // in a 3000-byte buffer
constexpr size_t kHdrException = 0xF00;            // EXCEPTION_RECORD64, 0x98 bytes
constexpr size_t kHdrDumpType = 0xF98;
constexpr size_t kHdrRequiredDumpSpace = 0xFA0;
constexpr size_t kHdrSystemTime = 0xFA8;
constexpr size_t kHdrSystemUpTime = 0x1030;
constexpr size_t kHdrMiniDumpFields = 0x1038;
constexpr size_t kHdrProductType = 0x1040;
constexpr size_t kHdrSuiteMask = 0x1044;
constexpr size_t kHdrWriterStatus = 0x1048;
constexpr size_t kHdrKdSecondaryVersion = 0x104D;  // u8
constexpr uint32_t kMachineAmd64 = 0x8664;
// The real triage dump's MiniDumpFields.
constexpr uint32_t kTriageMiniDumpFields = 0xCFF;

// PHYSICAL_MEMORY_DESCRIPTOR64: NumberOfRuns u32, pad u32, NumberOfPages u64, then
// Run[] of {BasePage u64, PageCount u64}.
constexpr size_t kPhysicalMemoryBlockBufferSize = 700;
constexpr size_t kPmdNumberOfRuns = 0x0;
constexpr size_t kPmdNumberOfPages = 0x8;
constexpr size_t kPmdRun = 0x10;
constexpr size_t kPmdRunSize = 0x10;
constexpr size_t kMaxRuns = (kPhysicalMemoryBlockBufferSize - kPmdRun) / kPmdRunSize;  // 42

// EXCEPTION_RECORD64.
constexpr size_t kExcCode = 0x00;
constexpr size_t kExcFlags = 0x04;
constexpr size_t kExcRecord = 0x08;
constexpr size_t kExcAddress = 0x10;
constexpr size_t kExcNumberParameters = 0x18;
constexpr size_t kExcInformation = 0x20;  // 15 x u64
constexpr size_t kExcMaxParameters = 15;

// DUMP_HEADER64.DumpType values.
constexpr uint32_t kDumpTypeFull = 1;
constexpr uint32_t kDumpTypeTriage = 4;
constexpr uint32_t kDumpTypeBitmapFull = 5;
constexpr uint32_t kDumpTypeBitmapKernel = 6;
constexpr uint32_t kDumpTypeRdmpKernel = 8;
constexpr uint32_t kDumpTypeRdmpKernelUser = 9;
constexpr uint32_t kDumpTypeRdmpComplete = 10;

// --- Bitmap header at 0x2000 (kdmp-parser BMP_HEADER64); absolute file offsets ---
constexpr uint32_t kSignatureSdmp = 0x504D4453;  // 'SDMP'
constexpr uint32_t kSignatureFdmp = 0x504D4446;  // 'FDMP'
constexpr uint32_t kValidDumpDump = 0x504D5544;  // 'DUMP'
constexpr size_t kBmpSignature = 0x2000;
constexpr size_t kBmpValidDump = 0x2004;
constexpr size_t kBmpFirstPage = 0x2020;  // absolute file offset of the first stored page
constexpr size_t kBmpTotalPresentPages = 0x2028;
constexpr size_t kBmpPages = 0x2030;  // number of bits
constexpr size_t kBmpBitmap = 0x2038;

// --- RDMP header at 0x2000 (kdmp-parser RDMP_HEADER64 and its two extensions) ---
constexpr uint32_t kRdmpMarker = 0x40;
constexpr uint32_t kSignatureRdmp = 0x504D4452;  // 'RDMP'
constexpr size_t kRdmpMarkerOffset = 0x2000;
constexpr size_t kRdmpSignature = 0x2004;
constexpr size_t kRdmpValidDump = 0x2008;
constexpr size_t kRdmpMetadataSize = 0x2010;
constexpr size_t kRdmpFirstPageOffset = 0x2018;     // == 0x2020 + MetadataSize
constexpr size_t kRdmpMetadataBase = 0x2020;
constexpr size_t kRdmpNumberOfRanges = 0x2020;      // complete (10) only; u32, then 2 x u16
constexpr size_t kRdmpTotalNumberOfPages = 0x2028;  // complete (10) only
constexpr size_t kRdmpRanges = 0x2030;  // {PageFileNumber u64, NumberOfPages u64}..., {0, 0}
constexpr size_t kRdmpRangeSize = 0x10;

// --- TRIAGE_DUMP64 at 0x2000 (wdbgexts.h); every *Offset is an absolute file offset ---
constexpr size_t kTriageDump = 0x2000;
constexpr size_t kTriServicePackBuild = 0x00;
constexpr size_t kTriSizeOfDump = 0x04;
constexpr size_t kTriValidOffset = 0x08;
constexpr size_t kTriContextOffset = 0x0C;
constexpr size_t kTriExceptionOffset = 0x10;
constexpr size_t kTriMmOffset = 0x14;
constexpr size_t kTriUnloadedDriversOffset = 0x18;
constexpr size_t kTriPrcbOffset = 0x1C;
constexpr size_t kTriProcessOffset = 0x20;
constexpr size_t kTriThreadOffset = 0x24;
constexpr size_t kTriCallStackOffset = 0x28;
constexpr size_t kTriSizeOfCallStack = 0x2C;
constexpr size_t kTriDriverListOffset = 0x30;
constexpr size_t kTriDriverCount = 0x34;
constexpr size_t kTriStringPoolOffset = 0x38;
constexpr size_t kTriStringPoolSize = 0x3C;
constexpr size_t kTriBrokenDriverOffset = 0x40;
constexpr size_t kTriTriageOptions = 0x44;
constexpr size_t kTriTopOfStack = 0x48;
// 0x50: ArchitectureSpecific, 16 bytes (zero on x64).
constexpr size_t kTriDataPageAddress = 0x60;
constexpr size_t kTriDataPageOffset = 0x68;
constexpr size_t kTriDataPageSize = 0x6C;
constexpr size_t kTriDebuggerDataOffset = 0x70;
constexpr size_t kTriDebuggerDataSize = 0x74;
constexpr size_t kTriDataBlocksOffset = 0x78;
constexpr size_t kTriDataBlocksCount = 0x7C;
constexpr size_t kTriageDumpSize = 0x80;
constexpr uint32_t kTriageValid = 0x44475254;  // 'TRGD'
constexpr uint32_t kTriageOptionsAll = 0xFFFFFFFF;  // as in the real dump
// DUMP_MM_STORAGE64 at MmOffset: Version u32 = 1, Size u32 = 0x50, then counters.
constexpr uint32_t kMmStorageVersion = 1;
constexpr uint32_t kMmStorageSize = 0x50;
// DUMP_UNLOADED_DRIVERS64: UNICODE_STRING64 Name (0x10), WCHAR DriverName[12] (0x18),
// StartAddress 0x28, EndAddress 0x30; 56 bytes. The list starts with a u32 count + pad.
constexpr size_t kTriUnloadedEntrySize = 56;
constexpr size_t kTriUnloadedInlineChars = 12;
// DUMP_DRIVER_ENTRY64: DriverNameOffset u32, pad u32, LDR_DATA_TABLE_ENTRY64 (0x88).
constexpr size_t kTriDriverEntrySize = 0x90;
constexpr size_t kTriDriverLdrEntry = 0x8;
// Copies of EPROCESS / ETHREAD: sizes in the real 19041 triage dump.
constexpr uint32_t kEprocessSize = 0xA40;
constexpr uint32_t kEthreadSize = 0x898;
// TRIAGE_DATA_BLOCK: VirtualAddress u64, Offset u32, Size u32.
constexpr size_t kTriDataBlockSize = 0x10;

// --- KDDEBUGGER_DATA64 (wdbgexts.h) ---
constexpr uint32_t kKdbgSize = 0x380;
constexpr uint32_t kKdbgOwnerTagValue = 0x4742444B;  // 'KDBG'
constexpr size_t kKdbgListFlink = 0x00;
constexpr size_t kKdbgListBlink = 0x08;
constexpr size_t kKdbgOwnerTag = 0x10;
constexpr size_t kKdbgSizeField = 0x14;
constexpr size_t kKdbgKernBase = 0x18;
constexpr size_t kKdbgPsLoadedModuleList = 0x48;
constexpr size_t kKdbgPsActiveProcessHead = 0x50;
constexpr size_t kKdbgKiProcessorBlock = 0x218;
constexpr size_t kKdbgMmUnloadedDrivers = 0x220;
constexpr size_t kKdbgMmLastUnloadedDriver = 0x228;
constexpr size_t kKdbgSizePrcb = 0x2B0;
constexpr size_t kKdbgOffsetPrcbCurrentThread = 0x2B4;
constexpr size_t kKdbgOffsetPrcbProcStateContext = 0x2BC;
constexpr size_t kKdbgOffsetPrcbNumber = 0x2BE;
constexpr size_t kKdbgOffsetPrcbContext = 0x338;

// --- KLDR_DATA_TABLE_ENTRY / LDR_DATA_TABLE_ENTRY64 ---
constexpr size_t kLdrInLoadOrderFlink = 0x00;
constexpr size_t kLdrInLoadOrderBlink = 0x08;
constexpr size_t kLdrDllBase = 0x30;
constexpr size_t kLdrSizeOfImage = 0x40;
constexpr size_t kLdrFullDllName = 0x48;
constexpr size_t kLdrBaseDllName = 0x58;
constexpr size_t kLdrLoadCount = 0x6C;
constexpr size_t kLdrCheckSum = 0x78;
constexpr size_t kLdrTimeDateStampWdbgexts = 0x80;
constexpr size_t kLdrSizeOfImageNotRoundedWin10 = 0x98;
constexpr size_t kLdrTimeDateStampWin10 = 0x9C;
constexpr uint64_t kLdrEntryAllocation = 0xA0;  // covers both layouts

// --- MM_UNLOADED_DRIVER: Name (UNICODE_STRING64), StartAddress, EndAddress, CurrentTime ---
constexpr size_t kMmUnloadedName = 0x00;
constexpr size_t kMmUnloadedStart = 0x10;
constexpr size_t kMmUnloadedEnd = 0x18;
constexpr size_t kMmUnloadedTime = 0x20;
constexpr uint64_t kMmUnloadedEntrySize = 0x28;

// UNICODE_STRING64: Length u16 (bytes), MaximumLength u16, pad u32, Buffer u64.
constexpr size_t kUsLength = 0x0;
constexpr size_t kUsMaximumLength = 0x2;
constexpr size_t kUsBuffer = 0x8;

// KPCR precedes the KPRCB in the same allocation (KPCR.Prcb at 0x180 on x64).
constexpr uint64_t kKpcrPrcb = 0x180;
constexpr uint64_t kContextSize = 0x4D0;

// --- x64 paging (Intel SDM vol. 3, 4.5; Windows MMPTE_HARDWARE / MMPTE_TRANSITION) ---
constexpr uint64_t kPtePresent = 1ull << 0;
constexpr uint64_t kPteLargePage = 1ull << 7;      // PS in a PDPTE / PDE
constexpr uint64_t kPteLargePat = 1ull << 12;      // PAT in a 2 MiB / 1 GiB leaf
constexpr uint64_t kPfnMask = 0x000FFFFFFFFFF000;
// Non-leaf entries: Present | Write | Accessed | Dirty.
constexpr uint64_t kTableEntryBits = 0x063;
// Leaves as Windows writes kernel data PTEs: NoExecute (63), software bits 57 and 59,
// Write (11, software), Global, Dirty, Accessed, Write, Present. The bits above 51 and
// bit 11 test that a reader masks the PFN and ignores bit 11 when P = 1.
constexpr uint64_t kLeafBits = 0x8A00000000000963;
// Transition PTE: P = 0, Prototype (10) = 0, Transition (11) = 1, Protection 4 (bits 5-9).
constexpr uint64_t kTransitionBits = 0x880;
// Not present, not transition: a page-file PTE (PageFileHigh = 0x123, Protection 4).
constexpr uint64_t kPageFilePte = 0x0000012300000080;

// Default physical layout: PFN 1..0x9E, a hole, then 0x100 up, as PCs report it.
constexpr PhysicalRun kLowRun{0x1, 0x9E};
constexpr uint64_t kHighRunBase = 0x100;
constexpr uint64_t kDefaultOutsidePfn = 0xA0;  // in the hole
constexpr uint64_t kUnbounded = 1ull << 40;
// The default layout ends on a 64 KiB boundary, so its bitmap has whole bytes (a
// PFN count that is not a multiple of 8 needs explicit runs).
constexpr uint64_t kAutomaticEndAlignment = 0x10;

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

bool IsCanonical(uint64_t va) {
  const uint64_t top = va >> 47;
  return top == 0 || top == 0x1FFFF;
}

bool AllZero(const std::vector<uint8_t>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::vector<uint8_t> Utf16Le(const std::string& s) {
  std::vector<uint8_t> out;
  for (unsigned char c : s) {
    out.push_back(c);
    out.push_back(0);
  }
  return out;
}

// ===========================================================================
// 1. Kernel structures, as bytes at virtual addresses.
// ===========================================================================

// A bump allocator over [base, base + size): the kernel data region.
class Arena {
 public:
  explicit Arena(uint64_t base) : base_(base) {}
  uint64_t Alloc(uint64_t size, uint64_t align) {
    const uint64_t offset = AlignUp(bytes_.size(), align);
    bytes_.resize(offset + size, 0);
    return base_ + offset;
  }
  void U16(uint64_t va, uint16_t v) { PutU16(bytes_, va - base_, v); }
  void U32(uint64_t va, uint32_t v) { PutU32(bytes_, va - base_, v); }
  void U64(uint64_t va, uint64_t v) { PutU64(bytes_, va - base_, v); }
  void Bytes(uint64_t va, const std::vector<uint8_t>& b) {
    std::copy(b.begin(), b.end(), bytes_.begin() + (va - base_));
  }
  uint64_t ReadU64(uint64_t va) const {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | bytes_.at(va - base_ + i);
    return v;
  }
  // A UNICODE_STRING64 at `va` for `text`; the arena allocates the buffer (with a NUL).
  void UnicodeString(uint64_t va, const std::string& text) {
    if (text.empty()) return;  // {0, 0, 0}
    std::vector<uint8_t> chars = Utf16Le(text);
    const uint64_t buffer = Alloc(chars.size() + 2, 8);
    Bytes(buffer, chars);
    U16(va + kUsLength, static_cast<uint16_t>(chars.size()));
    U16(va + kUsMaximumLength, static_cast<uint16_t>(chars.size() + 2));
    U64(va + kUsBuffer, buffer);
  }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  uint64_t base_;
  std::vector<uint8_t> bytes_;
};

// Scrambles the KDBG in place so that its OwnerTag is no longer 'KDBG'. Windows' own
// transform (KdCopyDataBlock with KiWaitNever/KiWaitAlways) needs keys a dump does not
// carry, so any reversible-looking transform tests the same reader path.
void EncodeKdbg(Arena& arena, uint64_t kdbg) {
  constexpr uint64_t kWaitNever = 0x5A17C0DE2B0B5EEDull;
  constexpr uint64_t kWaitAlways = 0x0F1E2D3C4B5A6978ull;
  for (uint64_t off = 0; off < kKdbgSize; off += 8) {
    const uint64_t v = arena.ReadU64(kdbg + off) ^ kWaitNever;
    const uint64_t rotated = (v << 13) | (v >> 51);
    arena.U64(kdbg + off, rotated ^ kWaitAlways ^ (kdbg + off));
  }
}

absl::StatusOr<std::vector<uint8_t>> BuildKernelStructures(const KernelScenario& s,
                                                           KernelDumpLayout& layout) {
  const SynthKdbgOffsets& k = s.kdbg_offsets;
  if (s.processor_blocks.size() > s.processors) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%d processor blocks for %d processors", s.processor_blocks.size(), s.processors));
  }
  if (k.size_prcb < 8 || uint64_t{k.current_thread} + 8 > k.size_prcb ||
      uint64_t{k.prcb_context} + 8 > k.size_prcb ||
      uint64_t{k.proc_state_context} + kContextSize > k.size_prcb ||
      uint64_t{k.prcb_number} + 4 > k.size_prcb) {
    return absl::InvalidArgumentError("KDBG KPRCB offsets do not fit in SizePrcb");
  }

  Arena arena(s.kernel_data_va);
  // KDDEBUGGER_DATA64. With kdbg_unmapped it is placed in the page below the region,
  // which nothing maps.
  layout.kdbg = s.corruption.kdbg_unmapped ? s.kernel_data_va - kPage + 0xB20
                                           : arena.Alloc(kKdbgSize, 16);
  layout.ps_loaded_module_list = arena.Alloc(16, 16);
  layout.mm_unloaded_drivers = arena.Alloc(8, 8);
  layout.mm_last_unloaded_driver = arena.Alloc(4, 8);
  layout.ki_processor_block = arena.Alloc(8 * std::max<uint64_t>(s.processors, 1), 16);

  // PsLoadedModuleList: a LIST_ENTRY head, KLDR_DATA_TABLE_ENTRYs through InLoadOrderLinks.
  const uint64_t head = layout.ps_loaded_module_list;
  for (size_t i = 0; i < s.modules.size(); ++i) {
    layout.module_entries.push_back(arena.Alloc(kLdrEntryAllocation, 16));
  }
  const std::vector<uint64_t>& entries = layout.module_entries;
  for (size_t i = 0; i < s.modules.size(); ++i) {
    const SynthKernelModule& m = s.modules[i];
    const uint64_t e = entries[i];
    uint64_t flink = i + 1 < entries.size() ? entries[i + 1] : head;
    if (i + 1 == entries.size() && s.corruption.module_list_cycle) flink = entries[0];
    arena.U64(e + kLdrInLoadOrderFlink, flink);
    arena.U64(e + kLdrInLoadOrderBlink, i == 0 ? head : entries[i - 1]);
    arena.U64(e + kLdrDllBase, m.base);
    arena.U32(e + kLdrSizeOfImage, m.size);
    arena.U16(e + kLdrLoadCount, 1);
    arena.U32(e + kLdrCheckSum, m.checksum);
    if (s.ldr_entry_layout == LdrEntryLayout::kWindows10) {
      // 0x80 is CoverageSection (a pointer, usually null) in this layout.
      arena.U32(e + kLdrSizeOfImageNotRoundedWin10, m.size);
      arena.U32(e + kLdrTimeDateStampWin10, m.timestamp);
    } else {
      arena.U32(e + kLdrTimeDateStampWdbgexts, m.timestamp);
    }
    arena.UnicodeString(e + kLdrFullDllName, m.full_name);
    arena.UnicodeString(e + kLdrBaseDllName, m.name);
  }
  arena.U64(head, s.corruption.module_list_head_flink.value_or(
                      entries.empty() ? head : entries.front()));
  arena.U64(head + 8, entries.empty() ? head : entries.back());

  // MmUnloadedDrivers (a pointer to an MM_UNLOADED_DRIVER array) and MmLastUnloadedDriver.
  // The kernel's array always has MI_UNLOADED_DRIVERS (50) slots; unused ones are zero.
  layout.mm_unloaded_drivers_array =
      arena.Alloc(kMmUnloadedEntrySize * std::max<size_t>(s.unloaded.size(), 50), 16);
  for (size_t i = 0; i < s.unloaded.size(); ++i) {
    const SynthUnloadedDriver& u = s.unloaded[i];
    const uint64_t e = layout.mm_unloaded_drivers_array + kMmUnloadedEntrySize * i;
    arena.UnicodeString(e + kMmUnloadedName, u.name);
    arena.U64(e + kMmUnloadedStart, u.start);
    arena.U64(e + kMmUnloadedEnd, u.end);
    arena.U64(e + kMmUnloadedTime, u.unload_time);
  }
  arena.U64(layout.mm_unloaded_drivers,
            s.corruption.null_unloaded_drivers_pointer ? 0 : layout.mm_unloaded_drivers_array);
  arena.U32(layout.mm_last_unloaded_driver,
            s.corruption.last_unloaded_driver.value_or(static_cast<uint32_t>(s.unloaded.size())));

  // KiProcessorBlock[i] -> KPRCB (inside its KPCR allocation), and each CONTEXT.
  for (size_t i = 0; i < s.processor_blocks.size(); ++i) {
    const SynthProcessor& p = s.processor_blocks[i];
    const uint64_t prcb = arena.Alloc(kKpcrPrcb + k.size_prcb, kPage) + kKpcrPrcb;
    layout.prcbs.push_back(prcb);
    arena.U64(layout.ki_processor_block + 8 * i, prcb);
    arena.U64(prcb + k.current_thread, p.current_thread);
    arena.U32(prcb + k.prcb_number, static_cast<uint32_t>(i));
    if (p.processor_state_context) {
      arena.Bytes(prcb + k.proc_state_context, X64ContextBytes(*p.processor_state_context));
    }
    uint64_t context = 0;
    if (p.context) {
      context = arena.Alloc(kContextSize, 16);
      arena.Bytes(context, X64ContextBytes(*p.context));
    }
    arena.U64(prcb + k.prcb_context, context);
    layout.prcb_contexts.push_back(context);
  }

  if (!s.corruption.kdbg_unmapped) {
    const uint64_t d = layout.kdbg;
    arena.U64(d + kKdbgListFlink, d);
    arena.U64(d + kKdbgListBlink, d);
    arena.U32(d + kKdbgOwnerTag, kKdbgOwnerTagValue);
    arena.U32(d + kKdbgSizeField, s.corruption.kdbg_size.value_or(kKdbgSize));
    arena.U64(d + kKdbgKernBase,
              s.kern_base != 0 ? s.kern_base : (s.modules.empty() ? 0 : s.modules[0].base));
    arena.U64(d + kKdbgPsLoadedModuleList, head);
    arena.U64(d + kKdbgPsActiveProcessHead, s.ps_active_process_head);
    arena.U64(d + kKdbgKiProcessorBlock, layout.ki_processor_block);
    arena.U64(d + kKdbgMmUnloadedDrivers, layout.mm_unloaded_drivers);
    arena.U64(d + kKdbgMmLastUnloadedDriver, layout.mm_last_unloaded_driver);
    arena.U16(d + kKdbgSizePrcb, k.size_prcb);
    arena.U16(d + kKdbgOffsetPrcbCurrentThread, k.current_thread);
    arena.U16(d + kKdbgOffsetPrcbProcStateContext, k.proc_state_context);
    arena.U16(d + kKdbgOffsetPrcbNumber, k.prcb_number);
    arena.U16(d + kKdbgOffsetPrcbContext, k.prcb_context);
    if (s.encode_kdbg) EncodeKdbg(arena, d);
  }
  return arena.Take();
}

// ===========================================================================
// 2. Physical memory and page tables.
// ===========================================================================

// Frames of the physical layout: which exist (runs), which the writer allocated, and
// the contents of those it stored.
class PhysicalMemory {
 public:
  static absl::StatusOr<PhysicalMemory> Create(const WriteOptions& o) {
    PhysicalMemory pm;
    pm.automatic_ = o.runs.empty();
    if (pm.automatic_) {
      pm.runs_ = {kLowRun, {kHighRunBase, kUnbounded}};
      pm.cursor_ = o.first_allocated_pfn != 0 ? o.first_allocated_pfn : kHighRunBase;
      return pm;
    }
    if (o.runs.size() > kMaxRuns) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%d physical runs; PhysicalMemoryBlock holds at most %d", o.runs.size(), kMaxRuns));
    }
    for (size_t i = 0; i < o.runs.size(); ++i) {
      if (o.runs[i].page_count == 0 ||
          (i > 0 && o.runs[i].base_page < o.runs[i - 1].base_page + o.runs[i - 1].page_count)) {
        return absl::InvalidArgumentError(
            absl::StrFormat("physical run %d is empty, overlaps or is out of order", i));
      }
    }
    pm.runs_ = o.runs;
    pm.cursor_ = std::max<uint64_t>(
        o.first_allocated_pfn != 0 ? o.first_allocated_pfn : o.runs[0].base_page, 1);
    return pm;
  }

  // `count` frames aligned to `count` inside one run (count is 1, 0x200 or 0x40000).
  absl::StatusOr<uint64_t> Allocate(uint64_t count) {
    uint64_t candidate = AlignUp(cursor_, count);
    for (const PhysicalRun& r : runs_) {
      const uint64_t end = r.base_page + r.page_count;
      if (candidate >= end) continue;
      candidate = std::max(candidate, AlignUp(r.base_page, count));
      if (candidate + count <= end) {
        cursor_ = candidate + count;
        high_water_ = std::max(high_water_, cursor_);
        return candidate;
      }
    }
    return absl::ResourceExhaustedError(absl::StrFormat(
        "physical layout has no room for %d frame(s) from PFN 0x%x", count, cursor_));
  }

  // The contents of frame `pfn` (created zero-filled: the frame is then "used").
  std::vector<uint8_t>& Frame(uint64_t pfn) {
    std::vector<uint8_t>& f = frames_[pfn];
    if (f.empty()) f.resize(kPage, 0);
    return f;
  }
  uint64_t ReadU64(uint64_t pa) const {
    auto it = frames_.find(pa / kPage);
    if (it == frames_.end()) return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | it->second[pa % kPage + i];
    return v;
  }
  void WriteU64(uint64_t pa, uint64_t v) { PutU64(Frame(pa / kPage), pa % kPage, v); }
  // Copies [pa, pa + n) out; frames never stored read as zeros (they are in memory).
  void Read(uint64_t pa, uint8_t* out, size_t n) const {
    while (n > 0) {
      const size_t in_page = std::min<uint64_t>(n, kPage - pa % kPage);
      auto it = frames_.find(pa / kPage);
      if (it == frames_.end()) {
        std::memset(out, 0, in_page);
      } else {
        std::memcpy(out, it->second.data() + pa % kPage, in_page);
      }
      out += in_page;
      pa += in_page;
      n -= in_page;
    }
  }

  const std::map<uint64_t, std::vector<uint8_t>>& frames() const { return frames_; }

  // The layout as written: the default one is cut just past the highest allocation.
  std::vector<PhysicalRun> Runs() const {
    if (!automatic_) return runs_;
    std::vector<PhysicalRun> runs = {kLowRun};
    const uint64_t end = AlignUp(high_water_, kAutomaticEndAlignment);
    if (end > kHighRunBase) runs.push_back({kHighRunBase, end - kHighRunBase});
    return runs;
  }

  // A frame outside every run: in the first hole, else just past the last run.
  uint64_t OutsidePfn() const {
    if (automatic_) return kDefaultOutsidePfn;
    for (size_t i = 1; i < runs_.size(); ++i) {
      const uint64_t prev_end = runs_[i - 1].base_page + runs_[i - 1].page_count;
      if (prev_end < runs_[i].base_page) return prev_end;
    }
    return runs_.back().base_page + runs_.back().page_count + 0x10;
  }

 private:
  PhysicalMemory() = default;
  bool automatic_ = false;
  std::vector<PhysicalRun> runs_;
  uint64_t cursor_ = 1;
  uint64_t high_water_ = 0;
  std::map<uint64_t, std::vector<uint8_t>> frames_;
};

// x64 4-level paging. Level 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT.
uint64_t TableIndex(uint64_t va, int level) { return (va >> (12 + 9 * (level - 1))) & 0x1FF; }

// The scenario's memory after step 2.
struct Image {
  PhysicalMemory pm;
  KernelDumpLayout layout;  // VA fields, leaves, runs, DTB
  uint64_t pml4_pfn = 0;
};

class PageTableBuilder {
 public:
  PageTableBuilder(Image& image, bool large_page_pat)
      : image_(image), large_page_pat_(large_page_pat) {}

  absl::Status Init() {
    auto pml4 = image_.pm.Allocate(1);
    if (!pml4.ok()) return pml4.status();
    image_.pml4_pfn = *pml4;
    image_.pm.Frame(*pml4);
    tables_.insert(*pml4);
    return absl::OkStatus();
  }

  absl::Status Map(const SynthMapping& m) {
    if (!IsCanonical(m.va)) {
      return absl::InvalidArgumentError(absl::StrFormat("va 0x%x is not canonical", m.va));
    }
    const uint64_t size = static_cast<uint64_t>(m.page_size);
    if (m.va % size != 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("va 0x%x is not aligned to its page size 0x%x", m.va, size));
    }
    switch (m.kind) {
      case SynthMapping::Kind::kPresent:
      case SynthMapping::Kind::kTransition:
        return MapFrames(m);
      case SynthMapping::Kind::kNotPresent: {
        auto entry = LeafEntry(m.va, 1);
        if (!entry.ok()) return entry.status();
        image_.pm.WriteU64(*entry, kPageFilePte);
        image_.layout.leaves[m.va] = {*entry, 0, kPage};
        return absl::OkStatus();
      }
      case SynthMapping::Kind::kPageTableOutsideDump: {
        const uint64_t region = m.va & ~(static_cast<uint64_t>(PageSize::k2MiB) - 1);
        auto entry = LeafEntry(region, 2);
        if (!entry.ok()) return entry.status();
        const uint64_t outside = image_.pm.OutsidePfn();
        image_.layout.outside_dump_pfn = outside;
        image_.pm.WriteU64(*entry, (outside << 12) | kTableEntryBits);
        image_.layout.leaves[region] = {*entry, 0, static_cast<uint64_t>(PageSize::k2MiB)};
        return absl::OkStatus();
      }
      default:
        return absl::InvalidArgumentError("unknown mapping kind");
    }
  }

 private:
  int LeafLevel(PageSize size) const {
    switch (size) {
      case PageSize::k4KiB: return 1;
      case PageSize::k2MiB: return 2;
      case PageSize::k1GiB: return 3;
      default: return 1;
    }
  }

  // Maps present (or transition) pages of m.page_size over m.bytes.
  absl::Status MapFrames(const SynthMapping& m) {
    const uint64_t size = static_cast<uint64_t>(m.page_size);
    const uint64_t frames_per_page = size / kPage;
    const int level = LeafLevel(m.page_size);
    const uint64_t pages = std::max<uint64_t>(1, AlignUp(m.bytes.size(), size) / size);
    for (uint64_t p = 0; p < pages; ++p) {
      const uint64_t va = m.va + p * size;
      if (!IsCanonical(va + size - 1)) {
        return absl::InvalidArgumentError(absl::StrFormat("va 0x%x is not canonical", va));
      }
      auto entry = LeafEntry(va, level);
      if (!entry.ok()) return entry.status();
      auto base = image_.pm.Allocate(frames_per_page);
      if (!base.ok()) return base.status();
      // Store the frames the bytes cover (4 KiB mappings: always their one frame).
      for (uint64_t f = 0; f < frames_per_page; ++f) {
        const uint64_t from = p * size + f * kPage;
        if (from >= m.bytes.size() && !(level == 1 && f == 0)) break;
        std::vector<uint8_t>& frame = image_.pm.Frame(*base + f);
        if (from < m.bytes.size()) {
          const uint64_t n = std::min<uint64_t>(kPage, m.bytes.size() - from);
          std::copy_n(m.bytes.begin() + from, n, frame.begin());
        }
      }
      uint64_t value = *base << 12;
      if (m.kind == SynthMapping::Kind::kTransition) {
        value |= kTransitionBits;
      } else {
        value |= kLeafBits;
        if (level > 1) value |= kPteLargePage | (large_page_pat_ ? kPteLargePat : 0);
      }
      image_.pm.WriteU64(*entry, value);
      image_.layout.leaves[va] = {*entry, *base << 12, size};
    }
    return absl::OkStatus();
  }

  // Physical address of the level-`leaf_level` entry for `va`, creating the tables above
  // it; fails if that entry or an entry on the way is already used otherwise.
  absl::StatusOr<uint64_t> LeafEntry(uint64_t va, int leaf_level) {
    uint64_t table = image_.pml4_pfn;
    for (int level = 4; level > leaf_level; --level) {
      const uint64_t entry_pa = table * kPage + 8 * TableIndex(va, level);
      const uint64_t e = image_.pm.ReadU64(entry_pa);
      if (e == 0) {
        auto pfn = image_.pm.Allocate(1);
        if (!pfn.ok()) return pfn.status();
        image_.pm.Frame(*pfn);
        tables_.insert(*pfn);
        image_.pm.WriteU64(entry_pa, (*pfn << 12) | kTableEntryBits);
        table = *pfn;
        continue;
      }
      const uint64_t next = (e & kPfnMask) >> 12;
      if ((e & kPtePresent) && !(e & kPteLargePage) && tables_.count(next)) {
        table = next;
        continue;
      }
      return absl::InvalidArgumentError(absl::StrFormat(
          "va 0x%x overlaps an earlier mapping (level %d entry 0x%x)", va, level, e));
    }
    const uint64_t entry_pa = table * kPage + 8 * TableIndex(va, leaf_level);
    const uint64_t e = image_.pm.ReadU64(entry_pa);
    if (e != 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "va 0x%x overlaps an earlier mapping (level %d entry 0x%x)", va, leaf_level, e));
    }
    return entry_pa;
  }

  Image& image_;
  bool large_page_pat_;
  std::set<uint64_t> tables_;  // frames holding page tables the writer built
};

absl::StatusOr<Image> BuildImage(const KernelScenario& s, const WriteOptions& o) {
  auto pm = PhysicalMemory::Create(o);
  if (!pm.ok()) return pm.status();
  Image image{std::move(*pm), {}, 0};
  auto kernel = BuildKernelStructures(s, image.layout);
  if (!kernel.ok()) return kernel.status();

  PageTableBuilder tables(image, s.large_page_pat);
  if (absl::Status st = tables.Init(); !st.ok()) return st;
  image.layout.directory_table_base = (image.pml4_pfn << 12) | (s.dtb_low_bits & 0xFFF);
  SynthMapping kernel_data{SynthMapping::Kind::kPresent, s.kernel_data_va, PageSize::k4KiB,
                           std::move(*kernel)};
  if (absl::Status st = tables.Map(kernel_data); !st.ok()) return st;
  for (const SynthMapping& m : s.mappings) {
    if (absl::Status st = tables.Map(m); !st.ok()) return st;
  }
  image.layout.runs = image.pm.Runs();
  return image;
}

// Bytes [va, va + n) through the writer's tables; nullopt if any page is unmapped.
std::optional<std::vector<uint8_t>> ReadVirtual(const Image& image, uint64_t va, uint64_t n) {
  std::vector<uint8_t> out(n);
  for (uint64_t done = 0; done < n;) {
    const std::optional<uint64_t> pa = image.layout.PhysicalAddress(va + done);
    if (!pa) return std::nullopt;
    const uint64_t chunk = std::min<uint64_t>(n - done, kPage - (va + done) % kPage);
    image.pm.Read(*pa, out.data() + done, chunk);
    done += chunk;
  }
  return out;
}

// How many bytes from `va` on (at most n) are mapped.
uint64_t MappedPrefix(const Image& image, uint64_t va, uint64_t n) {
  uint64_t done = 0;
  while (done < n && image.layout.PhysicalAddress(va + done)) {
    done += std::min<uint64_t>(n - done, kPage - (va + done) % kPage);
  }
  return done;
}

// ===========================================================================
// 3. Serialisation.
// ===========================================================================

class Sink {
 public:
  virtual ~Sink() = default;
  virtual absl::Status Write(uint64_t offset, const uint8_t* data, size_t size) = 0;
  // Sets the final size; bytes never written are zero.
  virtual absl::Status Finish(uint64_t size) = 0;
  absl::Status Write(uint64_t offset, const std::vector<uint8_t>& b) {
    return b.empty() ? absl::OkStatus() : Write(offset, b.data(), b.size());
  }
};

class VectorSink : public Sink {
 public:
  explicit VectorSink(std::vector<uint8_t>& out) : out_(out) {}
  absl::Status Write(uint64_t offset, const uint8_t* data, size_t size) override {
    if (offset + size > out_.size()) out_.resize(offset + size, 0);
    std::memcpy(out_.data() + offset, data, size);
    return absl::OkStatus();
  }
  absl::Status Finish(uint64_t size) override {
    out_.resize(size, 0);
    return absl::OkStatus();
  }

 private:
  std::vector<uint8_t>& out_;
};

class FileSink : public Sink {
 public:
  explicit FileSink(std::string path) : path_(std::move(path)) {
    fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
  ~FileSink() override {
    if (fd_ >= 0) close(fd_);
  }
  absl::Status Open() const { return fd_ >= 0 ? absl::OkStatus() : Error("open"); }
  absl::Status Write(uint64_t offset, const uint8_t* data, size_t size) override {
    while (size > 0) {
      const ssize_t n = pwrite(fd_, data, size, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Error("pwrite");
      data += n;
      offset += n;
      size -= n;
    }
    return absl::OkStatus();
  }
  absl::Status Finish(uint64_t size) override {
    if (ftruncate(fd_, static_cast<off_t>(size)) != 0) return Error("ftruncate");
    if (close(fd_) != 0) {
      fd_ = -1;
      return Error("close");
    }
    fd_ = -1;
    return absl::OkStatus();
  }

 private:
  absl::Status Error(const char* what) const {
    return absl::InternalError(absl::StrFormat("%s: %s: %s", path_, what, std::strerror(errno)));
  }
  std::string path_;
  int fd_ = -1;
};

uint32_t DefaultDumpType(KernelDumpType type) {
  switch (type) {
    case KernelDumpType::kFull: return kDumpTypeFull;
    case KernelDumpType::kBitmapFull: return kDumpTypeBitmapFull;
    case KernelDumpType::kBitmapKernel: return kDumpTypeBitmapKernel;
    case KernelDumpType::kRdmpKernel: return kDumpTypeRdmpKernel;
    case KernelDumpType::kRdmpKernelUser: return kDumpTypeRdmpKernelUser;
    case KernelDumpType::kRdmpComplete: return kDumpTypeRdmpComplete;
    case KernelDumpType::kTriage: return kDumpTypeTriage;
    default: return 0;
  }
}

// DUMP_HEADER64. `runs` null: PhysicalMemoryBlock is left as filled (triage dumps).
std::vector<uint8_t> DumpHeader(const KernelScenario& s, const KernelDumpLayout& layout,
                                const std::vector<PhysicalRun>* runs, uint64_t required_space,
                                bool triage, bool page_fill) {
  std::vector<uint8_t> h(kHeaderSize, 0);
  if (page_fill) {
    for (size_t off = 0; off < kHeaderSize; off += 4) PutU32(h, off, kSignaturePage);
  }
  PutU32(h, kHdrSignature, kSignaturePage);
  PutU32(h, kHdrValidDump, kValidDumpDu64);
  PutU32(h, kHdrMajorVersion, s.major_version);
  PutU32(h, kHdrMinorVersion, s.build);
  PutU64(h, kHdrDirectoryTableBase, layout.directory_table_base);
  PutU64(h, kHdrPfnDataBase, s.pfn_database);
  PutU64(h, kHdrPsLoadedModuleList, layout.ps_loaded_module_list);
  PutU64(h, kHdrPsActiveProcessHead, s.ps_active_process_head);
  PutU32(h, kHdrMachineImageType, kMachineAmd64);
  PutU32(h, kHdrNumberProcessors, s.processors);
  PutU32(h, kHdrBugCheckCode, s.bugcheck_code);
  for (size_t i = 0; i < 4; ++i) PutU64(h, kHdrBugCheckParameter1 + 8 * i, s.bugcheck_parameters[i]);
  PutU64(h, kHdrKdDebuggerDataBlock, layout.kdbg);
  if (runs != nullptr) {
    uint64_t pages = 0;
    for (size_t i = 0; i < runs->size(); ++i) {
      const size_t run = kHdrPhysicalMemoryBlock + kPmdRun + kPmdRunSize * i;
      PutU64(h, run, (*runs)[i].base_page);
      PutU64(h, run + 8, (*runs)[i].page_count);
      pages += (*runs)[i].page_count;
    }
    PutU32(h, kHdrPhysicalMemoryBlock + kPmdNumberOfRuns, static_cast<uint32_t>(runs->size()));
    PutU64(h, kHdrPhysicalMemoryBlock + kPmdNumberOfPages, pages);
  }
  const std::vector<uint8_t> context = X64ContextBytes(s.header_context);
  std::copy(context.begin(), context.end(), h.begin() + kHdrContextRecord);
  const SynthKernelException& e = s.exception;
  PutU32(h, kHdrException + kExcCode, e.code);
  PutU32(h, kHdrException + kExcFlags, e.flags);
  PutU64(h, kHdrException + kExcRecord, e.record);
  PutU64(h, kHdrException + kExcAddress, e.address);
  const size_t params = std::min(e.parameters.size(), kExcMaxParameters);
  PutU32(h, kHdrException + kExcNumberParameters, static_cast<uint32_t>(params));
  for (size_t i = 0; i < params; ++i) {
    PutU64(h, kHdrException + kExcInformation + 8 * i, e.parameters[i]);
  }
  PutU32(h, kHdrDumpType, layout.dump_type);
  PutU64(h, kHdrRequiredDumpSpace, required_space);
  PutU64(h, kHdrSystemTime, s.system_time);
  PutU64(h, kHdrSystemUpTime, s.system_up_time);
  if (triage) PutU32(h, kHdrMiniDumpFields, kTriageMiniDumpFields);
  PutU32(h, kHdrProductType, s.product_type);
  PutU32(h, kHdrSuiteMask, s.suite_mask);
  PutU32(h, kHdrWriterStatus, 0);
  h[kHdrKdSecondaryVersion] = 0;
  return h;
}

// Adjacent PFNs of `pfns` (ascending) as runs.
std::vector<PhysicalRun> Coalesce(const std::vector<uint64_t>& pfns) {
  std::vector<PhysicalRun> out;
  for (uint64_t pfn : pfns) {
    if (!out.empty() && out.back().base_page + out.back().page_count == pfn) {
      ++out.back().page_count;
    } else {
      out.push_back({pfn, 1});
    }
  }
  return out;
}

// Full, bitmap and RDMP dumps: header, metadata, then the stored pages in PFN-range order.
absl::StatusOr<KernelDumpLayout> EmitPhysical(const KernelScenario& s, KernelDumpType type,
                                              const Image& image, const WriteOptions& o,
                                              Sink& sink) {
  KernelDumpLayout layout = image.layout;
  const std::vector<PhysicalRun>& runs = layout.runs;
  if (runs.size() > kMaxRuns) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%d physical runs; PhysicalMemoryBlock holds at most %d", runs.size(), kMaxRuns));
  }
  const bool is_bitmap =
      type == KernelDumpType::kBitmapFull || type == KernelDumpType::kBitmapKernel;
  const bool is_rdmp = type == KernelDumpType::kRdmpKernel ||
                       type == KernelDumpType::kRdmpKernelUser ||
                       type == KernelDumpType::kRdmpComplete;

  // Which frames the file stores, as ascending ranges.
  std::vector<PhysicalRun> stored;
  if (type == KernelDumpType::kFull || type == KernelDumpType::kBitmapFull ||
      type == KernelDumpType::kRdmpComplete) {
    stored = runs;
    // An RDMP range list ends at PageFileNumber 0, so PFN 0 cannot start a range.
    if (type == KernelDumpType::kRdmpComplete && !stored.empty() && stored[0].base_page == 0) {
      stored[0] = {1, stored[0].page_count - 1};
      if (stored[0].page_count == 0) stored.erase(stored.begin());
    }
  } else {
    std::vector<uint64_t> used;
    for (const auto& [pfn, bytes] : image.pm.frames()) used.push_back(pfn);
    stored = Coalesce(used);
  }
  uint64_t stored_pages = 0;
  for (const PhysicalRun& r : stored) stored_pages += r.page_count;

  // Metadata from 0x2000 up to the first page.
  std::vector<uint8_t> meta;  // file bytes [0x2000, 0x2000 + meta.size())
  uint64_t first_page = kHeaderSize;
  if (is_bitmap) {
    uint64_t bits = 0;
    for (const PhysicalRun& r : runs) bits = std::max(bits, r.base_page + r.page_count);
    meta.assign(kBmpBitmap - kHeaderSize + AlignUp(bits, 8) / 8, 0);
    const uint64_t meta_end = kHeaderSize + meta.size();
    first_page = o.first_page_offset.value_or(AlignUp(meta_end, kPage));
    if (first_page < meta_end) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "first_page_offset 0x%x is inside the bitmap (ends at 0x%x)", first_page, meta_end));
    }
    const auto at = [](size_t absolute) { return absolute - kHeaderSize; };
    PutU32(meta, at(kBmpSignature),
           type == KernelDumpType::kBitmapFull ? kSignatureFdmp : kSignatureSdmp);
    PutU32(meta, at(kBmpValidDump), kValidDumpDump);
    PutU64(meta, at(kBmpFirstPage), first_page);
    PutU64(meta, at(kBmpTotalPresentPages), stored_pages);
    PutU64(meta, at(kBmpPages), bits);
    for (const PhysicalRun& r : stored) {
      for (uint64_t pfn = r.base_page; pfn < r.base_page + r.page_count; ++pfn) {
        meta[at(kBmpBitmap) + pfn / 8] |= static_cast<uint8_t>(1u << (pfn % 8));
      }
    }
  } else if (is_rdmp) {
    const uint64_t meta_end = kRdmpRanges + kRdmpRangeSize * (stored.size() + 1);
    first_page = o.first_page_offset.value_or(AlignUp(meta_end, kPage));
    if (first_page < meta_end) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "first_page_offset 0x%x is inside the RDMP ranges (end at 0x%x)", first_page,
          meta_end));
    }
    meta.assign(meta_end - kHeaderSize, 0);
    const auto at = [](size_t absolute) { return absolute - kHeaderSize; };
    PutU32(meta, at(kRdmpMarkerOffset), kRdmpMarker);
    PutU32(meta, at(kRdmpSignature), kSignatureRdmp);
    PutU32(meta, at(kRdmpValidDump), kValidDumpDump);
    PutU64(meta, at(kRdmpMetadataSize), first_page - kRdmpMetadataBase);
    PutU64(meta, at(kRdmpFirstPageOffset), first_page);
    if (type == KernelDumpType::kRdmpComplete) {
      PutU32(meta, at(kRdmpNumberOfRanges), static_cast<uint32_t>(stored.size()));
      PutU64(meta, at(kRdmpTotalNumberOfPages), stored_pages);
    }  // kernel (8/9): two unknown u64 at 0x2020/0x2028, left 0
    for (size_t i = 0; i < stored.size(); ++i) {
      PutU64(meta, at(kRdmpRanges) + kRdmpRangeSize * i, stored[i].base_page);
      PutU64(meta, at(kRdmpRanges) + kRdmpRangeSize * i + 8, stored[i].page_count);
    }
  }

  uint64_t offset = first_page;
  for (const PhysicalRun& r : stored) {
    layout.placed.push_back({r.base_page, r.page_count, offset});
    offset += r.page_count * kPage;
  }
  layout.first_page_offset = first_page;
  layout.stored_pages = stored_pages;
  layout.dump_size = offset;
  layout.file_size = offset + o.secondary_data.size();
  layout.dump_type = o.dump_type.value_or(DefaultDumpType(type));

  const std::vector<uint8_t> header = DumpHeader(
      s, layout, &runs, o.required_dump_space.value_or(layout.dump_size), false, o.page_fill);
  if (absl::Status st = sink.Write(0, header); !st.ok()) return st;
  if (absl::Status st = sink.Write(kHeaderSize, meta); !st.ok()) return st;
  for (const auto& [pfn, bytes] : image.pm.frames()) {
    const std::optional<uint64_t> at = layout.FileOffsetOfPhysical(pfn * kPage);
    if (!at || AllZero(bytes)) continue;  // all-zero pages stay holes
    if (absl::Status st = sink.Write(*at, bytes); !st.ok()) return st;
  }
  if (absl::Status st = sink.Write(layout.dump_size, o.secondary_data); !st.ok()) return st;
  if (absl::Status st = sink.Finish(layout.file_size); !st.ok()) return st;
  return layout;
}

// Byte ranges [begin, end) of virtual memory a triage dump has copied so far.
class CoveredRanges {
 public:
  void Add(uint64_t begin, uint64_t end) {
    if (begin < end) ranges_.emplace_back(begin, end);
  }
  // The parts of [begin, end) not yet covered, in order.
  std::vector<std::pair<uint64_t, uint64_t>> Uncovered(uint64_t begin, uint64_t end) const {
    std::vector<std::pair<uint64_t, uint64_t>> out = {{begin, end}};
    for (const auto& [cb, ce] : ranges_) {
      std::vector<std::pair<uint64_t, uint64_t>> next;
      for (const auto& [b, e] : out) {
        if (ce <= b || e <= cb) {
          next.emplace_back(b, e);
          continue;
        }
        if (b < cb) next.emplace_back(b, cb);
        if (ce < e) next.emplace_back(ce, e);
      }
      out = std::move(next);
    }
    return out;
  }

 private:
  std::vector<std::pair<uint64_t, uint64_t>> ranges_;
};

// The data-block candidates of a triage dump, in order (see SynthTriage).
std::vector<std::pair<uint64_t, uint64_t>> TriageBlockCandidates(const KernelScenario& s,
                                                                  const KernelDumpLayout& l) {
  std::vector<std::pair<uint64_t, uint64_t>> out;  // {va, size}
  const auto add = [&](uint64_t va, uint64_t size) {
    if (va != 0 && size != 0) out.emplace_back(va, size);
  };
  if (s.triage.copy_processor_blocks) {
    add(l.ki_processor_block, 8 * uint64_t{s.processors});
    for (size_t i = 0; i < l.prcbs.size(); ++i) {
      add(l.prcbs[i], s.kdbg_offsets.size_prcb);
      add(l.prcb_contexts[i], kContextSize);
    }
  }
  // Lists: the heads and entries here; their name buffers are added by AddNameBuffers.
  if (s.triage.copy_module_list) {
    add(l.ps_loaded_module_list, 16);
    for (uint64_t e : l.module_entries) add(e, kLdrEntryAllocation);
  }
  if (s.triage.copy_unloaded_drivers) {
    add(l.mm_unloaded_drivers, 8);
    add(l.mm_last_unloaded_driver, 4);
    add(l.mm_unloaded_drivers_array, kMmUnloadedEntrySize * std::max<size_t>(s.unloaded.size(), 50));
  }
  if (s.triage.copy_mappings) {
    for (const SynthMapping& m : s.mappings) {
      if (m.kind == SynthMapping::Kind::kPresent || m.kind == SynthMapping::Kind::kTransition) {
        add(m.va, m.bytes.size());
      }
    }
  }
  for (const auto& [va, size] : s.triage.extra_blocks) add(va, size);
  return out;
}

// Appends the name buffers of the UNICODE_STRING64s at `strings` to `out`.
void AddNameBuffers(const Image& image, const std::vector<uint64_t>& strings,
                    std::vector<std::pair<uint64_t, uint64_t>>& out) {
  for (uint64_t us : strings) {
    const std::optional<std::vector<uint8_t>> bytes = ReadVirtual(image, us, 16);
    if (!bytes) continue;
    const uint16_t max_length = (*bytes)[kUsMaximumLength] | ((*bytes)[kUsMaximumLength + 1] << 8);
    uint64_t buffer = 0;
    for (int i = 7; i >= 0; --i) buffer = (buffer << 8) | (*bytes)[kUsBuffer + i];
    if (buffer != 0 && max_length != 0) out.emplace_back(buffer, max_length);
  }
}

// Triage dump (DumpType 4): header, TRIAGE_DUMP64, then its parts in the order the real
// Windows 10 dump has them: MM info, unloaded drivers, KPRCB, EPROCESS, ETHREAD, stack,
// KDBG, driver list, string pool, data blocks; then 'TRGD'.
absl::StatusOr<KernelDumpLayout> EmitTriage(const KernelScenario& s, const Image& image,
                                            const WriteOptions& o, Sink& sink) {
  KernelDumpLayout layout = image.layout;
  TriageOffsets& t = layout.triage;
  ByteWriter w;  // file bytes from 0x2000
  const auto here = [&] { return static_cast<uint32_t>(kTriageDump + w.size()); };
  const auto align8 = [&] { w.Align(8); };
  w.Zeros(kTriageDumpSize);  // TRIAGE_DUMP64, patched at the end

  // DUMP_MM_STORAGE64.
  t.mm_offset = here();
  w.U32(kMmStorageVersion);
  w.U32(kMmStorageSize);
  w.Zeros(kMmStorageSize - 8);

  // Unloaded drivers: u32 count, pad, DUMP_UNLOADED_DRIVERS64[count].
  t.unloaded_drivers_offset = here();
  w.U32(s.corruption.triage_unloaded_count.value_or(static_cast<uint32_t>(s.unloaded.size())));
  w.U32(0);
  for (const SynthUnloadedDriver& u : s.unloaded) {
    std::vector<uint8_t> name = Utf16Le(u.name);
    name.resize(std::min(name.size(), 2 * kTriUnloadedInlineChars));
    w.U16(static_cast<uint16_t>(name.size()));  // Name.Length
    w.U16(static_cast<uint16_t>(name.size()));  // Name.MaximumLength (as in the real dump)
    w.U32(0);
    w.U64(0);                                   // Name.Buffer: the text is inline
    w.Bytes(name);
    w.Zeros(2 * kTriUnloadedInlineChars - name.size());
    w.U64(u.start);
    w.U64(u.end);
  }

  // Copies of the bugchecking processor's KPRCB, its process and its thread.
  const uint32_t size_prcb = s.kdbg_offsets.size_prcb;
  align8();
  t.prcb_offset = here();
  std::optional<std::vector<uint8_t>> prcb;
  uint64_t thread_va = 0;
  if (s.bugcheck_processor < layout.prcbs.size()) {
    prcb = ReadVirtual(image, layout.prcbs[s.bugcheck_processor], size_prcb);
    thread_va = s.processor_blocks[s.bugcheck_processor].current_thread;
  }
  if (prcb) {
    w.Bytes(*prcb);
  } else {
    w.Zeros(size_prcb);
  }
  align8();
  t.process_offset = here();
  w.Zeros(kEprocessSize);
  align8();
  t.thread_offset = here();
  if (std::optional<std::vector<uint8_t>> thread = ReadVirtual(image, thread_va, kEthreadSize);
      thread_va != 0 && thread) {
    w.Bytes(*thread);
  } else {
    w.Zeros(kEthreadSize);
  }

  CoveredRanges covered;
  const auto copy_range = [&](uint64_t va, uint64_t size) {
    const uint32_t at = here();
    if (size > 0) {
      w.Bytes(*ReadVirtual(image, va, size));
      layout.triage_ranges.push_back({va, at, static_cast<uint32_t>(size)});
      covered.Add(va, va + size);
    }
    return at;
  };

  // The stack window, cut at the first unmapped byte.
  align8();
  t.top_of_stack = s.triage.stack_top != 0 ? s.triage.stack_top : s.header_context.gpr[4];
  t.size_of_call_stack =
      static_cast<uint32_t>(MappedPrefix(image, t.top_of_stack, s.triage.stack_size));
  t.call_stack_offset = copy_range(t.top_of_stack, t.size_of_call_stack);

  // The data page.
  if (s.triage.data_page) {
    align8();
    t.data_page_address = s.triage.data_page->first;
    t.data_page_size =
        static_cast<uint32_t>(MappedPrefix(image, t.data_page_address, s.triage.data_page->second));
    t.data_page_offset = copy_range(t.data_page_address, t.data_page_size);
  }

  // The KDBG copy (as it is in memory: scrambled if encoded).
  align8();
  if (std::optional<std::vector<uint8_t>> kdbg = ReadVirtual(image, layout.kdbg, kKdbgSize)) {
    t.debugger_data_size = kKdbgSize;
    t.debugger_data_offset = copy_range(layout.kdbg, kKdbgSize);
  }

  // Driver list (name offsets patched once the string pool is laid out).
  align8();
  t.driver_list_offset = here();
  t.driver_count = s.corruption.triage_driver_count.value_or(static_cast<uint32_t>(s.modules.size()));
  for (const SynthKernelModule& m : s.modules) {
    std::vector<uint8_t> entry(kTriDriverEntrySize, 0);
    const size_t ldr = kTriDriverLdrEntry;
    // As in the real dump, only DllBase, SizeOfImage, CheckSum and TimeDateStamp are
    // set; the names are in the DUMP_STRING.
    PutU64(entry, ldr + kLdrDllBase, m.base);
    PutU32(entry, ldr + kLdrSizeOfImage, m.size);
    PutU32(entry, ldr + kLdrCheckSum, m.checksum);
    PutU32(entry, ldr + kLdrTimeDateStampWdbgexts, m.timestamp);
    w.Bytes(entry);
  }
  // String pool: DUMP_STRING {u32 length in WCHARs, WCHARs, NUL}, each 8-aligned. The
  // real dump stores the full path ("\SystemRoot\system32\ntoskrnl.exe").
  align8();
  t.string_pool_offset = here();
  for (size_t i = 0; i < s.modules.size(); ++i) {
    const SynthKernelModule& m = s.modules[i];
    const std::string& text = m.full_name.empty() ? m.name : m.full_name;
    w.PatchU32(t.driver_list_offset - kTriageDump + kTriDriverEntrySize * i, here());
    w.U32(static_cast<uint32_t>(text.size()));
    w.Bytes(Utf16Le(text));
    w.U16(0);
    align8();
  }
  t.string_pool_size = here() - t.string_pool_offset;

  // Data blocks: table, then the bytes packed (unaligned), each VA byte at most once.
  std::vector<std::pair<uint64_t, uint64_t>> candidates = TriageBlockCandidates(s, layout);
  {
    std::vector<uint64_t> strings;
    if (s.triage.copy_module_list) {
      for (uint64_t e : layout.module_entries) {
        strings.push_back(e + kLdrFullDllName);
        strings.push_back(e + kLdrBaseDllName);
      }
    }
    if (s.triage.copy_unloaded_drivers) {
      for (size_t i = 0; i < s.unloaded.size(); ++i) {
        strings.push_back(layout.mm_unloaded_drivers_array + kMmUnloadedEntrySize * i);
      }
    }
    AddNameBuffers(image, strings, candidates);
  }
  std::vector<std::pair<uint64_t, uint64_t>> blocks;
  for (const auto& [va, size] : candidates) {
    for (const auto& [b, e] : covered.Uncovered(va, va + size)) {
      // Split at unmapped pages.
      for (uint64_t at = b; at < e;) {
        const uint64_t n = MappedPrefix(image, at, e - at);
        if (n > 0) blocks.emplace_back(at, n);
        at += n;
        if (at < e) at = std::min(e, (at & ~(kPage - 1)) + kPage);  // skip the unmapped page
      }
      covered.Add(b, e);
    }
  }
  t.data_blocks_offset = here();
  t.data_blocks_count =
      s.corruption.triage_data_blocks_count.value_or(static_cast<uint32_t>(blocks.size()));
  uint32_t contents = here() + static_cast<uint32_t>(kTriDataBlockSize * blocks.size());
  for (const auto& [va, size] : blocks) {
    w.U64(va);
    w.U32(contents);
    w.U32(static_cast<uint32_t>(size));
    contents += static_cast<uint32_t>(size);
  }
  for (const auto& [va, size] : blocks) {
    const uint32_t at = here();
    w.Bytes(*ReadVirtual(image, va, size));
    layout.triage_ranges.push_back({va, at, static_cast<uint32_t>(size)});
  }

  align8();
  t.valid_offset = here();
  w.U32(kTriageValid);
  t.size_of_dump = here();

  // TRIAGE_DUMP64.
  const auto field32 = [&](size_t field, uint32_t v) { w.PatchU32(field, v); };
  field32(kTriServicePackBuild, 0);
  field32(kTriSizeOfDump, t.size_of_dump);
  field32(kTriValidOffset, t.valid_offset);
  field32(kTriContextOffset, kHdrContextRecord);
  field32(kTriExceptionOffset, kHdrException);
  field32(kTriMmOffset, t.mm_offset);
  field32(kTriUnloadedDriversOffset, t.unloaded_drivers_offset);
  field32(kTriPrcbOffset, t.prcb_offset);
  field32(kTriProcessOffset, t.process_offset);
  field32(kTriThreadOffset, t.thread_offset);
  field32(kTriCallStackOffset, t.call_stack_offset);
  field32(kTriSizeOfCallStack, t.size_of_call_stack);
  field32(kTriDriverListOffset, t.driver_list_offset);
  field32(kTriDriverCount, t.driver_count);
  field32(kTriStringPoolOffset, t.string_pool_offset);
  field32(kTriStringPoolSize, t.string_pool_size);
  field32(kTriBrokenDriverOffset, 0);
  field32(kTriTriageOptions, kTriageOptionsAll);
  w.PatchU64(kTriTopOfStack, t.top_of_stack);
  w.PatchU64(kTriDataPageAddress, t.data_page_address);
  field32(kTriDataPageOffset, t.data_page_offset);
  field32(kTriDataPageSize, t.data_page_size);
  field32(kTriDebuggerDataOffset, t.debugger_data_offset);
  field32(kTriDebuggerDataSize, t.debugger_data_size);
  field32(kTriDataBlocksOffset, t.data_blocks_offset);
  field32(kTriDataBlocksCount, t.data_blocks_count);

  layout.dump_size = t.size_of_dump;
  layout.file_size = layout.dump_size + o.secondary_data.size();
  layout.dump_type = o.dump_type.value_or(kDumpTypeTriage);
  const std::vector<uint8_t> header = DumpHeader(
      s, layout, nullptr, o.required_dump_space.value_or(layout.dump_size), true, o.page_fill);
  if (absl::Status st = sink.Write(0, header); !st.ok()) return st;
  if (absl::Status st = sink.Write(kTriageDump, w.bytes()); !st.ok()) return st;
  if (absl::Status st = sink.Write(layout.dump_size, o.secondary_data); !st.ok()) return st;
  if (absl::Status st = sink.Finish(layout.file_size); !st.ok()) return st;
  return layout;
}

absl::StatusOr<KernelDumpLayout> Emit(const KernelScenario& s, KernelDumpType type,
                                      const WriteOptions& o, Sink& sink) {
  auto image = BuildImage(s, o);
  if (!image.ok()) return image.status();
  if (type == KernelDumpType::kTriage) return EmitTriage(s, *image, o, sink);
  return EmitPhysical(s, type, *image, o, sink);
}

}  // namespace

// --- KernelScenario ---

void KernelScenario::Map(uint64_t va, std::vector<uint8_t> bytes) {
  mappings.push_back({SynthMapping::Kind::kPresent, va, PageSize::k4KiB, std::move(bytes)});
}
void KernelScenario::MapLarge(uint64_t va, std::vector<uint8_t> bytes, PageSize size) {
  mappings.push_back({SynthMapping::Kind::kPresent, va, size, std::move(bytes)});
}
void KernelScenario::MapTransition(uint64_t va, std::vector<uint8_t> bytes) {
  mappings.push_back({SynthMapping::Kind::kTransition, va, PageSize::k4KiB, std::move(bytes)});
}
void KernelScenario::MapNotPresent(uint64_t va) {
  mappings.push_back({SynthMapping::Kind::kNotPresent, va, PageSize::k4KiB, {}});
}
void KernelScenario::MapPageTableOutsideDump(uint64_t va) {
  mappings.push_back({SynthMapping::Kind::kPageTableOutsideDump, va, PageSize::k4KiB, {}});
}

// --- KernelDumpLayout ---

namespace {
const KernelDumpLayout::Leaf* FindLeaf(const KernelDumpLayout& l, uint64_t va, uint64_t* base) {
  auto it = l.leaves.upper_bound(va);
  if (it == l.leaves.begin()) return nullptr;
  --it;
  if (va - it->first >= it->second.page_size) return nullptr;
  *base = it->first;
  return &it->second;
}
}  // namespace

std::optional<uint64_t> KernelDumpLayout::PhysicalAddress(uint64_t va) const {
  uint64_t base = 0;
  const Leaf* leaf = FindLeaf(*this, va, &base);
  if (leaf == nullptr || leaf->frame_pa == 0) return std::nullopt;
  return leaf->frame_pa + (va - base);
}

std::optional<uint64_t> KernelDumpLayout::LeafEntryAddress(uint64_t va) const {
  uint64_t base = 0;
  const Leaf* leaf = FindLeaf(*this, va, &base);
  if (leaf == nullptr) return std::nullopt;
  return leaf->entry_pa;
}

std::optional<uint64_t> KernelDumpLayout::FileOffsetOfPhysical(uint64_t pa) const {
  const uint64_t pfn = pa / kPage;
  auto it = std::upper_bound(placed.begin(), placed.end(), pfn,
                             [](uint64_t p, const PlacedPages& r) { return p < r.first_pfn; });
  if (it == placed.begin()) return std::nullopt;
  --it;
  if (pfn - it->first_pfn >= it->page_count) return std::nullopt;
  return it->file_offset + (pfn - it->first_pfn) * kPage + pa % kPage;
}

std::optional<uint64_t> KernelDumpLayout::FileOffsetOfVirtual(uint64_t va) const {
  for (const TriageRange& r : triage_ranges) {
    if (va >= r.va && va - r.va < r.size) return r.file_offset + (va - r.va);
  }
  if (!triage_ranges.empty() || triage.size_of_dump != 0) return std::nullopt;
  const std::optional<uint64_t> pa = PhysicalAddress(va);
  if (!pa) return std::nullopt;
  return FileOffsetOfPhysical(*pa);
}

// --- Entry points ---

std::vector<uint8_t> DumpBlob(const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out = {'D', 'u', 'm', 'p', 'B', 'l', 'o', 'b'};
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

absl::StatusOr<WrittenKernelDump> WriteKernelDump(const KernelScenario& scenario,
                                                  KernelDumpType type,
                                                  const WriteOptions& options) {
  WrittenKernelDump out;
  VectorSink sink(out.bytes);
  auto layout = Emit(scenario, type, options, sink);
  if (!layout.ok()) return layout.status();
  out.layout = std::move(*layout);
  return out;
}

absl::StatusOr<KernelDumpLayout> WriteKernelDumpFile(const KernelScenario& scenario,
                                                     KernelDumpType type,
                                                     const std::string& path,
                                                     const WriteOptions& options) {
  FileSink sink(path);
  if (absl::Status st = sink.Open(); !st.ok()) return st;
  return Emit(scenario, type, options, sink);
}

KernelScenario TypicalKernelScenario() {
  KernelScenario s;
  // Values from the real triage dump (../shared/real/dumps/triage_x64.dmp): bugcheck
  // 0x1000007E in amdppm.sys.
  s.processors = 2;
  s.bugcheck_code = 0x1000007E;
  s.bugcheck_parameters = {0xFFFFFFFFC0000005, 0xFFFFF8048B58334C, 0xFFFF850429891EE8,
                           0xFFFF850429891720};
  s.exception.address = 0xFFFFF8047BDF5A80;
  constexpr uint64_t kStackTop = 0xFFFF850429890000;  // 4 stack pages
  SynthContext c;
  c.seg_cs = 0x10;
  c.seg_ss = 0x18;
  c.seg_ds = c.seg_es = 0x2B;
  c.seg_fs = 0x53;
  c.seg_gs = 0x2B;
  c.eflags = 0x10286;
  c.rip = 0xFFFFF8048B58334C;  // amdppm.sys + 0x334c
  c.gpr[4] = 0xFFFF850429892120;  // rsp
  c.gpr[5] = 0xFFFFF8048B58F598;  // rbp
  c.gpr[0] = 0x1;
  c.gpr[1] = 0xFFFFC08BDE9E1640;
  s.header_context = c;

  s.modules = {
      {"ntoskrnl.exe", "\\SystemRoot\\system32\\ntoskrnl.exe", 0xFFFFF8047BA00000, 0x1046000,
       0x0D8333E6, 0xA5938C},
      {"Wdf01000.sys", "\\SystemRoot\\system32\\drivers\\Wdf01000.sys", 0xFFFFF80479950000,
       0xD1000, 0xA9A9D36E, 0xD3980},
      {"amdppm.sys", "\\SystemRoot\\System32\\drivers\\amdppm.sys", 0xFFFFF8048B580000, 0x3B000,
       0xC9C03000, 0x38E6B},
  };
  s.unloaded = {
      {"dam.sys", 0xFFFFF80487DE0000, 0xFFFFF80487DFC000, 0x01D707F0AAAA0000},
      {"WdBoot.sys", 0xFFFFF80479D30000, 0xFFFFF80479D42000, 0x01D707F0BBBB0000},
  };
  SynthProcessor p0;
  p0.context = c;
  p0.processor_state_context = c;
  p0.current_thread = 0xFFFFC08BDE9E1640;
  SynthProcessor p1;
  SynthContext idle = c;
  idle.rip = 0xFFFFF8047BDF0000;  // somewhere in ntoskrnl.exe (KiIdleLoop-like)
  idle.gpr[4] = 0xFFFF850429A00F00;
  p1.context = idle;
  p1.current_thread = 0xFFFF9B0002309140;
  s.processor_blocks = {p0, p1};

  // The bugchecking thread's stack: a recognisable pattern, with return addresses into
  // amdppm.sys and ntoskrnl.exe at known slots.
  std::vector<uint8_t> stack(4 * kPage);
  for (size_t i = 0; i + 8 <= stack.size(); i += 8) {
    PutU64(stack, i, 0x5354000000000000ull | (kStackTop + i));  // 'ST' | address
  }
  PutU64(stack, 0x2128, 0xFFFFF8048B581234);  // [rsp + 8]: amdppm.sys
  PutU64(stack, 0x2200, 0xFFFFF8047BA51234);  // ntoskrnl.exe
  s.Map(kStackTop, std::move(stack));
  // The code page around RIP.
  s.Map(0xFFFFF8048B583000, std::vector<uint8_t>(kPage, 0xCC));
  return s;
}

}  // namespace restack::test
