// kernel_structures.cc - KDBG, loaded and unloaded modules, processor contexts
#include "kernel_structures.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "absl/strings/str_format.h"
#include "restack/dump/kernel_dump_layout.h"
#include "utf16.h"

namespace restack::dump {
namespace {

constexpr uint32_t kContextSize = 0x4D0;
constexpr uint16_t kMaxUnicodeBytes = 0x1000;

template <typename T>
std::optional<T> ReadTarget(const AddressSpace& memory, uint64_t va) {
  T value;
  if (!memory.ReadVirtual(va, {reinterpret_cast<uint8_t*>(&value), sizeof(T)}).ok()) {
    return std::nullopt;
  }
  return value;
}

template <typename T>
T FieldAt(const std::vector<uint8_t>& block, uint32_t offset) {
  T value{};
  if (offset + sizeof(T) <= block.size()) std::memcpy(&value, block.data() + offset, sizeof(T));
  return value;
}

}  // namespace

void KernelWarnings::Add(uint64_t address, std::string what) {
  out_.push_back({address, absl::StrFormat("%s: address 0x%x: %s", name_, address, what)});
}

std::optional<std::string> ReadUnicodeString(const AddressSpace& memory, uint16_t length,
                                             uint64_t buffer) {
  const uint16_t n = std::min<uint16_t>(length & ~1u, kMaxUnicodeBytes);
  std::vector<uint8_t> bytes(n);
  if (n > 0 && !memory.ReadVirtual(buffer, bytes).ok()) return std::nullopt;
  return Utf16LeToUtf8(bytes);
}

std::optional<DebuggerData> ReadDebuggerData(const AddressSpace& memory, uint64_t address,
                                             KernelWarnings& warnings) {
  using O = KdDebuggerDataOffsets;
  // The header first (List, OwnerTag, Size), then as much of the block as its
  // Size says, up to the last field restack reads.
  std::vector<uint8_t> block(O::kKernBase);
  if (address == 0 || !memory.ReadVirtual(address, block).ok()) {
    warnings.Add(address, "KDDEBUGGER_DATA64: not in dump; kernel facts come from the header only");
    return std::nullopt;
  }
  DebuggerData d;
  d.address = address;
  const uint32_t tag = FieldAt<uint32_t>(block, O::kOwnerTag);
  d.size = FieldAt<uint32_t>(block, O::kSize);
  if (tag != kKdbgOwnerTag) {
    d.encoded = true;
    warnings.Add(address, absl::StrFormat("KDDEBUGGER_DATA64.OwnerTag: block is encoded "
                                          "(expected 'KDBG' 0x%x, got 0x%x); its fields are not "
                                          "used",
                                          kKdbgOwnerTag, tag));
    return d;
  }
  const uint32_t wanted = std::min<uint32_t>(d.size, O::kMinimumSize);
  block.resize(std::max<uint32_t>(wanted, O::kKernBase));
  if (!memory.ReadVirtual(address, block).ok()) {
    warnings.Add(address, absl::StrFormat("KDDEBUGGER_DATA64: only its header is in the dump "
                                          "(Size 0x%x)",
                                          d.size));
    return d;
  }
  if (d.size < O::kMinimumSize) {
    warnings.Add(address, absl::StrFormat("KDDEBUGGER_DATA64.Size: 0x%x is older than restack "
                                          "reads (expected at least 0x%x); later fields ignored",
                                          d.size, O::kMinimumSize));
  }
  // Each field only when the block reaches its end.
  auto field64 = [&](uint32_t offset) {
    return offset + 8 <= block.size() ? FieldAt<uint64_t>(block, offset) : 0;
  };
  auto field16 = [&](uint32_t offset) -> uint16_t {
    return offset + 2 <= block.size() ? FieldAt<uint16_t>(block, offset) : 0;
  };
  d.kern_base = field64(O::kKernBase);
  d.ps_loaded_module_list = field64(O::kPsLoadedModuleList);
  d.ki_processor_block = field64(O::kKiProcessorBlock);
  d.mm_unloaded_drivers = field64(O::kMmUnloadedDrivers);
  d.mm_last_unloaded_driver = field64(O::kMmLastUnloadedDriver);
  d.size_prcb = field16(O::kSizePrcb);
  d.offset_prcb_current_thread = field16(O::kOffsetPrcbCurrentThread);
  d.offset_prcb_proc_state_context = field16(O::kOffsetPrcbProcStateContext);
  d.offset_prcb_number = field16(O::kOffsetPrcbNumber);
  d.offset_prcb_context = field16(O::kOffsetPrcbContext);
  return d;
}

// TimeDateStamp of the image loaded at `base`, from its PE header in memory.
std::optional<uint32_t> ImageTimestamp(const AddressSpace& memory, uint64_t base) {
  std::optional<uint32_t> lfanew = ReadTarget<uint32_t>(memory, base + 0x3C);
  std::optional<uint16_t> mz = ReadTarget<uint16_t>(memory, base);
  if (!mz || *mz != 0x5A4D || !lfanew || *lfanew > 0x1000) return std::nullopt;
  std::optional<uint32_t> pe = ReadTarget<uint32_t>(memory, base + *lfanew);
  if (!pe || *pe != 0x4550) return std::nullopt;
  return ReadTarget<uint32_t>(memory, base + *lfanew + 8);  // IMAGE_FILE_HEADER.TimeDateStamp
}

std::vector<KernelModule> WalkModuleList(const AddressSpace& memory, uint64_t head,
                                         uint32_t build, KernelWarnings& warnings) {
  uint32_t unknown_timestamps = 0;
  std::vector<KernelModule> modules;
  std::optional<uint64_t> first = ReadTarget<uint64_t>(memory, head);
  if (!first) {
    warnings.Add(head, "PsLoadedModuleList: list head not in dump; no modules");
    return modules;
  }
  std::unordered_set<uint64_t> seen{head};
  for (uint64_t link = *first; link != head;) {
    if (!seen.insert(link).second) {
      warnings.Add(link, absl::StrFormat("PsLoadedModuleList: entry links back to an earlier "
                                         "entry (cyclic list); stopped after %u modules",
                                         modules.size()));
      break;
    }
    if (modules.size() >= kMaxKernelModules) {
      warnings.Add(link, absl::StrFormat("PsLoadedModuleList: more than %u entries; stopped",
                                         kMaxKernelModules));
      break;
    }
    std::optional<KLDR_DATA_TABLE_ENTRY64> e = ReadTarget<KLDR_DATA_TABLE_ENTRY64>(memory, link);
    if (!e) {
      warnings.Add(link, absl::StrFormat("KLDR_DATA_TABLE_ENTRY: not in dump; module list cut "
                                         "after %u modules",
                                         modules.size()));
      break;
    }
    KernelModule m;
    m.base = e->DllBase;
    m.size = e->SizeOfImage;
    m.checksum = e->CheckSum;
    // The image's own header is the surest source; failing that, the loader
    // entry, whose TimeDateStamp moved between Windows versions.
    if (std::optional<uint32_t> ts = ImageTimestamp(memory, m.base)) {
      m.timestamp = *ts;
    } else if (build >= kFirstWindows10Build) {
      m.timestamp = ReadTarget<uint32_t>(memory, link + kLdrTimeDateStampWindows10).value_or(0);
    } else if (build < kFirstWindows7Build) {
      m.timestamp = e->TimeDateStamp;
    }
    unknown_timestamps += m.timestamp == 0;
    if (std::optional<std::string> name =
            ReadUnicodeString(memory, e->BaseDllName.Length, e->BaseDllName.Buffer)) {
      m.name = *std::move(name);
    } else {
      warnings.Add(e->BaseDllName.Buffer,
                   absl::StrFormat("module at 0x%x: BaseDllName not in dump", m.base));
    }
    if (std::optional<std::string> full =
            ReadUnicodeString(memory, e->FullDllName.Length, e->FullDllName.Buffer)) {
      m.full_name = *std::move(full);
    }
    modules.push_back(std::move(m));
    link = e->InLoadOrderFlink;
  }
  if (unknown_timestamps > 0) {
    warnings.Add(head, absl::StrFormat("%u of %u modules have no known TimeDateStamp (image "
                                       "header not in dump, build %u); their images cannot be "
                                       "matched by key",
                                       unknown_timestamps, modules.size(), build));
  }
  return modules;
}

std::vector<UnloadedDriver> ReadMmUnloadedDrivers(const AddressSpace& memory,
                                                  const DebuggerData& kdbg,
                                                  KernelWarnings& warnings) {
  std::vector<UnloadedDriver> out;
  if (kdbg.mm_unloaded_drivers == 0) return out;
  std::optional<uint64_t> array = ReadTarget<uint64_t>(memory, kdbg.mm_unloaded_drivers);
  std::optional<uint32_t> next = ReadTarget<uint32_t>(memory, kdbg.mm_last_unloaded_driver);
  if (!array || !next) {
    warnings.Add(kdbg.mm_unloaded_drivers, "MmUnloadedDrivers: not in dump; no unloaded drivers");
    return out;
  }
  if (*array == 0) return out;
  if (*next > kMaxMmUnloadedDrivers) {
    warnings.Add(kdbg.mm_last_unloaded_driver,
                 absl::StrFormat("MmLastUnloadedDriver: %u is not a slot of the %u-entry array",
                                 *next, kMaxMmUnloadedDrivers));
  }
  // MmLastUnloadedDriver is the next slot of a ring of MI_UNLOADED_DRIVERS
  // entries: walk back from the slot before it, most recent first, over
  // every slot in use (a non-null name).
  const uint32_t start = std::min(*next, kMaxMmUnloadedDrivers);
  uint32_t unreadable = 0;
  for (uint32_t k = 1; k <= kMaxMmUnloadedDrivers; ++k) {
    const uint32_t slot = (start + kMaxMmUnloadedDrivers - k) % kMaxMmUnloadedDrivers;
    const uint64_t at = *array + uint64_t{slot} * sizeof(MM_UNLOADED_DRIVER64);
    std::optional<MM_UNLOADED_DRIVER64> e = ReadTarget<MM_UNLOADED_DRIVER64>(memory, at);
    if (!e) {
      ++unreadable;
      continue;
    }
    if (e->Name.Buffer == 0 || e->Name.Length == 0) continue;  // an unused slot
    UnloadedDriver d;
    d.start = e->StartAddress;
    d.end = e->EndAddress;
    d.unload_time = e->CurrentTime;
    d.name = ReadUnicodeString(memory, e->Name.Length, e->Name.Buffer).value_or("");
    out.push_back(std::move(d));
  }
  if (unreadable > 0) {
    warnings.Add(*array, absl::StrFormat("MmUnloadedDrivers: %u of %u slots not in dump",
                                         unreadable, kMaxMmUnloadedDrivers));
  }
  return out;
}

std::vector<ProcessorContext> ReadProcessorContexts(const AddressSpace& memory,
                                                    const DebuggerData& kdbg, uint32_t count,
                                                    KernelWarnings& warnings) {
  std::vector<ProcessorContext> out;
  if (kdbg.ki_processor_block == 0 || kdbg.encoded) return out;
  if (count > kMaxProcessors) {
    warnings.Add(kdbg.ki_processor_block,
                 absl::StrFormat("NumberProcessors %u: only the first %u are read", count,
                                 kMaxProcessors));
    count = kMaxProcessors;
  }
  uint32_t missing = 0;
  for (uint32_t cpu = 0; cpu < count; ++cpu) {
    std::optional<uint64_t> prcb = ReadTarget<uint64_t>(memory, kdbg.ki_processor_block + cpu * 8);
    if (!prcb || *prcb == 0) {
      ++missing;
      continue;
    }
    ProcessorContext pc;
    pc.processor = cpu;
    pc.prcb = *prcb;
    pc.current_thread =
        ReadTarget<uint64_t>(memory, *prcb + kdbg.offset_prcb_current_thread).value_or(0);
    std::vector<uint8_t> bytes(kContextSize);
    bool found = false;
    if (kdbg.offset_prcb_context != 0) {
      std::optional<uint64_t> ptr = ReadTarget<uint64_t>(memory, *prcb + kdbg.offset_prcb_context);
      if (ptr && *ptr != 0 && memory.ReadVirtual(*ptr, bytes).ok()) {
        pc.source = "prcb-context";
        found = true;
      }
    }
    if (!found && kdbg.offset_prcb_proc_state_context != 0 &&
        memory.ReadVirtual(*prcb + kdbg.offset_prcb_proc_state_context, bytes).ok()) {
      pc.source = "prcb-processor-state";
      found = true;
    }
    if (!found) {
      ++missing;
      continue;
    }
    absl::StatusOr<X64Context> ctx = ParseX64Context(bytes, "KPRCB context", 0);
    if (!ctx.ok()) {
      warnings.Add(*prcb, absl::StrFormat("processor %u: context unreadable: %s", cpu,
                                          ctx.status().message()));
      continue;
    }
    pc.context = *std::move(ctx);
    out.push_back(std::move(pc));
  }
  if (missing > 0) {
    warnings.Add(kdbg.ki_processor_block,
                 absl::StrFormat("KiProcessorBlock: no context for %u of %u processors (KPRCB "
                                 "not in dump)",
                                 missing, count));
  }
  return out;
}

}  // namespace restack::dump
