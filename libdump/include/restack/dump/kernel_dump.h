// kernel_dump.h - a Windows x64 kernel crash dump (PAGEDU64) and its memory
//
// Reads every kind of x64 kernel dump: full (DumpType 1), bitmap (SDMP/FDMP, 5
// and 6), WinDbgX RDMP (8, 9, 10) and kernel minidumps / triage dumps (4). The
// kind is recognised by content, not by DumpType alone. Physical pages are
// found in O(1) (bitmap rank) or O(log runs) with no per-page map; virtual
// addresses are translated through the x64 page tables of the header's
// DirectoryTableBase; triage dumps map virtual ranges (stack window, data
// blocks, data page, KDBG copy) directly. See docs/kernel-dumps.md.
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

// What the file holds, as recognised from its content.
enum class KernelDumpKind {
  kFull,             // DumpType 1: physical runs packed from 0x2000
  kBitmapFull,       // "FDMP" bitmap dump (complete memory)
  kBitmapKernel,     // "SDMP" bitmap dump (kernel memory, automatic)
  kRdmpKernel,       // WinDbgX RDMP, DumpType 8 (`.dump /k`)
  kRdmpKernelUser,   // WinDbgX RDMP, DumpType 9 (`.dump /ka`)
  kRdmpComplete,     // WinDbgX RDMP, DumpType 10 (`.dump /f`)
  kTriage,           // DumpType 4: kernel minidump / triage dump (TRIAGE_DUMP64)
};
// "full", "bitmap-full", "bitmap-kernel", "rdmp-kernel", "rdmp-kernel-user",
// "rdmp-complete", "triage".
std::string_view KernelDumpKindName(KernelDumpKind kind);

// Bugcheck code and its four parameters, from DUMP_HEADER64.
struct BugCheck {
  uint32_t code = 0;
  std::array<uint64_t, 4> parameters{};
};

// A loaded kernel module (PsLoadedModuleList entry or triage driver-list entry).
struct KernelModule {
  std::string name;       // BaseDllName, e.g. "amdppm.sys"
  std::string full_name;  // FullDllName when present
  uint64_t base = 0;
  uint32_t size = 0;
  uint32_t timestamp = 0;
  uint32_t checksum = 0;
  uint64_t end() const { return base + size; }
};

// An unloaded driver (MmUnloadedDrivers, or the triage dump's copy).
struct UnloadedDriver {
  std::string name;
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t unload_time = 0;  // FILETIME (0 when the triage copy has none)
};

// A processor's saved context.
struct ProcessorContext {
  uint32_t processor = 0;
  uint64_t prcb = 0;            // KPRCB address
  uint64_t current_thread = 0;  // KPRCB.CurrentThread (0 if unreadable)
  // Where the context came from: "prcb-context" (*(KPRCB + OffsetPrcbContext)),
  // "prcb-processor-state" (KPRCB + OffsetPrcbProcStateContext).
  std::string source;
  X64Context context;
};

// The KDDEBUGGER_DATA64 fields restack uses.
struct DebuggerData {
  uint64_t address = 0;  // where it lives in the target
  bool encoded = false;  // OwnerTag is not 'KDBG': the block is encoded (KdpDataBlockEncoded)
  uint32_t size = 0;
  uint64_t kern_base = 0;
  uint64_t ps_loaded_module_list = 0;
  uint64_t ki_processor_block = 0;
  uint64_t mm_unloaded_drivers = 0;
  uint64_t mm_last_unloaded_driver = 0;
  uint16_t size_prcb = 0;
  uint16_t offset_prcb_current_thread = 0;
  uint16_t offset_prcb_proc_state_context = 0;
  uint16_t offset_prcb_number = 0;
  uint16_t offset_prcb_context = 0;  // 0 before Windows 7
};

// Bytes past DUMP_HEADER64.RequiredDumpSpace / TRIAGE_DUMP64.SizeOfDump:
// secondary data appended by the writer (e.g. "DumpBlob"), listed, not read.
struct SecondaryData {
  uint64_t offset = 0;
  uint64_t size = 0;
  std::string magic;  // the first bytes as printable text, e.g. "DumpBlob"
};

