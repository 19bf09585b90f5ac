// x64_paging.h - 4-level x64 address translation over a physical reader (internal)
#pragma once

#include <cstdint>
#include <optional>

#include "absl/functional/function_ref.h"
#include "restack/dump/kernel_dump.h"

namespace restack::dump {

// Reads the 8-byte page-table entry at physical address `pa`; nullopt when the
// dump does not hold it.
using PhysicalEntryReader = absl::FunctionRef<std::optional<uint64_t>(uint64_t pa)>;

// Translates `va` through the page tables rooted at `directory_table_base`
// (CR3; its low 12 bits are flags and are masked). 1 GiB (PDPTE.PS) and 2 MiB
// (PDE.PS) pages are followed; a PTE that is not present but in transition
// (bit 11 set, prototype bit 10 clear) still names its page.
Translation TranslateX64(uint64_t directory_table_base, uint64_t va, PhysicalEntryReader read);

}  // namespace restack::dump
