// file_read.h - whole files for the test suites and the scenario support code
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace restack::test {

// The file's bytes; NotFound naming `path` when it cannot be opened.
absl::StatusOr<std::vector<uint8_t>> ReadFileBytes(const std::string& path);
absl::StatusOr<std::string> ReadFileText(const std::string& path);

// `status` (not OK) with "path: " before its message.
absl::Status WithPath(const absl::Status& status, const std::string& path);

// Reads `path` and parses its text with `parse`; a parse error names the path.
template <typename T>
absl::StatusOr<T> ParseTextFile(const std::string& path,
                                absl::StatusOr<T> (*parse)(std::string_view)) {
  absl::StatusOr<std::string> text = ReadFileText(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<T> parsed = parse(*text);
  if (!parsed.ok()) return WithPath(parsed.status(), path);
  return parsed;
}

}  // namespace restack::test
