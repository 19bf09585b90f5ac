// frame_symbols.h - names for walked frames: module!Function+0xOFF, chunks,
// source lines, and the inline frames at the frame's address
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "restack/sym/symbol_resolver.h"
#include "restack/unwind/stack_walker.h"

namespace restack::tools {

// One frame's name, as text and parts. An inline frame (an entry of
// `inlines`) has origin "inline", its displacement counted from the inline
// site's first byte, its line inside the inlinee, and no chunk.
struct FrameSymbol {
  std::string call_site;          // "amdppm!Foo+0x1f", "amdppm+0x1f" or "0x00000000`00401000"
  std::string function;           // "" when nothing names the address
  int64_t displacement = 0;       // from the function's start (negative: chunk before it)
  std::string origin;             // sym::SymbolOriginName or "inline"; "" without a function
  std::optional<uint64_t> chunk;  // start (VA) of the separated chunk holding the address
  std::optional<uint32_t> chunk_rva;  // the same as an RVA
  std::string source_file;        // "" without line information
  uint32_t source_line = 0;
  // The functions inlined at the address, innermost first, as WinDbg lists
  // them above the frame; the frame's own source line is then the call of
  // the outermost one. Empty outside inlined code or with inlines off.
  std::vector<FrameSymbol> inlines;
  // The text after the call site: " (Chunk @ ...)" and " [file @ line]".
  std::string Annotations() const;
};

// Inline frames in text, as WinDbg's k prints them in place of Child-SP and
// RetAddr (17 characters each, as the address columns).
inline constexpr char kInlineFrameColumns[] = "(Inline Function) --------`--------";

// "module!Function+0x1f" (no "+0x0"; "-0xb2" before the function), or
// "module+0x1f" without a function.
std::string FormatCallSite(const std::string& module, const std::string& function,
                           int64_t displacement);

class FrameSymbolizer {
 public:
  // `resolver` null: module+0xRVA only. `inlines`: fill FrameSymbol::inlines
  // from the module's PDB (sym::LoadedSymbols::inlines).
  explicit FrameSymbolizer(sym::SymbolResolver* resolver, bool inlines = true)
      : resolver_(resolver), inlines_(inlines) {}

  // Names frame `index` of `walk`. A frame reached through a return address
  // is looked up at the address minus one (the call), so a call that ends a
  // function is named after it, as WinDbg does; the displacement is that of
  // the address itself.
  FrameSymbol Symbolize(const unwind::StackWalk& walk, size_t index);
  // Names `va` in `module` (nullptr: the bare address).
  FrameSymbol SymbolizeAddress(const unwind::Module* module, uint64_t va, bool return_address);
  // Names `rva` of `module` whose base may be unknown (`chunk` stays unset).
  // The inline frames are those at the lookup address, their displacements
  // those of `rva` itself, as the frame's.
  FrameSymbol SymbolizeRva(const unwind::Module& module, uint32_t rva, bool return_address);

  // "module: why" for every module whose PDB was not used, once each, in
  // the order met (WinDbg's "*** ERROR: Symbol file could not be found").
  std::vector<std::string> TakeMessages();

 private:
  // Fills frame.inlines from `index` at `lookup`; `rva` counts displacements.
  static void AddInlineFrames(const sym::InlineIndex& index, const std::string& module, uint32_t rva,
                              uint32_t lookup, FrameSymbol& frame);

  sym::SymbolResolver* resolver_;
  bool inlines_ = true;
  std::set<std::string> reported_;
  std::vector<std::string> messages_;
};

}  // namespace restack::tools
