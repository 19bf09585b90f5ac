// stack_text_call_site.cc - call sites (module!Function+0xOFF) and the annotations after them
//
// Annotations are read from the right end of a row, one at a time, each
// preceded by whitespace: [trust: x] (restack), [file @ line] (source lines),
// (TrapFrame @ a), (CONTEXT @ a), (Chunk @ a) (restack), (FPO: ...), (CONV: ...)
// and any other (Name @ address). Reading stops at the first thing that is not
// one, or at a second annotation of a kind already read; the rest is the call
// site. Each step scans only the annotation it takes, so a row costs O(length).
// An annotation never spans lines: in a kP row they all sit on the last line.
#include <algorithm>
#include <string>

#include "absl/strings/str_format.h"
#include "stack_text_internal.h"

namespace restack::sym::stack_text {
namespace {

constexpr size_t npos = std::string_view::npos;

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Position of the bracket opening the one at s[close] (same kind, nesting
// counted), or npos.
size_t MatchOpen(std::string_view s, size_t close) {
  const char closer = s[close];
  const char opener = closer == ')' ? '(' : '[';
  size_t depth = 0;
  for (size_t i = close + 1; i-- > 0;) {
    if (s[i] == closer) {
      ++depth;
    } else if (s[i] == opener) {
      if (--depth == 0) return i;
    }
  }
  return npos;
}

// Whether s has whitespace or a line break: such text is not a module name.
bool HasSpaceOrBreak(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || SpaceAt(s, i) != 0) return true;
  }
  return false;
}

// "+0x<1..16 hex digits>" (or restack's "-0x...") at the end of s: the
// position of the sign, the value and whether it is negative.
struct Offset {
  size_t first = 0;
  uint64_t second = 0;
  bool negative = false;
};
std::optional<Offset> TrailingOffset(std::string_view s) {
  size_t digits = 0;
  while (digits < s.size() && IsHexDigit(s[s.size() - 1 - digits])) {
    if (++digits > 16) return std::nullopt;
  }
  if (digits == 0 || s.size() < digits + 3) return std::nullopt;
  const size_t plus = s.size() - digits - 3;
  const std::string_view sign = s.substr(plus, 3);
  if (sign != "+0x" && sign != "-0x") return std::nullopt;
  std::optional<uint64_t> v = ParseHex(s.substr(plus + 3));
  if (!v) return std::nullopt;
  return Offset{plus, *v, sign[0] == '-'};
}

// A call site that is only an address: 0x<address> or fffff880`01e7dcc9.
std::optional<uint64_t> BareAddress(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x') return ParseLooseAddress(s);
  if (s.size() == 17 && s[8] == '`') {
    std::optional<Cell> cell = ParseCell(s);
    if (cell && cell->kind == Cell::kValue) return cell->value;
  }
  return std::nullopt;
}

// "<Name> @ <address>": the name and address.
std::optional<std::pair<std::string_view, uint64_t>> NameAtAddress(std::string_view inner) {
  const std::vector<Token> t = Tokenize(inner, 4);
  if (t.size() != 3 || TokenText(inner, t[1]) != "@") return std::nullopt;
  std::optional<uint64_t> address = ParseLooseAddress(TokenText(inner, t[2]));
  if (!address || !IsIdentifier(TokenText(inner, t[0]))) return std::nullopt;
  return std::make_pair(TokenText(inner, t[0]), *address);
}

bool TakeBracket(std::string_view inner, Frame& frame) {
  if (inner.substr(0, 4) == "was:") {
    if (frame.was) return false;
    frame.was = std::string(Trim(inner.substr(4)));
    return true;
  }
  if (inner.substr(0, 6) == "trust:") {
    if (frame.trust) return false;
    frame.trust = std::string(Trim(inner.substr(6)));
    return true;
  }
  // [file @ line]
  const size_t at = inner.rfind('@');
  if (at == npos || frame.source) return false;
  std::optional<uint64_t> line = ParseDecimal(Trim(inner.substr(at + 1)), 10);
  if (!line || SpaceBefore(inner, at) == 0 || SpaceAt(inner, at + 1) == 0) return false;
  frame.source = SourceLine{std::string(Trim(inner.substr(0, at))), *line};
  return true;
}

bool TakeParen(std::string_view inner, std::string_view printed, Frame& frame,
               std::vector<std::string>& others) {
  if (inner.substr(0, 4) == "FPO:") {
    if (frame.fpo) return false;
    std::string_view content = Trim(inner.substr(4));
    // x86: (FPO: [0,0] TrapFrame @ b8d5fb64)
    if (!frame.trap_frame) {
      const size_t tf = content.rfind("TrapFrame");
      if (tf != npos && (tf == 0 || SpaceBefore(content, tf) != 0)) {
        if (auto named = NameAtAddress(content.substr(tf)); named && named->first == "TrapFrame") {
          frame.trap_frame = named->second;
          content = TrimRight(content.substr(0, tf));
        }
      }
    }
    frame.fpo = std::string(content);
    return true;
  }
  if (inner.substr(0, 5) == "CONV:") {
    if (frame.conv) return false;
    frame.conv = std::string(Trim(inner.substr(5)));
    return true;
  }
  auto named = NameAtAddress(inner);
  if (!named) return false;
  std::optional<uint64_t>* field = nullptr;
  if (named->first == "TrapFrame") field = &frame.trap_frame;
  if (named->first == "CONTEXT") field = &frame.context_record;
  if (named->first == "Chunk") field = &frame.chunk_start;
  if (field == nullptr) {
    others.emplace_back(printed);
    return true;
  }
  if (field->has_value()) return false;
  *field = named->second;
  return true;
}

std::string AnnotationAddress(uint64_t value, bool wide) {
  return FormatAddress(value, wide || value > 0xffffffffu);
}

}  // namespace

