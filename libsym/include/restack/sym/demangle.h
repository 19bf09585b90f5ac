// demangle.h - Microsoft C++ names as WinDbg shows them in stacks (LLVM's demangler)
#pragma once

#include <string>
#include <string_view>

namespace restack::sym {

// The qualified name only ("Namespace::Class::Method", templates kept), as
// dbghelp's UNDNAME_NAME_ONLY gives it; names that are not decorated (C
// functions, already undecorated PDB names) come back unchanged. A string
// literal comes back as WinDbg prints it: "?? ::FNODOBFM::`string'".
std::string FunctionName(std::string_view decorated);

// WinDbg's name for a string literal's public, "?? ::<hash>::`string'", from
// its decorated name ("??_C@_0BF@LIKCBNOD@...@" -> "?? ::LIKCBNOD::`string'");
// "" when `decorated` is not a well-formed literal name.
std::string StringLiteralDisplayName(std::string_view decorated);

// Whether `name` is the decorated name of a string literal (??_C@...), which
// names data, never a function.
bool IsStringLiteralName(std::string_view name);

}  // namespace restack::sym
