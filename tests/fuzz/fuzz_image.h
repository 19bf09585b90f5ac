// fuzz_image.h - wraps fuzzer bytes in a minimal valid mapped PE32+ image
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace restack::fuzz {

// One section ".text" at RVA 0x1000 holding `data` (at most 64 KiB); the
// exception directory is the first `pdata_share`-th of it, so that the fuzzer
// spends its time in .pdata/.xdata rather than in PE headers.
inline std::vector<uint8_t> WrapInImage(const uint8_t* data, size_t size, uint32_t pdata_share) {
  const uint32_t body = static_cast<uint32_t>(size < 0x10000 ? size : 0x10000);
  std::vector<uint8_t> b(0x1000 + body, 0);
  b[0] = 'M';
  b[1] = 'Z';
  b[0x3c] = 0x40;
  std::memcpy(&b[0x40], "PE\0\0", 4);
  const uint16_t machine = 0x8664, sections = 1, opt_size = 0xf0, magic = 0x20b;
  std::memcpy(&b[0x44], &machine, 2);
  std::memcpy(&b[0x46], &sections, 2);
  std::memcpy(&b[0x54], &opt_size, 2);
  std::memcpy(&b[0x58], &magic, 2);
  const uint32_t size_of_image = 0x1000 + body, headers = 0x400, dirs = 16;
  std::memcpy(&b[0x58 + 56], &size_of_image, 4);
  std::memcpy(&b[0x58 + 60], &headers, 4);
  std::memcpy(&b[0x58 + 108], &dirs, 4);
  const uint32_t pdata_rva = 0x1000, pdata_size = (body / pdata_share) / 12 * 12;
  std::memcpy(&b[0x58 + 112 + 3 * 8], &pdata_rva, 4);
  std::memcpy(&b[0x58 + 112 + 3 * 8 + 4], &pdata_size, 4);
  uint8_t* s = &b[0x58 + 0xf0];
  std::memcpy(s, ".text", 5);
  const uint32_t va = 0x1000, ch = 0x60000020;
  std::memcpy(s + 8, &body, 4);
  std::memcpy(s + 12, &va, 4);
  std::memcpy(s + 16, &body, 4);
  std::memcpy(s + 20, &va, 4);
  std::memcpy(s + 36, &ch, 4);
  if (body > 0) std::memcpy(&b[0x1000], data, body);
  return b;
}

}  // namespace restack::fuzz
