// triage_rules.cc - triage.ini rules: parsing, matching, precedence, the built-in set
#include "blame/triage_rules.h"

#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace restack::tools {
namespace {

absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view S(absl::string_view s) { return std::string_view(s.data(), s.size()); }
std::string_view Trim(std::string_view s) { return S(absl::StripAsciiWhitespace(A(s))); }

// "Name", "Name*", "*" or "default" (Microsoft: "default" is a wildcard).
NamePattern ParsePattern(std::string_view text) {
  NamePattern p;
  if (text.empty() || text == "*" || absl::EqualsIgnoreCase(A(text), "default")) {
    p.any = true;
    return p;
  }
  // Only a trailing '*' is a wildcard; one elsewhere is a literal character.
  if (text.back() == '*') {
    p.prefix = true;
    text.remove_suffix(1);
  }
  p.text = std::string(text);
  return p;
}

bool SamePattern(const NamePattern& a, const NamePattern& b) {
  return a.any == b.any && a.prefix == b.prefix && absl::EqualsIgnoreCase(a.text, b.text);
}

// Built-in rules (docs/triage-rules.md says why each is there).
constexpr char kBuiltIn[] = R"(; restack-blame's built-in rules, in triage.ini syntax (docs/triage-rules.md).
; A module without a rule of its own is its vendor's code: a definite owner.
default=MachineOwner

; Frames that raise the bugcheck or the exception report it; they never cause it.
nt!KeBugCheck*=ignore
nt!KiBugCheck*=ignore
nt!KiRaiseException=ignore
nt!RtlRaiseStatus=ignore
nt!ExRaiseStatus=ignore
ntdll!RtlRaiseException=ignore
ntdll!RtlRaiseStatus=ignore
ntdll!KiUserExceptionDispatch*=ignore
ntdll!RtlReportException*=ignore
KERNELBASE!RaiseException=ignore
KERNELBASE!RaiseFailFastException=ignore
kernel32!RaiseException=ignore
kernel32!UnhandledExceptionFilter=ignore
KERNELBASE!UnhandledExceptionFilter=ignore
ucrtbase!abort=ignore
msvcrt!abort=ignore

; Windows' own modules: owners of last resort. Code of another vendor on the
; stack, even below them, is blamed first; a stack of Windows code alone
; blames its topmost frame.
nt=last_Windows
hal=last_Windows
ndis=last_Windows
tcpip=last_Windows
tcpipreg=last_Windows
afd=last_Windows
afunix=last_Windows
netio=last_Windows
wfplwfs=last_Windows
fwpkclnt=last_Windows
ndiswan=last_Windows
ndisuio=last_Windows
pacer=last_Windows
netbt=last_Windows
nsiproxy=last_Windows
tdx=last_Windows
tdi=last_Windows
http=last_Windows
mup=last_Windows
rdbss=last_Windows
mrxsmb*=last_Windows
srv*=last_Windows
fltmgr=last_Windows
ntfs=last_Windows
refs=last_Windows
fastfat=last_Windows
exfat=last_Windows
npfs=last_Windows
msfs=last_Windows
cldflt=last_Windows
wof=last_Windows
volmgr=last_Windows
volmgrx=last_Windows
volsnap=last_Windows
fvevol=last_Windows
partmgr=last_Windows
disk=last_Windows
classpnp=last_Windows
storport=last_Windows
stornvme=last_Windows
storahci=last_Windows
ataport=last_Windows
iorate=last_Windows
Wdf01000=last_Windows
WdfLdr=last_Windows
acpi=last_Windows
pci=last_Windows
pdc=last_Windows
intelppm=last_Windows
amdppm=last_Windows
usbport=last_Windows
usbhub=last_Windows
usbhub3=last_Windows
usbxhci=last_Windows
ucx01000=last_Windows
usbccgp=last_Windows
usbstor=last_Windows
hidclass=last_Windows
hidparse=last_Windows
hidusb=last_Windows
kbdclass=last_Windows
mouclass=last_Windows
i8042prt=last_Windows
ks=last_Windows
portcls=last_Windows
dxgkrnl=last_Windows
dxgmms1=last_Windows
dxgmms2=last_Windows
watchdog=last_Windows
win32k*=last_Windows
cdd=last_Windows
ksecdd=last_Windows
ksecpkg=last_Windows
cng=last_Windows
ci=last_Windows
clipsp=last_Windows
clfs=last_Windows
tm=last_Windows
pshed=last_Windows
kdcom=last_Windows
werkernel=last_Windows
msrpc=last_Windows
ntdll=last_Windows
kernel32=last_Windows
KERNELBASE=last_Windows
user32=last_Windows
win32u=last_Windows
gdi32=last_Windows
gdi32full=last_Windows
combase=last_Windows
ole32=last_Windows
oleaut32=last_Windows
rpcrt4=last_Windows
sechost=last_Windows
advapi32=last_Windows
ws2_32=last_Windows
mswsock=last_Windows
shell32=last_Windows
shlwapi=last_Windows
ucrtbase=last_Windows
msvcrt=last_Windows
)";

}  // namespace

