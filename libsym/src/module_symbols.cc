// module_symbols.cc - naming an address: .pdata chain roots first, then the index
#include "restack/sym/module_symbols.h"

namespace restack::sym {
namespace {

// Where the code a hit names begins (an S_SEPCODE block: the block itself).
uint32_t CodeBegin(const SymbolHit& h) {
  return h.origin == SymbolOrigin::kSeparated ? h.block_start : h.start;
}

}  // namespace

std::optional<SymbolHit> ModuleSymbols::CodeSymbolAt(uint32_t rva) const {
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
    absl::StatusOr<std::optional<unwind::FunctionResolution>> r = unwind_->Resolve(rva);
    if (r.ok() && r->has_value()) {
      const uint32_t root = (*r)->primary.begin;
      std::optional<SymbolHit> parent = CodeSymbolAt(root);
      if (root != (*r)->found.begin) {
        // A chunk: its function is the chain root's, whatever precedes it.
        out.chunk_start = (*r)->found.begin;
        if (parent) named(*parent);
        return out;
      }
      // Code of a function whose start has a symbol: that symbol, unless the
      // index has a better one inside (an S_SEPCODE block, a procedure).
      if (parent && (!hit || hit->origin == SymbolOrigin::kData || CodeBegin(*hit) < CodeBegin(*parent))) {
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
