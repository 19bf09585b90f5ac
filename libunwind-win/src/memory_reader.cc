// memory_reader.cc - helpers shared by every MemoryReader
#include "restack/unwind/memory_reader.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace restack::unwind {

absl::StatusOr<uint64_t> MemoryReader::ReadU64(uint64_t va) const {
  uint8_t bytes[8];
  if (absl::Status status = Read(va, bytes); !status.ok()) return status;
  uint64_t value;
  std::memcpy(&value, bytes, sizeof(value));
  return value;
}

absl::Status EmptyMemory::Read(uint64_t va, std::span<uint8_t> out) const {
  return absl::NotFoundError(absl::StrFormat("0x%x: no memory", va));
}

}  // namespace restack::unwind
