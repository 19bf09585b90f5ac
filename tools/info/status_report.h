// status_report.h - restack-info --status: an NTSTATUS value decoded field by field
#pragma once

#include <cstdint>
#include <ostream>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace restack::tools {

// Reads a 32-bit value written as hex with 0x ("0xC0000005"), unsigned decimal
// ("3221225477") or negative decimal as an int32 ("-1073741819"). kInvalidArgument
// for anything else or a value outside 32 bits.
absl::StatusOr<uint32_t> ParseStatusValue(std::string_view text);

// Name, severity, customer and reserved bits, facility, code and the NT_SUCCESS /
// NT_INFORMATION / NT_WARNING / NT_ERROR macros of `status`; then, when the value is
// also a known bug check code, that bug check's name and parameter meanings.
void PrintStatusText(uint32_t status, std::ostream& out);
nlohmann::json StatusToJson(uint32_t status);

// Parses `value` and prints the report (JSON: one object). Returns an ExitCode
// (exit_code.h): kExitUsage with a message on `err` if `value` does not parse.
int RunStatusReport(std::string_view value, bool json, std::ostream& out, std::ostream& err);

}  // namespace restack::tools