std::string_view OwnerClassName(OwnerClass c) {
  switch (c) {
    case OwnerClass::kDefinite:
      return "definite";
    case OwnerClass::kMaybe:
      return "maybe";
    case OwnerClass::kLast:
      return "last";
    case OwnerClass::kIgnore:
      return "ignore";
  }
  return "definite";
}

bool NamePattern::Matches(std::string_view name) const {
  if (any) return true;
  if (prefix) return absl::StartsWithIgnoreCase(A(name), text);
  return absl::EqualsIgnoreCase(A(name), text);
}

size_t NamePattern::Specificity() const {
  constexpr size_t kExact = SIZE_MAX / 2;
  if (any) return 0;
  return prefix ? 1 + text.size() : kExact + text.size();
}

std::optional<TriageRule> ParseTriageRule(std::string_view line, std::string* why) {
  const size_t eq = line.find('=');
  if (eq == std::string_view::npos) {
    *why = "expected Module[!Function]=Owner";
    return std::nullopt;
  }
  const std::string_view left = Trim(line.substr(0, eq));
  // Microsoft: spaces in the owner string are ignored.
  std::string owner;
  for (char c : line.substr(eq + 1)) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) owner.push_back(c);
  }
  if (left.empty()) {
    *why = "no module before '='";
    return std::nullopt;
  }
  if (owner.empty()) {
    *why = "no owner after '='";
    return std::nullopt;
  }
  TriageRule r;
  const size_t bang = left.find('!');
  const std::string_view module = Trim(left.substr(0, bang));
  const std::string_view function =
      bang == std::string_view::npos ? std::string_view("*") : Trim(left.substr(bang + 1));
  if (module.empty()) {
    *why = "no module before '!'";
    return std::nullopt;
  }
  r.module = ParsePattern(module);
  r.function = ParsePattern(function);
  if (absl::EqualsIgnoreCase(owner, "ignore")) {
    r.owner_class = OwnerClass::kIgnore;
    r.owner = "ignore";
  } else if (absl::StartsWithIgnoreCase(owner, "maybe_") && owner.size() > 6) {
    r.owner_class = OwnerClass::kMaybe;
    r.owner = owner.substr(6);
  } else if (absl::StartsWithIgnoreCase(owner, "last_") && owner.size() > 5) {
    r.owner_class = OwnerClass::kLast;
    r.owner = owner.substr(5);
  } else {
    r.owner = owner;
  }
  r.text = std::string(left) + "=" + owner;
  return r;
}

void TriageRules::Add(TriageRule rule) {
  for (TriageRule& r : rules_) {
    if (SamePattern(r.module, rule.module) && SamePattern(r.function, rule.function)) {
      r = std::move(rule);
      return;
    }
  }
  rules_.push_back(std::move(rule));
}

std::vector<std::string> TriageRules::AddText(std::string_view name, std::string_view text) {
  std::vector<std::string> problems;
  size_t number = 0;
  for (absl::string_view raw : absl::StrSplit(A(text), '\n')) {
    ++number;
    const std::string_view line = Trim(S(raw));
    if (line.empty() || line[0] == ';' || line[0] == '#' || line[0] == '[') continue;
    std::string why;
    std::optional<TriageRule> rule = ParseTriageRule(line, &why);
    if (!rule) {
      problems.push_back(absl::StrFormat("%s: line %u: %s, not \"%s\"", name, number, why, line));
      continue;
    }
    rule->origin = name == "built-in" ? std::string(name) : absl::StrFormat("%s:%u", name, number);
    Add(*std::move(rule));
  }
  return problems;
}

const TriageRule* TriageRules::Match(std::string_view module, std::string_view function) const {
  const TriageRule* best = nullptr;
  for (const TriageRule& r : rules_) {
    if (!r.module.Matches(module) || !r.function.Matches(function)) continue;
    // A module match is preferred to a function match; within each, the more
    // complete match wins.
    if (best == nullptr ||
        std::make_pair(r.module.Specificity(), r.function.Specificity()) >
            std::make_pair(best->module.Specificity(), best->function.Specificity())) {
      best = &r;
    }
  }
  return best;
}

std::string_view BuiltInTriageText() { return kBuiltIn; }

TriageRules BuiltInTriageRules() {
  TriageRules rules;
  rules.AddText("built-in", kBuiltIn);
  return rules;
}

}  // namespace restack::tools
