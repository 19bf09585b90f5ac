// input_file.h - a named input's bytes: a file mapped read-only, or stdin for "-"
#pragma once

#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"

namespace restack::tools {

// Bytes of one input, kept alive by `owner`.
struct InputFile {
  std::string name;  // the path, or "<stdin>"
  std::span<const uint8_t> bytes;
  std::shared_ptr<const void> owner;
};

// Maps `path`, or reads all of standard input when `path` is "-".
absl::StatusOr<InputFile> OpenInput(const std::string& path);

}  // namespace restack::tools
