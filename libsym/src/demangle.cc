// demangle.cc - qualified names from decorated Microsoft symbols
#include "restack/sym/demangle.h"

#include <cstdlib>

#include "llvm/Demangle/MicrosoftDemangle.h"
#include "llvm/Demangle/MicrosoftDemangleNodes.h"
#include "llvm/Demangle/Utility.h"

namespace restack::sym {

std::string StringLiteralDisplayName(std::string_view decorated) {
  // ??_C@_ <0 char | 1 wchar_t> <length: one digit, or letters A-P ending in
  // '@'> <hash> '@' <contents> '@'
  if (!IsStringLiteralName(decorated) || decorated.size() < 8 || decorated[5] != '_') return "";
  std::string_view rest = decorated.substr(6);
  if (rest.empty() || (rest[0] != '0' && rest[0] != '1')) return "";
  rest.remove_prefix(1);
  if (!rest.empty() && rest[0] >= '0' && rest[0] <= '9') {
    rest.remove_prefix(1);
  } else {
    const size_t at = rest.find('@');
    if (at == std::string_view::npos || at == 0) return "";
    for (char c : rest.substr(0, at)) {
      if (c < 'A' || c > 'P') return "";
    }
    rest.remove_prefix(at + 1);
  }
  const size_t at = rest.find('@');
  if (at == std::string_view::npos || at == 0) return "";
  return "?? ::" + std::string(rest.substr(0, at)) + "::`string'";
}

std::string FunctionName(std::string_view decorated) {
  if (IsStringLiteralName(decorated)) {
    std::string literal = StringLiteralDisplayName(decorated);
    if (!literal.empty()) return literal;
  }
  if (decorated.empty() || decorated[0] != '?') return std::string(decorated);
  llvm::ms_demangle::Demangler demangler;
  std::string_view rest = decorated;
  llvm::ms_demangle::SymbolNode* symbol = demangler.parse(rest);
  if (demangler.Error || symbol == nullptr || symbol->Name == nullptr) {
    return std::string(decorated);
  }
  llvm::itanium_demangle::OutputBuffer out;
  symbol->Name->output(out, llvm::ms_demangle::OF_Default);
  std::string name(out.getBuffer(), out.getCurrentPosition());
  std::free(out.getBuffer());
  return name.empty() ? std::string(decorated) : name;
}

bool IsStringLiteralName(std::string_view name) { return name.rfind("??_C@", 0) == 0; }

}  // namespace restack::sym
