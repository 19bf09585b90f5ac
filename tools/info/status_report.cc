// status_report.cc - `restack-info --status VALUE`: an NTSTATUS decoded by hand, printed
#include "status_report.h"

#include <charconv>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "common/exit_code.h"
#include "common/stack_output.h"
#include "restack/dump/bugcheck_names.h"
#include "restack/dump/ntstatus.h"

namespace restack::tools {
namespace {

// HRESULT_FROM_NT(status) sets bit 28, which an NTSTATUS keeps reserved.
constexpr uint32_t kFacilityNtBit = 0x10000000;

std::string StatusHex(uint32_t value) { return absl::StrFormat("0x%08X", value); }

// Remarks an analyst would add: bit 28 set (not an NTSTATUS Windows defines, perhaps an
// HRESULT_FROM_NT value).
std::vector<std::string> Notes(const dump::NtStatusFields& f) {
  std::vector<std::string> notes;
  if (!f.reserved) return notes;
  notes.push_back("bit 28 (N) is reserved in an NTSTATUS: ntstatus.h defines no status with it set");
  const uint32_t base = f.status & ~kFacilityNtBit;
  if (std::string_view name = dump::NtStatusName(base); !name.empty()) {
    notes.push_back(absl::StrFormat("as an HRESULT: HRESULT_FROM_NT(%s), %s", StatusHex(base), name));
  }
  return notes;
}

std::string_view NameOrUnknown(uint32_t status) {
  std::string_view name = dump::NtStatusName(status);
  return name.empty() ? std::string_view("unknown") : name;
}

}  // namespace

absl::StatusOr<uint32_t> ParseStatusValue(std::string_view text) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--status: '%s' is not a 32-bit value (give 0xC0000005, 3221225477 or -1073741819)",
        std::string(text)));
  };
  if (text.empty()) return bad();
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(first + 2, last, v, 16);
    if (ec != std::errc() || p != last || v > 0xFFFFFFFFull) return bad();
    return static_cast<uint32_t>(v);
  }
  int64_t v = 0;
  auto [p, ec] = std::from_chars(first, last, v, 10);
  if (ec != std::errc() || p != last || v < INT32_MIN || v > 0xFFFFFFFFll) return bad();
  return static_cast<uint32_t>(v);  // a negative int32 wraps to its two's-complement bits
}

void PrintStatusText(uint32_t status, std::ostream& out) {
  const dump::NtStatusFields f = dump::DecodeNtStatus(status);
  const auto yes_no = [](bool b) { return b ? "yes" : "no"; };
  const std::string_view facility_name = dump::NtStatusFacilityName(f.facility);
  out << absl::StrFormat("%s  %s\n", StatusHex(status), NameOrUnknown(status));
  out << absl::StrFormat("  decimal:         %u (as int32: %d)\n", status,
                         static_cast<int32_t>(status));
  out << absl::StrFormat("  severity:        %-15s bits 31-30\n",
                         absl::StrFormat("%u %s", static_cast<unsigned>(f.severity),
                                         dump::NtStatusSeverityName(f.severity)));
  out << absl::StrFormat("  customer (C):    %-15u bit 29\n", f.customer ? 1u : 0u);
  out << absl::StrFormat("  reserved (N):    %-15u bit 28\n", f.reserved ? 1u : 0u);
  out << absl::StrFormat("  facility:        %-15s bits 27-16%s\n",
                         absl::StrFormat("0x%03X", f.facility),
                         facility_name.empty() ? "" : absl::StrFormat("  %s", facility_name));
  out << absl::StrFormat("  code:            %-15s bits 15-0\n",
                         absl::StrFormat("0x%04X (%u)", f.code, f.code));
  out << absl::StrFormat("  NT_SUCCESS:      %s\n", yes_no(f.nt_success));
  out << absl::StrFormat("  NT_INFORMATION:  %s\n", yes_no(f.nt_information));
  out << absl::StrFormat("  NT_WARNING:      %s\n", yes_no(f.nt_warning));
  out << absl::StrFormat("  NT_ERROR:        %s\n", yes_no(f.nt_error));
  for (const std::string& note : Notes(f)) out << "note: " << note << "\n";
  if (std::string bugcheck = dump::BugCheckName(status); !bugcheck.empty()) {
    out << absl::StrFormat("as a bug check code: %s  %s\n", StatusHex(status), bugcheck);
    const std::array<std::string_view, 4> meanings = dump::BugCheckParameterMeanings(status);
    for (size_t i = 0; i < meanings.size(); ++i) {
      if (!meanings[i].empty()) out << absl::StrFormat("  parameter %u:     %s\n", i + 1, meanings[i]);
    }
  }
}

nlohmann::json StatusToJson(uint32_t status) {
  const dump::NtStatusFields f = dump::DecodeNtStatus(status);
  const std::string_view name = dump::NtStatusName(status);
  const std::string_view facility_name = dump::NtStatusFacilityName(f.facility);
  nlohmann::json bugcheck;  // null unless the value is a known bug check code
  if (std::string bugcheck_name = dump::BugCheckName(status); !bugcheck_name.empty()) {
    nlohmann::json parameters = nlohmann::json::array();
    for (std::string_view m : dump::BugCheckParameterMeanings(status)) parameters.push_back(m);
    bugcheck = {{"code", StatusHex(status)}, {"name", bugcheck_name}, {"parameters", parameters}};
  }
  return {{"status", StatusHex(status)},
          {"value", status},
          {"int32", static_cast<int32_t>(status)},
          {"name", NameOrUnknown(status)},
          {"known", !name.empty()},
          {"severity", static_cast<unsigned>(f.severity)},
          {"severity_name", dump::NtStatusSeverityName(f.severity)},
          {"customer", f.customer},
          {"reserved", f.reserved},
          {"facility", f.facility},
          {"facility_name", facility_name.empty() ? nlohmann::json() : nlohmann::json(facility_name)},
          {"code", f.code},
          {"nt_success", f.nt_success},
          {"nt_information", f.nt_information},
          {"nt_warning", f.nt_warning},
          {"nt_error", f.nt_error},
          {"notes", Notes(f)},
          {"bugcheck", bugcheck}};
}

int RunStatusReport(std::string_view value, bool json, std::ostream& out, std::ostream& err) {
  absl::StatusOr<uint32_t> status = ParseStatusValue(value);
  if (!status.ok()) {
    err << "restack-info: " << status.status().message() << "\n";
    return kExitUsage;
  }
  if (json) {
    out << JsonLine(StatusToJson(*status)) << "\n";
  } else {
    PrintStatusText(*status, out);
  }
  return kExitOk;
}

}  // namespace restack::tools
