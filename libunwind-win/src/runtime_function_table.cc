// runtime_function_table.cc - sorted RUNTIME_FUNCTION lookup, indirection and chains
#include "restack/unwind/runtime_function_table.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "byte_reader.h"
#include "errors.h"
#include "restack/unwind/unwind_info.h"

namespace restack::unwind {
namespace {

using internal::InputError;
using internal::ReadStruct;

constexpr uint32_t kEntrySize = sizeof(ImageRuntimeFunctionEntry);

}  // namespace

std::string_view FunctionEntryKindName(FunctionEntryKind kind) {
  switch (kind) {
    case FunctionEntryKind::kPrimary: return "primary";
    case FunctionEntryKind::kChained: return "chained";
    case FunctionEntryKind::kIndirect: return "indirect";
  }
  return "?";
}

absl::StatusOr<RuntimeFunctionTable> RuntimeFunctionTable::Create(
    std::shared_ptr<const PeImage> image) {
  RuntimeFunctionTable table;
  table.image_ = std::move(image);
  const PeImage& pe = *table.image_;
  const ImageDataDirectory dir = pe.directory(DataDirectoryIndex::kException);
  if (dir.VirtualAddress == 0 || dir.Size == 0) return table;
  if (dir.Size % kEntrySize != 0) {
    table.warnings_.push_back(
        {dir.VirtualAddress,
         absl::StrFormat("exception directory size 0x%x is not a multiple of 12; ignoring "
                         "the last %u bytes",
                         dir.Size, dir.Size % kEntrySize)});
  }
  const uint32_t count = dir.Size / kEntrySize;
  absl::StatusOr<std::span<const uint8_t>> bytes =
      pe.ReadRva(dir.VirtualAddress, count * kEntrySize);
  if (!bytes.ok()) {
    return InputError(absl::StatusCode::kOutOfRange, pe.name(),
                      pe.OffsetOfRva(dir.VirtualAddress).value_or(dir.VirtualAddress),
                      absl::StrFormat("IMAGE_DIRECTORY_ENTRY_EXCEPTION: 0x%x bytes at rva 0x%x "
                                      "are not in the image data (%s)",
                                      dir.Size, dir.VirtualAddress, bytes.status().message()));
  }
  table.entries_.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const auto e = *ReadStruct<ImageRuntimeFunctionEntry>(*bytes, i * kEntrySize);
    if (e.BeginAddress >= e.EndAddress) {
      // Zero entries pad some tables; anything else is worth a note.
      if (e.BeginAddress != 0 || e.EndAddress != 0 || e.UnwindData != 0) {
        table.warnings_.push_back(
            {dir.VirtualAddress + i * kEntrySize,
             absl::StrFormat("RUNTIME_FUNCTION[%u]: empty range [0x%x, 0x%x) dropped", i,
                             e.BeginAddress, e.EndAddress)});
      }
      continue;
    }
    table.entries_.push_back({e.BeginAddress, e.EndAddress, e.UnwindData});
  }
  auto by_begin = [](const RuntimeFunction& a, const RuntimeFunction& b) {
    return a.begin < b.begin;
  };
  if (!std::is_sorted(table.entries_.begin(), table.entries_.end(), by_begin)) {
    table.warnings_.push_back({dir.VirtualAddress, "exception directory is not sorted"});
    std::stable_sort(table.entries_.begin(), table.entries_.end(), by_begin);
  }
  for (size_t i = 1; i < table.entries_.size(); ++i) {
    if (table.entries_[i].begin < table.entries_[i - 1].end) {
      table.warnings_.push_back(
          {table.entries_[i].begin,
           absl::StrFormat("RUNTIME_FUNCTION [0x%x, 0x%x) overlaps [0x%x, 0x%x)",
                           table.entries_[i].begin, table.entries_[i].end,
                           table.entries_[i - 1].begin, table.entries_[i - 1].end)});
      break;
    }
  }
  return table;
}

std::optional<RuntimeFunction> RuntimeFunctionTable::FindEntry(uint32_t rva) const {
  // Last entry with begin <= rva.
  auto it = std::upper_bound(entries_.begin(), entries_.end(), rva,
                             [](uint32_t v, const RuntimeFunction& e) { return v < e.begin; });
  if (it == entries_.begin()) return std::nullopt;
  --it;
  if (!it->Contains(rva)) return std::nullopt;
  return *it;
}

