// ntstatus.cc - NTSTATUS names (generated from mingw-w64's ntstatus.h) and field decoding
#include "restack/dump/ntstatus.h"

#include "code_table.h"
#include "restack_names/ntstatus_names_mingw.h"  // generated from mingw-w64's ntstatus.h

namespace restack::dump {
namespace {

struct FacilityEntry {
  uint16_t code;
  std::string_view name;
};

constexpr FacilityEntry kFacilities[] = {
#include "ntstatus_facilities.inc"
};

static_assert(SortedUnique(generated::kMingwNtStatusNames));
static_assert(SortedUnique(kFacilities));

template <typename Entry, typename Code>
std::string_view FindName(std::span<const Entry> table, Code code) {
  const Entry* e = FindByCode(table, code);
  return e != nullptr ? e->name : std::string_view();
}

}  // namespace

std::string_view NtStatusSeverityName(NtStatusSeverity severity) {
  switch (severity) {
    case NtStatusSeverity::kSuccess:
      return "SUCCESS";
    case NtStatusSeverity::kInformational:
      return "INFORMATIONAL";
    case NtStatusSeverity::kWarning:
      return "WARNING";
    case NtStatusSeverity::kError:
      return "ERROR";
    default:
      return "?";
  }
}

NtStatusFields DecodeNtStatus(uint32_t status) {
  NtStatusFields f;
  f.status = status;
  f.severity = static_cast<NtStatusSeverity>(status >> 30);
  f.customer = (status >> 29) & 1;
  f.reserved = (status >> 28) & 1;
  f.facility = static_cast<uint16_t>((status >> 16) & 0xFFF);
  f.code = static_cast<uint16_t>(status & 0xFFFF);
  // The ntdef.h macros, on the same value.
  f.nt_success = static_cast<int32_t>(status) >= 0;
  f.nt_information = (status >> 30) == 1;
  f.nt_warning = (status >> 30) == 2;
  f.nt_error = (status >> 30) == 3;
  return f;
}

std::string_view NtStatusName(uint32_t status) {
  return FindName(MingwNtStatusNames(), status);
}

std::string_view NtStatusFacilityName(uint16_t facility) {
  return FindName(std::span<const FacilityEntry>(kFacilities), facility);
}

std::span<const NtStatusNameEntry> MingwNtStatusNames() { return generated::kMingwNtStatusNames; }

}  // namespace restack::dump
