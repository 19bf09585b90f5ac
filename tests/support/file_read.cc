// file_read.cc - whole files (see file_read.h)
#include "tests/support/file_read.h"

#include <fstream>
#include <iterator>

namespace restack::test {

absl::StatusOr<std::vector<uint8_t>> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

absl::StatusOr<std::string> ReadFileText(const std::string& path) {
  absl::StatusOr<std::vector<uint8_t>> bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  return std::string(bytes->begin(), bytes->end());
}

absl::Status WithPath(const absl::Status& status, const std::string& path) {
  return absl::Status(status.code(), path + ": " + std::string(status.message()));
}

}  // namespace restack::test
