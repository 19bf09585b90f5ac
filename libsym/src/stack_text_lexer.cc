// stack_text_lexer.cc - whitespace, tokens, numbers and address cells of stack text
#include <string>

#include "absl/strings/str_format.h"
#include "stack_text_internal.h"

namespace restack::sym::stack_text {

size_t SpaceAt(std::string_view s, size_t i) {
  if (i >= s.size()) return 0;
  if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') return 1;
  if (s[i] == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') return 2;
  return 0;
}

size_t SpaceBefore(std::string_view s, size_t i) {
  if (i == 0 || i > s.size()) return 0;
  if (s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '\r') return 1;
  if (i >= 2 && s[i - 2] == '\xC2' && s[i - 1] == '\xA0') return 2;
  return 0;
}

std::string_view TrimLeft(std::string_view s) {
  size_t i = 0;
  while (size_t n = SpaceAt(s, i)) i += n;
  return s.substr(i);
}

std::string_view TrimRight(std::string_view s) {
  size_t i = s.size();
  while (size_t n = SpaceBefore(s, i)) i -= n;
  return s.substr(0, i);
}

std::string_view Trim(std::string_view s) { return TrimRight(TrimLeft(s)); }

bool IsBlank(std::string_view s) { return TrimLeft(s).empty(); }

std::string CollapseSpaces(std::string_view s) {
  std::string out;
  for (const Token& t : Tokenize(s)) {
    if (!out.empty()) out += ' ';
    out.append(TokenText(s, t));
  }
  return out;
}

std::vector<Token> Tokenize(std::string_view s, size_t limit) {
  std::vector<Token> tokens;
  tokens.reserve(limit < 16 ? limit : 16);
  size_t i = 0;
  while (i < s.size() && tokens.size() < limit) {
    while (size_t n = SpaceAt(s, i)) i += n;
    if (i >= s.size()) break;
    const size_t begin = i;
    while (i < s.size() && SpaceAt(s, i) == 0) ++i;
    tokens.push_back({begin, i});
  }
  return tokens;
}

std::string_view FirstToken(std::string_view s) {
  s = TrimLeft(s);
  size_t i = 0;
  while (i < s.size() && SpaceAt(s, i) == 0) ++i;
  return s.substr(0, i);
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

namespace {

unsigned HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

bool AllChar(std::string_view s, char c) {
  for (char x : s) {
    if (x != c) return false;
  }
  return true;
}

}  // namespace

std::optional<uint64_t> ParseHex(std::string_view s, size_t max_digits) {
  if (s.empty() || s.size() > max_digits || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (!IsHexDigit(c)) return std::nullopt;
    v = (v << 4) | HexValue(c);
  }
  return v;
}

std::optional<uint64_t> ParseDecimal(std::string_view s, size_t max_digits) {
  if (s.empty() || s.size() > max_digits || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::optional<uint64_t> ParseLooseAddress(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  const size_t tick = s.find('`');
  if (tick == std::string_view::npos) return ParseHex(s);
  if (s.size() - tick - 1 != 8) return std::nullopt;
  std::optional<uint64_t> high = ParseHex(s.substr(0, tick), 8);
  std::optional<uint64_t> low = ParseHex(s.substr(tick + 1), 8);
  if (!high || !low) return std::nullopt;
  return (*high << 32) | *low;
}

std::optional<Cell> ParseCell(std::string_view t) {
  if (t.size() == 17 && t[8] == '`') {
    const std::string_view high = t.substr(0, 8), low = t.substr(9);
    if (AllChar(high, '?') && AllChar(low, '?')) return Cell{Cell::kUnknown, 0, true};
    if (AllChar(high, '-') && AllChar(low, '-')) return Cell{Cell::kDash, 0, true};
    std::optional<uint64_t> h = ParseHex(high, 8), l = ParseHex(low, 8);
    if (!h || !l) return std::nullopt;
    return Cell{Cell::kValue, (*h << 32) | *l, true};
  }
  if (t.size() == 16) {
    std::optional<uint64_t> v = ParseHex(t, 16);
    if (!v) return std::nullopt;
    return Cell{Cell::kValue, *v, true};
  }
  if (t.size() == 8) {
    if (AllChar(t, '?')) return Cell{Cell::kUnknown, 0, false};
    if (AllChar(t, '-')) return Cell{Cell::kDash, 0, false};
    std::optional<uint64_t> v = ParseHex(t, 8);
    if (!v) return std::nullopt;
    return Cell{Cell::kValue, *v, false};
  }
  return std::nullopt;
}

std::string FormatAddress(uint64_t value, bool wide) {
  if (!wide) return absl::StrFormat("%08x", value & 0xffffffff);
  return absl::StrFormat("%08x`%08x", value >> 32, value & 0xffffffff);
}

std::string FormatCell(const std::optional<uint64_t>& value, bool wide, bool dash) {
  if (value) return FormatAddress(*value, wide);
  if (dash) return wide ? "--------`--------" : "--------";
  return wide ? "????????`????????" : "????????";
}

}  // namespace restack::sym::stack_text
