// dump_batch.cc - dump arguments expanded: directories, glob patterns, lists
#include "common/dump_batch.h"

#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <system_error>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"

namespace restack::tools {
namespace {

bool IsPattern(const std::string& arg) {
  return arg.find_first_of("*?[") != std::string::npos;
}

// The *.dmp files directly in `dir`, sorted.
std::vector<std::string> DumpsIn(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code type_ec;
    if (!entry.is_regular_file(type_ec)) continue;
    const std::string name = entry.path().filename().string();
    if (absl::EndsWithIgnoreCase(name, ".dmp")) out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Sorted matches of a glob pattern (no brace or tilde expansion).
std::vector<std::string> Matches(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.push_back(g.gl_pathv[i]);
  }
  globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

void Expand(const std::string& arg, std::vector<std::string>& out,
            std::vector<std::string>* problems) {
  std::vector<std::string> found;
  std::error_code ec;
  if (arg == "-") {
    found.push_back(arg);
  } else if (std::filesystem::is_directory(arg, ec)) {
    found = DumpsIn(arg);
  } else if (IsPattern(arg) && !std::filesystem::exists(arg, ec)) {
    found = Matches(arg);
  } else {
    found.push_back(arg);  // a path (opening it reports what is wrong)
  }
  if (found.empty() && problems != nullptr) {
    problems->push_back(absl::StrFormat("%s: no dump matches", arg));
  }
  out.insert(out.end(), found.begin(), found.end());
}

}  // namespace

std::vector<std::string> ExpandDumpArguments(const std::vector<std::string>& args,
                                             std::istream* list,
                                             std::vector<std::string>* problems) {
  std::vector<std::string> out;
  for (const std::string& arg : args) Expand(arg, out, problems);
  if (list != nullptr) {
    std::string line;
    while (std::getline(*list, line)) {
      const std::string path(absl::StripAsciiWhitespace(line));
      if (path.empty() || path[0] == '#') continue;
      Expand(path, out, problems);
    }
  }
  return out;
}

std::optional<std::vector<std::string>> ExpandDumpArgumentsAndList(
    const std::vector<std::string>& args, const std::string& list,
    std::vector<std::string>* problems) {
  if (list.empty()) return ExpandDumpArguments(args, nullptr, problems);
  if (list == "-") return ExpandDumpArguments(args, &std::cin, problems);
  std::ifstream file(list);
  if (!file) return std::nullopt;
  return ExpandDumpArguments(args, &file, problems);
}

int DefaultJobs() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

}  // namespace restack::tools
