// byte_reader.h - bounds-checked reads of layout structs from a file's bytes (internal)
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "restack/dump/warning.h"

namespace restack::dump {

// Builds restack's error message: "<file>: offset 0x<off>: <what>".
inline absl::Status DumpError(absl::StatusCode code, std::string_view file, uint64_t offset,
                              std::string_view what) {
  return absl::Status(code, absl::StrFormat("%s: offset 0x%x: %s", file, offset, what));
}

// Copies a T out of `bytes` at `offset` if it fits entirely; false otherwise.
template <typename T>
bool ReadStruct(std::span<const uint8_t> bytes, uint64_t offset, T* out) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
  std::memcpy(out, bytes.data() + offset, sizeof(T));
  return true;
}

// A file's bytes plus its name, so that every failed read yields a full message.
class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> bytes, std::string_view name)
      : bytes_(bytes), name_(name) {}

  std::span<const uint8_t> bytes() const { return bytes_; }
  uint64_t size() const { return bytes_.size(); }
  std::string_view name() const { return name_; }

  // Error at `offset` with restack's message format.
  template <typename... Args>
  absl::Status Error(absl::StatusCode code, uint64_t offset,
                     const absl::FormatSpec<Args...>& format, const Args&... args) const {
    return DumpError(code, name_, offset, absl::StrFormat(format, args...));
  }

  // Appends a warning at `offset` with restack's message format.
  void Warn(std::vector<Warning>& warnings, uint64_t offset, std::string_view what) const {
    warnings.push_back({offset, absl::StrFormat("%s: offset 0x%x: %s", name_, offset, what)});
  }

  // Reads a T at `offset`. kOutOfRange, naming `what` (default T::kName), if it does
  // not fit in the file.
  template <typename T>
  absl::StatusOr<T> Read(uint64_t offset, std::string_view what = T::kName) const {
    T value;
    if (!ReadStruct(bytes_, offset, &value)) {
      return Error(absl::StatusCode::kOutOfRange, offset,
                   "%s: runs past end of file (expected 0x%x bytes, got 0x%x)", what,
                   sizeof(T), Remaining(offset));
    }
    return value;
  }

  // The bytes [offset, offset + size). kOutOfRange, naming `what`, if not in the file.
  absl::StatusOr<std::span<const uint8_t>> Slice(uint64_t offset, uint64_t size,
                                                 std::string_view what) const {
    if (offset > bytes_.size() || bytes_.size() - offset < size) {
      return Error(absl::StatusCode::kOutOfRange, offset,
                   "%s: runs past end of file (expected 0x%x bytes, got 0x%x)", what, size,
                   Remaining(offset));
    }
    return bytes_.subspan(offset, size);
  }

  // Bytes left in the file from `offset` (0 past the end).
  uint64_t Remaining(uint64_t offset) const {
    return offset >= bytes_.size() ? 0 : bytes_.size() - offset;
  }

 private:
  std::span<const uint8_t> bytes_;
  std::string_view name_;
};

}  // namespace restack::dump
