// triage_rules.h - WinDbg's triage.ini: who owns a module or function, and
// which frames !analyze passes over
//
// Each rule is `Module[!Function]=Owner` (docs/triage-rules.md, after
// Microsoft's "Specifying Module and Function Owners"): a trailing `*` is a
// prefix wildcard, `default` as a module or function name is `*`, the owner
// `ignore` skips the frame, and the prefixes `maybe_` and `last_` make an
// owner weaker than a definite one lower on the stack.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace restack::tools {

// How strongly a matched owner blames its frame (strongest first).
enum class OwnerClass {
  kDefinite,  // a plain owner: the search stops here
  kMaybe,     // "maybe_Owner": a definite owner lower on the stack wins
  kLast,      // "last_Owner": a maybe_ or definite owner lower on the stack wins
  kIgnore,    // "ignore": the frame is passed over
};

// "definite", "maybe", "last", "ignore".
std::string_view OwnerClassName(OwnerClass c);

// One name pattern: exact, a prefix (trailing '*'), or any name ("*", "default").
struct NamePattern {
  std::string text;  // the name without its trailing '*' ("" for any name)
  bool prefix = false;
  bool any = false;
  bool Matches(std::string_view name) const;  // ASCII case-insensitive
  // How complete a match is: any < prefix (longer is more complete) < exact.
  size_t Specificity() const;
};

// One line of a rules file.
struct TriageRule {
  NamePattern module;
  NamePattern function;    // "Module=Owner" and "Module!*" match every function
  std::string owner;       // without its prefix ("MachineOwner"); "ignore" for kIgnore
  OwnerClass owner_class = OwnerClass::kDefinite;
  std::string text;        // as written, for output: "nt!KeBugCheck*=ignore"
  std::string origin;      // "built-in", "rules.ini:12"
};

// A set of rules: the built-in ones, then those of --rules files. A rule whose
// Module!Function pattern is already there replaces the earlier one.
class TriageRules {
 public:
  // Adds or replaces `rule` (same module and function pattern).
  void Add(TriageRule rule);

  // Reads triage.ini text: one rule a line; blank lines and lines starting
  // with ';', '#' or '[' are skipped. A line that is no rule gives a problem
  // "NAME: line N: ..." and is skipped. Returns the problems.
  std::vector<std::string> AddText(std::string_view name, std::string_view text);

  // The rule for module!function: the most complete match, the module's
  // pattern deciding first, then the function's (docs/triage-rules.md);
  // nullptr when none matches. `function` is "" for a frame without a name.
  const TriageRule* Match(std::string_view module, std::string_view function) const;

  const std::vector<TriageRule>& rules() const { return rules_; }

 private:
  std::vector<TriageRule> rules_;
};

// Parses one rule line ("nt!KeBugCheck*=ignore"); nullopt with `why` set when
// it is none.
std::optional<TriageRule> ParseTriageRule(std::string_view line, std::string* why);

// restack-blame's own rules for Windows' modules (docs/triage-rules.md), as
// triage.ini text: the bugcheck callers ignored, Windows' kernel and user
// modules last_, and default=MachineOwner.
std::string_view BuiltInTriageText();

// The built-in rules, parsed.
TriageRules BuiltInTriageRules();

}  // namespace restack::tools
