// utf16.cc - UTF-16LE to UTF-8 conversion
#include "utf16.h"

namespace restack::dump {

namespace {

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::string Utf16LeToUtf8(std::span<const uint8_t> bytes) {
  constexpr uint32_t kReplacement = 0xFFFD;
  const size_t units = bytes.size() / 2;
  auto unit = [&](size_t i) -> uint32_t { return bytes[2 * i] | (bytes[2 * i + 1] << 8); };
  std::string out;
  out.reserve(units);
  for (size_t i = 0; i < units; ++i) {
    const uint32_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF) {  // high surrogate: needs a low one next
      if (i + 1 < units) {
        const uint32_t v = unit(i + 1);
        if (v >= 0xDC00 && v <= 0xDFFF) {
          AppendUtf8(0x10000 + ((u - 0xD800) << 10) + (v - 0xDC00), out);
          ++i;
          continue;
        }
      }
      AppendUtf8(kReplacement, out);
    } else if (u >= 0xDC00 && u <= 0xDFFF) {  // unpaired low surrogate
      AppendUtf8(kReplacement, out);
    } else {
      AppendUtf8(u, out);
    }
  }
  return out;
}

}  // namespace restack::dump
