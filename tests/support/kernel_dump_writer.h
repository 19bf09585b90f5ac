// kernel_dump_writer.h - writes synthetic Windows x64 kernel crash dumps for tests
//
// From one KernelScenario (virtual memory, kernel structures, processors) the writer
// builds one physical memory image, with x64 page tables (PML4/PDPT/PD/PT) it lays out
// itself, and serialises it as any of the kernel dump kinds restack reads: full
// (DumpType 1), bitmap (SDMP/FDMP), WinDbgX RDMP (8, 9, 10) and triage (4).
//
// Like minidump_builder.h (and rust-minidump's minidump-synth) this deliberately does
// not use libdump's layout structs (restack/dump/kernel_dump_layout.h): every field is
// written at an offset spelled out in kernel_dump_writer.cc, from public descriptions
// (kdmp-parser's kdmp-parser-structs.h, rizin's dmp_specs.h, Microsoft's wdbgexts.h)
// and checked against the real triage dump in ../shared/real/dumps/. A layout mistake
// in libdump therefore cannot hide behind the same mistake here.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/minidump_builder.h"

namespace restack::test {

// Sizes of an x64 leaf page.
enum class PageSize : uint64_t {
  k4KiB = 0x1000,
  k2MiB = 0x200000,      // PDE with PS (bit 7) set
  k1GiB = 0x40000000,    // PDPTE with PS set
};

// A loaded module: becomes a KLDR_DATA_TABLE_ENTRY on PsLoadedModuleList and, in a
// triage dump, a DUMP_DRIVER_ENTRY64 in the driver list.
struct SynthKernelModule {
  std::string name;       // BaseDllName, e.g. "ntoskrnl.exe"
  std::string full_name;  // FullDllName, e.g. "\\SystemRoot\\system32\\ntoskrnl.exe"
  uint64_t base = 0;
  uint32_t size = 0;
  uint32_t timestamp = 0;
  uint32_t checksum = 0;
};

// An unloaded driver: an MM_UNLOADED_DRIVER in MmUnloadedDrivers and, in a triage dump,
// a DUMP_UNLOADED_DRIVERS64 (whose inline name holds at most 12 characters).
struct SynthUnloadedDriver {
  std::string name;
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t unload_time = 0;  // MM_UNLOADED_DRIVER.CurrentTime (FILETIME); not in triage
};

// One processor's KPRCB contents (KiProcessorBlock[i]).
struct SynthProcessor {
  // Written at a CONTEXT the writer allocates; KPRCB + OffsetPrcbContext points at it.
  // nullopt: that pointer is 0.
  std::optional<SynthContext> context;
  // Written inline at KPRCB + OffsetPrcbProcStateContext (KPROCESSOR_STATE.ContextFrame).
  // nullopt: those bytes stay zero.
  std::optional<SynthContext> processor_state_context;
  uint64_t current_thread = 0;  // KPRCB + OffsetPrcbCurrentThread
};

// The KPRCB offsets KDDEBUGGER_DATA64 advertises. Defaults: Windows 10 19041, as found
// in the real triage dump's KDBG copy.
struct SynthKdbgOffsets {
  uint16_t size_prcb = 0xAF00;
  uint16_t current_thread = 0x8;
  uint16_t proc_state_context = 0x1F0;
  uint16_t prcb_number = 0x24;
  uint16_t prcb_context = 0x85C0;  // a CONTEXT* field
};

// DUMP_HEADER64.Exception (EXCEPTION_RECORD64). Default: the real triage dump's record.
struct SynthKernelException {
  uint32_t code = 0x80000003;
  uint32_t flags = 1;
  uint64_t record = 0;
  uint64_t address = 0;
  std::vector<uint64_t> parameters;  // at most 15 are written
};

// Where KLDR_DATA_TABLE_ENTRY.TimeDateStamp sits in the in-memory module list.
enum class LdrEntryLayout {
  // wdbgexts.h's LDR_DATA_TABLE_ENTRY64: CheckSum 0x78, TimeDateStamp 0x80. The layout
  // of the triage driver list, and what the brief describes for memory too.
  kWdbgexts,
  // Windows 10's KLDR_DATA_TABLE_ENTRY: CheckSum 0x78, CoverageSection (a pointer) at
  // 0x80, TimeDateStamp at 0x9C.
  kWindows10,
};

// Malformed-input knobs; the defaults write a consistent dump.
struct KernelCorruption {
  // The last module's Flink points back at the first entry instead of the list head.
  bool module_list_cycle = false;
  // Overrides PsLoadedModuleList->Flink (e.g. an unmapped address).
  std::optional<uint64_t> module_list_head_flink;
  // Overrides *MmLastUnloadedDriver (the number of valid MmUnloadedDrivers entries).
  std::optional<uint32_t> last_unloaded_driver;
  // *MmUnloadedDrivers = 0 (the array pointer is null).
  bool null_unloaded_drivers_pointer = false;
  // Overrides KDDEBUGGER_DATA64.Header.Size.
  std::optional<uint32_t> kdbg_size;
  // The header's KdDebuggerDataBlock points at a page the writer leaves unmapped.
  bool kdbg_unmapped = false;
  // Triage dump counts, written instead of the true ones.
  std::optional<uint32_t> triage_driver_count;
  std::optional<uint32_t> triage_unloaded_count;
  std::optional<uint32_t> triage_data_blocks_count;
};

// What a triage dump (DumpType 4) copies besides the fixed TRIAGE_DUMP64 parts.
struct SynthTriage {
  // The stack window [stack_top, stack_top + stack_size), copied from mapped memory and
  // cut at the first unmapped byte. stack_top 0: header_context's RSP.
  uint64_t stack_top = 0;
  uint32_t stack_size = 0x2000;
  // The data page [va, va + size) (DataPageAddress); nullopt: none, as in the real dump.
  std::optional<std::pair<uint64_t, uint32_t>> data_page;
  // Data blocks copied from memory, in this order, each byte at most once (ranges
  // already copied, e.g. the stack window, are cut out):
  bool copy_processor_blocks = true;   // KiProcessorBlock, each KPRCB and its CONTEXT
  bool copy_module_list = false;       // PsLoadedModuleList, entries, names (not in the real dump)
  bool copy_unloaded_drivers = false;  // MmUnloadedDrivers & co. (not in the real dump)
  bool copy_mappings = true;           // every Map/MapLarge/MapTransition range
  std::vector<std::pair<uint64_t, uint32_t>> extra_blocks;  // {va, size}
};

// One mapping request (see KernelScenario::Map*).
struct SynthMapping {
  enum class Kind { kPresent, kTransition, kNotPresent, kPageTableOutsideDump };
  Kind kind = Kind::kPresent;
  uint64_t va = 0;
  PageSize page_size = PageSize::k4KiB;
  std::vector<uint8_t> bytes;
};

// Everything the dump describes, independent of the dump kind.
struct KernelScenario {
  uint32_t build = 19041;        // MinorVersion
  uint32_t major_version = 0xF;  // 0xF free build, 0xC checked build
  uint32_t processors = 2;       // NumberProcessors; KiProcessorBlock has this many slots
  uint32_t bugcheck_code = 0x1000007E;
  std::array<uint64_t, 4> bugcheck_parameters{};
  SynthContext header_context;  // DUMP_HEADER64.ContextRecord
  SynthKernelException exception;
  uint64_t system_time = 0x1d707f23dbb3399;
  uint64_t system_up_time = 0x23bc1e9;
  uint32_t product_type = 1;
  uint32_t suite_mask = 0x110;
  // OR-ed into DirectoryTableBase (CR3 flag/PCID bits), e.g. 0x002.
  uint64_t dtb_low_bits = 0;
  uint64_t pfn_database = 0xFFFFB70000000000;          // DUMP_HEADER64.PfnDataBase (not mapped)
  uint64_t ps_active_process_head = 0xFFFFF8047C61E200;  // not mapped

