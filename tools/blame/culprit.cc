// culprit.cc - the triage search down one stack, and !analyze's names for its result
#include "blame/culprit.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace restack::tools {

std::string ImageNameOf(const InputStack& stack, const InputFrame& frame) {
  if (!frame.image.empty()) return frame.image;
  const std::string lower = absl::AsciiStrToLower(frame.key.module);
  if (lower == "nt") return "ntkrnlmp.exe";
  if (lower == "hal") return "hal.dll";
  return frame.key.module + (stack.kernel ? ".sys" : ".dll");
}

std::string SymbolNameOf(const FrameKey& key) {
  std::string s = key.module;
  if (!key.function.empty()) s += "!" + key.function;
  if (key.offset) absl::StrAppendFormat(&s, "%c%x", key.negative_offset ? '-' : '+', *key.offset);
  return s;
}

std::string BucketIdOf(const std::string& symbol, std::optional<uint32_t> code,
                       bool exception_code) {
  if (!code) return symbol;
  return exception_code ? absl::StrFormat("%X_%s", *code, symbol)
                        : absl::StrFormat("0x%X_%s", *code, symbol);
}

AnalyzeNames NamesOf(const InputStack& stack, size_t frame) {
  const InputFrame& f = stack.frames[frame];
  AnalyzeNames n;
  n.module = f.key.module;
  n.image = ImageNameOf(stack, f);
  n.symbol = SymbolNameOf(f.key);
  n.bucket = BucketIdOf(n.symbol, stack.failure_code, stack.failure_is_exception);
  n.call_site = f.key.call_site;
  return n;
}

StackBlame BlameStack(const InputStack& stack, const TriageRules& rules) {
  StackBlame b;
  b.owners.resize(stack.frames.size());
  for (size_t i = 0; i < stack.frames.size(); ++i) {
    const FrameKey& k = stack.frames[i].key;
    if (k.kind != FrameKeyKind::kUnknown) b.owners[i].rule = rules.Match(k.module, k.function);
  }
  // The topmost definite owner; failing that the topmost maybe_, then last_.
  // Frames without an owner and ignored frames are passed over.
  for (OwnerClass wanted : {OwnerClass::kDefinite, OwnerClass::kMaybe, OwnerClass::kLast}) {
    for (size_t i = 0; i < b.owners.size(); ++i) {
      const TriageRule* rule = b.owners[i].rule;
      if (rule != nullptr && rule->owner_class == wanted) {
        b.culprit = Culprit{i, rule, NamesOf(stack, i)};
        return b;
      }
    }
  }
  return b;
}

}  // namespace restack::tools
