// warning.h - a non-fatal finding while reading a dump, kept beside the partial result
#pragma once

#include <cstdint>
#include <string>

namespace restack::dump {

// Something in the dump that was dropped or read only in part. `offset` is the file
// offset of the structure concerned; `what` is a full message that names the file and
// the exact offset, in restack's error format.
struct Warning {
  uint64_t offset = 0;
  std::string what;
};

}  // namespace restack::dump
