// bugcheck_names.h - bug check (stop code) names and what their four parameters mean
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace restack::dump {

// One bug check code and its name as Windows spells it ("IRQL_NOT_LESS_OR_EQUAL").
struct BugCheckNameEntry {
  uint32_t code = 0;
  std::string_view name;
};

// One bug check code and a short phrase per parameter (BugCheckParameter1..4).
struct BugCheckParameterEntry {
  uint32_t code = 0;
  std::array<std::string_view, 4> meanings;
};

// Windows sets this bit on some codes (0x1000007E SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M);
// such a code has the same meaning and parameters as the code without it.
inline constexpr uint32_t kBugCheckMBit = 0x10000000;

// The name of bug check `code`, or "" if unknown. Looked up in the supplement
// (libdump/names/bugcheck_supplement.inc, from Microsoft's Bug Check Code Reference; it
// wins where mingw-w64 disagrees), then in the table generated from mingw-w64's
// bugcodes.h. A code not found there with kBugCheckMBit set whose base code is known
// is named `<BASE>_M`, as Windows names the documented ones.
std::string BugCheckName(uint32_t code);

// What BugCheckParameter1..4 of `code` mean, as short phrases ("exception code",
// "address of the exception", ...). A phrase is "" where nothing is documented; all
// four are "" for codes without an entry. Codes with kBugCheckMBit set share their
// base code's meanings. Where the meaning depends on parameter 1 the phrases say so.
std::array<std::string_view, 4> BugCheckParameterMeanings(uint32_t code);

// The tables behind the lookups, each sorted by code with one row per code.
// Generated at build time from mingw-w64's bugcodes.h (message-table strings left out):
std::span<const BugCheckNameEntry> MingwBugCheckNames();
// Hand-written: codes bugcodes.h lacks or names differently from Microsoft:
std::span<const BugCheckNameEntry> SupplementBugCheckNames();
// Hand-written: parameter meanings of common bug checks:
std::span<const BugCheckParameterEntry> BugCheckParameterTable();

}  // namespace restack::dump