int ParenDepth(std::string_view text, int depth) {
  // A plain count: it does not depend on the order of the annotations, which
  // the emitters change.
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
  }
  return depth;
}

bool ParseCallSiteAndAnnotations(std::string_view text, Frame& frame) {
  std::string_view t = Trim(text);
  std::vector<std::string> others;  // right to left
  while (!t.empty() && (t.back() == ')' || t.back() == ']')) {
    const size_t open = MatchOpen(t, t.size() - 1);
    if (open == npos || SpaceBefore(t, open) == 0) break;
    const std::string_view rest = TrimRight(t.substr(0, open));
    if (rest.empty()) break;
    const std::string_view inner = t.substr(open + 1, t.size() - open - 2);
    // Annotations sit on the last line of a kP row.
    if (inner.find('\n') != std::string_view::npos) break;
    const bool taken = t.back() == ']' ? TakeBracket(inner, frame)
                                       : TakeParen(inner, t.substr(open), frame, others);
    if (!taken) break;
    t = rest;
  }
  frame.other_annotations.assign(others.rbegin(), others.rend());
  frame.call_site = ParseCallSite(t);
  return !t.empty();
}

std::string FormatCallSiteAndAnnotations(const Frame& f) {
  std::string s = f.call_site.text.empty() ? FormatCallSite(f.call_site) : f.call_site.text;
  if (f.fpo) {
    s += " (FPO: " + *f.fpo;
    if (f.trap_frame) {
      if (!f.fpo->empty()) s += ' ';
      s += "TrapFrame @ " + AnnotationAddress(*f.trap_frame, f.wide);
    }
    s += ')';
  }
  if (f.conv) s += " (CONV: " + *f.conv + ")";
  if (f.trap_frame && !f.fpo) s += " (TrapFrame @ " + AnnotationAddress(*f.trap_frame, f.wide) + ")";
  if (f.context_record) s += " (CONTEXT @ " + AnnotationAddress(*f.context_record, f.wide) + ")";
  if (f.chunk_start) s += " (Chunk @ " + AnnotationAddress(*f.chunk_start, f.wide) + ")";
  for (const std::string& a : f.other_annotations) s += " " + a;
  if (f.source) s += absl::StrFormat(" [%s @ %d]", f.source->file, f.source->line);
  if (f.trust) s += "    [trust: " + *f.trust + "]";
  if (f.was) s += "    [was: " + *f.was + "]";
  return s;
}

bool LooksLikeCallSite(const CallSite& site) { return !site.module.empty() || site.address; }

}  // namespace restack::sym::stack_text

namespace restack::sym {

CallSite ParseCallSite(std::string_view text) {
  using namespace stack_text;
  CallSite cs;
  cs.text = std::string(text);
  if (std::optional<uint64_t> a = BareAddress(text)) {
    cs.address = a;
    return cs;
  }
  const size_t bang = text.find('!');
  if (bang != npos && bang > 0 && !HasSpaceOrBreak(text.substr(0, bang))) {
    cs.module = std::string(text.substr(0, bang));
    std::string_view rest = TrimLeft(text.substr(bang + 1));
    if (auto off = TrailingOffset(rest)) {
      cs.offset = off->second;
      cs.negative_offset = off->negative;
      rest = rest.substr(0, off->first);
    }
    // kp: the parameters are the last parenthesised group, unless it is the
    // "()" of operator().
    if (!rest.empty() && rest.back() == ')') {
      const size_t open = MatchOpen(rest, rest.size() - 1);
      if (open != npos && open > 0) {
        const std::string_view name = rest.substr(0, open);
        const bool call_operator = rest.substr(open) == "()" && name.size() >= 8 &&
                                   name.substr(name.size() - 8) == "operator";
        if (!call_operator) {
          cs.parameters = std::string(rest.substr(open));
          rest = name;
        }
      }
    }
    cs.function = std::string(rest);
    return cs;
  }
  if (auto off = TrailingOffset(text)) {
    const std::string_view module = text.substr(0, off->first);
    // module+0xOFF counts from the module base: never negative.
    if (!module.empty() && module.find('!') == npos && !HasSpaceOrBreak(module) && !off->negative) {
      cs.module = std::string(module);
      cs.offset = off->second;
    }
    return cs;
  }
  if (!text.empty() && text.find('!') == npos && !HasSpaceOrBreak(text)) cs.module = std::string(text);
  return cs;
}

std::string FormatCallSite(const CallSite& parts) {
  if (parts.address) return "0x" + stack_text::FormatAddress(*parts.address);
  std::string s = parts.module;
  if (!parts.function.empty() || !parts.parameters.empty()) s += "!" + parts.function + parts.parameters;
  if (parts.offset) s += absl::StrFormat("%c0x%x", parts.negative_offset ? '-' : '+', *parts.offset);
  return s;
}

}  // namespace restack::sym
