// blame.cc - restack-blame: inputs read (in parallel), each stack blamed, then the vote
#include "blame/blame.h"

#include <functional>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "blame/culprit.h"
#include "blame/dump_stacks.h"
#include "blame/triage_rules.h"
#include "blame/vote.h"
#include "common/dump_batch.h"
#include "common/exit_code.h"
#include "common/input_file.h"
#include "common/stack_input.h"
#include "common/stack_output.h"
#include "nlohmann/json.hpp"
#include "restack/dump/bugcheck_names.h"
#include "restack/dump/ntstatus.h"

namespace restack::tools {
namespace {

// One input's stacks and their verdicts, made on a worker thread.
struct InputResult {
  StackInput in;
  std::vector<StackBlame> blames;
};

InputResult ReadAndBlame(const std::string& path, const BlameToolOptions& options,
                         const TriageRules& rules, DumpStackWalker& dumps) {
  InputResult r;
  absl::StatusOr<InputFile> file = OpenInput(path);
  if (!file.ok()) {
    r.in.problems.push_back(std::string(file.status().message()));
    return r;
  }
  if (IsDumpInput(file->name, file->bytes)) {
    r.in = dumps.Walk(*file);
  } else {
    const std::string_view text(reinterpret_cast<const char*>(file->bytes.data()),
                                file->bytes.size());
    r.in = ParseStackInput(file->name, text);
  }
  for (InputStack& s : r.in.stacks) {
    if (options.bugcheck) {
      s.failure_code = options.bugcheck;
      s.failure_is_exception = false;
      s.failure_source = "--bugcheck";
    }
    r.blames.push_back(BlameStack(s, rules));
  }
  return r;
}

// "MachineOwner", "last_Windows", "ignore": the owner as the rules file writes it.
std::string OwnerText(const TriageRule& rule) {
  switch (rule.owner_class) {
    case OwnerClass::kMaybe:
      return "maybe_" + rule.owner;
    case OwnerClass::kLast:
      return "last_" + rule.owner;
    case OwnerClass::kDefinite:
    case OwnerClass::kIgnore:
      return rule.owner;
  }
  return rule.owner;
}

std::string FailureName(uint32_t code, bool exception) {
  return std::string(exception ? dump::NtStatusName(code) : dump::BugCheckName(code));
}

// !analyze's lines for a blamed frame.
void PrintNames(const AnalyzeNames& n, const TriageRule& rule, std::ostream& out) {
  out << "Probably caused by : " << n.image << " ( " << n.call_site << " )\n";
  out << "FOLLOWUP_NAME:  " << rule.owner << "\n";
  out << "SYMBOL_NAME:  " << n.symbol << "\n";
  out << "MODULE_NAME:  " << n.module << "\n";
  out << "IMAGE_NAME:  " << n.image << "\n";
  out << "FAILURE_BUCKET_ID:  " << n.bucket << "\n";
}

void PrintStackBlame(size_t number, const InputStack& s, const StackBlame& b, std::ostream& out) {
  std::string where = s.title;
  if (s.line > 0) where += (where.empty() ? "" : ", ") + absl::StrFormat("line %u", s.line);
  out << absl::StrFormat("== %u: %s%s\n", number, s.label, where.empty() ? "" : "  (" + where + ")");
  if (s.failure_code) {
    const std::string name = FailureName(*s.failure_code, s.failure_is_exception);
    out << absl::StrFormat("%s  %x%s  (%s)\n",
                           s.failure_is_exception ? "EXCEPTION_CODE:" : "BUGCHECK_CODE:",
                           *s.failure_code, name.empty() ? "" : "  " + name, s.failure_source);
  }
  const size_t end = b.culprit ? b.culprit->frame : s.frames.size();
  for (size_t i = 0; i < end; ++i) {
    const TriageRule* rule = b.owners[i].rule;
    out << absl::StrFormat("passed over:  %02x %s  (%s)\n", i, s.frames[i].key.call_site,
                           rule != nullptr ? rule->text
                           : s.frames[i].key.kind == FrameKeyKind::kUnknown ? "no module"
                                                                             : "no rule");
  }
  if (!b.culprit) {
    out << "Probably caused by : nothing (no frame has an owner)\n\n";
    return;
  }
  const Culprit& c = *b.culprit;
  out << absl::StrFormat("blamed frame: %02x %s  (%s, %s)\n", c.frame, c.names.call_site,
                         c.rule->text, c.rule->origin);
  PrintNames(c.names, *c.rule, out);
  out << "\n";
}

// "1:02*,03,04": stack number, frame numbers, '*' after the blamed one.
std::string FramesText(const ModuleEvidence& e, const StackBlame& b) {
  std::vector<std::string> frames;
  for (size_t f : e.frames) {
    const bool blamed = e.blamed && b.culprit->frame == f;
    frames.push_back(absl::StrFormat("%02x%s", f, blamed ? "*" : ""));
  }
  return absl::StrFormat("%u:%s", e.stack + 1, absl::StrJoin(frames, ","));
}

void PrintVote(const std::vector<InputStack>& stacks, const std::vector<StackBlame>& blames,
               std::ostream& out) {
  const std::vector<ModuleVote> votes = Vote(stacks, blames);
  out << absl::StrFormat("== Vote over %u stacks (frames as stack:frame, * where blamed)\n",
                         stacks.size());
  size_t width = 6, owner_width = 5;
  for (const ModuleVote& v : votes) {
    width = std::max(width, v.module.size());
    owner_width = std::max(owner_width, OwnerText(*v.rule).size());
  }
  out << absl::StrFormat("%-*s  %-*s  %-7s  %-7s  %s\n", width, "module", owner_width, "owner",
                         "stacks", "blamed", "frames");
  for (const ModuleVote& v : votes) {
    std::vector<std::string> frames;
    for (const ModuleEvidence& e : v.evidence) frames.push_back(FramesText(e, blames[e.stack]));
    out << absl::StrFormat("%-*s  %-*s  %-7s  %-7s  %s\n", width, v.module, owner_width,
                           OwnerText(*v.rule),
                           absl::StrFormat("%u of %u", v.stacks_present, stacks.size()),
                           absl::StrFormat("%u of %u", v.stacks_blamed, stacks.size()),
                           absl::StrJoin(frames, " "));
  }
  const std::optional<Verdict> verdict = VerdictOf(votes, stacks, blames);
  if (!verdict) {
    out << "Verdict: nothing (no frame of any stack has an owner)\n";
    return;
  }
  const ModuleVote& top = *verdict->vote;
  out << absl::StrFormat("Verdict: %s, in %u of %u stacks, blamed by %u of %u\n", top.image,
                         top.stacks_present, stacks.size(), top.stacks_blamed, stacks.size());
  PrintNames(verdict->names, *top.rule, out);
}

nlohmann::json Nullable(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

nlohmann::json NamesJson(const AnalyzeNames& n, const TriageRule& rule) {
  return {{"call_site", n.call_site},
          {"module_name", n.module},
          {"image_name", n.image},
          {"symbol_name", n.symbol},
          {"failure_bucket_id", n.bucket},
          {"followup_name", rule.owner},
          {"owner_class", std::string(OwnerClassName(rule.owner_class))},
          {"rule", rule.text},
          {"rule_origin", rule.origin}};
}

nlohmann::json StackBlameJson(size_t number, const InputStack& s, const StackBlame& b) {
  nlohmann::json frames = nlohmann::json::array();
  for (size_t i = 0; i < s.frames.size(); ++i) {
    const TriageRule* rule = b.owners[i].rule;
    frames.push_back({{"index", i},
                      {"call_site", s.frames[i].key.call_site},
                      {"module", Nullable(s.frames[i].key.module)},
                      {"owner", rule != nullptr ? nlohmann::json(rule->owner) : nullptr},
                      {"owner_class", rule != nullptr
                                          ? nlohmann::json(std::string(OwnerClassName(rule->owner_class)))
                                          : nullptr},
                      {"rule", rule != nullptr ? nlohmann::json(rule->text) : nullptr}});
  }
  nlohmann::json j = {{"kind", "stack"},
                      {"number", number},
                      {"label", s.label},
                      {"source", s.source},
                      {"title", s.title},
                      {"line", s.line > 0 ? nlohmann::json(s.line) : nlohmann::json(nullptr)},
                      {"failure_code", nullptr},
                      {"failure_kind", nullptr},
                      {"failure_name", nullptr},
                      {"failure_source", nullptr},
                      {"culprit", nullptr},
                      {"frames", frames}};
  if (s.failure_code) {
    j["failure_code"] = absl::StrFormat("0x%X", *s.failure_code);
    j["failure_kind"] = s.failure_is_exception ? "exception" : "bugcheck";
    j["failure_name"] = Nullable(FailureName(*s.failure_code, s.failure_is_exception));
    j["failure_source"] = s.failure_source;
  }
  if (b.culprit) {
    j["culprit"] = NamesJson(b.culprit->names, *b.culprit->rule);
    j["culprit"]["frame"] = b.culprit->frame;
  }
  return j;
}

nlohmann::json VoteJson(const std::vector<InputStack>& stacks,
                        const std::vector<StackBlame>& blames) {
  const std::vector<ModuleVote> votes = Vote(stacks, blames);
  nlohmann::json modules = nlohmann::json::array();
  for (const ModuleVote& v : votes) {
    nlohmann::json evidence = nlohmann::json::array();
    for (const ModuleEvidence& e : v.evidence) {
      nlohmann::json call_sites = nlohmann::json::array();
      for (size_t f : e.frames) call_sites.push_back(stacks[e.stack].frames[f].key.call_site);
      evidence.push_back({{"stack", e.stack + 1},
                          {"label", stacks[e.stack].label},
                          {"frames", e.frames},
                          {"call_sites", call_sites},
                          {"blamed", e.blamed}});
    }
    modules.push_back({{"module", v.module},
                       {"image", v.image},
                       {"owner", v.rule->owner},
                       {"owner_class", std::string(OwnerClassName(v.rule->owner_class))},
                       {"rule", v.rule->text},
                       {"stacks_present", v.stacks_present},
                       {"stacks_blamed", v.stacks_blamed},
                       {"evidence", evidence}});
  }
  nlohmann::json j = {{"kind", "vote"}, {"stacks", stacks.size()}, {"modules", modules},
                      {"verdict", nullptr}};
  if (std::optional<Verdict> verdict = VerdictOf(votes, stacks, blames)) {
    nlohmann::json v = NamesJson(verdict->names, *verdict->vote->rule);
    v["stack"] = verdict->stack + 1;
    v["frame"] = verdict->frame;
    v["stacks_present"] = verdict->vote->stacks_present;
    v["stacks_blamed"] = verdict->vote->stacks_blamed;
    j["verdict"] = v;
  }
  return j;
}

// The rules: built-in, then each --rules file. False when a file cannot be read.
bool LoadRules(const BlameToolOptions& options, TriageRules& rules, std::ostream& err,
               bool* problems) {
  if (options.builtin_rules) rules = BuiltInTriageRules();
  for (const std::string& path : options.rules) {
    absl::StatusOr<InputFile> file = OpenInput(path);
    if (!file.ok()) {
      err << "restack-blame: --rules: " << file.status().message() << "\n";
      return false;
    }
    const std::string_view text(reinterpret_cast<const char*>(file->bytes.data()),
                                file->bytes.size());
    for (const std::string& p : rules.AddText(file->name, text)) {
      err << "restack-blame: " << p << "\n";
      *problems = true;
    }
  }
  return true;
}

// The inputs: arguments and --list expanded as restack-walk expands dumps.
std::vector<std::string> Inputs(const BlameToolOptions& options, std::ostream& err,
                                bool* problems, bool* failed) {
  std::vector<std::string> args = options.inputs;
  if (args.empty() && options.list.empty()) args.push_back("-");
  std::vector<std::string> messages;
  std::optional<std::vector<std::string>> found =
      ExpandDumpArgumentsAndList(args, options.list, &messages);
  if (!found) {
    err << "restack-blame: --list " << options.list << ": cannot be read\n";
    *failed = true;
    return {};
  }
  for (const std::string& m : messages) {
    err << "restack-blame: " << m << "\n";
    *problems = true;
  }
  return *std::move(found);
}

}  // namespace

int RunBlame(const BlameToolOptions& options, std::ostream& out, std::ostream& err) {
  bool problems = false, failed = false;
  TriageRules rules;
  if (!LoadRules(options, rules, err, &problems)) return kExitError;
  const std::vector<std::string> inputs = Inputs(options, err, &problems, &failed);
  if (failed) return kExitError;

  DumpStackWalker dumps(options.sympath, options.image_paths);  // shared by the batch's dumps
  std::vector<InputStack> stacks;
  std::vector<StackBlame> blames;
  std::function<InputResult(size_t)> work = [&](size_t i) {
    return ReadAndBlame(inputs[i], options, rules, dumps);
  };
  std::function<void(size_t, InputResult&)> emit = [&](size_t, InputResult& r) {
    for (const std::string& p : r.in.problems) err << "restack-blame: " << p << "\n";
    for (const std::string& w : r.in.warnings) err << "restack-blame: " << w << "\n";
    problems |= !r.in.problems.empty();
    for (size_t k = 0; k < r.in.stacks.size(); ++k) {
      const size_t number = stacks.size() + 1;
      if (options.json) {
        out << JsonLine(StackBlameJson(number, r.in.stacks[k], r.blames[k])) << "\n";
      } else {
        PrintStackBlame(number, r.in.stacks[k], r.blames[k], out);
      }
      problems |= !r.blames[k].culprit;
      stacks.push_back(std::move(r.in.stacks[k]));
      blames.push_back(std::move(r.blames[k]));
    }
    out.flush();
  };
  std::function<std::string(size_t)> label = [&](size_t i) { return inputs[i]; };
  RunInOrder<InputResult>(inputs.size(), std::max(1, options.jobs), work, emit,
                          options.progress ? &err : nullptr, label);
  if (stacks.empty()) {
    err << "restack-blame: no stack read\n";
    return kExitError;
  }
  if (stacks.size() >= 2) {
    if (options.json) {
      out << JsonLine(VoteJson(stacks, blames)) << "\n";
    } else {
      PrintVote(stacks, blames, out);
    }
  }
  return problems ? kExitPartial : kExitOk;
}

}  // namespace restack::tools
