// call_site.cc - decoding the CALL before a candidate return address (Zydis)
#include "restack/unwind/call_site.h"

#include <Zydis/Zydis.h>

#include <array>
#include <cstring>

namespace restack::unwind {
namespace {

// The longest CALL encoding: REX + FF /2 + ModRM + SIB + disp32 = 8 bytes
// (a segment or operand-size prefix would make it longer; compilers for
// Windows x64 do not emit those before calls).
constexpr size_t kMaxCallLength = 8;
// The shortest: FF D0 (call rax).
constexpr size_t kMinCallLength = 2;

// The `kMaxCallLength` bytes before `va` into `out` (memory first, then the
// image). False when neither has them all.
bool CodeBefore(uint64_t va, const Module& module, const MemoryReader& memory,
                std::array<uint8_t, kMaxCallLength>& out, bool& from_memory) {
  from_memory = false;
  if (va < module.base + kMaxCallLength) return false;
  if (memory.Read(va - kMaxCallLength, out).ok()) {
    from_memory = true;
    return true;
  }
  const std::span<const uint8_t> bytes =
      module.image->BytesAt(static_cast<uint32_t>(va - kMaxCallLength - module.base),
                            kMaxCallLength);
  if (bytes.size() != kMaxCallLength) return false;
  std::memcpy(out.data(), bytes.data(), kMaxCallLength);
  return true;
}

}  // namespace

std::optional<CallSite> CallBefore(uint64_t return_address, const MemoryReader& memory,
                                   const ModuleMap& modules) {
  const Module* module = modules.Find(return_address - 1);
  if (module == nullptr || module->image == nullptr) return std::nullopt;
  const uint64_t rva = return_address - 1 - module->base;
  if (rva > UINT32_MAX || !module->image->IsExecutableRva(static_cast<uint32_t>(rva))) {
    return std::nullopt;
  }
  std::array<uint8_t, kMaxCallLength> code;
  bool from_memory = false;
  if (!CodeBefore(return_address, *module, memory, code, from_memory)) return std::nullopt;

  ZydisDecoder decoder;
  if (!ZYAN_SUCCESS(
          ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64))) {
    return std::nullopt;
  }
  // Every length that decodes to a CALL ending at the return address: the
  // bytes of a direct call (E8 rel32) or an import call (FF 15 disp32) can
  // end in bytes that read as a shorter register call too. A reading with a
  // known target wins (the common encodings), else the shortest.
  std::optional<CallSite> best;
  for (size_t length = kMinCallLength; length <= kMaxCallLength; ++length) {
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    const uint8_t* at = code.data() + kMaxCallLength - length;
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, at, length, &insn, ops))) continue;
    if (insn.length != length || insn.mnemonic != ZYDIS_MNEMONIC_CALL) continue;
    CallSite site;
    site.address = return_address - length;
    site.length = static_cast<uint8_t>(length);
    const ZydisDecodedOperand& op = ops[0];
    if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE && op.imm.is_relative) {
      site.target = return_address + static_cast<uint64_t>(op.imm.value.s);
    } else if (op.type == ZYDIS_OPERAND_TYPE_MEMORY && op.mem.base == ZYDIS_REGISTER_RIP &&
               op.mem.index == ZYDIS_REGISTER_NONE) {
      absl::StatusOr<uint64_t> slot =
          memory.ReadU64(return_address + static_cast<uint64_t>(op.mem.disp.value));
      if (slot.ok()) site.target = *slot;
    }
    if (site.target) return site;
    if (!best) best = site;
  }
  if (best || from_memory) return best;
  // Windows 10 rewrites a driver's import calls when it loads it: the 6-byte
  // `call [rip+__imp_X]` of the file becomes a 5-byte direct call and a
  // filler byte, so the return address lies one byte before the end of the
  // call as the file has it (docs/kernel-dumps.md). Without the code pages in
  // memory, the file's FF 15 starting 5 bytes back stands for that call.
  const std::span<const uint8_t> file = module->image->BytesAt(
      static_cast<uint32_t>(return_address - 5 - module->base), 6);
  if (file.size() == 6 && file[0] == 0xff && file[1] == 0x15) {
    int32_t disp;
    std::memcpy(&disp, file.data() + 2, 4);
    CallSite site;
    site.address = return_address - 5;
    site.length = 5;
    absl::StatusOr<uint64_t> slot =
        memory.ReadU64(return_address + 1 + static_cast<uint64_t>(static_cast<int64_t>(disp)));
    if (slot.ok()) site.target = *slot;
    return site;
  }
  return std::nullopt;
}

}  // namespace restack::unwind
