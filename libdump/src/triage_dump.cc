// triage_dump.cc - TRIAGE_DUMP64: ranges, driver list, unloaded drivers
#include "triage_dump.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "utf16.h"

namespace restack::dump {
namespace {

constexpr uint32_t kMaxDriverNameChars = 1024;

void Warn(const ByteReader& file, std::vector<Warning>& warnings, uint64_t offset,
          std::string what) {
  warnings.push_back({offset, absl::StrFormat("%s: offset 0x%x: %s", file.name(), offset, what)});
}

// DUMP_STRING: u32 length in WCHARs, then the characters.
std::optional<std::string> DumpString(const ByteReader& file, uint64_t offset) {
  uint32_t chars;
  if (!ReadStruct(file.bytes(), offset, &chars) || chars > kMaxDriverNameChars) {
    return std::nullopt;
  }
  absl::StatusOr<std::span<const uint8_t>> text = file.Slice(offset + 4, uint64_t{chars} * 2, "");
  if (!text.ok()) return std::nullopt;
  return Utf16LeToUtf8(*text);
}

// Sorts `regions` by address and trims overlaps; earlier entries win.
std::vector<TriageRegion> Normalise(std::vector<TriageRegion> regions) {
  std::stable_sort(regions.begin(), regions.end(),
                   [](const TriageRegion& a, const TriageRegion& b) { return a.va < b.va; });
  std::vector<TriageRegion> out;
  for (TriageRegion r : regions) {
    if (!out.empty() && r.va < out.back().end()) {
      if (r.end() <= out.back().end()) continue;
      const uint64_t cut = out.back().end() - r.va;
      r.va += cut;
      r.size -= cut;
      r.file_offset += cut;
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace

bool LooksLikeTriage(const ByteReader& file) {
  TRIAGE_DUMP64 t;
  uint32_t valid;
  return ReadStruct(file.bytes(), sizeof(DUMP_HEADER64), &t) && t.ValidOffset >= 0x2000 &&
         ReadStruct(file.bytes(), t.ValidOffset, &valid) && valid == kTriageValidDump;
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
    Warn(file, warnings, at + 4,
         absl::StrFormat("TRIAGE_DUMP64.SizeOfDump: 0x%x is past the end of the file (0x%x); "
                         "the file is truncated",
                         t.SizeOfDump, file.size()));
  }
  const uint64_t limit = std::min<uint64_t>(t.SizeOfDump, file.size());

  // Virtual ranges, in order of preference where they overlap.
  std::vector<TriageRegion> regions;
  auto add = [&](uint64_t va, uint64_t size, uint64_t offset, const char* what,
                 uint64_t field_offset) {
    if (size == 0) return;
    if (offset > limit || limit - offset < size || va + size < va) {
      Warn(file, warnings, field_offset,
           absl::StrFormat("%s: 0x%x bytes at file offset 0x%x (for 0x%x) lie outside the dump "
                           "(0x%x bytes); dropped",
                           what, size, offset, va, limit));
      return;
    }
    regions.push_back({va, size, offset});
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
      Warn(file, warnings, at + 0x7C,
           absl::StrFormat("TRIAGE_DUMP64.DataBlocksCount: %u blocks do not fit the file "
                           "(room for %u); reading %u",
                           t.DataBlocksCount, room, room));
      count = room;
    }
    for (uint64_t i = 0; i < count; ++i) {
      TRIAGE_DATA_BLOCK64 b;
      const uint64_t where = t.DataBlocksOffset + i * sizeof(TRIAGE_DATA_BLOCK64);
      ReadStruct(file.bytes(), where, &b);
      add(b.VirtualAddress, b.Size, b.Offset, "TRIAGE_DATA_BLOCK", where);
    }
  }
  c.regions = Normalise(std::move(regions));

  // Driver list: DriverCount entries of 0x90 bytes, names in the string pool.
  if (t.DriverCount > 0) {
    const uint64_t room = file.Remaining(t.DriverListOffset) / sizeof(DUMP_DRIVER_ENTRY64);
    uint64_t count = t.DriverCount;
    if (count > room) {
      Warn(file, warnings, at + 0x34,
           absl::StrFormat("TRIAGE_DUMP64.DriverCount: %u entries do not fit the file (room "
                           "for %u); reading %u",
                           t.DriverCount, room, room));
      count = room;
    }
    c.drivers.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      DUMP_DRIVER_ENTRY64 e;
      const uint64_t where = t.DriverListOffset + i * sizeof(DUMP_DRIVER_ENTRY64);
      ReadStruct(file.bytes(), where, &e);
      // A real entry names itself in the string pool; the first one that does
      // not ends the list (a lying DriverCount reads no garbage).
      std::optional<std::string> name;
      if (e.DriverNameOffset >= t.StringPoolOffset &&
          e.DriverNameOffset - t.StringPoolOffset < t.StringPoolSize) {
        name = DumpString(file, e.DriverNameOffset);
      }
      if (!name) {
        Warn(file, warnings, where,
             absl::StrFormat("DUMP_DRIVER_ENTRY64[%u].DriverNameOffset: 0x%x is no DUMP_STRING "
                             "in the string pool; driver list cut at %u of %u entries",
                             i, e.DriverNameOffset, i, t.DriverCount));
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
      Warn(file, warnings, at + 0x18,
           "TRIAGE_DUMP64.UnloadedDriversOffset: past the end of the file; no unloaded drivers");
    } else {
      const uint64_t first = uint64_t{t.UnloadedDriversOffset} + 8;
      const uint64_t room = file.Remaining(first) / sizeof(DUMP_UNLOADED_DRIVERS64);
      // A copy of MmUnloadedDrivers: at most MI_UNLOADED_DRIVERS entries.
      const uint64_t n = std::min<uint64_t>({count, room, kMaxMmUnloadedDrivers});
      if (n < count) {
        Warn(file, warnings, t.UnloadedDriversOffset,
             absl::StrFormat("unloaded driver count %u exceeds what the file or the kernel's "
                             "array (%u entries) holds; reading %u",
                             count, kMaxMmUnloadedDrivers, n));
      }
      for (uint64_t i = 0; i < n; ++i) {
        DUMP_UNLOADED_DRIVERS64 e;
        const uint64_t where = first + i * sizeof(e);
        ReadStruct(file.bytes(), where, &e);
        if (e.Name.Length == 0 || e.Name.Length > sizeof(e.DriverName) || e.Name.Length % 2 ||
            e.StartAddress >= e.EndAddress) {
          Warn(file, warnings, where,
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
