// frame_key.cc - call sites reduced to matching keys
#include "common/frame_key.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace restack::tools {

std::string_view FrameKeyKindName(FrameKeyKind kind) {
  switch (kind) {
    case FrameKeyKind::kFunction:
      return "function";
    case FrameKeyKind::kModuleOffset:
      return "module_offset";
    case FrameKeyKind::kChunk:
      return "chunk";
    case FrameKeyKind::kModule:
      return "module";
    case FrameKeyKind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

bool FrameKey::Matches(const FrameKey& other) const {
  return kind != FrameKeyKind::kUnknown && other.kind != FrameKeyKind::kUnknown &&
         key == other.key;
}

bool IsStringLiteralName(std::string_view function) {
  // WinDbg's undecorated form: "?? ::FNODOBFM::`string'"; the decorated one
  // from a PDB without undecoration: "??_C@_0BA@CKLMHCHN@...".
  return function.find("`string'") != std::string_view::npos || function.substr(0, 5) == "??_C@";
}

FrameKey KeyOf(const sym::CallSite& site) {
  FrameKey k;
  k.call_site = site.text.empty() ? sym::FormatCallSite(site) : site.text;
  k.offset = site.offset;
  k.negative_offset = site.negative_offset;
  if (site.address || site.module.empty()) {
    k.kind = FrameKeyKind::kUnknown;
    k.name = "<unknown>";
    k.key = "<unknown>";
    return k;
  }
  k.module = site.module;
  // Module names compare as Windows compares file names.
  const std::string module_key = absl::AsciiStrToLower(site.module);
  if (!site.function.empty()) {
    if (IsStringLiteralName(site.function)) {
      k.kind = FrameKeyKind::kChunk;
      k.function = site.function;
      k.name = site.module + "!<chunk>";
      k.key = module_key + "!<chunk>";
    } else {
      k.kind = FrameKeyKind::kFunction;
      k.function = site.function;
      k.name = site.module + "!" + site.function;
      k.key = module_key + "!" + site.function;
    }
    return k;
  }
  if (site.offset) {
    k.kind = FrameKeyKind::kModuleOffset;
    const std::string off = absl::StrFormat("+0x%x", *site.offset);
    k.name = site.module + off;
    k.key = module_key + off;
    return k;
  }
  k.kind = FrameKeyKind::kModule;
  k.name = site.module;
  k.key = module_key;
  return k;
}

FrameKey KeyOf(std::string_view call_site) { return KeyOf(sym::ParseCallSite(call_site)); }

}  // namespace restack::tools
