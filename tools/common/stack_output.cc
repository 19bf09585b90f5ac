// stack_output.cc - kn-style text and JSON for walked stacks
#include "stack_output.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "restack/sym/stack_text.h"
#include "restack/unwind/unwind_info.h"

namespace restack::tools {

std::string JsonLine(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string FormatAddress(uint64_t address) {
  return absl::StrFormat("%08x`%08x", address >> 32, address & 0xffffffff);
}

std::string Hex(uint64_t value) { return absl::StrFormat("0x%x", value); }

std::string CallSite(const unwind::StackFrame& frame) {
  if (frame.module == nullptr) return absl::StrFormat("0x%s", FormatAddress(frame.rip));
  return absl::StrFormat("%s+0x%x", frame.module->ShortName(), frame.rip - frame.module->base);
}

namespace {

// RetAddr of frame i: the next frame's RIP; 0 at a normal bottom; unknown
// when the walk was cut.
std::string RetAddrText(const unwind::StackWalk& walk, size_t i) {
  if (i + 1 < walk.frames.size()) return FormatAddress(walk.frames[i + 1].rip);
  if (walk.end == unwind::WalkEnd::kRipZero) return FormatAddress(0);
  return "????????`????????";
}

// The name fields of a frame object: call_site, symbol, chunk_start, source;
// then module, module_base and offset of `f`.
void AddNameFields(const unwind::StackFrame& f, const FrameSymbol* named, nlohmann::json& j) {
  j["call_site"] = named != nullptr ? named->call_site : CallSite(f);
  if (named != nullptr && !named->function.empty()) {
    j["symbol"] = {{"function", named->function},
                   {"displacement", named->displacement},
                   {"origin", named->origin}};
  } else {
    j["symbol"] = nullptr;
  }
  j["chunk_start"] = named != nullptr && named->chunk ? nlohmann::json(Hex(*named->chunk))
                                                      : nlohmann::json(nullptr);
  if (named != nullptr && !named->source_file.empty()) {
    j["source"] = {{"file", named->source_file}, {"line", named->source_line}};
  } else {
    j["source"] = nullptr;
  }
  if (f.module != nullptr) {
    j["module"] = f.module->name;
    j["module_base"] = Hex(f.module->base);
    j["offset"] = Hex(f.rip - f.module->base);
  } else {
    j["module"] = nullptr;
    j["module_base"] = nullptr;
    j["offset"] = nullptr;
  }
}

// " (TrapFrame @ fffff880`1ce29b00)" after the call site, as WinDbg.
std::string TrapFrameText(const unwind::StackFrame& f) {
  return f.trap_frame ? absl::StrFormat(" (TrapFrame @ %s)", FormatAddress(*f.trap_frame)) : "";
}

// The warnings after a stack's frames (every text form).
void PrintWalkWarnings(const unwind::StackWalk& walk, std::ostream& out) {
  const bool heuristic = std::any_of(walk.frames.begin(), walk.frames.end(), [](const auto& f) {
    return f.trust == unwind::FrameTrust::kScan || f.trust == unwind::FrameTrust::kFramePointer;
  });
  if (heuristic) {
    out << "WARNING: Stack unwind information not available. Following frames may be wrong.\n";
  }
  for (const unwind::StackFrame& f : walk.frames) {
    for (const unwind::Warning& w : f.warnings) out << "WARNING: " << w.what << "\n";
  }
  for (const unwind::Warning& w : walk.warnings) out << "WARNING: " << w.what << "\n";
  if (!unwind::IsCompleteEnd(walk.end)) {
    out << absl::StrFormat("WARNING: stack ended early (%s): %s\n", unwind::WalkEndName(walk.end),
                           walk.status.message());
  }
}

bool ShowsTrust(unwind::FrameTrust trust) {
  return trust != unwind::FrameTrust::kContext && trust != unwind::FrameTrust::kUnwindInfo;
}

}  // namespace

std::optional<StackFormat> ParseStackFormat(std::string_view name) {
  if (name == "kn") return StackFormat::kKn;
  if (name == "kv") return StackFormat::kKv;
  if (name == "kc") return StackFormat::kKc;
  return std::nullopt;
}

std::vector<std::optional<uint64_t>> HomeSlots(const unwind::StackWalk& walk, size_t i,
                                               const unwind::MemoryReader& memory) {
  std::vector<std::optional<uint64_t>> slots(4);
  std::optional<uint64_t> above;  // the caller's Child-SP: return-address slot + 8
  if (i < walk.frames.size() && !walk.frames[i].unwound_machine_frame) {
    if (i + 1 < walk.frames.size()) {
      above = walk.frames[i + 1].rsp;
    } else if (walk.end == unwind::WalkEnd::kRipZero) {
      above = walk.end_caller_rsp;
    }
  }
  if (!above) return slots;
  for (uint64_t k = 0; k < 4; ++k) {
    absl::StatusOr<uint64_t> v = memory.ReadU64(*above + 8 * k);
    if (v.ok()) slots[k] = *v;
  }
  return slots;
}

void PrintStack(const StackOrigin& origin, const unwind::StackWalk& walk, StackFormat format,
                const unwind::MemoryReader* memory, std::ostream& out,
                const std::vector<FrameSymbol>* symbols) {
  if (format == StackFormat::kKn) return PrintStackText(origin, walk, out, symbols);
  const bool kv = format == StackFormat::kKv;
  sym::Stack stack;
  sym::ColumnHeader header;
  header.addresses = kv;
  header.args = kv;
  header.call_site = true;
  stack.column_header = header;
  auto source = [](const FrameSymbol& s) -> std::optional<sym::SourceLine> {
    if (s.source_file.empty()) return std::nullopt;
    return sym::SourceLine{s.source_file, s.source_line};
  };
  for (size_t i = 0; i < walk.frames.size(); ++i) {
    const unwind::StackFrame& f = walk.frames[i];
    const FrameSymbol* named = symbols != nullptr && i < symbols->size() ? &(*symbols)[i] : nullptr;
    for (size_t k = 0; named != nullptr && k < named->inlines.size(); ++k) {
      const FrameSymbol& in = named->inlines[k];
      sym::Frame row;
      row.kind = kv ? sym::FrameKind::kInline : sym::FrameKind::kCallSiteOnly;
      if (kv) row.args.assign(4, std::nullopt);
      row.call_site = sym::ParseCallSite(in.call_site);
      row.source = source(in);
      stack.frames.push_back(std::move(row));
    }
    sym::Frame row;
    row.kind = kv ? sym::FrameKind::kFull : sym::FrameKind::kCallSiteOnly;
    row.call_site = sym::ParseCallSite(named != nullptr ? named->call_site : CallSite(f));
    if (kv) {
      row.child_sp = f.rsp;
      if (i + 1 < walk.frames.size()) {
        row.return_address = walk.frames[i + 1].rip;
      } else if (walk.end == unwind::WalkEnd::kRipZero) {
        row.return_address = 0;
      }
      row.args = memory != nullptr ? HomeSlots(walk, i, *memory)
                                   : std::vector<std::optional<uint64_t>>(4);
      row.trap_frame = f.trap_frame;
    }
    if (named != nullptr) {
      row.chunk_start = named->chunk;
      row.source = source(*named);
    }
    if (ShowsTrust(f.trust)) row.trust = std::string(unwind::FrameTrustName(f.trust));
    stack.frames.push_back(std::move(row));
  }
  out << StackTitle(origin) << "\n" << sym::EmitStack(stack, sym::TextFormat::kKv);
  PrintWalkWarnings(walk, out);
}

std::string StackTitle(const StackOrigin& o) {
  if (o.context == "header") return "   DUMP_HEADER64.ContextRecord";
  if (o.context == "bugcheck" || o.context == "processor") {
    return absl::StrFormat("%s  Processor %u%s  KPRCB %s  Thread %s  (%s)",
                           o.context == "bugcheck" ? "#" : " ", o.processor.value_or(0),
                           o.context == "bugcheck" ? " (bugcheck)" : "", FormatAddress(o.prcb),
                           FormatAddress(o.kernel_thread), o.context_source);
  }
  if (o.context == "cxr") return absl::StrFormat("   .cxr %s", FormatAddress(o.cxr));
  return absl::StrFormat("%s %2u  Id: %x Suspend: %u Teb: %s (%s context)",
                         o.context == "exception" ? "#" : " ", o.thread_index, o.thread_id,
                         o.suspend_count, FormatAddress(o.teb), o.context);
}

void PrintStackText(const StackOrigin& origin, const unwind::StackWalk& walk, std::ostream& out,
                    const std::vector<FrameSymbol>* symbols) {
  out << StackTitle(origin) << "\n";
  out << " # Child-SP          RetAddr               Call Site\n";
  size_t number = 0;  // as kn numbers them: inline frames count
  for (size_t i = 0; i < walk.frames.size(); ++i) {
    const unwind::StackFrame& f = walk.frames[i];
    const FrameSymbol* named = symbols != nullptr && i < symbols->size() ? &(*symbols)[i] : nullptr;
    if (named != nullptr) {
      for (const FrameSymbol& in : named->inlines) {
        out << absl::StrFormat("%02x %s     %s%s\n", number++, kInlineFrameColumns, in.call_site,
                               in.Annotations());
      }
    }
    std::string line = absl::StrFormat(
        "%02x %s %s     %s%s", number++, FormatAddress(f.rsp), RetAddrText(walk, i),
        named != nullptr ? named->call_site : CallSite(f), TrapFrameText(f));
    if (named != nullptr) line += named->Annotations();
    if (ShowsTrust(f.trust)) {
      absl::StrAppendFormat(&line, "    [trust: %s]", unwind::FrameTrustName(f.trust));
    }
    out << line << "\n";
  }
  PrintWalkWarnings(walk, out);
}

nlohmann::json StackToJson(const StackOrigin& origin, const unwind::StackWalk& walk,
                           const StackOutputOptions& options,
                           const std::vector<FrameSymbol>* symbols) {
  nlohmann::json frames = nlohmann::json::array();
  size_t number = 0;  // the text's frame number: inline frames count
  for (size_t i = 0; i < walk.frames.size(); ++i) {
    const unwind::StackFrame& f = walk.frames[i];
    const FrameSymbol* named = symbols != nullptr && i < symbols->size() ? &(*symbols)[i] : nullptr;
    // Inline frames first, innermost first, as the text lists them: no
    // stack frame of their own, the physical frame's address.
    for (size_t k = 0; named != nullptr && k < named->inlines.size(); ++k) {
      nlohmann::json j;
      j["index"] = number++;
      j["inline"] = true;
      j["rip"] = Hex(f.rip);
      j["child_sp"] = nullptr;
      j["return_address"] = nullptr;
      AddNameFields(f, &named->inlines[k], j);
      frames.push_back(std::move(j));
    }
    nlohmann::json j;
    j["index"] = number++;
    j["inline"] = false;
    j["rip"] = Hex(f.rip);
    j["child_sp"] = Hex(f.rsp);
    if (i + 1 < walk.frames.size()) {
      j["return_address"] = Hex(walk.frames[i + 1].rip);
    } else if (walk.end == unwind::WalkEnd::kRipZero) {
      j["return_address"] = Hex(0);
    } else {
      j["return_address"] = nullptr;
    }
    AddNameFields(f, named, j);
    j["trust"] = std::string(unwind::FrameTrustName(f.trust));
    j["trap_frame"] = f.trap_frame ? nlohmann::json(Hex(*f.trap_frame)) : nlohmann::json(nullptr);
    nlohmann::json known = nlohmann::json::array();
    for (unsigned r = 0; r < unwind::kRegisterCount; ++r) {
      if (f.context.IsKnown(r)) known.push_back(std::string(unwind::RegisterName(r)));
    }
    j["known_registers"] = known;
    if (options.registers) {
      nlohmann::json regs = nlohmann::json::object();
      for (unsigned r = 0; r < 16; ++r) {
        if (f.context.IsKnown(r)) regs[std::string(unwind::GprName(r))] = Hex(f.context.gpr[r]);
      }
      if (f.context.IsKnown(unwind::kRegRip)) regs["rip"] = Hex(f.context.rip);
      if (f.context.IsKnown(unwind::kRegEflags)) regs["eflags"] = Hex(f.context.eflags);
      if (f.context.IsKnown(unwind::kRegCs)) regs["cs"] = Hex(f.context.cs);
      if (f.context.IsKnown(unwind::kRegSs)) regs["ss"] = Hex(f.context.ss);
      for (unsigned x = 0; x < 16; ++x) {
        if (f.context.IsKnown(unwind::kRegXmm0 + x)) {
          regs[absl::StrFormat("xmm%u", x)] =
              absl::StrFormat("0x%016x%016x", f.context.xmm[x].high, f.context.xmm[x].low);
        }
      }
      j["registers"] = regs;
    }
    if (f.function) {
      j["function"] = {
          {"begin_rva", Hex(f.function->found.begin)},
          {"end_rva", Hex(f.function->found.end)},
          {"kind", std::string(unwind::FunctionEntryKindName(f.function->kind))},
          {"primary_begin_rva", Hex(f.function->primary.begin)},
          {"chain_depth", f.function->chain_depth},
      };
    } else {
      j["function"] = nullptr;
    }
    if (i + 1 < walk.frames.size()) {
      j["unwind"] = {{"epilog", f.unwound_in_epilog},
                     {"prolog", f.unwound_in_prolog},
                     {"machine_frame", f.unwound_machine_frame}};
    }
    nlohmann::json warnings = nlohmann::json::array();
    for (const unwind::Warning& w : f.warnings) warnings.push_back(w.what);
    j["warnings"] = warnings;
    frames.push_back(std::move(j));
  }
  nlohmann::json warnings = nlohmann::json::array();
  for (const unwind::Warning& w : walk.warnings) warnings.push_back(w.what);
  nlohmann::json out = {
      {"dump", origin.dump},
      {"context", origin.context},
      {"frames", frames},
      {"end", std::string(unwind::WalkEndName(walk.end))},
      {"complete", unwind::IsCompleteEnd(walk.end)},
      {"end_detail", std::string(walk.status.message())},
      {"warnings", warnings},
  };
  if (origin.context == "exception" || origin.context == "thread") {
    out["thread_id"] = origin.thread_id;
    out["thread_index"] = origin.thread_index;
  }
  if (origin.processor) {
    out["processor"] = *origin.processor;
    out["prcb"] = Hex(origin.prcb);
    out["kernel_thread"] = Hex(origin.kernel_thread);
    out["context_source"] = origin.context_source;
  }
  if (origin.context == "cxr") out["cxr"] = Hex(origin.cxr);
  return out;
}

}  // namespace restack::tools
