// ntstatus.h - NTSTATUS names and the fields of an NTSTATUS value
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace restack::dump {

// One NTSTATUS value and its name as Windows spells it ("STATUS_ACCESS_VIOLATION").
struct NtStatusNameEntry {
  uint32_t code = 0;
  std::string_view name;
};

// Sev, bits 31-30 of an NTSTATUS (STATUS_SEVERITY_SUCCESS .. STATUS_SEVERITY_ERROR).
enum class NtStatusSeverity : uint8_t {
  kSuccess = 0,        // STATUS_SEVERITY_SUCCESS
  kInformational = 1,  // STATUS_SEVERITY_INFORMATIONAL
  kWarning = 2,        // STATUS_SEVERITY_WARNING
  kError = 3,          // STATUS_SEVERITY_ERROR
};

// "SUCCESS", "INFORMATIONAL", "WARNING" or "ERROR".
std::string_view NtStatusSeverityName(NtStatusSeverity severity);

// An NTSTATUS split as ntstatus.h lays it out:
//
//   3 3 2 2 2 2 2 2 2 2 2 2 1 1 1 1 1 1 1 1 1 1
//   1 0 9 8 7 6 5 4 3 2 1 0 9 8 7 6 5 4 3 2 1 0 9 8 7 6 5 4 3 2 1 0
//  +---+-+-+-----------------------+-------------------------------+
//  |Sev|C|N|     Facility          |               Code            |
//  +---+-+-+-----------------------+-------------------------------+
struct NtStatusFields {
  uint32_t status = 0;
  NtStatusSeverity severity = NtStatusSeverity::kSuccess;  // Sev, bits 31-30
  bool customer = false;  // C, bit 29: defined by a customer, not by Microsoft
  bool reserved = false;  // N, bit 28: reserved in an NTSTATUS (in an HRESULT it
                          // marks HRESULT_FROM_NT, FACILITY_NT_BIT)
  uint16_t facility = 0;  // bits 27-16 (12 bits): FACILITY_*
  uint16_t code = 0;      // bits 15-0
  bool nt_success = false;      // NT_SUCCESS: (int32_t)status >= 0
  bool nt_information = false;  // NT_INFORMATION: status >> 30 == 1
  bool nt_warning = false;      // NT_WARNING: status >> 30 == 2
  bool nt_error = false;        // NT_ERROR: status >> 30 == 3
};

// Splits `status` into its fields; every 32-bit value decodes.
NtStatusFields DecodeNtStatus(uint32_t status);

// The name of `status` ("STATUS_ACCESS_VIOLATION"), or "" if unknown. From mingw-w64's
// ntstatus.h, generated at build time; where two names share a value the first one
// defined wins (0 is STATUS_SUCCESS, not STATUS_WAIT_0).
std::string_view NtStatusName(uint32_t status);

// The name of a facility ("FACILITY_NTWIN32" for 7), or "" if unknown, per the
// Windows SDK's ntstatus.h. Facility 0 has no name.
std::string_view NtStatusFacilityName(uint16_t facility);

// The generated name table, sorted by value with one row per value.
std::span<const NtStatusNameEntry> MingwNtStatusNames();

}  // namespace restack::dump
