// x64_paging.cc - PML4 -> PDPT -> PD -> PT walk
#include "x64_paging.h"

#include "absl/strings/str_format.h"

namespace restack::dump {
namespace {

constexpr uint64_t kPfnMask = 0x000F'FFFF'FFFF'F000;  // bits 12..51
constexpr uint64_t kPresent = 1u << 0;
constexpr uint64_t kLargePage = 1u << 7;
constexpr uint64_t kPrototype = 1u << 10;
constexpr uint64_t kTransition = 1u << 11;

}  // namespace

Translation TranslateX64(uint64_t directory_table_base, uint64_t va, PhysicalEntryReader read) {
  Translation t;
  // Canonical: bits 63..47 all equal.
  const uint64_t top = va >> 47;
  if (top != 0 && top != 0x1FFFF) {
    t.fault = TranslationFault::kNotMapped;
    t.detail = absl::StrFormat("0x%x is not a canonical address", va);
    return t;
  }
  struct Level {
    const char* name;
    unsigned shift;
  };
  static constexpr Level kLevels[] = {{"PML4E", 39}, {"PDPTE", 30}, {"PDE", 21}, {"PTE", 12}};
  uint64_t table = directory_table_base & kPfnMask;
  for (const Level& level : kLevels) {
    const uint64_t entry_pa = table + ((va >> level.shift) & 0x1FF) * 8;
    std::optional<uint64_t> entry = read(entry_pa);
    if (!entry) {
      t.fault = TranslationFault::kNotInDump;
      t.detail = absl::StrFormat("%s for 0x%x at physical 0x%x is not in the dump", level.name,
                                 va, entry_pa);
      return t;
    }
    const bool last = level.shift == 12;
    // A page (or page-table page) on a standby list keeps its frame: transition
    // bit set, prototype bit clear, at any level (as WinDbg and volatility
    // read it). The PS bit means something only in a present entry.
    const bool present = (*entry & kPresent) != 0;
    const bool in_transition =
        !present && (*entry & kTransition) != 0 && (*entry & kPrototype) == 0;
    if (!present && !in_transition) {
      t.fault = TranslationFault::kNotMapped;
      t.detail = absl::StrFormat("%s 0x%x for 0x%x is not present", level.name, *entry, va);
      return t;
    }
    if (last || (present && (*entry & kLargePage) != 0 && (level.shift == 30 || level.shift == 21))) {
      const uint64_t page_size = uint64_t{1} << level.shift;
      const uint64_t frame = *entry & kPfnMask & ~(page_size - 1);
      t.physical = frame | (va & (page_size - 1));
      t.page_size = page_size;
      return t;
    }
    table = *entry & kPfnMask;
  }
  t.fault = TranslationFault::kNotMapped;
  return t;
}

}  // namespace restack::dump
