// fake_memory.h - sparse byte-addressed target memory for unwinder tests
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <span>

#include "absl/strings/str_format.h"
#include "restack/unwind/memory_reader.h"

namespace restack::unwind::testing {

// Byte-granular sparse memory: only written bytes exist; reading any other
// byte is NotFound, as a dump without that page would be.
class FakeMemory final : public MemoryReader {
 public:
  void Write(uint64_t va, std::span<const uint8_t> bytes) {
    for (size_t i = 0; i < bytes.size(); ++i) bytes_[va + i] = bytes[i];
  }
  void WriteU64(uint64_t va, uint64_t value) {
    uint8_t b[8];
    std::memcpy(b, &value, 8);
    Write(va, b);
  }
  absl::Status Read(uint64_t va, std::span<uint8_t> out) const override {
    for (size_t i = 0; i < out.size(); ++i) {
      auto it = bytes_.find(va + i);
      if (it == bytes_.end()) {
        return absl::NotFoundError(absl::StrFormat("0x%x not in memory", va + i));
      }
      out[i] = it->second;
    }
    return absl::OkStatus();
  }
  void Clear() { bytes_.clear(); }

 private:
  std::map<uint64_t, uint8_t> bytes_;
};

}  // namespace restack::unwind::testing
