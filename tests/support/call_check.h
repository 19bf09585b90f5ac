// call_check.h - whether a CALL instruction ends exactly at an address
//
// The test of a return address that needs no unwind data: the bytes right before it
// must decode (Zydis, 64-bit mode) to a CALL of exactly that many bytes. Used by the
// scenario runner (to tell decoys a stack scan would see) and by the truth checks.
#pragma once

#include <cstdint>
#include <span>

namespace restack::test {

// `before` holds the bytes that precede the address, the last one right before it (up
// to 15; fewer near the start of the code). True when, for some n, the last n bytes
// decode to a CALL whose length is n.
bool CallEndsAt(std::span<const uint8_t> before);

}  // namespace restack::test
