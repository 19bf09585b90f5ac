// usage.h - `--help` for the tools: the tool's own text on stdout, exit 0
#pragma once

#include <cstring>
#include <iostream>
#include <initializer_list>
#include <string_view>

namespace restack::tools {

// If argv asks for help (--help, -h, --helpfull), prints `usage` to stdout and
// returns true: the caller exits 0. (absl's own --help lists only flags
// defined in a file named after the program, and exits 1.)
inline bool HandleHelp(int argc, char** argv, std::string_view usage) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) break;
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0 ||
        std::strcmp(argv[i], "--helpfull") == 0) {
      std::cout << usage;
      return true;
    }
  }
  return false;
}

// Checks every "--name" / "--name=value" / "--noname" in argv against the
// tool's boolean flags and value flags (whose value may be the next argument,
// e.g. "--status -1073741819"); prints "<tool>: unknown flag --x (see --help)"
// and returns false for the first unknown one (the caller exits 2). "-" and
// arguments after "--" are positional.
inline bool CheckFlags(int argc, char** argv, std::string_view tool,
                       std::initializer_list<std::string_view> bool_flags,
                       std::initializer_list<std::string_view> value_flags) {
  auto in = [](std::string_view name, std::initializer_list<std::string_view> list) {
    for (std::string_view k : list) {
      if (name == k) return true;
    }
    return false;
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    std::string_view name = arg.substr(arg[1] == '-' ? 2 : 1);
    const bool has_value = name.find('=') != std::string_view::npos;
    name = name.substr(0, name.find('='));
    if (in(name, value_flags)) {
      if (!has_value) ++i;  // the value is the next argument
      continue;
    }
    if (in(name, bool_flags) || (name.size() > 2 && name.substr(0, 2) == "no" &&
                                 in(name.substr(2), bool_flags))) {
      continue;
    }
    std::cerr << tool << ": unknown flag " << arg << " (see --help)\n";
    return false;
  }
  return true;
}

}  // namespace restack::tools
