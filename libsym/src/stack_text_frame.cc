// stack_text_frame.cc - one frame row of k, kb, kv, kn, kp, kP, kf, kc, kL and STACK_TEXT
//
// A row is, left to right: an optional frame number (kn, 2-4 hex digits), an
// optional Memory column (kf, 1-7 hex digits), Child-SP and RetAddr (or
// "(Inline Function) --------`--------"), optionally " : " args " : " (kb/kv
// on x64; x86 prints three args without colons), then the call site and its
// annotations. kc rows are an optional number and the call site. The columns
// are found by their shape, not by the command that printed them; the column
// header only settles whether a lone short number is a frame number or kf's
// Memory.
#include "stack_text_internal.h"

namespace restack::sym::stack_text {
namespace {

// Frame numbers are printed %02x; stacks longer than 0x10000 frames are split.
bool IsFrameNumber(std::string_view t) { return t.size() >= 2 && t.size() <= 4 && ParseHex(t); }
// kf's Memory column: the frame's stack use.
bool IsShortHex(std::string_view t) { return t.size() >= 1 && t.size() <= 7 && ParseHex(t); }

constexpr size_t kMaxArgs = 4;

std::optional<Frame> ParseCallSiteRow(std::string_view row) {
  Frame f;
  f.kind = FrameKind::kCallSiteOnly;
  const std::vector<Token> t = Tokenize(row, 2);
  size_t start = 0;
  if (t.size() == 2 && IsFrameNumber(TokenText(row, t[0]))) {
    f.number = static_cast<uint32_t>(*ParseHex(TokenText(row, t[0])));
    start = t[0].end;
  }
  if (!ParseCallSiteAndAnnotations(row.substr(start), f)) return std::nullopt;
  if (!LooksLikeCallSite(f.call_site)) return std::nullopt;
  return f;
}

std::optional<Frame> ParseAddressRow(std::string_view row, const ColumnHeader* header) {
  // number, memory, 2 address columns (3 tokens for "(Inline Function)"),
  // ':', 4 args, ':' and the first token of the call site.
  const std::vector<Token> t = Tokenize(row, 14);
  auto text = [&](size_t i) { return i < t.size() ? TokenText(row, t[i]) : std::string_view(); };
  auto cell = [&](size_t i) { return i < t.size() ? ParseCell(text(i)) : std::nullopt; };
  auto column_start = [&](size_t i) {
    return cell(i) || text(i) == "(Inline)" || (text(i) == "(Inline" && text(i + 1) == "Function)");
  };

  Frame f;
  size_t i = 0;
  while (i < 2 && IsShortHex(text(i)) && !column_start(i)) ++i;
  if (!column_start(i)) return std::nullopt;
  if (i == 1) {
    if (header != nullptr && header->memory && !header->number) {
      f.memory = ParseHex(text(0));
    } else if (IsFrameNumber(text(0))) {
      f.number = static_cast<uint32_t>(*ParseHex(text(0)));
    } else {
      return std::nullopt;
    }
  } else if (i == 2) {
    if (!IsFrameNumber(text(0))) return std::nullopt;
    f.number = static_cast<uint32_t>(*ParseHex(text(0)));
    f.memory = ParseHex(text(1));
  }

  // Child-SP (ChildEBP) or the inline marker.
  bool wide = false;
  bool narrow_columns = true;  // x86: both address columns 8 digits
  if (text(i) == "(Inline") {
    f.kind = FrameKind::kInline;
    wide = true;
    narrow_columns = false;
    i += 2;
  } else if (text(i) == "(Inline)") {
    f.kind = FrameKind::kInline;
    i += 1;
  } else {
    const Cell c = *cell(i);
    if (c.kind == Cell::kValue) f.child_sp = c.value;
    wide |= c.wide;
    narrow_columns &= !c.wide;
    i += 1;
  }
  // RetAddr
  const std::optional<Cell> ret = cell(i);
  if (!ret) return std::nullopt;
  if (ret->kind == Cell::kValue) f.return_address = ret->value;
  wide |= ret->wide;
  narrow_columns &= !ret->wide;
  size_t rest = t[i].end;
  i += 1;

  if (text(i) == ":") {
    // kb/kv: " : " args " : "
    ++i;
    while (i < t.size() && text(i) != ":") {
      const std::optional<Cell> a = cell(i);
      if (!a || f.args.size() == kMaxArgs) return std::nullopt;
      f.args.push_back(a->kind == Cell::kValue ? std::optional<uint64_t>(a->value) : std::nullopt);
      wide |= a->wide;
      ++i;
    }
    if (i >= t.size() || f.args.empty()) return std::nullopt;
    rest = t[i].end;
  } else if (narrow_columns && i + 3 < t.size()) {
    // x86 kb/kv: exactly three 8-digit args, then the call site.
    std::vector<std::optional<uint64_t>> args;
    for (size_t k = i; k < i + 3; ++k) {
      const std::optional<Cell> a = cell(k);
      if (!a || a->wide) break;
      args.push_back(a->kind == Cell::kValue ? std::optional<uint64_t>(a->value) : std::nullopt);
    }
    if (args.size() == 3) {
      f.args = std::move(args);
      rest = t[i + 2].end;
    }
  }
  f.wide = wide;
  // A call site that would read as columns once the row is written without
  // its arguments (k/kn layout) is not one: a lone ':' or, after 8-digit
  // columns, three 8-digit values and more.
  const std::string_view site = row.substr(rest);
  const std::vector<Token> head = Tokenize(site, 4);
  if (!head.empty() && TokenText(site, head[0]) == ":") return std::nullopt;
  if (narrow_columns && head.size() == 4) {
    size_t cells = 0;
    for (size_t k = 0; k < 3; ++k) {
      const std::optional<Cell> c = ParseCell(TokenText(site, head[k]));
      cells += c && !c->wide;
    }
    if (cells == 3) return std::nullopt;
  }
  if (!ParseCallSiteAndAnnotations(site, f)) return std::nullopt;
  return f;
}

}  // namespace

std::optional<Frame> ParseFrameRow(std::string_view row, const ColumnHeader* header) {
  if (std::optional<Frame> f = ParseAddressRow(row, header)) return f;
  if (header != nullptr && header->call_site && !header->addresses) return ParseCallSiteRow(row);
  return std::nullopt;
}

}  // namespace restack::sym::stack_text
