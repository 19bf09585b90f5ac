// stack_text_internal.h - pieces shared by the stack_text_*.cc files (not installed)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "restack/sym/stack_text.h"

namespace restack::sym::stack_text {

// --- stack_text_lexer.cc: whitespace, tokens, numbers, address cells ---

// Bytes of the whitespace character at s[i]: 1 for ' ', '\t' and '\r' (CRLF
// text, stray carriage returns), 2 for a UTF-8 no-break space (C2 A0, as
// pasted from web pages), 0 otherwise.
size_t SpaceAt(std::string_view s, size_t i);
// Whether s[i - n, i) is whitespace ending exactly at i; its length or 0.
size_t SpaceBefore(std::string_view s, size_t i);
std::string_view TrimLeft(std::string_view s);
std::string_view TrimRight(std::string_view s);
std::string_view Trim(std::string_view s);
bool IsBlank(std::string_view s);
// Whitespace runs as single spaces, ends trimmed.
std::string CollapseSpaces(std::string_view s);

struct Token {
  size_t begin = 0;
  size_t end = 0;
};
// Tokens split at whitespace, at most `limit` of them (the last one may then
// be followed by more text).
std::vector<Token> Tokenize(std::string_view s, size_t limit = SIZE_MAX);
// The first token of s ("" for a blank line).
std::string_view FirstToken(std::string_view s);
inline std::string_view TokenText(std::string_view s, const Token& t) {
  return s.substr(t.begin, t.end - t.begin);
}

bool IsHexDigit(char c);
// 1..max_digits hex digits, nothing else.
std::optional<uint64_t> ParseHex(std::string_view s, size_t max_digits = 16);
// 1..max_digits decimal digits, nothing else, no overflow of uint64_t.
std::optional<uint64_t> ParseDecimal(std::string_view s, size_t max_digits = 19);
// An address as debuggers print one outside the frame columns: optional 0x,
// 1..16 hex digits or 1..8`8 (a backtick before the low 8 digits).
std::optional<uint64_t> ParseLooseAddress(std::string_view s);

// A value in an address column of a frame row.
struct Cell {
  enum Kind { kValue, kUnknown, kDash } kind = kValue;
  uint64_t value = 0;
  bool wide = true;  // 16 digits (with or without the backtick) rather than 8
};
// fffff880`031a9d48, fffff880031a9d48, 0012f5c4, ????????`????????, ????????,
// --------`--------, --------.
std::optional<Cell> ParseCell(std::string_view token);

// 00000000`00000000 (wide) or 00000000 (narrow).
std::string FormatAddress(uint64_t value, bool wide = true);
std::string FormatCell(const std::optional<uint64_t>& value, bool wide, bool dash);

// --- stack_text_call_site.cc: call sites and their annotations ---

// Reads "call site [annotations]" (trimmed) into frame.call_site and the
// annotation fields. False when nothing is left for the call site.
bool ParseCallSiteAndAnnotations(std::string_view text, Frame& frame);
// Call site text plus annotations as kv prints them (trust as restack does).
std::string FormatCallSiteAndAnnotations(const Frame& frame);
// Whether a kc row's text is a call site (module, module!function or address).
bool LooksLikeCallSite(const CallSite& site);
// Paren depth at the end of `text` ('(' minus ')', from `start_depth`). A kP
// row whose first line ends with '(' continues while it is > 0.
int ParenDepth(std::string_view text, int start_depth = 0);

// --- stack_text_frame.cc: frame rows ---

// One frame row (a kP row's lines joined with "\n"), guided by the stack's
// column header (nullptr when there is none). Sets no `lines`.
std::optional<Frame> ParseFrameRow(std::string_view row, const ColumnHeader* header);

// --- stack_text_header.cc: lines before the frames ---

bool IsThreadLine(std::string_view line);
bool IsStackTextLabel(std::string_view line);
// "WARNING: ...", "*** ...", "ERROR: ...", "Unable to ...".
bool IsNoteLine(std::string_view line);
// Reads one !thread line (THREAD line or detail) into `info`.
void ReadThreadLine(std::string_view line, ThreadInfo& info);

// --- stack_text_emit.cc ---

// The column header kKv writes for `stack` (a kc header when any row is kc).
std::string KvColumnHeader(const Stack& stack);
inline constexpr std::string_view kRestackColumnHeader =
    " # Child-SP          RetAddr               Call Site";

}  // namespace restack::sym::stack_text
