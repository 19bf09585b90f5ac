// call_check.cc - CALL-ending check with Zydis (see call_check.h)
#include "tests/support/call_check.h"

#include <Zydis/Zydis.h>

#include <algorithm>

namespace restack::test {

bool CallEndsAt(std::span<const uint8_t> before) {
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  const size_t longest = std::min<size_t>(before.size(), ZYDIS_MAX_INSTRUCTION_LENGTH);
  for (size_t n = 2; n <= longest; ++n) {
    const uint8_t* start = before.data() + before.size() - n;
    ZydisDecodedInstruction insn;
    if (ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, nullptr, start, n, &insn)) &&
        insn.mnemonic == ZYDIS_MNEMONIC_CALL && insn.length == n) {
      return true;
    }
  }
  return false;
}

}  // namespace restack::test
