// address_space.cc - AddressSpace's non-virtual helpers
#include "restack/dump/address_space.h"

#include <array>
#include <cstring>

namespace restack::dump {

absl::StatusOr<uint64_t> AddressSpace::ReadU64(uint64_t va) const {
  std::array<uint8_t, 8> buffer;
  absl::Status status = ReadVirtual(va, buffer);
  if (!status.ok()) return status;
  uint64_t value;
  std::memcpy(&value, buffer.data(), sizeof(value));  // x64 targets are little-endian
  return value;
}

}  // namespace restack::dump
