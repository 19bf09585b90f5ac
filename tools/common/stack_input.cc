// stack_input.cc - stack text and JSON Lines read into labelled stacks
#include "common/stack_input.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/input_file.h"
#include "nlohmann/json.hpp"
#include "restack/dump/bugcheck_names.h"
#include "restack/sym/stack_text.h"

namespace restack::tools {
namespace {

constexpr uint64_t kKernelHalf = 0xffff800000000000ull;

// abseil's string functions take absl::string_view, which Debian's abseil
// keeps apart from std::string_view (docs/decisions.md).
absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view S(absl::string_view s) { return std::string_view(s.data(), s.size()); }
std::string_view Trim(std::string_view s) { return S(absl::StripAsciiWhitespace(A(s))); }
bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return absl::StartsWithIgnoreCase(A(s), A(prefix));
}

// The first `n` characters of a line for a message.
std::string Excerpt(std::string_view line, size_t n = 60) {
  std::string s(Trim(line));
  if (s.size() > n) s = s.substr(0, n) + "...";
  return s;
}

// Hex digits, with or without "0x" and WinDbg's "`" separator.
std::optional<uint64_t> ParseHex(std::string_view text) {
  std::string digits;
  std::string_view t = Trim(text);
  if (StartsWithNoCase(t, "0x")) t.remove_prefix(2);
  for (char c : t) {
    if (c != '`') digits.push_back(c);
  }
  if (digits.empty() || digits.size() > 16) return std::nullopt;
  uint64_t v = 0;
  if (!absl::SimpleHexAtoi(digits, &v)) return std::nullopt;
  return v;
}

std::optional<uint32_t> ParseCode(std::string_view text) {
  std::optional<uint64_t> v = ParseHex(text);
  if (!v || *v > 0xffffffffull) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

// A token of a frame row's address columns: "fffff880`031a9d48", 8+ hex digits.
bool IsAddressToken(std::string_view t) {
  if (t.size() < 8) return false;
  for (char c : t) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != '`') return false;
  }
  return true;
}

