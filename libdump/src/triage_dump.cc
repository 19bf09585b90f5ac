// triage_dump.cc - TRIAGE_DUMP64: ranges, driver list, unloaded drivers
#include "triage_dump.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "absl/strings/str_format.h"
#include "kernel_structures.h"
#include "utf16.h"

namespace restack::dump {
namespace {

constexpr uint32_t kMaxDriverNameChars = 1024;

// DUMP_STRING: u32 length in WCHARs, then the characters; it must lie inside
// the string pool [pool, pool_end).
std::optional<std::string> DumpString(const ByteReader& file, uint64_t offset, uint64_t pool,
                                      uint64_t pool_end) {
  uint32_t chars;
  if (offset < pool || offset + 4 > pool_end || !ReadStruct(file.bytes(), offset, &chars) ||
      chars > kMaxDriverNameChars || offset + 4 + uint64_t{chars} * 2 > pool_end) {
    return std::nullopt;
  }
  absl::StatusOr<std::span<const uint8_t>> text = file.Slice(offset + 4, uint64_t{chars} * 2, "");
  if (!text.ok()) return std::nullopt;
  return Utf16LeToUtf8(*text);
}

// Virtual ranges held in the file, disjoint. Regions are added in order of
// preference: a later one only fills what earlier ones leave uncovered, with
// a warning when the bytes it loses differ.
class RegionMap {
 public:
  void Add(const TriageRegion& r, const ByteReader& file, std::vector<Warning>& warnings,
           uint64_t field_offset) {
    uint64_t va = r.va;
    const uint64_t end = r.end();
    auto it = regions_.upper_bound(va);
    if (it != regions_.begin()) --it;
    while (va < end) {
      while (it != regions_.end() && it->second.end() <= va) ++it;
      const uint64_t next = it == regions_.end() ? end : std::min(end, it->second.va);
      if (va < next) {  // uncovered piece [va, next)
        regions_.emplace(va, TriageRegion{va, next - va, r.file_offset + (va - r.va)});
        va = next;
        continue;
      }
      // Covered by `it` from va to min(end, it->end()).
      const uint64_t stop = std::min(end, it->second.end());
      const uint8_t* ours = file.bytes().data() + r.file_offset + (va - r.va);
      const uint8_t* theirs = file.bytes().data() + it->second.file_offset + (va - it->second.va);
      if (!differing_reported_ && std::memcmp(ours, theirs, stop - va) != 0) {
        differing_reported_ = true;
        file.Warn(warnings, field_offset,
                  absl::StrFormat("range at 0x%x overlaps an earlier one with different bytes; "
                                  "the earlier bytes are kept",
                                  va));
      }
      va = stop;
    }
  }
  std::vector<TriageRegion> Sorted() const {
    std::vector<TriageRegion> out;
    out.reserve(regions_.size());
    for (const auto& [va, r] : regions_) out.push_back(r);
    return out;
  }

