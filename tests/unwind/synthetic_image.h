// synthetic_image.h - in-memory x64 PE images with chosen code, .xdata and .pdata
//
// For unwinder tests. Like rust-minidump's minidump-synth, the builder writes
// every byte itself and does not reuse the production layout structs
// (pe_layout.h): a misread field in production code then shows up as a test
// failure instead of cancelling out. Layouts follow Microsoft's "PE Format"
// and "x64 exception handling" documentation:
//   UNWIND_INFO  = { UBYTE Version:3, Flags:5; UBYTE SizeOfProlog;
//                    UBYTE CountOfCodes; UBYTE FrameRegister:4, FrameOffset:4;
//                    USHORT UnwindCode[CountOfCodes, padded to even];
//                    then ULONG handler RVA + data, or a RUNTIME_FUNCTION }
//   UNWIND_CODE  = { UBYTE CodeOffset; UBYTE UnwindOp:4, OpInfo:4 }
//   RUNTIME_FUNCTION = { ULONG BeginAddress, EndAddress, UnwindData }
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "restack/unwind/pe_image.h"

namespace restack::unwind::testing {

// Register numbers as UNWIND_CODE.OpInfo and UNWIND_INFO.FrameRegister encode
// them (the order of CONTEXT.Rax..R15).
namespace reg {
inline constexpr uint8_t kRax = 0, kRcx = 1, kRdx = 2, kRbx = 3, kRsp = 4, kRbp = 5, kRsi = 6,
                         kRdi = 7, kR8 = 8, kR9 = 9, kR10 = 10, kR11 = 11, kR12 = 12, kR13 = 13,
                         kR14 = 14, kR15 = 15;
}  // namespace reg

// UNWIND_INFO.Flags bits (UNW_FLAG_*), written out here on purpose.
inline constexpr uint8_t kFlagEHandler = 0x1;
inline constexpr uint8_t kFlagUHandler = 0x2;
inline constexpr uint8_t kFlagChainInfo = 0x4;

// UNWIND_CODE slots, each as the little-endian USHORT the image stores:
// low byte CodeOffset, high byte UnwindOp | OpInfo << 4.
using UnwindSlots = std::vector<uint16_t>;

// One raw slot.
uint16_t RawSlot(uint8_t code_offset, uint8_t unwind_op, uint8_t op_info);

// Encoders of one unwind operation each (the slots it occupies). Sizes and
// offsets are given in bytes and scaled here as Windows stores them.
namespace uwop {
UnwindSlots PushNonvol(uint8_t code_offset, uint8_t reg);       // op 0
UnwindSlots AllocLarge16(uint8_t code_offset, uint32_t bytes);  // op 1, OpInfo 0: bytes/8
UnwindSlots AllocLarge32(uint8_t code_offset, uint32_t bytes);  // op 1, OpInfo 1: unscaled
UnwindSlots AllocSmall(uint8_t code_offset, uint32_t bytes);    // op 2, OpInfo (bytes-8)/8
UnwindSlots SetFpreg(uint8_t code_offset);                      // op 3
UnwindSlots SaveNonvol(uint8_t code_offset, uint8_t reg, uint32_t offset);     // op 4, /8
UnwindSlots SaveNonvolFar(uint8_t code_offset, uint8_t reg, uint32_t offset);  // op 5, unscaled
UnwindSlots SaveXmm128(uint8_t code_offset, uint8_t reg, uint32_t offset);     // op 8, /16
UnwindSlots SaveXmm128Far(uint8_t code_offset, uint8_t reg, uint32_t offset);  // op 9, unscaled
UnwindSlots PushMachFrame(uint8_t code_offset, bool error_code);               // op 10
// Version 2 UWOP_EPILOG (op 6) slots. The first gives the size of every
// epilog in CodeOffset and, in OpInfo bit 0, whether one ends at the
// function end; the others give an epilog's distance from the function end,
// low 8 bits in CodeOffset and high 4 bits in OpInfo; distance 0 is padding.
UnwindSlots EpilogHeader(uint8_t size, bool at_end);
UnwindSlots EpilogAt(uint16_t offset_from_end);
UnwindSlots EpilogPadding();
}  // namespace uwop

// Concatenates slot groups in order (codes are listed last instruction first).
UnwindSlots Codes(std::initializer_list<UnwindSlots> groups);

// A RUNTIME_FUNCTION as three ULONGs.
struct RuntimeFunctionRow {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t unwind_data = 0;
};
// Its 12 bytes, little-endian.
std::vector<uint8_t> EncodeRuntimeFunction(const RuntimeFunctionRow& row);

// What to write as one UNWIND_INFO.
struct UnwindInfoSpec {
  uint8_t version = 1;
  uint8_t flags = 0;  // written as given (set kFlagChainInfo yourself)
  uint8_t size_of_prolog = 0;
  uint8_t frame_register = 0;
  uint8_t frame_offset = 0;  // as stored: units of 16 bytes
  UnwindSlots codes;
  std::optional<uint8_t> count_of_codes;  // default: codes.size()
  // Written after the codes (padded to an even slot count), in this order.
  std::optional<RuntimeFunctionRow> chained_parent;
  std::optional<uint32_t> handler_rva;
  std::vector<uint8_t> handler_data;
};
// The bytes of `spec`: header, codes, a padding slot when codes.size() is
// odd and a trailer follows, then the trailer.
std::vector<uint8_t> EncodeUnwindInfo(const UnwindInfoSpec& spec);
// Where the trailer of an UNWIND_INFO at `rva` with `count_of_codes` starts.
inline uint32_t TrailerRva(uint32_t rva, uint8_t count_of_codes) {
  return rva + 4 + ((count_of_codes + 1u) & ~1u) * 2;
}

// Builds a PE32+ (x64) image in mapped layout (RVA == offset):
//   headers [0, 0x400), .text [0x1000, 0x4000) filled with int3 (CC),
//   .rdata [0x4000, 0x5000) for UNWIND_INFO, .pdata [0x5000, 0x6000) holding
//   the Function() rows in the order they were added (unsorted allowed),
//   named by IMAGE_DIRECTORY_ENTRY_EXCEPTION.
class SyntheticImage {
 public:
  static constexpr uint32_t kTextRva = 0x1000;
  static constexpr uint32_t kTextSize = 0x3000;
  static constexpr uint32_t kRdataRva = 0x4000;
  static constexpr uint32_t kRdataSize = 0x1000;
  static constexpr uint32_t kPdataRva = 0x5000;
  static constexpr uint32_t kPdataSize = 0x1000;
  static constexpr uint32_t kSizeOfImage = 0x6000;

