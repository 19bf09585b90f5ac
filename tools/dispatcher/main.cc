// main.cc - restack: `restack walk ...` runs `restack-walk ...` from the same directory
#include <linux/limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char* kTools[] = {"walk", "info", "sym", "diff", "blame"};

void Usage(std::ostream& out) {
  out << "restack: Windows x64 stacks from crash dumps\n\n"
         "usage: restack TOOL [args...]   runs restack-TOOL with the args\n"
         "tools: walk (dump -> stacks), info (dump or image summary),\n"
         "       sym (re-resolve stack text), diff (compare stacks),\n"
         "       blame (probable culprit, !analyze-style)\n\n"
         "example:\n"
         "  restack walk --images tests/fixtures/store tests/fixtures/wine/cold_chunk.dmp\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    Usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  const std::string tool = argv[1];
  bool known = false;
  for (const char* t : kTools) known |= tool == t;
  if (!known) {
    std::cerr << "restack: unknown tool '" << tool << "' (see restack --help)\n";
    return 2;
  }
  // Prefer the sibling binary, then PATH.
  std::string self(PATH_MAX, '\0');
  ssize_t n = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
  std::vector<char*> args(argv + 1, argv + argc);
  std::string name = "restack-" + tool;
  args[0] = name.data();
  args.push_back(nullptr);
  if (n > 0) {
    self.resize(static_cast<size_t>(n));
    std::string sibling = self.substr(0, self.find_last_of('/') + 1) + name;
    ::execv(sibling.c_str(), args.data());
  }
  ::execvp(name.c_str(), args.data());
  std::cerr << "restack: cannot run " << name << ": " << std::strerror(errno) << "\n";
  return 1;
}
