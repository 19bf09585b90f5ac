// mapped_file.h - a read-only memory mapping of a whole file
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"

namespace restack::unwind {

// A file mapped read-only (PROT_READ, MAP_PRIVATE): inputs are never written.
// Shared so that parsed objects can keep the bytes alive.
class MappedFile {
 public:
  // Maps `path`. Errors name the path and the failing call.
  static absl::StatusOr<std::shared_ptr<const MappedFile>> Open(const std::string& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const uint8_t* data_;
  size_t size_;
};

}  // namespace restack::unwind
