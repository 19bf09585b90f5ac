// dump_stacks.cc - dumps walked through RunWalk's JSON, with the dump's own failure code
#include "blame/dump_stacks.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "restack/dump/kernel_dump.h"
#include "restack/dump/minidump.h"
#include "common/exit_code.h"
#include "walk/walk.h"

namespace restack::tools {
namespace {

// A file holding bytes read from standard input, for RunWalk (which takes
// paths); removed when it goes out of scope.
class TempDump {
 public:
  explicit TempDump(std::span<const uint8_t> bytes) {
    std::string pattern = (std::filesystem::temp_directory_path() / "restack-blame-XXXXXX").string();
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) return;
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    path_ = pattern;
    if (done != bytes.size()) path_.clear();
  }
  ~TempDump() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  TempDump(const TempDump&) = delete;
  TempDump& operator=(const TempDump&) = delete;
  const std::string& path() const { return path_; }  // "" when it could not be written

 private:
  std::string path_;
};

// The bugcheck code of a kernel dump or the exception code of a minidump.
void SetFailureCode(const std::string& name, std::span<const uint8_t> bytes, StackInput& in) {
  std::optional<uint32_t> code;
  bool exception = false;
  std::string source;
  if (absl::StatusOr<dump::KernelDump> k = dump::KernelDump::FromBytes(bytes, nullptr, name);
      k.ok()) {
    code = k->bugcheck().code;
    source = "dump header";
  } else if (absl::StatusOr<dump::Minidump> m = dump::Minidump::FromBytes(bytes, nullptr, name);
             m.ok() && m->exception()) {
    code = m->exception()->code;
    exception = true;
    source = "exception stream";
  }
  if (!code) return;
  for (InputStack& s : in.stacks) {
    s.failure_code = code;
    s.failure_is_exception = exception;
    s.failure_source = source;
  }
}

}  // namespace

bool IsDumpInput(const std::string& name, std::span<const uint8_t> bytes) {
  const std::string_view head(reinterpret_cast<const char*>(bytes.data()),
                              std::min<size_t>(bytes.size(), 8));
  return LooksLikeDump(head) || absl::EndsWithIgnoreCase(name, ".dmp");
}

StackInput WalkDumpStacks(const std::string& name, std::span<const uint8_t> bytes,
                          const DumpWalkOptions& options) {
  std::optional<TempDump> temp;
  std::string path = name;
  if (name == "<stdin>") {
    temp.emplace(bytes);
    path = temp->path();
    if (path.empty()) {
      StackInput in;
      in.problems.push_back("<stdin>: cannot write the dump to a temporary file");
      return in;
    }
  }
  WalkToolOptions walk;
  walk.dumps = {path};
  walk.json = true;
  walk.sympath = options.sympath;
  walk.image_paths = options.image_paths;
  walk.jobs = 1;
  std::ostringstream out, err;
  const int rc = RunWalk(walk, out, err);
  StackInput in;
  if (!out.str().empty()) in = ParseStackInput(name, out.str());
  // RunWalk's messages, without its "restack-walk: " prefix; a temporary
  // file's name is the input's. They are problems when the walk failed; a
  // walk that printed its stacks (even one cut short: its JSON says where)
  // only warned.
  for (absl::string_view line : absl::StrSplit(err.str(), '\n', absl::SkipEmpty())) {
    absl::ConsumePrefix(&line, "restack-walk: ");
    std::string message(line);
    if (temp) absl::StrReplaceAll({{path, name}}, &message);
    (rc == kExitError ? in.problems : in.warnings).push_back(message);
  }
  if (in.stacks.empty() && in.problems.empty()) {
    in.problems.push_back(name + ": no stack walked");
  }
  for (InputStack& s : in.stacks) {
    s.line = 0;  // a line of RunWalk's output, not of the input
    // The title is "DUMP (context)": the dump is the label already.
    const std::string prefix = path + " (";
    if (absl::StartsWith(s.title, prefix) && absl::EndsWith(s.title, ")")) {
      s.title = s.title.substr(prefix.size(), s.title.size() - prefix.size() - 1);
    }
  }
  SetFailureCode(name, bytes, in);
  return in;
}

}  // namespace restack::tools
