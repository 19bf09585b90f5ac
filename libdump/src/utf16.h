// utf16.h - UTF-16LE to UTF-8 conversion (internal)
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace restack::dump {

// Converts little-endian UTF-16 code units to UTF-8. Unpaired surrogates become
// U+FFFD; an odd trailing byte is ignored.
std::string Utf16LeToUtf8(std::span<const uint8_t> bytes);

}  // namespace restack::dump