  // The writer lays out its kernel structures (KDBG, module and unloaded-driver lists,
  // KiProcessorBlock, KPRCBs, CONTEXTs) in 4 KiB pages from this address up.
  uint64_t kernel_data_va = 0xFFFFF8047C600000;
  uint64_t kern_base = 0;  // KDDEBUGGER_DATA64.KernBase; 0: modules[0].base
  SynthKdbgOffsets kdbg_offsets;
  // Write the KDBG scrambled, so that its OwnerTag is not 'KDBG' (as when Windows
  // encodes it with KiWaitNever/KiWaitAlways; the writer's transform is its own).
  bool encode_kdbg = false;
  LdrEntryLayout ldr_entry_layout = LdrEntryLayout::kWindows10;  // as build 19041 has it
  // For 2 MiB / 1 GiB leaves: set the PAT bit (bit 12), which is not a PFN bit there.
  bool large_page_pat = false;

  std::vector<SynthKernelModule> modules;        // PsLoadedModuleList order
  std::vector<SynthUnloadedDriver> unloaded;     // MmUnloadedDrivers order
  std::vector<SynthProcessor> processor_blocks;  // KiProcessorBlock[0..n); the rest are 0
  uint32_t bugcheck_processor = 0;               // whose KPRCB a triage dump copies
  SynthTriage triage;
  KernelCorruption corruption;