  explicit SyntheticImage(std::string name = "synthetic.dll") : name_(std::move(name)) {}

  // Code bytes at `rva` (anywhere; normally in .text).
  SyntheticImage& Code(uint32_t rva, std::vector<uint8_t> bytes) { return Bytes(rva, bytes); }
  // An UNWIND_INFO at `rva`.
  SyntheticImage& UnwindInfo(uint32_t rva, const UnwindInfoSpec& spec) {
    return Bytes(rva, EncodeUnwindInfo(spec));
  }
  // Raw bytes at `rva`; bytes past SizeOfImage are dropped.
  SyntheticImage& Bytes(uint32_t rva, std::vector<uint8_t> bytes);
  // Appends a .pdata row; rows are stored in call order.
  SyntheticImage& Function(uint32_t begin, uint32_t end, uint32_t unwind_data) {
    rows_.push_back({begin, end, unwind_data});
    return *this;
  }
  // Total size (default kSizeOfImage); smaller sizes cut sections short,
  // which lets tests put structures at the very end of the image.
  SyntheticImage& SizeOfImage(uint32_t size) {
    size_of_image_ = size;
    return *this;
  }
  // Drops the exception directory (an image without .pdata).
  SyntheticImage& WithoutExceptionDirectory() {
    exception_directory_ = false;
    return *this;
  }

  // RVA at which the `index`-th Function() row is stored.
  static uint32_t PdataRowRva(size_t index) {
    return kPdataRva + 12 * static_cast<uint32_t>(index);
  }
  // UnwindData of an indirect entry naming the RUNTIME_FUNCTION stored at
  // `entry_rva`: entry_rva + 1 (rows are DWORD-aligned, so bit 0 is free).
  static uint32_t IndirectTo(uint32_t entry_rva) { return entry_rva + 1; }

  std::vector<uint8_t> Serialize() const;
  absl::StatusOr<std::shared_ptr<const PeImage>> TryBuild() const;
  // TryBuild(), recording a test failure and returning null on error.
  std::shared_ptr<const PeImage> Build() const;

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  uint32_t size_of_image_ = kSizeOfImage;
  bool exception_directory_ = true;
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> patches_;
  std::vector<RuntimeFunctionRow> rows_;
};

}  // namespace restack::unwind::testing
