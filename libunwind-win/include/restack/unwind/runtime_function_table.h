// runtime_function_table.h - sorted RUNTIME_FUNCTION (.pdata) lookup
//
// The exception directory of an x64 image lists RUNTIME_FUNCTION entries. An
// entry whose UnwindData has the low bit set is *indirect*: UnwindData - 1 is
// the RVA of another RUNTIME_FUNCTION describing the function (older Microsoft
// linkers emit these for separated code). An entry whose UNWIND_INFO carries
// UNW_FLAG_CHAININFO is *chained* to a parent entry; following parents up to
// one without the flag gives the *primary* (chain-root) entry.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "restack/unwind/pe_image.h"
#include "restack/unwind/warning.h"

namespace restack::unwind {

// One RUNTIME_FUNCTION: [begin, end) RVAs and the unwind data reference.
struct RuntimeFunction {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t unwind_data = 0;  // UNWIND_INFO RVA, or (indirect) entry RVA + 1

  // RUNTIME_FUNCTION_INDIRECT: UnwindData names another entry, not unwind info.
  bool IsIndirect() const { return (unwind_data & 1u) != 0; }
  // RVA of the RUNTIME_FUNCTION an indirect entry refers to.
  uint32_t IndirectEntryRva() const { return unwind_data & ~1u; }
  bool Contains(uint32_t rva) const { return rva >= begin && rva < end; }
  friend bool operator==(const RuntimeFunction&, const RuntimeFunction&) = default;
};

// How an entry relates to its function.
enum class FunctionEntryKind {
  kPrimary,   // its own UNWIND_INFO, not chained
  kChained,   // UNWIND_INFO with UNW_FLAG_CHAININFO
  kIndirect,  // UnwindData low bit set: refers to another entry
};

// "primary", "chained", "indirect".
std::string_view FunctionEntryKindName(FunctionEntryKind kind);

// UNWIND_CHAIN_LIMIT of Windows' unwinder: chains deeper than this are corrupt.
inline constexpr int kMaxUnwindChainDepth = 32;

// Everything known about the function containing an address.
struct FunctionResolution {
  RuntimeFunction found;           // the .pdata row containing the address
  FunctionEntryKind kind = FunctionEntryKind::kPrimary;
  RuntimeFunction function_entry;  // what RtlLookupFunctionEntry returns (indirect resolved)
  RuntimeFunction primary;         // chain root of function_entry
  int chain_depth = 0;             // parents followed from function_entry to primary
};

// The sorted exception directory of one image.
class RuntimeFunctionTable {
 public:
  // Reads the exception directory of `image`. Unsorted tables are sorted;
  // empty or inverted ranges are dropped with a warning. An image without an
  // exception directory gives an empty table.
  static absl::StatusOr<RuntimeFunctionTable> Create(std::shared_ptr<const PeImage> image);

  std::span<const RuntimeFunction> entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

  // The .pdata row whose [begin, end) contains `rva` (binary search).
  std::optional<RuntimeFunction> FindEntry(uint32_t rva) const;

  // RtlLookupFunctionEntry: FindEntry, with an indirect entry replaced by the
  // entry it refers to (read from the image; one level, as Windows does).
  // nullopt when no entry contains `rva`; an error for a broken indirection.
  absl::StatusOr<std::optional<RuntimeFunction>> LookupFunctionEntry(uint32_t rva) const;

  // Kind of `entry` as a row of this table.
  absl::StatusOr<FunctionEntryKind> KindOf(const RuntimeFunction& entry) const;

  // Follows UNW_FLAG_CHAININFO parents from `entry` (not indirect) to the root.
  // Cycles and chains deeper than kMaxUnwindChainDepth are kDataLoss errors.
  absl::StatusOr<RuntimeFunction> PrimaryEntry(const RuntimeFunction& entry,
                                               int* depth = nullptr) const;

  // Full resolution of the function containing `rva`; nullopt if none does.
  absl::StatusOr<std::optional<FunctionResolution>> Resolve(uint32_t rva) const;

  // Reads the RUNTIME_FUNCTION stored at `entry_rva` in the image.
  absl::StatusOr<RuntimeFunction> ReadEntryAt(uint32_t entry_rva) const;

  const PeImage& image() const { return *image_; }
  const std::vector<Warning>& warnings() const { return warnings_; }

 private:
  RuntimeFunctionTable() = default;
  std::shared_ptr<const PeImage> image_;
  std::vector<RuntimeFunction> entries_;
  std::vector<Warning> warnings_;
};

}  // namespace restack::unwind
