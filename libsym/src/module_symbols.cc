// module_symbols.cc - naming an address: .pdata chain roots first, then the index
#include "restack/sym/module_symbols.h"

namespace restack::sym {
namespace {

// Where the code a hit names begins (an S_SEPCODE block: the block itself).
uint32_t CodeBegin(const SymbolHit& h) {
  return h.origin == SymbolOrigin::kSeparated ? h.block_start : h.start;
}

}  // namespace

void ModuleSymbols::ResolveFunctions() {
  if (unwind_ == nullptr) return;
  const std::span<const unwind::RuntimeFunction> rows = unwind_->entries();
  function_begin_.reserve(rows.size());
  function_rows_.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    function_begin_.push_back(rows[i].begin);
    FunctionRow row;
    row.end = rows[i].end;
    // FindEntry picks the last row starting at or below an address: a row
    // followed by one with the same begin is never picked.
    if (i + 1 == rows.size() || rows[i + 1].begin != rows[i].begin) {
      absl::StatusOr<std::optional<unwind::FunctionResolution>> r = unwind_->Resolve(rows[i].begin);
      if (!r.ok()) {
        row.resolved = Resolved::kError;
      } else if (r->has_value()) {
        row.resolved = Resolved::kFound;
        row.root = (*r)->primary.begin;
      }
    }
    function_rows_.push_back(row);
  }
  function_buckets_.Build(function_begin_);
}

std::optional<std::pair<uint32_t, uint32_t>> ModuleSymbols::FunctionOf(uint32_t rva) const {
  // RuntimeFunctionTable::FindEntry, then the row's resolution.
  const size_t i = function_buckets_.UpperBound(function_begin_, rva);
  if (i == 0) return std::nullopt;
  const FunctionRow& row = function_rows_[i - 1];
  if (rva >= row.end || row.resolved != Resolved::kFound) return std::nullopt;
  return std::pair<uint32_t, uint32_t>(function_begin_[i - 1], row.root);
}

std::optional<SymbolHit> ModuleSymbols::CodeSymbolAt(uint32_t rva,
                                                     const std::optional<SymbolHit>& hit) const {
  if (hit && index_->SameEntryAt(*hit, rva)) {
    // The entry at `rva` is the one `hit` came from: At(rva) would answer it
    // (displacement aside, unused by Symbolize), and so would Lookup(rva).
    if (hit->origin != SymbolOrigin::kData) return hit;
    return std::nullopt;
  }
  std::optional<SymbolHit> at = index_->At(rva);
  if (at && at->origin != SymbolOrigin::kData) return at;
  // A procedure (sized) that covers `rva` also names it; an unsized public
  // before it may belong to another function.
  std::optional<SymbolHit> covering = index_->Lookup(rva);
  if (covering && (covering->origin == SymbolOrigin::kProcedure ||
                   covering->origin == SymbolOrigin::kThunk ||
                   covering->origin == SymbolOrigin::kSeparated)) {
    return covering;
  }
  return std::nullopt;
}

SymbolizedAddress ModuleSymbols::Symbolize(uint32_t rva, AddressKind kind) const {
  SymbolizedAddress out;
  if (index_ == nullptr) return out;
  std::optional<SymbolHit> hit = index_->Lookup(rva);
  // `h` names rva; `displacement` as the index counted it, or else the
  // final-layout distance.
  auto named = [&](const SymbolHit& h, std::optional<int64_t> displacement = std::nullopt) {
    out.function = std::string(h.name);
    out.displacement = displacement.value_or(static_cast<int64_t>(rva) - h.start);
    out.origin = h.origin;
    out.source = index_->LineAt(rva);
  };
  if (unwind_ != nullptr) {
    // unwind_->Resolve(rva), when it succeeds: (found.begin, primary.begin).
    if (const std::optional<std::pair<uint32_t, uint32_t>> f = FunctionOf(rva)) {
      const auto [found, root] = *f;
      std::optional<SymbolHit> parent = CodeSymbolAt(root, hit);
      if (root != found) {
        // A chunk: its function is the chain root's, whatever precedes it.
        out.chunk_start = found;
        if (parent) named(*parent);
        return out;
      }
      // Code of a function whose start has a symbol: that symbol, unless the
      // index has a better one inside (an S_SEPCODE block, a procedure). A
      // public or export inside the entry, past its start, is a label (an
      // assembler's `X_fault_insn:`), not a function: .pdata says where the
      // function begins.
      if (parent && (!hit || hit->origin == SymbolOrigin::kData ||
                     hit->origin == SymbolOrigin::kPublic || hit->origin == SymbolOrigin::kExport ||
                     CodeBegin(*hit) < CodeBegin(*parent))) {
        named(*parent);
        return out;
      }
      if (!parent && hit && CodeBegin(*hit) < root) {
        // The function has no symbol; what precedes it names something else.
        return out;
      }
    }
  }
  if (!hit) return out;
  if (hit->origin == SymbolOrigin::kData && kind == AddressKind::kCode) return out;
  named(*hit, hit->displacement);
  if (hit->origin == SymbolOrigin::kSeparated) out.chunk_start = hit->block_start;
  return out;
}

}  // namespace restack::sym
