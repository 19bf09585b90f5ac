// stack_output.cc - kn-style text and JSON for walked stacks
#include "stack_output.h"

#include "absl/strings/str_format.h"
#include "restack/unwind/unwind_info.h"

namespace restack::tools {

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

}  // namespace

void PrintStackText(const StackOrigin& origin, const unwind::StackWalk& walk, std::ostream& out) {
  out << absl::StrFormat("%s %2u  Id: %x Suspend: %u Teb: %s (%s context)\n",
                         origin.context == "exception" ? "#" : " ", origin.thread_index,
                         origin.thread_id, origin.suspend_count, FormatAddress(origin.teb),
                         origin.context);
  out << " # Child-SP          RetAddr               Call Site\n";
  bool heuristic = false;
  for (size_t i = 0; i < walk.frames.size(); ++i) {
    const unwind::StackFrame& f = walk.frames[i];
    std::string line = absl::StrFormat("%02x %s %s     %s", i, FormatAddress(f.rsp),
                                       RetAddrText(walk, i), CallSite(f));
    if (f.trust != unwind::FrameTrust::kContext && f.trust != unwind::FrameTrust::kUnwindInfo) {
      absl::StrAppendFormat(&line, "    [trust: %s]", unwind::FrameTrustName(f.trust));
      heuristic |= f.trust == unwind::FrameTrust::kScan ||
                   f.trust == unwind::FrameTrust::kFramePointer;
    }
    out << line << "\n";
  }
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

nlohmann::json StackToJson(const StackOrigin& origin, const unwind::StackWalk& walk,
                           const StackOutputOptions& options) {
  nlohmann::json frames = nlohmann::json::array();
  for (size_t i = 0; i < walk.frames.size(); ++i) {
    const unwind::StackFrame& f = walk.frames[i];
    nlohmann::json j;
    j["index"] = i;
    j["rip"] = Hex(f.rip);
    j["child_sp"] = Hex(f.rsp);
    if (i + 1 < walk.frames.size()) {
      j["return_address"] = Hex(walk.frames[i + 1].rip);
    } else if (walk.end == unwind::WalkEnd::kRipZero) {
      j["return_address"] = Hex(0);
    } else {
      j["return_address"] = nullptr;
    }
    j["call_site"] = CallSite(f);
    if (f.module != nullptr) {
      j["module"] = f.module->name;
      j["module_base"] = Hex(f.module->base);
      j["offset"] = Hex(f.rip - f.module->base);
    } else {
      j["module"] = nullptr;
    }
    j["trust"] = std::string(unwind::FrameTrustName(f.trust));
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
  return {
      {"dump", origin.dump},
      {"thread_id", origin.thread_id},
      {"thread_index", origin.thread_index},
      {"context", origin.context},
      {"frames", frames},
      {"end", std::string(unwind::WalkEndName(walk.end))},
      {"complete", unwind::IsCompleteEnd(walk.end)},
      {"end_detail", std::string(walk.status.message())},
      {"warnings", warnings},
  };
}

}  // namespace restack::tools
