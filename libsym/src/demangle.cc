// demangle.cc - qualified names from decorated Microsoft symbols
#include "restack/sym/demangle.h"

#include <cstdlib>

#include "llvm/Demangle/MicrosoftDemangle.h"
#include "llvm/Demangle/MicrosoftDemangleNodes.h"
#include "llvm/Demangle/Utility.h"

namespace restack::sym {

std::string FunctionName(std::string_view decorated) {
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
