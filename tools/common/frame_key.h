// frame_key.h - a call site reduced to what two stacks can share: module!Function,
// module+0xRVA, module!<chunk> or <unknown>
//
// Two dumps of the same crash differ in load addresses, OS builds and offsets
// inside functions; what lines them up is the function (or, without symbols,
// the module and RVA). restack-diff aligns stacks on these keys and
// restack-blame matches triage rules against their parts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "restack/sym/stack_text.h"

namespace restack::tools {

// How a call site was reduced.
enum class FrameKeyKind {
  kFunction,      // module!Function (the offset kept for display only)
  kModuleOffset,  // module+0xRVA: no symbols, the module base known
  kChunk,         // module!<chunk>: a separated chunk named after a string literal
  kModule,        // module alone (kc prints a module without symbols so)
  kUnknown,       // a bare address, or text that is no call site
};

// "function", "module_offset", "chunk", "module", "unknown" (restack-diff's JSON).
std::string_view FrameKeyKindName(FrameKeyKind kind);

// One frame's key. Keys compare equal when `key` is equal; kUnknown keys
// never match anything (two unknown addresses say nothing about each other).
struct FrameKey {
  FrameKeyKind kind = FrameKeyKind::kUnknown;
  std::string key;       // for matching: module lower-cased ("hamdrv+0x1f0a", "nt!<chunk>")
  std::string name;      // the same as displayed: "Hamdrv+0x1f0a", "nt!<chunk>", "<unknown>"
  std::string module;    // "Hamdrv", "nt"; "" for kUnknown
  std::string function;  // "KeBugCheckEx"; the literal's name for kChunk; "" otherwise
  // From the function (kFunction, kChunk) or the module base (kModuleOffset).
  std::optional<uint64_t> offset;
  bool negative_offset = false;  // restack's "Parent-0xb2"
  std::string call_site;         // the call site as printed ("nt!KeBugCheckEx+0x12")

  // Same key, and neither is kUnknown.
  bool Matches(const FrameKey& other) const;
};

// Whether a function name is WinDbg's name for a string literal, which it
// gives to code of a separated chunk that follows one: "?? ::FNODOBFM::`string'"
// or a decorated literal ("??_C@_0BA@...").
bool IsStringLiteralName(std::string_view function);

// The key of a parsed call site. restack's "(Chunk @ ...)" frames already
// carry their function's name (ParseCallSite keeps "Parent-0xOFF"), so they
// reduce to module!Parent like any named frame.
FrameKey KeyOf(const sym::CallSite& site);

// The same for call-site text ("nt! ?? ::FNODOBFM::`string'+0x2a9ab").
FrameKey KeyOf(std::string_view call_site);

}  // namespace restack::tools