// A line the codec kept verbatim that has the shape of a frame row (an
// optional frame number, then an address column): text the analyst meant as
// a frame but that is broken, so the stack was cut there.
bool LooksLikeBrokenFrameRow(std::string_view line) {
  std::vector<absl::string_view> tokens =
      absl::StrSplit(A(Trim(line)), absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (tokens.size() < 2) return false;
  size_t i = 0;
  if (tokens[0].size() <= 4 && IsAddressToken(std::string(8 - tokens[0].size(), '0') +
                                              std::string(tokens[0]))) {
    i = 1;  // a kn frame number
  }
  return i < tokens.size() && IsAddressToken(S(tokens[i])) && tokens.size() > i + 1;
}

// The failure code a stack's own frames show: KeBugCheckEx's first argument
// (kv's Args to Child of its row are its home slots, where it spills the code).
void CodeFromKeBugCheckEx(InputStack& s) {
  for (const InputFrame& f : s.frames) {
    if (f.key.kind != FrameKeyKind::kFunction || f.key.function != "KeBugCheckEx") continue;
    if (!f.args.empty() && f.args[0] && *f.args[0] <= 0xffffffffull) {
      s.failure_code = static_cast<uint32_t>(*f.args[0]);
      s.failure_source = "KeBugCheckEx argument 1";
    }
    return;
  }
}

bool IsKernelAddress(const std::optional<uint64_t>& a) { return a && *a >= kKernelHalf; }

void SetKernel(InputStack& s) {
  for (const InputFrame& f : s.frames) {
    if (IsKernelAddress(f.child_sp) || IsKernelAddress(f.address)) {
      s.kernel = true;
      return;
    }
  }
}

std::string TitleOf(const sym::Stack& stack) {
  if (stack.prompt) return stack.prompt->prompt + " " + stack.prompt->command;
  for (const sym::HeaderLine& h : stack.header) {
    if (h.kind == sym::HeaderLineKind::kTitle || h.kind == sym::HeaderLineKind::kThread) {
      return Excerpt(h.text, 80);
    }
  }
  if (stack.stack_text_label) return "STACK_TEXT";
  return "";
}

// The stacks of WinDbg / restack stack text.
void ParseText(std::string_view name, std::string_view content, StackInput& in) {
  const sym::StackText text = sym::ParseStackText(content);
  std::optional<uint32_t> stated;  // a bugcheck code the text states in a line
  size_t stated_line = 0;
  size_t broken_rows = 0;
  auto look_for_code = [&](std::string_view line, size_t number) {
    if (stated) return;
    if (std::optional<uint32_t> c = BugCheckCodeInLine(line)) {
      stated = c;
      stated_line = number;
    }
  };
  for (const sym::TextWarning& w : text.warnings) {
    in.problems.push_back(absl::StrFormat("%s: line %u: %s", name, w.line, w.what));
  }
  for (const sym::StackTextItem& item : text.items) {
    if (const auto* v = std::get_if<sym::VerbatimLine>(&item)) {
      look_for_code(v->text, v->line);
      if (LooksLikeBrokenFrameRow(v->text) && ++broken_rows <= kMaxLineProblems) {
        in.problems.push_back(absl::StrFormat("%s: line %u: not a frame row, skipped: %s", name,
                                              v->line, Excerpt(v->text)));
      }
      continue;
    }
    const sym::Stack& stack = std::get<sym::Stack>(item);
    for (const sym::HeaderLine& h : stack.header) look_for_code(h.text, stack.first_line);
    InputStack s;
    s.source = std::string(name);
    s.title = TitleOf(stack);
    s.line = stack.first_line;
    s.kernel = stack.prompt && absl::StrContains(stack.prompt->prompt, "kd>");
    std::optional<uint64_t> next_address;  // the previous full row's RetAddr
    for (const sym::Frame& f : stack.frames) {
      InputFrame frame;
      frame.key = KeyOf(f.call_site);
      frame.inline_frame = f.kind == sym::FrameKind::kInline;
      frame.address = f.call_site.address ? f.call_site.address : next_address;
      frame.child_sp = f.child_sp;
      frame.args = f.args;
      if (f.kind == sym::FrameKind::kFull) next_address = f.return_address;
      s.frames.push_back(std::move(frame));
    }
    if (s.frames.empty()) {
      in.problems.push_back(absl::StrFormat("%s: line %u: stack%s has no frames", name, s.line,
                                            s.title.empty() ? "" : " \"" + s.title + "\""));
      continue;
    }
    SetKernel(s);
    CodeFromKeBugCheckEx(s);
    in.stacks.push_back(std::move(s));
  }
  if (broken_rows > kMaxLineProblems) {
    in.problems.push_back(absl::StrFormat("%s: %u more lines that look like frame rows but are not",
                                          name, broken_rows - kMaxLineProblems));
  }
  // A code the text states (!analyze, .bugcheck) holds for every stack in it.
  if (stated) {
    for (InputStack& s : in.stacks) {
      s.failure_code = stated;
      s.failure_is_exception = false;
      s.failure_source = absl::StrFormat("line %u", stated_line);
    }
  }
}

std::optional<uint64_t> HexField(const nlohmann::json& j, const char* field) {
  if (!j.is_object() || !j.contains(field) || !j[field].is_string()) return std::nullopt;
  return ParseHex(j[field].get<std::string>());
}

std::string StringField(const nlohmann::json& j, const char* field) {
  if (!j.is_object() || !j.contains(field) || !j[field].is_string()) return "";
  return j[field].get<std::string>();
}

// A "bugcheck" field, when the JSON has one: a number, a hex string or {code}.
std::optional<uint32_t> JsonBugCheck(const nlohmann::json& j) {
  if (!j.contains("bugcheck")) return std::nullopt;
  const nlohmann::json& b = j["bugcheck"];
  const nlohmann::json& code = b.is_object() && b.contains("code") ? b["code"] : b;
  if (code.is_number_unsigned() && code.get<uint64_t>() <= 0xffffffffull) {
    return static_cast<uint32_t>(code.get<uint64_t>());
  }
  if (code.is_string()) return ParseCode(code.get<std::string>());
  return std::nullopt;
}

// One stack object: restack-walk's (docs/tools.md#json-lines) or the
// stack-text codec's (docs/stack-text.md#json-lines). `number` is its line.
void ParseJsonStack(std::string_view name, const nlohmann::json& j, size_t number,
                    StackInput& in) {
  InputStack s;
  s.source = std::string(name);
  s.line = number;
  if (j.contains("dump")) {
    s.title = StringField(j, "context");
    const std::string dump = StringField(j, "dump");
    if (!dump.empty()) s.title = dump + (s.title.empty() ? "" : " (" + s.title + ")");
  } else if (!StringField(j, "prompt").empty()) {
    s.title = StringField(j, "prompt") + " " + StringField(j, "command");
  }
  std::optional<uint64_t> next_address;  // codec JSON: the previous full row's RetAddr
  const nlohmann::json& frames = j["frames"];
  for (size_t i = 0; i < frames.size(); ++i) {
    const nlohmann::json& f = frames[i];
    if (!f.is_object() || !f.contains("call_site") || !f["call_site"].is_string()) {
      in.problems.push_back(absl::StrFormat("%s: line %u: frame %u has no \"call_site\", skipped",
                                            name, number, i));
      continue;
    }
    InputFrame frame;
    frame.key = KeyOf(f["call_site"].get<std::string>());
    frame.inline_frame = f.contains("inline") && f["inline"].is_boolean() && f["inline"].get<bool>();
    frame.child_sp = HexField(f, "child_sp");
    frame.address = HexField(f, "rip");
    if (!frame.address) frame.address = HexField(f, "address");
    if (!frame.address) frame.address = next_address;
    if (!frame.inline_frame) next_address = HexField(f, "return_address");
    // restack-walk names the image file in "module" (beside "module_base").
    if (f.contains("module_base")) frame.image = StringField(f, "module");
    if (f.contains("args") && f["args"].is_array()) {
      for (const nlohmann::json& a : f["args"]) {
        frame.args.push_back(a.is_string() ? ParseHex(a.get<std::string>()) : std::nullopt);
      }
    }
    s.frames.push_back(std::move(frame));
  }
  if (s.frames.empty()) {
    in.problems.push_back(absl::StrFormat("%s: line %u: stack%s has no frames", name, number,
                                          s.title.empty() ? "" : " \"" + s.title + "\""));
    return;
  }
  SetKernel(s);
  CodeFromKeBugCheckEx(s);
  if (std::optional<uint32_t> code = JsonBugCheck(j)) {
    s.failure_code = code;
    s.failure_source = "JSON \"bugcheck\"";
  }
  in.stacks.push_back(std::move(s));
}

// JSON Lines: one stack object a line. Bad lines beyond kMaxLineProblems
// are counted in one message.
void ParseJsonLines(std::string_view name, std::string_view content, StackInput& in) {
  size_t number = 0, bad = 0;
  for (absl::string_view raw : absl::StrSplit(A(content), '\n')) {
    ++number;
    const std::string_view line = S(raw);
    if (Trim(line).empty()) continue;
    std::string why;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
      if (!j.is_object() || !j.contains("frames") || !j["frames"].is_array()) {
        why = "not a stack (a JSON object with a \"frames\" array)";
      }
    } catch (const nlohmann::json::exception& e) {
      why = absl::StrFormat("not JSON (%s)", e.what());
    }
    if (why.empty()) {
      ParseJsonStack(name, j, number, in);
    } else if (++bad <= kMaxLineProblems) {
      in.problems.push_back(absl::StrFormat("%s: line %u: %s: %s", name, number, why, Excerpt(line)));
    }
  }
  if (bad > kMaxLineProblems) {
    in.problems.push_back(absl::StrFormat("%s: %u more lines that are no stack", name,
                                          bad - kMaxLineProblems));
  }
}

