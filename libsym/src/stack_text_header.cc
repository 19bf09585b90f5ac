// stack_text_header.cc - the lines around frames: prompts, titles, !thread, column headers, notes
#include <string>

#include "stack_text_internal.h"

namespace restack::sym {

using stack_text::CollapseSpaces;
using stack_text::ParseDecimal;
using stack_text::ParseHex;
using stack_text::ParseLooseAddress;
using stack_text::Token;
using stack_text::TokenText;
using stack_text::Tokenize;
using stack_text::Trim;
using stack_text::TrimLeft;

namespace {

bool IsDigits(std::string_view s) { return ParseDecimal(s).has_value(); }

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The words of a line and the text after word `n` (spacing kept).
struct Words {
  std::string_view line;
  std::vector<Token> tokens;
  explicit Words(std::string_view l, size_t limit = SIZE_MAX) : line(l), tokens(Tokenize(l, limit)) {}
  size_t size() const { return tokens.size(); }
  std::string_view operator[](size_t i) const {
    return i < tokens.size() ? TokenText(line, tokens[i]) : std::string_view();
  }
  std::string_view After(size_t i) const {
    return i < tokens.size() ? Trim(line.substr(tokens[i].end)) : std::string_view();
  }
};

}  // namespace

std::optional<Prompt> ParsePrompt(std::string_view line) {
  const std::string_view t = TrimLeft(line);
  const size_t gt = t.find('>');
  if (gt == std::string_view::npos || gt == 0 || gt > 40) return std::nullopt;
  const std::string_view p = t.substr(0, gt);
  bool ok = false;
  if (p == "kd" || p == "lkd") {
    ok = true;
  } else if (const size_t colon = p.find(": "); colon != std::string_view::npos) {
    // "7: kd", "0: lkd"
    const std::string_view rest = p.substr(colon + 2);
    ok = IsDigits(p.substr(0, colon)) && (rest == "kd" || rest == "lkd");
  } else {
    // "0:000", "0:000:x86"
    const size_t c1 = p.find(':');
    const size_t c2 = c1 == std::string_view::npos ? c1 : p.find(':', c1 + 1);
    if (c1 != std::string_view::npos) {
      const std::string_view thread = p.substr(c1 + 1, c2 == std::string_view::npos ? p.size() : c2 - c1 - 1);
      ok = IsDigits(p.substr(0, c1)) && IsDigits(thread);
      if (ok && c2 != std::string_view::npos) {
        const std::string_view mode = p.substr(c2 + 1);
        ok = !mode.empty();
        for (char c : mode) ok = ok && (IsLetter(c) || (c >= '0' && c <= '9') || c == '_');
      }
    }
  }
  if (!ok) return std::nullopt;
  return Prompt{std::string(t.substr(0, gt + 1)), std::string(Trim(t.substr(gt + 1)))};
}

bool IsStackCommand(std::string_view command) {
  std::string_view c = Trim(command);
  if (StartsWith(c, "~")) {
    // Thread prefixes: ~*, ~., ~#, ~3, ~~[1a30], then an optional "e ".
    c.remove_prefix(1);
    if (StartsWith(c, "~[")) {
      const size_t close = c.find(']');
      if (close == std::string_view::npos) return false;
      c.remove_prefix(close + 1);
    } else if (!c.empty() && (c[0] == '*' || c[0] == '.' || c[0] == '#')) {
      c.remove_prefix(1);
    } else {
      while (!c.empty() && c[0] >= '0' && c[0] <= '9') c.remove_prefix(1);
    }
    c = TrimLeft(c);
    if (StartsWith(c, "e ")) c = TrimLeft(c.substr(2));
  }
  if (StartsWith(c, "!thread")) return c.size() == 7 || !IsLetter(c[7]);
  // k, kb, kv, kp, kP, kn, kf, kc, kL, kM and their combinations, with any arguments.
  return !c.empty() && c[0] == 'k';
}

std::optional<StackTitle> ParseStackTitle(std::string_view line) {
  const std::string_view t = Trim(line);
  StackTitle title;
  if (t == "DUMP_HEADER64.ContextRecord") {
    title.context = "header";
    return title;
  }
  const Words w(t);
  if (w.size() == 2 && w[0] == ".cxr") {
    title.cxr = ParseLooseAddress(w[1]);
    if (!title.cxr) return std::nullopt;
    title.context = "cxr";
    return title;
  }
  size_t i = 0;
  if (w[0] == "#" || w[0] == ".") {
    title.marker = w[0][0];
    i = 1;
  }
  if (w[i] == "Processor") {
    // restack: "#  Processor 0 (bugcheck)  KPRCB <a>  Thread <a>  (prcb-context)"
    std::optional<uint64_t> n = ParseDecimal(w[i + 1], 9);
    if (!n) return std::nullopt;
    title.processor = static_cast<uint32_t>(*n);
    i += 2;
    const bool bugcheck = w[i] == "(bugcheck)";
    if (bugcheck) ++i;
    if (w[i] != "KPRCB" || w[i + 2] != "Thread" || w.size() != i + 5) return std::nullopt;
    title.prcb = ParseLooseAddress(w[i + 1]);
    title.kernel_thread = ParseLooseAddress(w[i + 3]);
    const std::string_view source = w[i + 4];
    if (!title.prcb || !title.kernel_thread || source.size() < 2 || source.front() != '(' ||
        source.back() != ')') {
      return std::nullopt;
    }
    title.context = bugcheck ? "bugcheck" : "processor";
    title.context_source = std::string(source.substr(1, source.size() - 2));
    return title;
  }
  // restack: "#  0  Id: 1a30 Suspend: 0 Teb: 00000000`7ffde000 (exception context)"
  // WinDbg:  ".  0  Id: 1a30.1b00 Suspend: 1 Teb: 000000d8`2ae0d000 Unfrozen"
  std::optional<uint64_t> index = ParseDecimal(w[i], 9);
  if (!index || w[i + 1] != "Id:" || w[i + 3] != "Suspend:" || w[i + 5] != "Teb:") return std::nullopt;
  title.thread_index = static_cast<uint32_t>(*index);
  const std::string_view id = w[i + 2];
  const size_t dot = id.find('.');
  if (dot != std::string_view::npos) {
    title.process_id = ParseHex(id.substr(0, dot));
    title.thread_id = ParseHex(id.substr(dot + 1));
    if (!title.process_id) return std::nullopt;
  } else {
    title.thread_id = ParseHex(id);
  }
  std::optional<uint64_t> suspend = ParseDecimal(w[i + 4], 9);
  title.teb = ParseLooseAddress(w[i + 6]);
  if (!title.thread_id || !suspend || !title.teb) return std::nullopt;
  title.suspend_count = static_cast<uint32_t>(*suspend);
  title.rest = std::string(w.After(i + 6));
  // restack's "(exception context)" / "(thread context)"
  const Words rest(title.rest);
  if (rest.size() == 2 && rest[1] == "context)" && rest[0].size() > 1 && rest[0][0] == '(') {
    title.context = std::string(rest[0].substr(1));
  }
  return title;
}

std::optional<ColumnHeader> ParseColumnHeader(std::string_view line) {
  const Words w(line);
  ColumnHeader h;
  size_t i = 0;
  if (w[i] == "#") {
    h.number = true;
    ++i;
  }
  if (w[i] == "Memory") {
    h.memory = true;
    ++i;
  }
  if ((w[i] == "Child-SP" || w[i] == "ChildEBP") && w[i + 1] == "RetAddr") {
    h.addresses = true;
    i += 2;
    if (w[i] == ":") ++i;
  }
  if (w[i] == "Args" && w[i + 1] == "to" && w[i + 2] == "Child") {
    h.args = true;
    i += 3;
    if (w[i] == ":") ++i;
  }
  if (w[i] == "Call" && w[i + 1] == "Site") {
    h.call_site = true;
    i += 2;
  }
  if (i != w.size() || !(h.addresses || h.call_site)) return std::nullopt;
  h.text = std::string(line);
  return h;
}

std::optional<StackEnd> ParseStackEnd(std::string_view line) {
  constexpr std::string_view kPrefix = "WARNING: stack ended early (";
  const std::string_view t = Trim(line);
  if (!StartsWith(t, kPrefix)) return std::nullopt;
  const std::string_view rest = t.substr(kPrefix.size());
  const size_t close = rest.find("): ");
  const size_t close_end = rest.find(')');
  StackEnd end;
  if (close != std::string_view::npos && close == close_end) {
    end.reason = std::string(rest.substr(0, close));
    end.detail = std::string(rest.substr(close + 3));
  } else if (!rest.empty() && rest.back() == ')' && close_end == rest.size() - 1) {
    end.reason = std::string(rest.substr(0, rest.size() - 1));
  } else {
    return std::nullopt;
  }
  for (char c : end.reason) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return std::nullopt;
  }
  if (end.reason.empty()) return std::nullopt;
  return end;
}

}  // namespace restack::sym

