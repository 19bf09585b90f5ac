// bugcheck_names.cc - bug check names (mingw-w64 generated + supplement) and parameter meanings
#include "restack/dump/bugcheck_names.h"

#include "code_table.h"
#include "restack_names/bugcheck_names_mingw.h"  // generated from mingw-w64's bugcodes.h

namespace restack::dump {
namespace {

constexpr BugCheckNameEntry kSupplementBugCheckNames[] = {
#include "bugcheck_supplement.inc"
};

constexpr BugCheckParameterEntry kBugCheckParameters[] = {
#include "bugcheck_parameters.inc"
};

// Lookups below are binary searches: each table must be sorted by code, one row per code.
static_assert(SortedUnique(generated::kMingwBugCheckNames));
static_assert(SortedUnique(kSupplementBugCheckNames));
static_assert(SortedUnique(kBugCheckParameters));

// The supplement first: it corrects bugcodes.h where Microsoft names a code differently.
std::string_view ListedName(uint32_t code) {
  if (const auto* e = FindByCode(SupplementBugCheckNames(), code)) return e->name;
  if (const auto* e = FindByCode(MingwBugCheckNames(), code)) return e->name;
  return {};
}

}  // namespace

std::span<const BugCheckNameEntry> MingwBugCheckNames() { return generated::kMingwBugCheckNames; }
std::span<const BugCheckNameEntry> SupplementBugCheckNames() { return kSupplementBugCheckNames; }
std::span<const BugCheckParameterEntry> BugCheckParameterTable() { return kBugCheckParameters; }

std::string BugCheckName(uint32_t code) {
  if (std::string_view name = ListedName(code); !name.empty()) return std::string(name);
  if ((code & kBugCheckMBit) != 0) {
    std::string_view base = ListedName(code & ~kBugCheckMBit);
    if (!base.empty()) return std::string(base) + "_M";
  }
  return {};
}

std::array<std::string_view, 4> BugCheckParameterMeanings(uint32_t code) {
  if (const auto* e = FindByCode(BugCheckParameterTable(), code)) return e->meanings;
  if ((code & kBugCheckMBit) != 0) {
    if (const auto* e = FindByCode(BugCheckParameterTable(), code & ~kBugCheckMBit)) {
      return e->meanings;
    }
  }
  return {};
}

}  // namespace restack::dump
