// diff.cc - restack-diff: side-by-side alignment and the consistency report, text and JSON
#include "diff/diff.h"

#include <algorithm>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/exit_code.h"
#include "common/stack_output.h"
#include "diff/align.h"
#include "diff/consistency.h"
#include "nlohmann/json.hpp"

namespace restack::tools {
namespace {

std::vector<FrameKey> KeysOf(const InputStack& s) {
  std::vector<FrameKey> keys;
  keys.reserve(s.frames.size());
  for (const InputFrame& f : s.frames) keys.push_back(f.key);
  return keys;
}

std::vector<std::vector<FrameKey>> KeysOf(const std::vector<InputStack>& stacks) {
  std::vector<std::vector<FrameKey>> out;
  for (const InputStack& s : stacks) out.push_back(KeysOf(s));
  return out;
}

// "1:05", "1:06,0d": stack number (1-based) and frame numbers (kn's hex).
std::string PlacesText(const KeyEntry& e) {
  std::vector<std::string> parts;
  for (const KeyPlace& p : e.places) {
    std::vector<std::string> frames;
    for (size_t f : p.frames) frames.push_back(absl::StrFormat("%02x", f));
    parts.push_back(absl::StrFormat("%u:%s", p.stack + 1, absl::StrJoin(frames, ",")));
  }
  return absl::StrJoin(parts, " ");
}

std::string ModulesText(const std::vector<ModuleEntry>& modules, bool with_stacks) {
  std::vector<std::string> parts;
  for (const ModuleEntry& m : modules) {
    std::vector<std::string> in;
    for (size_t s : m.stacks) in.push_back(absl::StrFormat("%u", s + 1));
    parts.push_back(with_stacks ? absl::StrFormat("%s (%s)", m.module, absl::StrJoin(in, ","))
                                : m.module);
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

void PrintLegend(const std::vector<InputStack>& stacks, std::ostream& out) {
  for (size_t i = 0; i < stacks.size(); ++i) {
    const InputStack& s = stacks[i];
    std::string where = s.title;
    if (s.line > 0) where += (where.empty() ? "" : ", ") + absl::StrFormat("line %u", s.line);
    where += (where.empty() ? "" : ", ") + absl::StrFormat("%u frames", s.frames.size());
    out << absl::StrFormat("%u: %s  (%s)\n", i + 1, s.label, where);
  }
  out << "\n";
}

// "05 ndis!ndisMSendNBLToMiniport+0xc9", or "" for a missing side.
std::string Cell(const InputStack& s, const std::optional<size_t>& i) {
  if (!i) return "";
  return absl::StrFormat("%02x %s", *i, s.frames[*i].key.call_site);
}

void PrintSideBySide(const InputStack& left, const InputStack& right, std::ostream& out) {
  const Alignment a = AlignStacks(KeysOf(left), KeysOf(right));
  size_t width = 1;
  for (const AlignRow& r : a.rows) width = std::max(width, Cell(left, r.left).size());
  width = std::min<size_t>(width, 72);
  out << absl::StrFormat("   %-*s  %s\n", width, "1", "2");
  for (const AlignRow& r : a.rows) {
    std::string line = absl::StrFormat("%c  %-*s  %s", AlignMarkChar(r.mark), width,
                                       Cell(left, r.left), Cell(right, r.right));
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
  if (a.truncated) {
    out << "(the stacks are too long to align below their common top: the rest is listed "
           "unaligned)\n";
  }
  out << "\n";
}

// The report's first column: as wide as the longest key (at most 60).
size_t KeyWidth(const ConsistencyReport& r) {
  size_t width = 1;
  for (const std::vector<KeyEntry>* list : {&r.common, &r.some, &r.one}) {
    for (const KeyEntry& e : *list) width = std::max(width, e.key.name.size());
  }
  return std::min<size_t>(width, 60);
}

void PrintEntries(const std::vector<KeyEntry>& entries, size_t width, std::ostream& out) {
  for (const KeyEntry& e : entries) {
    out << absl::StrFormat("  %-*s  %s%s\n", width, e.key.name, PlacesText(e),
                           e.in_order ? "" : "  (order differs)");
  }
}

void PrintReport(const std::vector<InputStack>& stacks, std::ostream& out) {
  const ConsistencyReport r = Consistency(KeysOf(stacks));
  const size_t width = KeyWidth(r);
  out << absl::StrFormat("Common to all %u stacks: %u distinct frame%s", r.stack_count,
                         r.common.size(),
                         r.common.size() == 1 ? "" : "s");
  if (r.common_top > 0) {
    out << absl::StrFormat("; the top %u of every stack are the same", r.common_top);
  }
  out << "\n";
  PrintEntries(r.common, width, out);
  if (!r.some.empty()) {
    out << absl::StrFormat("In some stacks, not all: %u distinct frame%s\n", r.some.size(),
                           r.some.size() == 1 ? "" : "s");
    PrintEntries(r.some, width, out);
  }
  for (size_t s = 0; s < stacks.size(); ++s) {
    std::vector<KeyEntry> only;
    for (const KeyEntry& e : r.one) {
      if (e.places[0].stack == s) only.push_back(e);
    }
    if (only.empty()) continue;
    out << absl::StrFormat("Only in %u: %u distinct frame%s\n", s + 1, only.size(),
                           only.size() == 1 ? "" : "s");
    PrintEntries(only, width, out);
  }
  size_t unknown = 0;
  for (const InputStack& s : stacks) {
    for (const InputFrame& f : s.frames) unknown += f.key.kind == FrameKeyKind::kUnknown;
  }
  if (unknown > 0) {
    out << absl::StrFormat("Not compared: %u frame%s outside any module\n", unknown,
                           unknown == 1 ? "" : "s");
  }
  out << "Modules in every stack: " << ModulesText(r.common_modules, false) << "\n";
  if (!r.some_modules.empty()) {
    out << "Modules in some stacks: " << ModulesText(r.some_modules, true) << "\n";
  }
  out << "Modules in one stack only: " << ModulesText(r.one_modules, true) << "\n";
}

nlohmann::json EntriesJson(const std::vector<KeyEntry>& entries) {
  nlohmann::json out = nlohmann::json::array();
  for (const KeyEntry& e : entries) {
    nlohmann::json places = nlohmann::json::array();
    for (const KeyPlace& p : e.places) places.push_back({{"stack", p.stack + 1}, {"frames", p.frames}});
    out.push_back({{"key", e.key.name},
                   {"kind", std::string(FrameKeyKindName(e.key.kind))},
                   {"module", e.key.module},
                   {"in_order", e.in_order},
                   {"stacks", places}});
  }
  return out;
}

nlohmann::json ModulesJson(const std::vector<ModuleEntry>& modules) {
  nlohmann::json out = nlohmann::json::array();
  for (const ModuleEntry& m : modules) {
    std::vector<size_t> ids;
    for (size_t s : m.stacks) ids.push_back(s + 1);
    out.push_back({{"module", m.module}, {"stacks", ids}});
  }
  return out;
}

nlohmann::json StackJson(const InputStack& s, size_t id) {
  nlohmann::json frames = nlohmann::json::array();
  for (size_t i = 0; i < s.frames.size(); ++i) {
    const FrameKey& k = s.frames[i].key;
    frames.push_back({{"index", i},
                      {"call_site", k.call_site},
                      {"key", k.name},
                      {"kind", std::string(FrameKeyKindName(k.kind))},
                      {"inline", s.frames[i].inline_frame}});
  }
  return {{"id", id},
          {"label", s.label},
          {"source", s.source},
          {"title", s.title},
          {"line", s.line > 0 ? nlohmann::json(s.line) : nlohmann::json(nullptr)},
          {"frames", frames}};
}

}  // namespace

void PrintDiff(const std::vector<InputStack>& stacks, std::ostream& out) {
  PrintLegend(stacks, out);
  if (stacks.size() == 2) PrintSideBySide(stacks[0], stacks[1], out);
  PrintReport(stacks, out);
}

std::string DiffJson(const std::vector<InputStack>& stacks) {
  nlohmann::json j;
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < stacks.size(); ++i) list.push_back(StackJson(stacks[i], i + 1));
  j["stacks"] = list;
  j["alignment"] = nullptr;
  j["alignment_truncated"] = false;
  if (stacks.size() == 2) {
    const Alignment a = AlignStacks(KeysOf(stacks[0]), KeysOf(stacks[1]));
    nlohmann::json rows = nlohmann::json::array();
    for (const AlignRow& r : a.rows) {
      rows.push_back({{"mark", std::string(1, AlignMarkChar(r.mark))},
                      {"left", r.left ? nlohmann::json(*r.left) : nlohmann::json(nullptr)},
                      {"right", r.right ? nlohmann::json(*r.right) : nlohmann::json(nullptr)}});
    }
    j["alignment"] = rows;
    j["alignment_truncated"] = a.truncated;
  }
  const ConsistencyReport r = Consistency(KeysOf(stacks));
  j["common_top"] = r.common_top;
  j["common"] = EntriesJson(r.common);
  j["some"] = EntriesJson(r.some);
  j["one"] = EntriesJson(r.one);
  j["modules"] = {{"common", ModulesJson(r.common_modules)},
                  {"some", ModulesJson(r.some_modules)},
                  {"one", ModulesJson(r.one_modules)}};
  return JsonLine(j);
}

int RunDiff(const DiffToolOptions& options, std::ostream& out, std::ostream& err) {
  StackInput in = ReadStackInputs(options.inputs);
  for (const std::string& p : in.problems) err << "restack-diff: " << p << "\n";
  if (in.stacks.size() < 2) {
    err << absl::StrFormat("restack-diff: %u stack%s read; comparing needs two or more\n",
                           in.stacks.size(), in.stacks.size() == 1 ? "" : "s");
    return kExitError;
  }
  if (options.json) {
    out << DiffJson(in.stacks) << "\n";
  } else {
    PrintDiff(in.stacks, out);
  }
  return in.problems.empty() ? kExitOk : kExitPartial;
}

}  // namespace restack::tools
