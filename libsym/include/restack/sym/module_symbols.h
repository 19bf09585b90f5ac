// module_symbols.h - chunk-aware names for addresses of one module
//
// Combines a module's symbol index (from its PDB, or its exports) with its
// .pdata: an address in a RUNTIME_FUNCTION whose chain root starts elsewhere
// (a separated chunk, as Microsoft's kernels are full of) is named after the
// chain root's function, with the offset counted from that function's start
// — never after whatever public precedes the chunk (a string literal, in the
// Windows kernel: `nt! ?? ::FNODOBFM::`string'`).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "restack/sym/symbol_index.h"
#include "restack/unwind/runtime_function_table.h"

namespace restack::sym {

// A symbolized address.
struct SymbolizedAddress {
  std::string function;  // empty: nothing names it (module+RVA)
  // Address minus the function's start; negative for a chunk placed before
  // its function.
  int64_t displacement = 0;
  SymbolOrigin origin = SymbolOrigin::kPublic;
  // The address lies in a separated chunk (a chained or indirect .pdata entry
  // or an S_SEPCODE block apart from its function) that starts here.
  std::optional<uint32_t> chunk_start;
  std::optional<SourcePosition> source;
};

// What an address is expected to be.
enum class AddressKind : uint8_t {
  kCode,  // a frame's instruction pointer or return address: data names never apply
  kAny,   // anything (`ln`): an address inside a string literal is named after it
};

class ModuleSymbols {
 public:
  // Any of the parts may be null: without an index only the export table (if
  // `exports` is set) names things; without .pdata, chunks are not detected.
  ModuleSymbols(std::shared_ptr<const SymbolIndex> index,
                std::shared_ptr<const unwind::RuntimeFunctionTable> unwind)
      : index_(std::move(index)), unwind_(std::move(unwind)) {
    ResolveFunctions();
  }

  // Names `rva`. Code covered by .pdata is named after its chain root's
  // function (or left unnamed when that function has no symbol); otherwise
  // the index's symbol covering `rva`.
  SymbolizedAddress Symbolize(uint32_t rva, AddressKind kind = AddressKind::kCode) const;

  const SymbolIndex* index() const { return index_.get(); }

 private:
  // A code symbol starting at `rva`, or a sized one covering it (its
  // displacement unspecified). `hit`: what Lookup answered for the address
  // being symbolized, reused when it comes from the entry at `rva`.
  std::optional<SymbolHit> CodeSymbolAt(uint32_t rva, const std::optional<SymbolHit>& hit) const;

  // unwind_->Resolve(rva) depends only on the .pdata row FindEntry picks for
  // `rva`; it is asked once per row at construction (Resolve(row begin)) and
  // kept here, so that Symbolize pays one bucketed search, not a binary search
  // plus UNWIND_INFO reads.
  enum class Resolved : uint8_t {
    kNone,   // Resolve answered nullopt (an empty row)
    kError,  // Resolve failed (broken indirection or chain)
    kFound,
  };
  struct FunctionRow {
    uint32_t end = 0;   // the row's end (begin: function_begin_)
    uint32_t root = 0;  // kFound: primary.begin
    Resolved resolved = Resolved::kNone;
  };
  void ResolveFunctions();
  // What Resolve(rva) says, as (found.begin, primary.begin); nullopt when it
  // gives no resolution or an error.
  std::optional<std::pair<uint32_t, uint32_t>> FunctionOf(uint32_t rva) const;

  std::shared_ptr<const SymbolIndex> index_;
  std::shared_ptr<const unwind::RuntimeFunctionTable> unwind_;
  std::vector<uint32_t> function_begin_;   // unwind_->entries()[i].begin
  std::vector<FunctionRow> function_rows_; // one per row of unwind_->entries()
  SymbolIndex::Buckets function_buckets_;
};

}  // namespace restack::sym
