// demangle.h - Microsoft C++ names as WinDbg shows them in stacks (LLVM's demangler)
#pragma once

#include <string>
#include <string_view>

namespace restack::sym {

// The qualified name only ("Namespace::Class::Method", templates kept), as
// dbghelp's UNDNAME_NAME_ONLY gives it; names that are not decorated (C
// functions, already undecorated PDB names) come back unchanged.
std::string FunctionName(std::string_view decorated);

// Whether `name` is the decorated name of a string literal (??_C@...), which
// names data, never a function.
bool IsStringLiteralName(std::string_view name);

}  // namespace restack::sym