// A whole JSON document: a stack object, or an array of them. False when
// `content` is not one JSON value (then it is read as JSON Lines).
bool ParseJsonDocument(std::string_view name, std::string_view content, StackInput& in) {
  nlohmann::json doc = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return false;
  const bool one = doc.is_object() && doc.contains("frames") && doc["frames"].is_array();
  if (one) {
    ParseJsonStack(name, doc, 1, in);
    return true;
  }
  if (!doc.is_array()) {
    in.problems.push_back(absl::StrFormat(
        "%s: a JSON document, but not a stack (an object with a \"frames\" array) or an array "
        "of them",
        name));
    return true;
  }
  for (size_t i = 0; i < doc.size(); ++i) {
    const nlohmann::json& j = doc[i];
    if (j.is_object() && j.contains("frames") && j["frames"].is_array()) {
      ParseJsonStack(name, j, 0, in);
    } else if (i < kMaxLineProblems) {
      in.problems.push_back(absl::StrFormat("%s: array element %u: not a stack", name, i));
    }
  }
  return true;
}

bool IsJson(std::string_view content) {
  std::string_view t = S(absl::StripLeadingAsciiWhitespace(A(content)));
  return !t.empty() && t.front() == '{';
}

}  // namespace

bool LooksLikeDump(std::string_view content) {
  return content.substr(0, 4) == "MDMP" || content.substr(0, 8) == "PAGEDU64";
}

