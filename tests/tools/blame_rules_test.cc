// blame_rules_test.cc - triage.ini rule forms and precedence, and the search down a stack
//
// The sample file and the walk-through are those of Microsoft's "Specifying
// Module and Function Owners" (docs/triage-rules.md cites them).
#include "blame/triage_rules.h"

#include <string>
#include <vector>

#include "blame/culprit.h"
#include "gtest/gtest.h"

namespace restack::tools {
namespace {

constexpr char kMicrosoftSample[] =
    "module1=Person1\n"
    "module2!functionA=Person2\n"
    "module2!functionB=Person3\n"
    "module2!funct*=Person4\n"
    "module2!*=Person5\n"
    "module3!singleFunction=Person6\n"
    "mod*!functionC=Person7\n";

TriageRules Rules(const std::string& text) {
  TriageRules rules;
  EXPECT_TRUE(rules.AddText("test.ini", text).empty());
  return rules;
}

std::string OwnerOf(const TriageRules& rules, const std::string& module, const std::string& function) {
  const TriageRule* r = rules.Match(module, function);
  return r == nullptr ? "(none)" : r->owner;
}

InputStack Stack(const std::vector<std::string>& call_sites) {
  InputStack s;
  s.source = s.label = "test";
  for (const std::string& c : call_sites) s.frames.push_back({KeyOf(c)});
  return s;
}

// The blamed frame's index and owner, "-" when none.
std::string Blamed(const TriageRules& rules, const std::vector<std::string>& call_sites) {
  const StackBlame b = BlameStack(Stack(call_sites), rules);
  if (!b.culprit) return "-";
  return std::to_string(b.culprit->frame) + ":" + b.culprit->rule->owner;
}

TEST(TriageRules, MicrosoftSampleMatches) {
  const TriageRules rules = Rules(kMicrosoftSample);
  EXPECT_EQ(OwnerOf(rules, "module2", "functionB"), "Person3");  // exact beats funct*
  EXPECT_EQ(OwnerOf(rules, "module2", "functionA"), "Person2");
  EXPECT_EQ(OwnerOf(rules, "module2", "functionC"), "Person4");  // funct* beats module2!*
  EXPECT_EQ(OwnerOf(rules, "module2", "other"), "Person5");
  EXPECT_EQ(OwnerOf(rules, "module1", "anything"), "Person1");   // Module alone: every function
  EXPECT_EQ(OwnerOf(rules, "module3", "anotherFunction"), "(none)");
  EXPECT_EQ(OwnerOf(rules, "module3", "singleFunction"), "Person6");
  EXPECT_EQ(OwnerOf(rules, "modX", "functionC"), "Person7");
}

TEST(TriageRules, ModuleMatchIsPreferredToFunctionMatch) {
  // Microsoft: without module2!funct*, module2!* is chosen; without both,
  // mod*!functionC.
  EXPECT_EQ(OwnerOf(Rules("module2!*=Person5\nmod*!functionC=Person7\n"), "module2", "functionC"),
            "Person5");
  EXPECT_EQ(OwnerOf(Rules("mod*!functionC=Person7\n"), "module2", "functionC"), "Person7");
  // The longer of two prefixes is the more complete match.
  EXPECT_EQ(OwnerOf(Rules("mod*=Short\nmodul*=Long\n"), "module2", "f"), "Long");
  EXPECT_EQ(OwnerOf(Rules("modul*=Long\nmod*=Short\n"), "module2", "f"), "Long");
  // An exact module beats any prefix, whatever the function patterns.
  EXPECT_EQ(OwnerOf(Rules("module2=Exact\nmodule*!functionC=Prefix\n"), "module2", "functionC"),
            "Exact");
}

TEST(TriageRules, MicrosoftWalkThroughDownTheStack) {
  // MyModule has no entry, module3 has none for anotherFunction, and
  // module2!functionC is found by trimming the function name: Person4.
  EXPECT_EQ(Blamed(Rules(kMicrosoftSample),
                   {"MyModule!someFunction+0x10", "module3!anotherFunction+0x20",
                    "module2!functionC+0x15a"}),
            "2:Person4");
}

TEST(TriageRules, DefaultIsAWildcard) {
  const TriageRules rules = Rules("default=Everyone\nnt!default=Kernel\n");
  EXPECT_EQ(OwnerOf(rules, "anything", "f"), "Everyone");  // default == *!*
  EXPECT_EQ(OwnerOf(rules, "nt", "KeBugCheckEx"), "Kernel");  // nt!default == nt!*
  EXPECT_EQ(OwnerOf(rules, "Hamdrv", ""), "Everyone");     // a frame without a function
  EXPECT_EQ(OwnerOf(Rules("*=Star\n"), "x", "y"), "Star");
}

TEST(TriageRules, AsteriskOnlyAtTheEnd) {
  const TriageRules rules = Rules("a*b=Literal\nmod!f*x=Literal2\n");
  EXPECT_EQ(OwnerOf(rules, "a*b", "f"), "Literal");
  EXPECT_EQ(OwnerOf(rules, "axxb", "f"), "(none)");
  EXPECT_EQ(OwnerOf(rules, "mod", "f*x"), "Literal2");
  EXPECT_EQ(OwnerOf(rules, "mod", "fyx"), "(none)");
}

TEST(TriageRules, OwnerSpacesIgnoredAndNamesCaseInsensitive) {
  const TriageRules rules = Rules("  Hamdrv ! Send*  =  Log Me In  \n");
  EXPECT_EQ(OwnerOf(rules, "HAMDRV", "sendPacket"), "LogMeIn");
  ASSERT_EQ(rules.rules().size(), 1u);
  EXPECT_EQ(rules.rules()[0].text, "Hamdrv ! Send*=LogMeIn");
}

TEST(TriageRules, IgnoreContinuesToTheNextFrame) {
  const TriageRules rules = Rules("nt!KeBugCheck*=ignore\ndefault=Owner\n");
  EXPECT_EQ(Blamed(rules, {"nt!KeBugCheckEx", "drv+0x10"}), "1:Owner");
  // Nothing but ignored frames and bare addresses: no culprit.
  EXPECT_EQ(Blamed(rules, {"nt!KeBugCheckEx", "0xfffff800`00001000"}), "-");
}

TEST(TriageRules, MaybeAndLastYieldToStrongerOwnersLower) {
  const TriageRules rules = Rules("m=maybe_M\nl=last_L\nd=D\nm2=maybe_M2\n");
  EXPECT_EQ(Blamed(rules, {"m!f", "d!f"}), "1:D");    // definite lower beats maybe_ higher
  EXPECT_EQ(Blamed(rules, {"l!f", "m!f"}), "1:M");    // maybe_ lower beats last_ higher
  EXPECT_EQ(Blamed(rules, {"l!f", "d!f"}), "1:D");    // definite lower beats last_ higher
  EXPECT_EQ(Blamed(rules, {"m!f", "l!f"}), "0:M");    // maybe_ higher beats last_ lower
  EXPECT_EQ(Blamed(rules, {"d!f", "m!f"}), "0:D");
  EXPECT_EQ(Blamed(rules, {"m!f", "m2!f"}), "0:M");   // the topmost of one class
  EXPECT_EQ(Blamed(rules, {"l!f", "x!f"}), "0:L");    // x has no owner: last_ stands
  const TriageRule* r = rules.Match("m", "f");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->owner_class, OwnerClass::kMaybe);
  EXPECT_EQ(r->owner, "M");
}

TEST(TriageRules, LaterRuleForTheSamePatternReplaces) {
  TriageRules rules = BuiltInTriageRules();
  EXPECT_EQ(rules.Match("nt", "IopfCompleteRequest")->owner_class, OwnerClass::kLast);
  const size_t before = rules.rules().size();
  EXPECT_TRUE(rules.AddText("mine.ini", "NT=KernelTeam\nHamdrv=LogMeIn\n").empty());
  EXPECT_EQ(rules.rules().size(), before + 1);  // nt replaced, Hamdrv added
  const TriageRule* nt = rules.Match("nt", "IopfCompleteRequest");
  EXPECT_EQ(nt->owner, "KernelTeam");
  EXPECT_EQ(nt->origin, "mine.ini:1");
  // The built-in nt!KeBugCheck*=ignore is more specific and still applies.
  EXPECT_EQ(rules.Match("nt", "KeBugCheckEx")->owner_class, OwnerClass::kIgnore);
  EXPECT_EQ(rules.Match("hamdrv", "")->owner, "LogMeIn");
}

TEST(TriageRules, BadLinesAreNamedAndSkipped) {
  TriageRules rules;
  const std::vector<std::string> problems = rules.AddText(
      "bad.ini",
      "; comment\n# comment\n[Owners]\n\nno equals sign\n=Owner\nmod=\n!f=O\ngood=Owner\n");
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0], "bad.ini: line 5: expected Module[!Function]=Owner, not \"no equals sign\"");
  EXPECT_EQ(problems[1], "bad.ini: line 6: no module before '=', not \"=Owner\"");
  EXPECT_EQ(problems[2], "bad.ini: line 7: no owner after '=', not \"mod=\"");
  EXPECT_EQ(problems[3], "bad.ini: line 8: no module before '!', not \"!f=O\"");
  ASSERT_EQ(rules.rules().size(), 1u);
  EXPECT_EQ(rules.rules()[0].origin, "bad.ini:9");
}

TEST(TriageRules, BuiltInRulesParseAndCoverWindowsModules) {
  TriageRules rules;
  EXPECT_TRUE(rules.AddText("built-in", BuiltInTriageText()).empty());
  for (const char* m : {"nt", "hal", "ndis", "tcpip", "afd", "netio", "wfplwfs", "fltmgr", "FLTMGR",
                        "Wdf01000", "ntdll", "KERNELBASE"}) {
    const TriageRule* r = rules.Match(m, "SomeFunction");
    ASSERT_NE(r, nullptr) << m;
    EXPECT_EQ(r->owner_class, OwnerClass::kLast) << m;
  }
  EXPECT_EQ(rules.Match("nt", "KeBugCheckEx")->owner_class, OwnerClass::kIgnore);
  EXPECT_EQ(rules.Match("Hamdrv", "")->owner, "MachineOwner");
  EXPECT_EQ(rules.Match("Hamdrv", "")->owner_class, OwnerClass::kDefinite);
}

}  // namespace
}  // namespace restack::tools
