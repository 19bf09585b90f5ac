// usage.h - `--help` for the tools: the tool's own text on stdout, exit 0
#pragma once

#include <cstring>
#include <iostream>
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

}  // namespace restack::tools