 private:
  std::map<uint64_t, TriageRegion> regions_;
  bool differing_reported_ = false;
};

}  // namespace

bool LooksLikeTriage(const ByteReader& file, uint32_t dump_type) {
  TRIAGE_DUMP64 t;
  if (!ReadStruct(file.bytes(), sizeof(DUMP_HEADER64), &t) || t.ValidOffset < 0x2000) return false;
  uint32_t valid;
  if (ReadStruct(file.bytes(), t.ValidOffset, &valid)) return valid == kTriageValidDump;
  // ValidOffset past the end: a truncated triage dump, if the rest agrees.
  return dump_type == kDumpTypeTriage && t.ContextOffset == offsetof(DUMP_HEADER64, ContextRecord) &&
         t.SizeOfDump == t.ValidOffset + 4;
}

absl::StatusOr<TriageContents> ParseTriage(const ByteReader& file, const DUMP_HEADER64& header,
                                           std::vector<Warning>& warnings) {
  TriageContents c;
  if (!ReadStruct(file.bytes(), sizeof(DUMP_HEADER64), &c.header)) {
    return file.Error(absl::StatusCode::kOutOfRange, sizeof(DUMP_HEADER64),
                      "TRIAGE_DUMP64: runs past end of file (expected 0x%x bytes, got 0x%x)",
                      sizeof(TRIAGE_DUMP64), file.Remaining(sizeof(DUMP_HEADER64)));
  }
  const TRIAGE_DUMP64& t = c.header;
  const uint64_t at = sizeof(DUMP_HEADER64);
  if (t.SizeOfDump > file.size()) {
    file.Warn(warnings, at + 4,
              absl::StrFormat("TRIAGE_DUMP64.SizeOfDump: 0x%x is past the end of the file (0x%x), "
                              "and with it the 'TRGD' at ValidOffset: the file is truncated; what "
                              "lies past the end is missing",
                              t.SizeOfDump, file.size()));
  }
  const uint64_t limit = std::min<uint64_t>(t.SizeOfDump, file.size());

  // Virtual ranges, in order of preference where they overlap.
  RegionMap regions;
  auto add = [&](uint64_t va, uint64_t size, uint64_t offset, const char* what,
                 uint64_t field_offset) {
    if (size == 0) return;
    if (offset > limit || limit - offset < size || va + size < va) {
      file.Warn(
          warnings, field_offset,
          absl::StrFormat("%s: 0x%x bytes at file offset 0x%x (for 0x%x) lie outside the dump "
                          "(0x%x bytes); dropped",
                          what, size, offset, va, limit));
      return;
    }
    regions.Add({va, size, offset}, file, warnings, field_offset);
  };
  add(t.TopOfStack, t.SizeOfCallStack, t.CallStackOffset, "TRIAGE_DUMP64 stack window",
      at + 0x28);
  add(header.KdDebuggerDataBlock, t.DebuggerDataSize, t.DebuggerDataOffset,
      "TRIAGE_DUMP64 debugger data", at + 0x70);
  add(t.DataPageAddress, t.DataPageSize, t.DataPageOffset, "TRIAGE_DUMP64 data page", at + 0x68);
  if (t.DataBlocksCount > 0) {
    const uint64_t room = file.Remaining(t.DataBlocksOffset) / sizeof(TRIAGE_DATA_BLOCK64);
    uint64_t count = t.DataBlocksCount;
    if (count > room) {
      file.Warn(warnings, at + 0x7C,
                absl::StrFormat("TRIAGE_DUMP64.DataBlocksCount: %u blocks do not fit the file "
                                "(room for %u); reading %u",
                                t.DataBlocksCount, room, room));
      count = room;
    }
    for (uint64_t i = 0; i < count; ++i) {
      TRIAGE_DATA_BLOCK64 b{};
      const uint64_t where = t.DataBlocksOffset + i * sizeof(TRIAGE_DATA_BLOCK64);
      ReadStruct(file.bytes(), where, &b);
      add(b.VirtualAddress, b.Size, b.Offset, "TRIAGE_DATA_BLOCK", where);
    }
  }
  c.regions = regions.Sorted();

  // Driver list: DriverCount entries of 0x90 bytes, names in the string pool.
  if (t.DriverCount > 0) {
    const uint64_t room = file.Remaining(t.DriverListOffset) / sizeof(DUMP_DRIVER_ENTRY64);
    uint64_t count = std::min<uint64_t>({t.DriverCount, room, kMaxKernelModules});
    if (count < t.DriverCount) {
      file.Warn(warnings, at + 0x34,
                absl::StrFormat("TRIAGE_DUMP64.DriverCount: %u entries exceed the file (room for "
                                "%u) or restack's limit (%u); reading %u",
                                t.DriverCount, room, kMaxKernelModules, count));
    }
    const uint64_t pool = t.StringPoolOffset;
    const uint64_t pool_end = std::min<uint64_t>(pool + t.StringPoolSize, limit);
    c.drivers.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      DUMP_DRIVER_ENTRY64 e{};
      const uint64_t where = t.DriverListOffset + i * sizeof(DUMP_DRIVER_ENTRY64);
      ReadStruct(file.bytes(), where, &e);
      // A real entry names itself in the string pool; the first one that does
      // not ends the list (a lying DriverCount reads no garbage).
      std::optional<std::string> name = DumpString(file, e.DriverNameOffset, pool, pool_end);
      if (!name) {
        file.Warn(
            warnings, where,
            absl::StrFormat("DUMP_DRIVER_ENTRY64[%u].DriverNameOffset: 0x%x is not a DUMP_STRING "
                            "of at most %u characters inside the string pool [0x%x, 0x%x); "
                            "driver list cut at %u of %u entries",
                            i, e.DriverNameOffset, kMaxDriverNameChars, pool, pool_end, i,
                            t.DriverCount));
        break;
      }
      KernelModule m;
      m.base = e.LdrEntry.DllBase;
      m.size = e.LdrEntry.SizeOfImage;
      m.timestamp = e.LdrEntry.TimeDateStamp;
      m.checksum = e.LdrEntry.CheckSum;
      // The string is the full path ("\SystemRoot\system32\ntoskrnl.exe").
      m.full_name = *std::move(name);
      const size_t slash = m.full_name.find_last_of("\\/");
      m.name = slash == std::string::npos ? m.full_name : m.full_name.substr(slash + 1);
      c.drivers.push_back(std::move(m));
    }
  }

  // Unloaded drivers: u32 count, 4 bytes of padding, then 0x38-byte entries.
  if (t.UnloadedDriversOffset != 0) {
    uint32_t count = 0;
    if (!ReadStruct(file.bytes(), t.UnloadedDriversOffset, &count)) {
      file.Warn(
          warnings, at + 0x18,
          "TRIAGE_DUMP64.UnloadedDriversOffset: past the end of the file; no unloaded drivers");
    } else {
      const uint64_t first = uint64_t{t.UnloadedDriversOffset} + 8;
      const uint64_t room = file.Remaining(first) / sizeof(DUMP_UNLOADED_DRIVERS64);
      // A copy of MmUnloadedDrivers: at most MI_UNLOADED_DRIVERS entries.
      const uint64_t n = std::min<uint64_t>({count, room, kMaxMmUnloadedDrivers});
      if (n < count) {
        file.Warn(warnings, t.UnloadedDriversOffset,
                  absl::StrFormat("unloaded driver count %u exceeds what the file or the kernel's "
                                  "array (%u entries) holds; reading %u",
                                  count, kMaxMmUnloadedDrivers, n));
      }
      for (uint64_t i = 0; i < n; ++i) {
        DUMP_UNLOADED_DRIVERS64 e{};
        const uint64_t where = first + i * sizeof(e);
        ReadStruct(file.bytes(), where, &e);
        if (e.Name.Length == 0 || e.Name.Length > sizeof(e.DriverName) || e.Name.Length % 2 ||
            e.StartAddress >= e.EndAddress) {
          file.Warn(warnings, where,
                    absl::StrFormat("DUMP_UNLOADED_DRIVERS64[%u]: not an entry (name length %u, "
                                    "range 0x%x-0x%x); list cut",
                                    i, e.Name.Length, e.StartAddress, e.EndAddress));
          break;
        }
        UnloadedDriver d;
        d.start = e.StartAddress;
        d.end = e.EndAddress;
        d.name = Utf16LeToUtf8({reinterpret_cast<const uint8_t*>(e.DriverName), e.Name.Length});
        c.unloaded.push_back(std::move(d));
      }
    }
  }
  return c;
}

}  // namespace restack::dump
