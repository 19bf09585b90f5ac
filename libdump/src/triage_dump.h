// triage_dump.h - the TRIAGE_DUMP64 part of kernel minidumps (internal)
//
// A triage dump holds no page tables: its memory is a set of virtual ranges
// copied into the file (stack window, data blocks, data page, KDBG copy), and
// its module lists are file structures (driver list, string pool, unloaded
// drivers), not kernel memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "byte_reader.h"
#include "restack/dump/kernel_dump.h"
#include "restack/dump/kernel_dump_layout.h"

namespace restack::dump {

// One virtual range held in the file.
struct TriageRegion {
  uint64_t va = 0;
  uint64_t size = 0;
  uint64_t file_offset = 0;
  uint64_t end() const { return va + size; }
};

struct TriageContents {
  TRIAGE_DUMP64 header{};
  std::vector<TriageRegion> regions;  // sorted by va, disjoint
  std::vector<KernelModule> drivers;
  std::vector<UnloadedDriver> unloaded;
};

// Whether the file carries a TRIAGE_DUMP64: 'TRGD' at ValidOffset, or, for
// DumpType 4, a plausible TRIAGE_DUMP64 whose ValidOffset lies past the end of
// a truncated file (Windows puts it in the last four bytes).
bool LooksLikeTriage(const ByteReader& file, uint32_t dump_type);

// Parses the triage part. Errors only when TRIAGE_DUMP64 itself is unusable;
// broken lists and ranges become warnings.
absl::StatusOr<TriageContents> ParseTriage(const ByteReader& file, const DUMP_HEADER64& header,
                                           std::vector<Warning>& warnings);

}  // namespace restack::dump