absl::StatusOr<RuntimeFunction> RuntimeFunctionTable::ReadEntryAt(uint32_t entry_rva) const {
  absl::StatusOr<std::span<const uint8_t>> bytes = image_->ReadRva(entry_rva, kEntrySize);
  if (!bytes.ok()) {
    return InputError(absl::StatusCode::kOutOfRange, image_->name(),
                      image_->OffsetOfRva(entry_rva).value_or(entry_rva),
                      absl::StrFormat("RUNTIME_FUNCTION at rva 0x%x: not in the image data",
                                      entry_rva));
  }
  const auto e = *ReadStruct<ImageRuntimeFunctionEntry>(*bytes, 0);
  return RuntimeFunction{e.BeginAddress, e.EndAddress, e.UnwindData};
}

absl::StatusOr<std::optional<RuntimeFunction>> RuntimeFunctionTable::LookupFunctionEntry(
    uint32_t rva) const {
  std::optional<RuntimeFunction> found = FindEntry(rva);
  if (!found || !found->IsIndirect()) return found;
  absl::StatusOr<RuntimeFunction> target = ReadEntryAt(found->IndirectEntryRva());
  if (!target.ok()) return target.status();
  if (target->IsIndirect()) {
    // Windows resolves one level; a second one (or a self-reference) is corrupt.
    return InputError(absl::StatusCode::kDataLoss, image_->name(),
                      image_->OffsetOfRva(found->IndirectEntryRva())
                          .value_or(found->IndirectEntryRva()),
                      absl::StrFormat("RUNTIME_FUNCTION [0x%x, 0x%x): indirect entry refers to "
                                      "another indirect entry at rva 0x%x",
                                      found->begin, found->end, found->IndirectEntryRva()));
  }
  return std::optional<RuntimeFunction>(*target);
}

absl::StatusOr<FunctionEntryKind> RuntimeFunctionTable::KindOf(
    const RuntimeFunction& entry) const {
  if (entry.IsIndirect()) return FunctionEntryKind::kIndirect;
  absl::StatusOr<std::optional<RuntimeFunction>> parent =
      ReadChainedParent(*image_, entry.unwind_data);
  if (!parent.ok()) return parent.status();
  return parent->has_value() ? FunctionEntryKind::kChained : FunctionEntryKind::kPrimary;
}

absl::StatusOr<RuntimeFunction> RuntimeFunctionTable::PrimaryEntry(const RuntimeFunction& entry,
                                                                   int* depth) const {
  RuntimeFunction current = entry;
  for (int d = 0;; ++d) {
    if (current.IsIndirect()) {
      return InputError(absl::StatusCode::kDataLoss, image_->name(),
                        image_->OffsetOfRva(entry.unwind_data).value_or(entry.unwind_data),
                        absl::StrFormat("chain from [0x%x, 0x%x) reaches an indirect entry "
                                        "[0x%x, 0x%x) (UnwindData 0x%x)",
                                        entry.begin, entry.end, current.begin, current.end,
                                        current.unwind_data));
    }
    absl::StatusOr<std::optional<RuntimeFunction>> parent =
        ReadChainedParent(*image_, current.unwind_data);
    if (!parent.ok()) return parent.status();
    if (!parent->has_value()) {
      if (depth != nullptr) *depth = d;
      return current;
    }
    if (d + 1 > kMaxUnwindChainDepth) {
      return InputError(absl::StatusCode::kDataLoss, image_->name(),
                        image_->OffsetOfRva(entry.unwind_data).value_or(entry.unwind_data),
                        absl::StrFormat("UNW_FLAG_CHAININFO chain from [0x%x, 0x%x) is longer "
                                        "than %d entries (cyclic?)",
                                        entry.begin, entry.end, kMaxUnwindChainDepth));
    }
    current = **parent;
  }
}

absl::StatusOr<std::optional<FunctionResolution>> RuntimeFunctionTable::Resolve(
    uint32_t rva) const {
  std::optional<RuntimeFunction> found = FindEntry(rva);
  if (!found) return std::optional<FunctionResolution>();
  FunctionResolution r;
  r.found = *found;
  if (found->IsIndirect()) {
    absl::StatusOr<std::optional<RuntimeFunction>> entry = LookupFunctionEntry(rva);
    if (!entry.ok()) return entry.status();
    r.kind = FunctionEntryKind::kIndirect;
    r.function_entry = **entry;
  } else {
    r.function_entry = *found;
  }
  absl::StatusOr<RuntimeFunction> primary = PrimaryEntry(r.function_entry, &r.chain_depth);
  if (!primary.ok()) return primary.status();
  r.primary = *primary;
  if (!found->IsIndirect()) {
    r.kind = r.chain_depth > 0 ? FunctionEntryKind::kChained : FunctionEntryKind::kPrimary;
  }
  return std::optional<FunctionResolution>(r);
}

}  // namespace restack::unwind
