// stack_text_emit.cc - writing stack text: as read, in WinDbg's kv layout, in restack's kn form
//
// Column layouts, x64 (17-character addresses):
//   kv/kb  "Child-SP          RetAddr           : Args to Child<pad to 71> : Call Site"
//          "fffff880`031a9d48 fffff803`d802e6f2 : <4 args, one space apart> : nt!KeBugCheckEx"
//   k      "Child-SP          RetAddr           Call Site"
//   kn     " # " before the header, "%02x " before each row
//   restack " # Child-SP          RetAddr               Call Site" and
//          "00 <child-sp> <retaddr>     <call site>    [trust: x]" (tools/common/stack_output.cc)
// x86 (8 digits): "ChildEBP RetAddr  Args to Child              " and rows with three
// args and no colons; other arg counts keep the colons so they read back.
#include <algorithm>
#include <string>

#include "absl/strings/str_format.h"
#include "stack_text_internal.h"

namespace restack::sym {
namespace {

using namespace stack_text;

bool HasCallSiteRows(const Stack& stack) {
  return std::any_of(stack.frames.begin(), stack.frames.end(),
                     [](const Frame& f) { return f.kind == FrameKind::kCallSiteOnly; });
}

// The address columns of a row: "child-sp retaddr" or the inline marker.
std::string AddressColumns(const Frame& f) {
  if (f.kind == FrameKind::kInline) {
    return std::string(f.wide ? "(Inline Function)" : "(Inline)") + " " +
           FormatCell(f.return_address, f.wide, true);
  }
  return FormatCell(f.child_sp, f.wide, false) + " " + FormatCell(f.return_address, f.wide, false);
}

std::string KvRow(const Frame& f) {
  std::string s;
  if (f.number) s += absl::StrFormat("%02x ", *f.number);
  if (f.kind == FrameKind::kCallSiteOnly) return s + FormatCallSiteAndAnnotations(f);
  s += AddressColumns(f);
  if (!f.args.empty()) {
    const bool inline_row = f.kind == FrameKind::kInline;
    std::string args;
    for (const std::optional<uint64_t>& a : f.args) {
      if (!args.empty()) args += ' ';
      args += FormatCell(a, f.wide, inline_row);
    }
    s += !f.wide && f.args.size() == 3 ? " " + args + " " : " : " + args + " : ";
  } else {
    s += ' ';
  }
  return s + FormatCallSiteAndAnnotations(f);
}

std::string RestackRow(const Frame& f, size_t index) {
  std::string s = absl::StrFormat("%02x ", f.number.value_or(static_cast<uint32_t>(index)));
  if (f.kind == FrameKind::kCallSiteOnly) return s + FormatCallSiteAndAnnotations(f);
  return s + AddressColumns(f) + "     " + FormatCallSiteAndAnnotations(f);
}

std::string CallSiteHeader(const Stack& stack) {
  const bool numbered = std::any_of(stack.frames.begin(), stack.frames.end(),
                                    [](const Frame& f) { return f.number.has_value(); });
  return numbered ? " # Call Site" : "Call Site";
}

}  // namespace

namespace stack_text {

std::string KvColumnHeader(const Stack& stack) {
  if (HasCallSiteRows(stack)) return CallSiteHeader(stack);
  bool numbered = false, args = false, wide = stack.frames.empty();
  for (const Frame& f : stack.frames) {
    numbered |= f.number.has_value();
    args |= !f.args.empty();
    wide |= f.wide;
  }
  std::string h = numbered ? " # " : "";
  if (wide) {
    h += args ? absl::StrFormat("%-17s %-17s : %-71s : Call Site", "Child-SP", "RetAddr", "Args to Child")
              : absl::StrFormat("%-17s %-17s Call Site", "Child-SP", "RetAddr");
  } else {
    h += args ? "ChildEBP RetAddr  Args to Child              " : "ChildEBP RetAddr  ";
  }
  return h;
}

}  // namespace stack_text

std::string EmitFrame(const Frame& frame, TextFormat format, size_t index) {
  switch (format) {
    case TextFormat::kOriginal:
      if (!frame.lines.empty()) {
        std::string s = frame.lines[0];
        for (size_t k = 1; k < frame.lines.size(); ++k) s += "\n" + frame.lines[k];
        return s;
      }
      return KvRow(frame);
    case TextFormat::kKv:
      return KvRow(frame);
    case TextFormat::kRestackKn:
      return RestackRow(frame, index);
    default:
      return KvRow(frame);
  }
}

std::string EmitStack(const Stack& stack, TextFormat format) {
  std::string out;
  for (const HeaderLine& h : stack.header) out += h.text + "\n";
  switch (format) {
    case TextFormat::kOriginal:
      if (stack.column_header) {
        out += (stack.column_header->text.empty() ? KvColumnHeader(stack) : stack.column_header->text) +
               "\n";
      }
      break;
    case TextFormat::kKv:
      if (stack.column_header || HasCallSiteRows(stack)) out += KvColumnHeader(stack) + "\n";
      break;
    case TextFormat::kRestackKn:
      // Every kn row is numbered.
      out += std::string(HasCallSiteRows(stack) ? " # Call Site" : kRestackColumnHeader) + "\n";
      break;
    default:
      break;
  }
  // Notes in frame order (the parser keeps them ordered; built stacks may not).
  std::vector<const Note*> notes;
  for (const Note& n : stack.notes) notes.push_back(&n);
  std::sort(notes.begin(), notes.end(), [](const Note* a, const Note* b) {
    return a->before_frame != b->before_frame ? a->before_frame < b->before_frame : a < b;
  });
  size_t next = 0;
  for (size_t i = 0; i < stack.frames.size(); ++i) {
    for (; next < notes.size() && notes[next]->before_frame <= i; ++next) out += notes[next]->text + "\n";
    out += EmitFrame(stack.frames[i], format, i) + "\n";
  }
  for (; next < notes.size(); ++next) out += notes[next]->text + "\n";
  return out;
}

std::string EmitStackText(const StackText& text, TextFormat format) {
  std::string out;
  for (const StackTextItem& item : text.items) {
    if (const VerbatimLine* v = std::get_if<VerbatimLine>(&item)) {
      out += v->text + "\n";
    } else {
      out += EmitStack(std::get<Stack>(item), format);
    }
  }
  if (!text.final_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace restack::sym
