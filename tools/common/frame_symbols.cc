// frame_symbols.cc - walked frames named through libsym
#include "frame_symbols.h"

#include "absl/strings/str_format.h"
#include "common/stack_output.h"

namespace restack::tools {

std::string FrameSymbol::Annotations() const {
  std::string out;
  if (chunk) absl::StrAppendFormat(&out, " (Chunk @ %s)", FormatAddress(*chunk));
  if (!source_file.empty()) absl::StrAppendFormat(&out, " [%s @ %u]", source_file, source_line);
  return out;
}

std::string FormatCallSite(const std::string& module, const std::string& function,
                           int64_t displacement) {
  std::string out = function.empty() ? module : module + "!" + function;
  if (displacement > 0 || function.empty()) {
    absl::StrAppendFormat(&out, "+0x%x", static_cast<uint64_t>(displacement));
  } else if (displacement < 0) {
    absl::StrAppendFormat(&out, "-0x%x", static_cast<uint64_t>(-displacement));
  }
  return out;
}

FrameSymbol FrameSymbolizer::Symbolize(const unwind::StackWalk& walk, size_t index) {
  const unwind::StackFrame& f = walk.frames[index];
  const bool return_address = index > 0 && !walk.frames[index - 1].unwound_machine_frame;
  return SymbolizeAddress(f.module, f.rip, return_address);
}

FrameSymbol FrameSymbolizer::SymbolizeAddress(const unwind::Module* module, uint64_t va,
                                              bool return_address) {
  if (module == nullptr || va - module->base > UINT32_MAX) {
    FrameSymbol out;
    out.call_site = module == nullptr
                        ? absl::StrFormat("0x%s", FormatAddress(va))
                        : FormatCallSite(module->ShortName(), "", static_cast<int64_t>(va - module->base));
    return out;
  }
  FrameSymbol out = SymbolizeRva(*module, static_cast<uint32_t>(va - module->base), return_address);
  if (out.chunk_rva) out.chunk = module->base + *out.chunk_rva;
  return out;
}

FrameSymbol FrameSymbolizer::SymbolizeRva(const unwind::Module& module, uint32_t rva,
                                          bool return_address) {
  FrameSymbol out;
  out.call_site = FormatCallSite(module.ShortName(), "", rva);
  if (resolver_ == nullptr || module.image == nullptr) return out;
  const sym::LoadedSymbols& loaded = resolver_->Load(module.image, "", module.unwind);
  if (loaded.source != sym::SymbolSource::kPdb && reported_.insert(module.name).second) {
    messages_.push_back(absl::StrFormat(
        "%s: %s%s", module.name,
        loaded.source == sym::SymbolSource::kExports ? "no PDB, defaulted to export symbols: "
                                                     : "no symbols: ",
        loaded.pdb_status.message()));
  }
  const uint32_t lookup = return_address && rva > 0 ? rva - 1 : rva;
  sym::SymbolizedAddress s = loaded.symbols->Symbolize(lookup);
  const int64_t shift = static_cast<int64_t>(rva) - lookup;
  out.chunk_rva = s.chunk_start;
  if (s.source) {
    out.source_file = std::string(s.source->file);
    out.source_line = s.source->line;
  }
  if (inlines_) AddInlineFrames(*loaded.inlines, module.ShortName(), rva, lookup, out);
  if (s.function.empty()) return out;
  out.function = s.function;
  out.displacement = s.displacement + shift;
  out.origin = std::string(sym::SymbolOriginName(s.origin));
  out.call_site = FormatCallSite(module.ShortName(), out.function, out.displacement);
  return out;
}

void FrameSymbolizer::AddInlineFrames(const sym::InlineIndex& index, const std::string& module,
                                      uint32_t rva, uint32_t lookup, FrameSymbol& frame) {
  const std::vector<sym::InlineFrame> chain = index.At(lookup);  // outermost first
  if (chain.empty()) return;
  for (auto f = chain.rbegin(); f != chain.rend(); ++f) {
    FrameSymbol in;
    in.function = std::string(f->name);
    in.displacement = static_cast<int64_t>(rva) - f->site_begin;
    in.origin = "inline";
    in.call_site = FormatCallSite(module, in.function, in.displacement);
    if (!f->file.empty()) {
      in.source_file = std::string(f->file);
      in.source_line = f->line;
    }
    frame.inlines.push_back(std::move(in));
  }
  // The frame itself is at the call of the outermost inlinee.
  if (!chain.front().call_file.empty()) {
    frame.source_file = std::string(chain.front().call_file);
    frame.source_line = chain.front().call_line;
  }
}

std::vector<std::string> FrameSymbolizer::TakeMessages() {
  std::vector<std::string> out;
  out.swap(messages_);
  return out;
}

}  // namespace restack::tools