  // Virtual memory. Addresses are canonical; each call maps whole pages (bytes are
  // zero-padded to the page size). Overlapping requests make the writer fail.
  // 4 KiB pages, present.
  void Map(uint64_t va, std::vector<uint8_t> bytes);
  // One or more 2 MiB or 1 GiB pages (va aligned to `size`); only the pages the bytes
  // cover are stored in kernel-only dumps.
  void MapLarge(uint64_t va, std::vector<uint8_t> bytes, PageSize size);
  // 4 KiB pages whose PTE has P = 0, Transition (bit 11) = 1, Prototype (bit 10) = 0:
  // the frame is still in memory and in the dump.
  void MapTransition(uint64_t va, std::vector<uint8_t> bytes);
  // One 4 KiB page whose PTE is not present and not in transition (a page-file PTE).
  void MapNotPresent(uint64_t va);
  // The 2 MiB region around `va` gets a present PDE whose page table is not in the dump.
  void MapPageTableOutsideDump(uint64_t va);

  std::vector<SynthMapping> mappings;  // in call order
};

enum class KernelDumpType {
  kFull,            // DumpType 1: runs packed from 0x2000
  kBitmapFull,      // 'FDMP' bitmap, every page of the layout present (DumpType 5)
  kBitmapKernel,    // 'SDMP' bitmap, only the pages the scenario uses (DumpType 6)
  kRdmpKernel,      // 'RDMP', DumpType 8 (`.dump /k`): used pages
  kRdmpKernelUser,  // 'RDMP', DumpType 9 (`.dump /ka`): used pages
  kRdmpComplete,    // 'RDMP', DumpType 10 (`.dump /f`): every page of the layout
  kTriage,          // DumpType 4: TRIAGE_DUMP64, no physical memory
};

// A run of physical pages, as in PHYSICAL_MEMORY_DESCRIPTOR64.Run[].
struct PhysicalRun {
  uint64_t base_page = 0;
  uint64_t page_count = 0;
  friend bool operator==(const PhysicalRun&, const PhysicalRun&) = default;
};

// Format variations.
struct WriteOptions {
  // DUMP_HEADER64.DumpType as written; nullopt: the type's usual value (1, 5, 6, 8, 9,
  // 10, 4). E.g. an 'SDMP' bitmap labelled 5 or an 'FDMP' one labelled 6.
  std::optional<uint32_t> dump_type;
  // The physical layout. Empty: {0x1, 0x9E} and {0x100, n} with n just large enough for
  // what the scenario needs, rounded up to 0x10 pages (PFNs 0x9F..0xFF are a hole, as on
  // PCs).
  std::vector<PhysicalRun> runs;
  // The writer allocates frames upwards from here (0: the first run's first page, never
  // PFN 0), skipping holes. Set it near the end of a big layout to put pages past 4 GiB
  // of file offset.
  uint64_t first_allocated_pfn = 0;
  // Bitmap FirstPage / RDMP FirstPageOffset (absolute; may be unaligned). nullopt: the
  // end of the metadata rounded up to 0x1000. For RDMP, MetadataSize follows from it.
  std::optional<uint64_t> first_page_offset;
  // Fill DUMP_HEADER64 with 'PAGE' before writing the fields, as Windows does.
  bool page_fill = true;
  // Overrides DUMP_HEADER64.RequiredDumpSpace (default: the dump's size without the
  // secondary data; for triage dumps SizeOfDump).
  std::optional<uint64_t> required_dump_space;
  // Bytes appended after the dump proper (past RequiredDumpSpace / SizeOfDump), e.g.
  // DumpBlob(...).
  std::vector<uint8_t> secondary_data;
};

// "DumpBlob" followed by `payload`: secondary data as Windows appends it.
std::vector<uint8_t> DumpBlob(const std::vector<uint8_t>& payload);

// A VA range a triage dump holds, and where.
struct TriageRange {
  uint64_t va = 0;
  uint64_t file_offset = 0;
  uint32_t size = 0;
};

// The TRIAGE_DUMP64 fields as written.
struct TriageOffsets {
  uint32_t size_of_dump = 0, valid_offset = 0, mm_offset = 0, unloaded_drivers_offset = 0,
           prcb_offset = 0, process_offset = 0, thread_offset = 0, call_stack_offset = 0,
           size_of_call_stack = 0, driver_list_offset = 0, driver_count = 0,
           string_pool_offset = 0, string_pool_size = 0, data_page_offset = 0,
           data_page_size = 0, debugger_data_offset = 0, debugger_data_size = 0,
           data_blocks_offset = 0, data_blocks_count = 0;
  uint64_t top_of_stack = 0, data_page_address = 0;
};

// Where things ended up, for assertions and for corrupting a written dump.
struct KernelDumpLayout {
  uint64_t file_size = 0;
  uint64_t dump_size = 0;  // where the secondary data starts
  uint32_t dump_type = 0;  // DUMP_HEADER64.DumpType as written
  uint64_t directory_table_base = 0;  // as written, low bits included

