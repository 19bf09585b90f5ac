// errors.h - the one message format for bad input (internal)
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace restack::unwind::internal {

// "<file>: offset 0x<off>: <what>" with the given code. `what` names the
// structure and field and says what was wrong, e.g.
// "IMAGE_NT_HEADERS64.Signature: bad signature (expected 0x4550, got 0x0)".
inline absl::Status InputError(absl::StatusCode code, std::string_view file, uint64_t offset,
                               std::string_view what) {
  return absl::Status(code, absl::StrFormat("%s: offset 0x%x: %s", file, offset, what));
}

}  // namespace restack::unwind::internal
