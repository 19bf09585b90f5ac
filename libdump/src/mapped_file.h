// mapped_file.h - a file mapped read-only into memory (internal)
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"

namespace restack::dump {

// A read-only private mapping of a whole file. `owner` keeps it mapped; `bytes` is
// empty for an empty file.
struct MappedFile {
  std::shared_ptr<const void> owner;
  std::span<const uint8_t> bytes;
};

// Maps `path` with PROT_READ. Errors: the OS error (kNotFound for a missing file),
// kInvalidArgument for a directory or other non-regular file.
absl::StatusOr<MappedFile> MapFileReadOnly(const std::string& path);

}  // namespace restack::dump
