// unwind_info.h - UNWIND_INFO and UNWIND_CODE decoding (versions 1 and 2)
//
// Layout and semantics as in Microsoft's "x64 exception handling" documentation
// and the system unwinder (dotnet/runtime src/coreclr/unwinder/amd64/unwinder.cpp,
// a copy of minkernel\ntos\rtl\amd64\exdsptch.c). Facts only; see
// docs/unwinding.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "restack/unwind/pe_image.h"
#include "restack/unwind/runtime_function_table.h"

namespace restack::unwind {

// UNWIND_CODE.UnwindOp values.
enum class UnwindOp : uint8_t {
  kPushNonvol = 0,      // UWOP_PUSH_NONVOL: push of register OpInfo
  kAllocLarge = 1,      // UWOP_ALLOC_LARGE: OpInfo 0: next slot x 8; else next two slots, unscaled
  kAllocSmall = 2,      // UWOP_ALLOC_SMALL: OpInfo x 8 + 8 bytes
  kSetFpreg = 3,        // UWOP_SET_FPREG: FrameRegister = RSP + FrameOffset x 16
  kSaveNonvol = 4,      // UWOP_SAVE_NONVOL: register OpInfo at frame + next slot x 8
  kSaveNonvolFar = 5,   // UWOP_SAVE_NONVOL_FAR: at frame + next two slots, unscaled
  kEpilog = 6,          // UWOP_EPILOG: version 2 epilog descriptor (2 slots in prolog scans)
  kSpareCode = 7,       // UWOP_SPARE_CODE: reserved, 3 slots (very old images)
  kSaveXmm128 = 8,      // UWOP_SAVE_XMM128: XMM OpInfo at frame + next slot x 16
  kSaveXmm128Far = 9,   // UWOP_SAVE_XMM128_FAR: at frame + next two slots, unscaled
  kPushMachFrame = 10,  // UWOP_PUSH_MACHFRAME: OpInfo 1 = with error code
};

// "UWOP_PUSH_NONVOL", ... as Windows names them.
std::string_view UnwindOpName(UnwindOp op);

// UNWIND_INFO.Flags bits.
inline constexpr uint8_t kUnwFlagEHandler = 0x1;   // UNW_FLAG_EHANDLER
inline constexpr uint8_t kUnwFlagUHandler = 0x2;   // UNW_FLAG_UHANDLER
inline constexpr uint8_t kUnwFlagChainInfo = 0x4;  // UNW_FLAG_CHAININFO

// One decoded unwind operation (one to three UNWIND_CODE slots).
struct UnwindCode {
  uint8_t code_offset = 0;  // prolog offset just past the instruction
  UnwindOp op = UnwindOp::kPushNonvol;
  uint8_t op_info = 0;
  uint8_t slot = 0;   // index of its first slot
  uint8_t slots = 1;  // slots it occupies (as Windows' UnwindOpSlots counts)
  // Decoded operand: bytes for ALLOC_*, the frame offset in bytes for SAVE_*
  // (already scaled), FrameOffset x 16 for SET_FPREG, CodeOffset | OpInfo << 8
  // for EPILOG, OpInfo otherwise.
  uint32_t operand = 0;
};

// A version-2 epilog: [function end - offset_from_end, + size).
struct EpilogDescriptor {
  uint32_t offset_from_end = 0;
};

// One UNWIND_INFO, decoded and bounds-checked.
struct UnwindInfo {
  uint32_t rva = 0;
  uint8_t version = 0;
  uint8_t flags = 0;
  uint8_t size_of_prolog = 0;
  uint8_t count_of_codes = 0;  // slots
  uint8_t frame_register = 0;  // 0 = none
  uint8_t frame_offset = 0;    // scaled by 16 when used

  // Codes as Windows' prolog unwinder walks them (UWOP_EPILOG = 2 slots).
  absl::InlinedVector<UnwindCode, 16> codes;

  // Version 2: the leading UWOP_EPILOG codes. Size of every epilog (first
  // code's CodeOffset), whether one ends at the function end (first code's
  // OpInfo bit 0), and the other epilogs by distance from the function end.
  uint8_t epilog_size = 0;
  bool epilog_at_end = false;
  absl::InlinedVector<EpilogDescriptor, 4> epilogs;

  // Language handler (UNW_FLAG_EHANDLER/UHANDLER) and its data.
  std::optional<uint32_t> handler_rva;
  uint32_t handler_data_rva = 0;

  // UNW_FLAG_CHAININFO: the parent entry stored after the codes.
  std::optional<RuntimeFunction> chained_parent;

  // Bytes the structure occupies (header, codes, padding, trailer).
  uint32_t size_in_bytes = 0;

  // Non-fatal oddities (reserved codes, odd epilog code counts, ...).
  absl::InlinedVector<std::string, 1> notes;

  bool HasChainInfo() const { return (flags & kUnwFlagChainInfo) != 0; }
};

// Decodes the UNWIND_INFO at `rva` of `image`. Unknown codes (11-15), codes
// overrunning CountOfCodes, versions other than 1 and 2, and reads past the
// image are errors naming the image, offset and field.
absl::StatusOr<UnwindInfo> DecodeUnwindInfo(const PeImage& image, uint32_t rva);

// Reads only what chain resolution needs: flags and the chained parent.
absl::StatusOr<std::optional<RuntimeFunction>> ReadChainedParent(const PeImage& image,
                                                                 uint32_t rva);

}  // namespace restack::unwind
