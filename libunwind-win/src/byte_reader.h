// byte_reader.h - bounds-checked little-endian reads from byte spans (internal)
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>

namespace restack::unwind::internal {

static_assert(std::endian::native == std::endian::little,
              "restack reads little-endian layouts by memcpy");

// Copies a T out of `bytes` at `offset`, or nullopt when it does not fit.
template <typename T>
std::optional<T> ReadStruct(std::span<const uint8_t> bytes, uint64_t offset) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return std::nullopt;
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// The sub-span [offset, offset + size), or nullopt when it does not fit.
inline std::optional<std::span<const uint8_t>> SubSpan(std::span<const uint8_t> bytes,
                                                       uint64_t offset, uint64_t size) {
  if (offset > bytes.size() || bytes.size() - offset < size) return std::nullopt;
  return bytes.subspan(offset, size);
}

}  // namespace restack::unwind::internal
