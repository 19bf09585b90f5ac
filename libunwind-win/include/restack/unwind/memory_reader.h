// memory_reader.h - the one seam through which the unwinder reads target memory
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace restack::unwind {

// Target (dump or process) virtual memory, as the unwinder sees it.
// Implementations: a dump's address space (adapted in tools/), test fakes.
class MemoryReader {
 public:
  virtual ~MemoryReader() = default;

  // Fills `out` with the bytes at `va`. A range that is not (fully) available
  // is absl::NotFoundError naming the address; never zero-filled.
  virtual absl::Status Read(uint64_t va, std::span<uint8_t> out) const = 0;

  // Reads one little-endian 64-bit value.
  absl::StatusOr<uint64_t> ReadU64(uint64_t va) const;
};

// A MemoryReader with nothing in it (every read is NotFound).
class EmptyMemory final : public MemoryReader {
 public:
  absl::Status Read(uint64_t va, std::span<uint8_t> out) const override;
};

}  // namespace restack::unwind
