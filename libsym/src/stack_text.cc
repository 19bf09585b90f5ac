// stack_text.cc - stack text: grouping lines into stacks, and what each format carries
//
// One pass over the lines with a little state: the stack being read (if any)
// and whether its frames have begun. Each line is classified by its own shape
// (blank, prompt, STACK_TEXT:, title, THREAD, column header, note, frame row,
// !thread detail) and either joins the current stack, starts a new one, or is
// kept verbatim. A stack that ends up with neither title, !thread block, column
// header nor frame is given back as verbatim lines.
#include "restack/sym/stack_text.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "stack_text_internal.h"

namespace restack::sym {
namespace {

using namespace stack_text;

// Room a frame row's kv and kn forms must leave under the line limit for a
// frame number ("ffff ") that the kn form may add.
constexpr size_t kNumberRoom = 16;
constexpr size_t kMinLineLength = 256;

std::string_view WithoutCr(std::string_view raw) {
  if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
  return raw;
}

class Parser {
 public:
  Parser(std::string_view text, const StackTextOptions& options) : options_(options) {
    options_.max_line_length = std::max(options_.max_line_length, kMinLineLength);
    options_.max_frames = std::max<size_t>(options_.max_frames, 1);
    size_t begin = 0;
    while (begin < text.size()) {
      const size_t nl = text.find('\n', begin);
      if (nl == std::string_view::npos) {
        lines_.push_back(text.substr(begin));
        out_.final_newline = false;
        break;
      }
      lines_.push_back(text.substr(begin, nl - begin));
      begin = nl + 1;
    }
  }

  StackText Run() {
    size_t i = 0;
    while (i < lines_.size()) i += Line(i);
    Flush();
    return std::move(out_);
  }

 private:
  // Handles line i (and kP continuation lines after it); the number of lines used.
  size_t Line(size_t i) {
    const std::string_view raw = lines_[i];
    const std::string_view view = WithoutCr(raw);
    if (raw.size() > options_.max_line_length) {
      Flush();
      out_.warnings.push_back(
          {i + 1, absl::StrFormat("line of %u bytes, longer than %u: kept verbatim", raw.size(),
                                  options_.max_line_length)});
      Verbatim(i);
      return 1;
    }
    if (IsBlank(view)) {
      Flush();
      Verbatim(i);
      return 1;
    }
    if (std::optional<Prompt> prompt = ParsePrompt(view)) {
      Flush();
      if (!IsStackCommand(prompt->command)) {
        Verbatim(i);
        return 1;
      }
      Start(i);
      stack_->header.push_back({HeaderLineKind::kPrompt, std::string(raw)});
      stack_->prompt = std::move(*prompt);
      return 1;
    }
    // Titles, THREAD lines and column headers begin with one of a few words.
    const std::string_view first = FirstToken(view);
    const bool title_word = first == "#" || first == "." || first == ".cxr" || first == "Processor" ||
                            first == "DUMP_HEADER64.ContextRecord" ||
                            (first.size() <= 9 && ParseDecimal(first).has_value());
    const bool header_word = first == "#" || first == "Memory" || first == "Child-SP" ||
                             first == "ChildEBP" || first == "Args" || first == "Call";
    if (IsStackTextLabel(view)) {
      Flush();
      Start(i);
      stack_->header.push_back({HeaderLineKind::kStackTextLabel, std::string(raw)});
      stack_->stack_text_label = true;
      return 1;
    }
    if (std::optional<StackTitle> title = title_word ? ParseStackTitle(view) : std::nullopt) {
      if (!CanTakeTitle()) {
        Flush();
        Start(i);
      }
      stack_->header.push_back({HeaderLineKind::kTitle, std::string(raw)});
      stack_->title = std::move(*title);
      return 1;
    }
    if (first == "THREAD" && IsThreadLine(view)) {
      if (!CanTakeTitle()) {
        Flush();
        Start(i);
      }
      stack_->header.push_back({HeaderLineKind::kThread, std::string(raw)});
      stack_->thread.emplace();
      ReadThreadLine(view, *stack_->thread);
      thread_lines_ = 0;
      return 1;
    }
    if (std::optional<ColumnHeader> header = header_word ? ParseColumnHeader(view) : std::nullopt) {
      if (!stack_ || frames_begun_) {
        Flush();
        Start(i);
      }
      header->text = std::string(raw);
      stack_->column_header = std::move(*header);
      frames_begun_ = true;
      return 1;
    }
    if (IsNoteLine(view)) {
      if (!stack_) {
        Verbatim(i);
      } else if (!frames_begun_) {
        stack_->header.push_back({HeaderLineKind::kNote, std::string(raw)});
      } else {
        stack_->notes.push_back({stack_->frames.size(), std::string(raw)});
        if (std::optional<StackEnd> end = ParseStackEnd(view)) stack_->end = std::move(*end);
      }
      return 1;
    }
    if (stack_ && stack_->frames.size() >= options_.max_frames) Flush();
    if (size_t used = Frame(i)) return used;
    if (stack_ && !frames_begun_ && stack_->thread && thread_lines_ < options_.max_thread_lines) {
      stack_->header.push_back({HeaderLineKind::kThreadDetail, std::string(raw)});
      ReadThreadLine(view, *stack_->thread);
      ++thread_lines_;
      return 1;
    }
    Flush();
    Verbatim(i);
    return 1;
  }

