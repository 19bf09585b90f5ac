// unwind_info.cc - UNWIND_INFO decoding with Windows' slot accounting
#include "restack/unwind/unwind_info.h"

#include "absl/strings/str_format.h"
#include "byte_reader.h"
#include "errors.h"

namespace restack::unwind {
namespace {

using internal::InputError;
using internal::ReadStruct;

constexpr uint32_t kHeaderSize = 4;

// Slots per operation, after UnwindOpExtraSlotTable + 1 of Windows' unwinder.
uint8_t SlotsFor(UnwindOp op, uint8_t op_info) {
  switch (op) {
    case UnwindOp::kPushNonvol:
    case UnwindOp::kAllocSmall:
    case UnwindOp::kSetFpreg:
    case UnwindOp::kPushMachFrame:
      return 1;
    case UnwindOp::kAllocLarge:
      return op_info != 0 ? 3 : 2;
    case UnwindOp::kSaveNonvol:
    case UnwindOp::kSaveXmm128:
    case UnwindOp::kEpilog:
      return 2;
    case UnwindOp::kSaveNonvolFar:
    case UnwindOp::kSaveXmm128Far:
    case UnwindOp::kSpareCode:
      return 3;
  }
  return 1;
}

uint32_t Where(const PeImage& image, uint32_t rva) {
  return static_cast<uint32_t>(image.OffsetOfRva(rva).value_or(rva));
}

// The chained parent RUNTIME_FUNCTION stored at `trailer` of the UNWIND_INFO at `rva`.
absl::StatusOr<RuntimeFunction> ReadParentEntry(const PeImage& image, uint32_t rva,
                                                uint32_t trailer) {
  absl::StatusOr<std::span<const uint8_t>> parent =
      image.ReadRva(trailer, sizeof(ImageRuntimeFunctionEntry));
  if (!parent.ok()) {
    return InputError(absl::StatusCode::kOutOfRange, image.name(), Where(image, trailer),
                      absl::StrFormat("UNWIND_INFO at rva 0x%x: chained RUNTIME_FUNCTION past "
                                      "the image data",
                                      rva));
  }
  const auto e = *ReadStruct<ImageRuntimeFunctionEntry>(*parent, 0);
  return RuntimeFunction{e.BeginAddress, e.EndAddress, e.UnwindData};
}

}  // namespace

std::string_view UnwindOpName(UnwindOp op) {
  switch (op) {
    case UnwindOp::kPushNonvol: return "UWOP_PUSH_NONVOL";
    case UnwindOp::kAllocLarge: return "UWOP_ALLOC_LARGE";
    case UnwindOp::kAllocSmall: return "UWOP_ALLOC_SMALL";
    case UnwindOp::kSetFpreg: return "UWOP_SET_FPREG";
    case UnwindOp::kSaveNonvol: return "UWOP_SAVE_NONVOL";
    case UnwindOp::kSaveNonvolFar: return "UWOP_SAVE_NONVOL_FAR";
    case UnwindOp::kEpilog: return "UWOP_EPILOG";
    case UnwindOp::kSpareCode: return "UWOP_SPARE_CODE";
    case UnwindOp::kSaveXmm128: return "UWOP_SAVE_XMM128";
    case UnwindOp::kSaveXmm128Far: return "UWOP_SAVE_XMM128_FAR";
    case UnwindOp::kPushMachFrame: return "UWOP_PUSH_MACHFRAME";
  }
  return "UWOP_?";
}

absl::StatusOr<UnwindInfo> DecodeUnwindInfo(const PeImage& image, uint32_t rva) {
  absl::StatusOr<std::span<const uint8_t>> header = image.ReadRva(rva, kHeaderSize);
  if (!header.ok()) {
    return InputError(absl::StatusCode::kOutOfRange, image.name(), Where(image, rva),
                      absl::StrFormat("UNWIND_INFO at rva 0x%x: header not in the image (%s)",
                                      rva, header.status().message()));
  }
  UnwindInfo info;
  info.rva = rva;
  info.version = (*header)[0] & 0x7;
  info.flags = (*header)[0] >> 3;
  info.size_of_prolog = (*header)[1];
  info.count_of_codes = (*header)[2];
  info.frame_register = (*header)[3] & 0xf;
  info.frame_offset = (*header)[3] >> 4;
  if (info.version != 1 && info.version != 2) {
    return InputError(absl::StatusCode::kUnimplemented, image.name(), Where(image, rva),
                      absl::StrFormat("UNWIND_INFO.Version: unsupported version %u at rva 0x%x "
                                      "(expected 1 or 2)",
                                      info.version, rva));
  }
  const uint32_t code_bytes = uint32_t{info.count_of_codes} * 2;
  const uint32_t aligned_codes = (info.count_of_codes + 1u) & ~1u;
  absl::StatusOr<std::span<const uint8_t>> slots = image.ReadRva(rva + kHeaderSize, code_bytes);
  if (!slots.ok()) {
    return InputError(absl::StatusCode::kOutOfRange, image.name(), Where(image, rva) + 2,
                      absl::StrFormat("UNWIND_INFO.CountOfCodes: %u codes at rva 0x%x run past "
                                      "the image data",
                                      info.count_of_codes, rva));
  }
  auto slot_u16 = [&](unsigned i) { return *ReadStruct<uint16_t>(*slots, i * 2); };
  auto code_where = [&](unsigned i) { return Where(image, rva) + kHeaderSize + i * 2; };

  // Version 2: leading UWOP_EPILOG codes, one slot each (as VirtualUnwind reads
  // them); the prolog scan below skips them in pairs, as UnwindPrologue does.
  if (info.version == 2 && info.count_of_codes > 0 &&
      static_cast<UnwindOp>((*slots)[1] & 0xf) == UnwindOp::kEpilog) {
    info.epilog_size = (*slots)[0];
    info.epilog_at_end = ((*slots)[1] >> 4) & 1;
    unsigned i = 1;
    for (; i < info.count_of_codes; ++i) {
      const uint8_t lo = (*slots)[i * 2];
      const uint8_t hi = (*slots)[i * 2 + 1];
      if (static_cast<UnwindOp>(hi & 0xf) != UnwindOp::kEpilog) break;
      const uint32_t offset = lo | (static_cast<uint32_t>(hi >> 4) << 8);
      if (offset == 0) {  // padding entry: no further epilogs
        ++i;
        break;
      }
      info.epilogs.push_back({offset});
    }
    if (i % 2 != 0) {
      info.notes.push_back(absl::StrFormat(
          "odd number (%u) of leading UWOP_EPILOG codes: Windows' prolog scan pairs the last "
          "one with the next code",
          i));
    }
    if (info.epilog_size == 0) {
      info.notes.push_back("first UWOP_EPILOG gives an epilog size of 0");
    }
  }

  for (unsigned i = 0; i < info.count_of_codes;) {
    const uint8_t offset = (*slots)[i * 2];
    const uint8_t byte1 = (*slots)[i * 2 + 1];
    const uint8_t op_raw = byte1 & 0xf;
    const uint8_t op_info = byte1 >> 4;
    if (op_raw > static_cast<uint8_t>(UnwindOp::kPushMachFrame)) {
      return InputError(absl::StatusCode::kDataLoss, image.name(), code_where(i) + 1,
                        absl::StrFormat("UNWIND_CODE[%u].UnwindOp: unknown operation %u in "
                                        "UNWIND_INFO at rva 0x%x",
                                        i, op_raw, rva));
    }
    UnwindCode code;
    code.code_offset = offset;
    code.op = static_cast<UnwindOp>(op_raw);
    code.op_info = op_info;
    code.slot = static_cast<uint8_t>(i);
    code.slots = SlotsFor(code.op, op_info);
    if (i + code.slots > info.count_of_codes) {
      return InputError(absl::StatusCode::kDataLoss, image.name(), code_where(i),
                        absl::StrFormat("UNWIND_CODE[%u]: %s needs %u slots but only %u remain "
                                        "of CountOfCodes %u (UNWIND_INFO at rva 0x%x)",
                                        i, UnwindOpName(code.op), code.slots,
                                        info.count_of_codes - i, info.count_of_codes, rva));
    }
    switch (code.op) {
      case UnwindOp::kPushNonvol:
      case UnwindOp::kPushMachFrame:
        code.operand = op_info;
        break;
      case UnwindOp::kAllocLarge:
        // OpInfo 0: 16-bit count of qwords; otherwise an unscaled 32-bit size.
        code.operand = op_info == 0
                           ? uint32_t{slot_u16(i + 1)} * 8
                           : uint32_t{slot_u16(i + 1)} | (uint32_t{slot_u16(i + 2)} << 16);
        if (op_info > 1) {
          info.notes.push_back(absl::StrFormat(
              "UNWIND_CODE[%u]: UWOP_ALLOC_LARGE with OpInfo %u (treated as 1, as Windows does)",
              i, op_info));
        }
        break;
      case UnwindOp::kAllocSmall:
        code.operand = uint32_t{op_info} * 8 + 8;
        break;
      case UnwindOp::kSetFpreg:
        code.operand = uint32_t{info.frame_offset} * 16;
        break;
      case UnwindOp::kSaveNonvol:
        code.operand = uint32_t{slot_u16(i + 1)} * 8;
        break;
      case UnwindOp::kSaveXmm128:
        code.operand = uint32_t{slot_u16(i + 1)} * 16;
        break;
      case UnwindOp::kSaveNonvolFar:
      case UnwindOp::kSaveXmm128Far:
        // The _FAR forms are unscaled 32-bit offsets.
        code.operand = uint32_t{slot_u16(i + 1)} | (uint32_t{slot_u16(i + 2)} << 16);
        break;
      case UnwindOp::kEpilog:
        code.operand = offset | (uint32_t{op_info} << 8);
        break;
      case UnwindOp::kSpareCode:
        info.notes.push_back(absl::StrFormat(
            "UNWIND_CODE[%u]: reserved UWOP_SPARE_CODE (skipped, 3 slots)", i));
        break;
    }
    info.codes.push_back(code);
    i += code.slots;
  }

  // The trailer after the (even-aligned) codes: a chained RUNTIME_FUNCTION or
  // a language handler RVA followed by its data.
  const uint32_t trailer = rva + kHeaderSize + aligned_codes * 2;
  info.size_in_bytes = kHeaderSize + aligned_codes * 2;
  if (info.HasChainInfo()) {
    if (info.flags & (kUnwFlagEHandler | kUnwFlagUHandler)) {
      info.notes.push_back("UNW_FLAG_CHAININFO together with a handler flag: chain info wins");
    }
    absl::StatusOr<RuntimeFunction> parent = ReadParentEntry(image, rva, trailer);
    if (!parent.ok()) return parent.status();
    info.chained_parent = *parent;
    info.size_in_bytes += sizeof(ImageRuntimeFunctionEntry);
  } else if (info.flags & (kUnwFlagEHandler | kUnwFlagUHandler)) {
    absl::StatusOr<std::span<const uint8_t>> handler = image.ReadRva(trailer, 4);
    if (!handler.ok()) {
      return InputError(absl::StatusCode::kOutOfRange, image.name(), Where(image, trailer),
                        absl::StrFormat("UNWIND_INFO at rva 0x%x: handler RVA past the image "
                                        "data",
                                        rva));
    }
    info.handler_rva = *ReadStruct<uint32_t>(*handler, 0);
    info.handler_data_rva = trailer + 4;
    info.size_in_bytes += 4;
  }
  return info;
}

absl::StatusOr<std::optional<RuntimeFunction>> ReadChainedParent(const PeImage& image,
                                                                 uint32_t rva) {
  absl::StatusOr<std::span<const uint8_t>> header = image.ReadRva(rva, kHeaderSize);
  if (!header.ok()) {
    return InputError(absl::StatusCode::kOutOfRange, image.name(), Where(image, rva),
                      absl::StrFormat("UNWIND_INFO at rva 0x%x: header not in the image", rva));
  }
  if ((((*header)[0] >> 3) & kUnwFlagChainInfo) == 0) return std::nullopt;
  const uint32_t aligned_codes = ((*header)[2] + 1u) & ~1u;
  absl::StatusOr<RuntimeFunction> parent =
      ReadParentEntry(image, rva, rva + kHeaderSize + aligned_codes * 2);
  if (!parent.ok()) return parent.status();
  return std::optional<RuntimeFunction>(*parent);
}

}  // namespace restack::unwind
