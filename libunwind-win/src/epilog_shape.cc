// epilog_shape.cc - version-1 epilog recognition by instruction decoding (Zydis)
//
// Windows matches epilog bytes by hand; restack decodes with Zydis and accepts
// the same instruction forms, so that equivalent encodings Windows' byte
// patterns miss (lea rsp with an r12/r13 base, which needs a SIB byte or a
// disp8, see docs/unwinding.md#deviations) are handled as the CPU would
// execute them.
#include "epilog_shape.h"

#include <Zydis/Zydis.h>

namespace restack::unwind::internal {
namespace {

// Windows register number (0 = rax ... 15 = r15) of a 64-bit GPR, or -1.
int GprNumber(ZydisRegister reg) {
  if (reg >= ZYDIS_REGISTER_RAX && reg <= ZYDIS_REGISTER_R15) {
    return static_cast<int>(reg - ZYDIS_REGISTER_RAX);
  }
  return -1;
}

struct Decoded {
  ZydisDecodedInstruction insn;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
};

bool Decode(const ZydisDecoder& decoder, std::span<const uint8_t> code, size_t at, Decoded& out) {
  if (at >= code.size()) return false;
  return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, code.data() + at, code.size() - at,
                                             &out.insn, out.ops));
}

}  // namespace

std::optional<EpilogShape> MatchEpilogShape(std::span<const uint8_t> code, uint64_t address,
                                            uint8_t frame_register) {
  ZydisDecoder decoder;
  if (!ZYAN_SUCCESS(
          ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64))) {
    return std::nullopt;
  }
  EpilogShape shape;
  size_t at = 0;
  Decoded d;
  if (!Decode(decoder, code, at, d)) return std::nullopt;

  // 1. Optional stack deallocation.
  const ZydisDecodedInstruction& i0 = d.insn;
  if (i0.mnemonic == ZYDIS_MNEMONIC_ADD && i0.operand_width == 64 &&
      (i0.opcode == 0x83 || i0.opcode == 0x81) && d.ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
      d.ops[0].reg.value == ZYDIS_REGISTER_RSP && d.ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
    shape.adjust = EpilogShape::Adjust::kAddRsp;
    shape.displacement = d.ops[1].imm.value.s;
    at += i0.length;
  } else if (i0.mnemonic == ZYDIS_MNEMONIC_LEA && i0.operand_width == 64 &&
             d.ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
             d.ops[0].reg.value == ZYDIS_REGISTER_RSP &&
             d.ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY &&
             d.ops[1].mem.index == ZYDIS_REGISTER_NONE && d.ops[1].mem.disp.has_displacement) {
    const int base = GprNumber(d.ops[1].mem.base);
    // Windows: only with the function's frame register, and never rax (0).
    if (base > 0 && base == frame_register) {
      shape.adjust = EpilogShape::Adjust::kLeaRsp;
      shape.lea_base = static_cast<uint8_t>(base);
      shape.displacement = d.ops[1].mem.disp.value;
      at += i0.length;
    }
  }

  // 2. Any number of 64-bit register pops; 3. the control transfer.
  for (;;) {
    if (!Decode(decoder, code, at, d)) return std::nullopt;
    const ZydisDecodedInstruction& insn = d.insn;
    if (insn.mnemonic == ZYDIS_MNEMONIC_POP && insn.operand_width == 64 &&
        d.ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && GprNumber(d.ops[0].reg.value) >= 0 &&
        insn.length <= 2) {
      shape.pops.push_back(static_cast<uint8_t>(GprNumber(d.ops[0].reg.value)));
      at += insn.length;
      continue;
    }
    // Prefixes other than REPNE/BND (and REP for `rep ret`) disqualify, as
    // Windows matches exact bytes: e.g. a 66h prefix is not an epilog.
    const bool has_osz = (insn.attributes & ZYDIS_ATTRIB_HAS_OPERANDSIZE) != 0;
    const bool has_segment = (insn.attributes & ZYDIS_ATTRIB_HAS_SEGMENT) != 0;
    if (has_osz || has_segment) return std::nullopt;
    // Near returns, whatever ignored prefixes (REP, REPNE/BND, REX) they
    // carry: ret, ret imm16, rep ret (deviation 1 in docs/unwinding.md).
    if (insn.mnemonic == ZYDIS_MNEMONIC_RET && (insn.opcode == 0xc3 || insn.opcode == 0xc2)) {
      shape.exit = EpilogShape::Exit::kRet;
      return shape;
    }
    if (insn.mnemonic != ZYDIS_MNEMONIC_JMP) return std::nullopt;
    if ((insn.opcode == 0xeb || insn.opcode == 0xe9) &&
        d.ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && d.ops[0].imm.is_relative) {
      if (insn.attributes & ZYDIS_ATTRIB_HAS_REX) return std::nullopt;  // Windows: EB/E9 only
      shape.exit = EpilogShape::Exit::kJmpRelative;
      shape.jmp_target = address + at + insn.length + static_cast<uint64_t>(d.ops[0].imm.value.s);
      return shape;
    }
    if (insn.opcode == 0xff && insn.raw.modrm.reg == 4) {
      if (insn.raw.rex.W) {
        // REX.W FF /4: the redundant REX.W marks a tail call (any operand).
        shape.exit = EpilogShape::Exit::kJmpRexW;
        return shape;
      }
      if (!(insn.attributes & ZYDIS_ATTRIB_HAS_REX) && d.ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY &&
          d.ops[0].mem.base == ZYDIS_REGISTER_RIP) {
        // FF 25 disp32: jmp [rip+disp32], a tail call through an import.
        shape.exit = EpilogShape::Exit::kJmpRipIndirect;
        return shape;
      }
    }
    return std::nullopt;
  }
}

}  // namespace restack::unwind::internal