  // A frame row at line i: the lines it spans, or 0.
  size_t Frame(size_t i) {
    const ColumnHeader* header = stack_ && stack_->column_header ? &*stack_->column_header : nullptr;
    const std::string_view first = WithoutCr(lines_[i]);
    std::optional<sym::Frame> frame = ParseFrameRow(first, header);
    if (!frame) return 0;
    size_t used = 1;
    const std::string_view trimmed = TrimRight(first);
    if (int depth = ParenDepth(first); depth > 0 && !trimmed.empty() && trimmed.back() == '(') {
      // kP: "module!Function(" then the parameters on indented lines, up to
      // the closing ')' (with the offset and annotations after it).
      std::string row(first);
      size_t j = i + 1;
      while (depth > 0 && j < lines_.size() && j - i <= options_.max_parameter_lines) {
        const std::string_view next = WithoutCr(lines_[j]);
        if (lines_[j].size() > options_.max_line_length || IsBlank(next) || SpaceAt(next, 0) == 0) {
          break;
        }
        row += '\n';
        row += next;
        depth = ParenDepth(next, depth);
        ++j;
      }
      if (depth <= 0) {
        if (std::optional<sym::Frame> joined = ParseFrameRow(row, header)) {
          frame = std::move(joined);
          used = j - i;
        }
      }
    }
    if (!Fits(*frame)) return 0;
    for (size_t k = i; k < i + used; ++k) frame->lines.emplace_back(lines_[k]);
    if (!stack_) Start(i);
    stack_->frames.push_back(std::move(*frame));
    frames_begun_ = true;
    return used;
  }

  // Whether the row's kv and kn forms stay under the line limit, so that
  // emitted text reads back as the same frames.
  bool Fits(sym::Frame& f) const {
    const std::optional<uint32_t> number = std::exchange(f.number, std::nullopt);
    const size_t limit = options_.max_line_length - kNumberRoom;
    bool fits = true;
    for (TextFormat format : {TextFormat::kKv, TextFormat::kRestackKn}) {
      if (fits) fits = LinesFit(EmitFrame(f, format), limit);
    }
    f.number = number;
    return fits;
  }

  static bool LinesFit(const std::string& text, size_t limit) {
    size_t begin = 0;
    while (true) {
      const size_t nl = text.find('\n', begin);
      const size_t end = nl == std::string::npos ? text.size() : nl;
      if (end - begin > limit) return false;
      if (nl == std::string::npos) return true;
      begin = nl + 1;
    }
  }

  // A title or THREAD line joins the current stack while only a prompt,
  // STACK_TEXT: or notes came before it.
  bool CanTakeTitle() const {
    return stack_ && !frames_begun_ && !stack_->title && !stack_->thread;
  }

  void Start(size_t i) {
    stack_.emplace();
    stack_->first_line = i + 1;
    frames_begun_ = false;
    thread_lines_ = 0;
  }

  void Verbatim(size_t i) { out_.items.push_back(VerbatimLine{i + 1, std::string(lines_[i])}); }

  void Flush() {
    if (!stack_) return;
    Stack& s = *stack_;
    if (s.title || s.thread || s.column_header || !s.frames.empty()) {
      out_.items.push_back(std::move(s));
    } else {
      for (size_t k = 0; k < s.header.size(); ++k) {
        out_.items.push_back(VerbatimLine{s.first_line + k, std::move(s.header[k].text)});
      }
    }
    stack_.reset();
    frames_begun_ = false;
  }

  StackTextOptions options_;
  std::vector<std::string_view> lines_;
  StackText out_;
  std::optional<Stack> stack_;
  bool frames_begun_ = false;  // the column header or a frame row has been read
  size_t thread_lines_ = 0;
};

}  // namespace

StackText ParseStackText(std::string_view text, const StackTextOptions& options) {
  return Parser(text, options).Run();
}

std::vector<const Stack*> StacksOf(const StackText& text) {
  std::vector<const Stack*> stacks;
  for (const StackTextItem& item : text.items) {
    if (const Stack* s = std::get_if<Stack>(&item)) stacks.push_back(s);
  }
  return stacks;
}

StackText Canonical(const StackText& text, TextFormat format) {
  StackText out = text;
  out.warnings.clear();
  for (StackTextItem& item : out.items) {
    if (VerbatimLine* v = std::get_if<VerbatimLine>(&item)) {
      v->line = 0;
      continue;
    }
    Stack& s = std::get<Stack>(item);
    s.first_line = 0;
    bool call_site_rows = false;
    for (size_t i = 0; i < s.frames.size(); ++i) {
      sym::Frame& f = s.frames[i];
      f.lines.clear();
      call_site_rows |= f.kind == FrameKind::kCallSiteOnly;
      if (format == TextFormat::kKv || format == TextFormat::kRestackKn) f.memory.reset();
      if (format == TextFormat::kRestackKn) {
        f.args.clear();
        f.number = f.number.value_or(static_cast<uint32_t>(i));
      }
    }
    const bool header = s.column_header.has_value() ||
                        (format == TextFormat::kKv && call_site_rows) ||
                        format == TextFormat::kRestackKn;
    if (header) {
      s.column_header = ColumnHeader{};
    } else {
      s.column_header.reset();
    }
  }
  return out;
}

}  // namespace restack::sym