std::optional<uint32_t> BugCheckCodeInLine(std::string_view line) {
  std::string_view t = Trim(line);
  auto after = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (!StartsWithNoCase(t, prefix)) return std::nullopt;
    return Trim(t.substr(prefix.size()));
  };
  // The first hex word of `rest` (up to ',', '_' or whitespace).
  auto first_word = [](std::string_view rest) {
    const size_t end = rest.find_first_of(",_ \t{");
    return rest.substr(0, end);
  };
  if (auto rest = after("Bugcheck code ")) return ParseCode(first_word(*rest));  // .bugcheck
  if (auto rest = after("BugCheck ")) {  // WinDbg: "BugCheck 44, {fffffa80..., f7a, 0, 0}"
    if (rest->find(',') != std::string_view::npos) return ParseCode(first_word(*rest));
    return std::nullopt;
  }
  if (auto rest = after("BUGCHECK_CODE:")) return ParseCode(first_word(*rest));
  if (auto rest = after("BUGCHECK_STR:")) {
    if (StartsWithNoCase(*rest, "0x")) return ParseCode(first_word(*rest));
    return std::nullopt;  // user mode puts an exception code here
  }
  // !analyze's title: "MULTIPLE_IRP_COMPLETE_REQUESTS (44)", taken only when the
  // name is the code's, so that other upper-case lines are not read as one.
  const size_t open = t.rfind(" (");
  if (open != std::string_view::npos && t.back() == ')') {
    const std::string_view name = t.substr(0, open);
    std::optional<uint32_t> code = ParseCode(t.substr(open + 2, t.size() - open - 3));
    if (code && !name.empty() && dump::BugCheckName(*code) == name) return code;
  }
  return std::nullopt;
}

void LabelStacks(std::vector<InputStack>& stacks) {
  for (size_t i = 0; i < stacks.size(); ++i) {
    stacks[i].index = i;
    stacks[i].label =
        stacks.size() == 1 ? stacks[i].source : absl::StrFormat("%s#%u", stacks[i].source, i + 1);
  }
}

StackInput ParseStackInput(std::string_view name, std::string_view content) {
  StackInput in;
  if (LooksLikeDump(content)) {
    in.problems.push_back(absl::StrFormat(
        "%s: a dump, not stack text (walk it with restack-walk --json first)", name));
    return in;
  }
  if (IsJson(content)) {
    if (!ParseJsonDocument(name, content, in)) ParseJsonLines(name, content, in);
  } else {
    ParseText(name, content, in);
  }
  if (in.stacks.empty()) {
    in.problems.push_back(absl::StrFormat(
        "%s: no stack found (expected WinDbg stack text or restack JSON Lines)", name));
  }
  LabelStacks(in.stacks);
  return in;
}

StackInput ReadStackInput(const std::string& path) {
  absl::StatusOr<InputFile> file = OpenInput(path);
  if (!file.ok()) {
    StackInput in;
    in.problems.push_back(std::string(file.status().message()));
    return in;
  }
  const std::string_view content(reinterpret_cast<const char*>(file->bytes.data()),
                                 file->bytes.size());
  return ParseStackInput(file->name, content);
}

StackInput ReadStackInputs(const std::vector<std::string>& paths) {
  StackInput all;
  const std::vector<std::string> stdin_only = {"-"};
  for (const std::string& path : paths.empty() ? stdin_only : paths) {
    StackInput in = ReadStackInput(path);
    for (InputStack& s : in.stacks) all.stacks.push_back(std::move(s));
    for (std::string& p : in.problems) all.problems.push_back(std::move(p));
  }
  return all;
}

}  // namespace restack::tools
