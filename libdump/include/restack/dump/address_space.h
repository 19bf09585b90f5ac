// address_space.h - the target-memory reader interface that libdump offers
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace restack::dump {

// Reads the target's virtual memory as a dump recorded it. Memory that the dump does
// not hold is an error, never zeros.
class AddressSpace {
 public:
  virtual ~AddressSpace() = default;

  // Copies out.size() bytes starting at virtual address `va` into `out`. If any byte of
  // [va, va + out.size()) is not in the dump, returns absl::NotFoundError whose message
  // names the first missing address ("0x… not in dump"); `out` is then unspecified.
  virtual absl::Status ReadVirtual(uint64_t va, std::span<uint8_t> out) const = 0;

  // Reads the little-endian uint64 at `va`; errors as ReadVirtual.
  absl::StatusOr<uint64_t> ReadU64(uint64_t va) const;

 protected:
  AddressSpace() = default;
  AddressSpace(const AddressSpace&) = default;
  AddressSpace& operator=(const AddressSpace&) = default;
  AddressSpace(AddressSpace&&) = default;
  AddressSpace& operator=(AddressSpace&&) = default;
};

}  // namespace restack::dump