// Why a virtual address could not be read.
enum class TranslationFault {
  kNone,
  kNotMapped,     // non-canonical, or an entry on the way not present (nor in transition)
  kNotInDump,     // a page table or the page itself is not in the file
  kNoPageTables,  // triage dump: only the ranges it copied can be read
};

// Result of translating one virtual address.
struct Translation {
  std::optional<uint64_t> physical;  // set unless `fault`
  TranslationFault fault = TranslationFault::kNone;
  uint64_t page_size = 0x1000;  // 4 KiB, 2 MiB or 1 GiB
  std::string detail;           // which level / entry failed, for messages
};

// A parsed kernel dump; an AddressSpace over its virtual memory.
class KernelDump : public AddressSpace {
 public:
  // Maps `path` read-only and parses it (see FromBytes).
  static absl::StatusOr<KernelDump> Open(const std::string& path);

  // Parses `bytes` (kept alive by `keep_alive`). Required: DUMP_HEADER64
  // ('PAGE' 'DU64', x64 machine) and a recognisable memory layout; everything
  // else (KDBG, module list, contexts, unloaded drivers) that is broken is a
  // warning and absent.
  static absl::StatusOr<KernelDump> FromBytes(std::span<const uint8_t> bytes,
                                              std::shared_ptr<const void> keep_alive,
                                              std::string name);

  const std::string& name() const;
  KernelDumpKind kind() const;
  uint32_t dump_type() const;      // DUMP_HEADER64.DumpType as written
  uint32_t major_version() const;  // 0xF free build, 0xC checked build
  uint32_t build() const;          // MinorVersion: the OS build number
  uint32_t processors() const;     // NumberProcessors
  uint64_t system_time() const;    // FILETIME
  uint64_t directory_table_base() const;
  const BugCheck& bugcheck() const;
  // DUMP_HEADER64.ContextRecord: the bugchecking processor's context.
  const std::optional<X64Context>& header_context() const;

  const std::optional<DebuggerData>& debugger_data() const;
  const std::vector<KernelModule>& modules() const;
  const std::vector<UnloadedDriver>& unloaded_drivers() const;
  // One entry per processor whose context could be found.
  const std::vector<ProcessorContext>& processor_contexts() const;
  // The processor that bugchecked, when the dump tells: the triage dump's
  // KPRCB copy names it; otherwise the processor whose context is the header
  // context, or the one whose RSP lies nearest below the header context's
  // (within 128 KiB: KeBugCheckEx called after the fault the header context
  // describes; a warning when several qualify).
  std::optional<uint32_t> bugcheck_processor() const;
  const std::vector<SecondaryData>& secondary_data() const;
  const std::vector<Warning>& warnings() const;

  // Triage dumps: the thread's stack window [top, top + size).
  std::optional<std::pair<uint64_t, uint64_t>> stack_window() const;

  // Physical memory: NotFound ("page 0x… not in dump") for a missing page.
  absl::Status ReadPhysical(uint64_t pa, std::span<uint8_t> out) const;
  // Virtual to physical through the header's page tables.
  Translation Translate(uint64_t va) const;
  // AddressSpace: page tables, or the triage ranges. Never zero-fills.
  absl::Status ReadVirtual(uint64_t va, std::span<uint8_t> out) const override;

  // The module containing `va`, or nullptr.
  const KernelModule* ModuleForAddress(uint64_t va) const;

  KernelDump(KernelDump&&);
  KernelDump& operator=(KernelDump&&);
  ~KernelDump() override;

 private:
  struct State;
  explicit KernelDump(std::unique_ptr<State> state);
  // KDBG, module lists, unloaded drivers, processor contexts (through ReadVirtual).
  void ReadKernelFacts();
  std::optional<uint32_t> FindBugcheckProcessor();
  // Copies physical memory; on failure, what was missing (without the file name).
  std::optional<std::string> CopyPhysical(uint64_t pa, std::span<uint8_t> out) const;
  std::unique_ptr<State> s_;
};

}  // namespace restack::dump
