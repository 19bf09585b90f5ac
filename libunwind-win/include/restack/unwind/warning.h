// warning.h - a non-fatal finding about an input, kept beside partial results
#pragma once

#include <cstdint>
#include <string>

namespace restack::unwind {

// Something wrong or unusual that did not stop the work: where (a file offset,
// RVA or address, as `what` says) and what.
struct Warning {
  uint64_t offset = 0;
  std::string what;
};

}  // namespace restack::unwind