namespace restack::sym::stack_text {

bool IsThreadLine(std::string_view line) {
  const Words w(line, 3);
  return w[0] == "THREAD" && ParseLooseAddress(w[1]).has_value();
}

bool IsStackTextLabel(std::string_view line) { return Trim(line) == "STACK_TEXT:"; }

bool IsNoteLine(std::string_view line) {
  const std::string_view t = TrimLeft(line);
  return StartsWith(t, "WARNING:") || StartsWith(t, "***") || StartsWith(t, "ERROR:") ||
         StartsWith(t, "Unable to ");
}

void ReadThreadLine(std::string_view line, ThreadInfo& info) {
  const Words w(line);
  auto address = [](std::string_view s) { return ParseLooseAddress(s); };
  auto decimal32 = [](std::string_view s) -> std::optional<uint32_t> {
    std::optional<uint64_t> v = ParseDecimal(s, 9);
    if (!v) return std::nullopt;
    return static_cast<uint32_t>(*v);
  };
  if (w[0] == "THREAD") {
    // THREAD fffffa800c716900  Cid 1c40.1da0  Teb: 000007f7fc3b4000 Win32Thread: fffff901007ffb90 RUNNING on processor 1
    if (auto a = address(w[1])) info.thread = *a;
    size_t i = 2;
    if (w[i] == "Cid") {
      const std::string_view cid = w[i + 1];
      const size_t dot = cid.find('.');
      if (dot != std::string_view::npos) {
        info.process_id = ParseHex(cid.substr(0, dot));
        info.thread_id = ParseHex(cid.substr(dot + 1));
      }
      i += 2;
    }
    if (w[i] == "Teb:") {
      info.teb = address(w[i + 1]);
      i += 2;
    }
    if (w[i] == "Win32Thread:") {
      info.win32_thread = address(w[i + 1]);
      i += 2;
    }
    info.state = i < w.size() ? CollapseSpaces(w.After(i - 1)) : "";
    const Words state(info.state);
    if (state.size() == 4 && state[1] == "on" && state[2] == "processor") {
      info.processor = decimal32(state[3]);
    }
    return;
  }
  if (w[0].size() > 1 && w[0].back() == ':' && w.size() >= 2) {
    // IRP List entry: "fffffa800f678980: (0006,0118) Flags: 00060000  Mdl: 00000000"
    if (auto irp = ParseHex(w[0].substr(0, w[0].size() - 1))) {
      info.irps.push_back({*irp, CollapseSpaces(w.After(0))});
      return;
    }
  }
  if (w[0] == "Not" && w[1] == "impersonating") {
    info.impersonating = false;
  } else if (w[0] == "Impersonation" && w[1] == "token:") {
    info.impersonating = true;
  } else if (w[0] == "DeviceMap") {
    info.device_map = address(w[1]);
  } else if (w[0] == "Owning" && w[1] == "Process") {
    info.owning_process = address(w[2]);
    if (w[3] == "Image:") info.image = CollapseSpaces(w.After(3));
  } else if (w[0] == "Attached" && w[1] == "Process") {
    info.attached_process = address(w[2]);
    if (w[3] == "Image:") info.attached_image = CollapseSpaces(w.After(3));
  } else if (w[0] == "Wait" && w[1] == "Start" && w[2] == "TickCount") {
    info.wait_start_tick = ParseDecimal(w[3]);
    if (w[4] == "Ticks:") info.ticks = CollapseSpaces(w.After(4));
  } else if (w[0] == "Context" && w[1] == "Switch" && w[2] == "Count") {
    info.context_switch_count = ParseDecimal(w[3]);
    if (w[4] == "IdealProcessor:") info.ideal_processor = decimal32(w[5]);
  } else if (w[0] == "UserTime") {
    info.user_time = CollapseSpaces(w.After(0));
  } else if (w[0] == "KernelTime") {
    info.kernel_time = CollapseSpaces(w.After(0));
  } else if (w[0] == "Win32" && w[1] == "Start" && w[2] == "Address") {
    info.win32_start_address = CollapseSpaces(w.After(2));
  } else if (w[0] == "Start" && w[1] == "Address") {
    info.start_address = CollapseSpaces(w.After(1));
  } else if (w[0] == "Stack" && w[1] == "Init") {
    info.stack_init = address(w[2]);
    if (w[3] == "Current") info.stack_current = address(w[4]);
  } else if (w[0] == "Base" && w[2] == "Limit") {
    info.stack_base = address(w[1]);
    info.stack_limit = address(w[3]);
  } else if (w[0] == "Priority") {
    info.priority = decimal32(w[1]);
    if (w[2] == "BasePriority") info.base_priority = decimal32(w[3]);
  }
}

}  // namespace restack::sym::stack_text
