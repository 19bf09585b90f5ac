// diff_blame_files.h - a whole text file for restack-diff's and restack-blame's tests
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace restack::tools {

// The file's text; "" when it cannot be read (the test then fails on content).
inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace restack::tools