  // Virtual addresses of the kernel structures.
  uint64_t kdbg = 0;
  uint64_t ps_loaded_module_list = 0;
  uint64_t ki_processor_block = 0;
  uint64_t mm_unloaded_drivers = 0;      // the pointer variable
  uint64_t mm_unloaded_drivers_array = 0;
  uint64_t mm_last_unloaded_driver = 0;
  std::vector<uint64_t> module_entries;  // KLDR_DATA_TABLE_ENTRY, per module
  std::vector<uint64_t> prcbs;           // KPRCB, per SynthProcessor
  std::vector<uint64_t> prcb_contexts;   // the CONTEXT KPRCB+OffsetPrcbContext points at (0: none)

  // Physical memory.
  std::vector<PhysicalRun> runs;  // the layout (PhysicalMemoryBlock)
  // Where stored pages are: {first PFN, page count, file offset of the first}.
  struct PlacedPages {
    uint64_t first_pfn = 0;
    uint64_t page_count = 0;
    uint64_t file_offset = 0;
  };
  std::vector<PlacedPages> placed;
  uint64_t first_page_offset = 0;  // 0x2000, FirstPage or FirstPageOffset (0 for triage)
  uint64_t stored_pages = 0;       // pages the file holds
  uint64_t outside_dump_pfn = 0;   // frame used by MapPageTableOutsideDump (0: none)

  // Triage dumps.
  TriageOffsets triage;
  std::vector<TriageRange> triage_ranges;  // stack, KDBG, data page, data blocks

  // Translation as the writer built it: VA page -> {leaf entry PA, frame PA, page size}.
  struct Leaf {
    uint64_t entry_pa = 0;  // physical address of the PTE/PDE/PDPTE
    uint64_t frame_pa = 0;  // physical address of the page (0 if not present)
    uint64_t page_size = 0x1000;
  };
  std::map<uint64_t, Leaf> leaves;  // keyed by the leaf's VA (aligned to its size)

  // Physical address of `va` through the writer's tables (present or transition leaves).
  std::optional<uint64_t> PhysicalAddress(uint64_t va) const;
  // Physical address of the page-table entry that maps `va` at its last level.
  std::optional<uint64_t> LeafEntryAddress(uint64_t va) const;
  // File offset of physical address `pa`, if the file stores its page.
  std::optional<uint64_t> FileOffsetOfPhysical(uint64_t pa) const;
  // File offset of `va`: through the page tables, or a triage range.
  std::optional<uint64_t> FileOffsetOfVirtual(uint64_t va) const;
};

struct WrittenKernelDump {
  std::vector<uint8_t> bytes;
  KernelDumpLayout layout;
};

// Builds the dump in memory. Errors: kInvalidArgument for an impossible scenario
// (overlapping or misaligned mappings, non-canonical addresses, too many runs),
// kResourceExhausted if the physical layout has no room for what must be mapped.
absl::StatusOr<WrittenKernelDump> WriteKernelDump(const KernelScenario& scenario,
                                                  KernelDumpType type,
                                                  const WriteOptions& options = {});

// Streams the dump to `path` (created or truncated). Pages never written (unused or
// all-zero) are holes, so a dump describing >= 4 GiB of memory costs little disk.
absl::StatusOr<KernelDumpLayout> WriteKernelDumpFile(const KernelScenario& scenario,
                                                     KernelDumpType type,
                                                     const std::string& path,
                                                     const WriteOptions& options = {});

// A small dump with everything a reader looks at: ntoskrnl.exe and two drivers, two
// unloaded drivers, two processors with contexts, a stack page mapped at the header
// context's RSP and a code page at its RIP.
KernelScenario TypicalKernelScenario();

}  // namespace restack::test
