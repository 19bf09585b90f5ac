// dump_stacks.cc - dumps walked through restack-walk's JSON, with the dump's own failure code
#include "blame/dump_stacks.h"

#include <algorithm>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/dump_target.h"
#include "common/exit_code.h"
#include "common/frame_symbols.h"
#include "walk/walk.h"

namespace restack::tools {
namespace {

// The bugcheck code of a kernel dump or the exception code of a minidump.
void SetFailureCode(const DumpTarget& target, StackInput& in) {
  std::optional<uint32_t> code;
  bool exception = false;
  std::string source;
  if (target.kernel) {
    code = target.kernel->bugcheck().code;
    source = "dump header";
  } else if (target.minidump->exception()) {
    code = target.minidump->exception()->code;
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

DumpStackWalker::DumpStackWalker(const std::string& sympath,
                                 const std::vector<std::string>& image_paths) {
  std::ostringstream messages;
  setup_ = MakeSymbolSetup("restack-walk", sympath, image_paths, false, false, messages);
  setup_messages_ = messages.str();
  if (setup_) locator_.emplace(setup_->image_roots);
}

StackInput DumpStackWalker::Walk(const InputFile& file) {
  const std::string& name = file.name;
  std::ostringstream out, err;
  // What reading --sympath said goes with each dump's messages.
  err << setup_messages_;
  int rc = kExitUsage;
  std::unique_ptr<DumpTarget> target;
  if (setup_) {
    absl::StatusOr<std::unique_ptr<DumpTarget>> opened =
        OpenDumpTarget(file.bytes, file.owner, name, *locator_);
    if (opened.ok()) {
      target = *std::move(opened);
      WalkToolOptions walk;
      walk.json = true;
      FrameSymbolizer symbolizer(setup_->resolver ? &*setup_->resolver : nullptr, walk.inlines);
      rc = WalkDumpTarget(*target, walk, symbolizer, out, err);
    } else {
      err << "restack-walk: " << opened.status().message() << "\n";
      rc = kExitError;
    }
  }
  StackInput in;
  if (!out.str().empty()) in = ParseStackInput(name, out.str());
  // The walk's messages, without their "restack-walk: " prefix. They are
  // problems when the walk failed; a walk that printed its stacks (even one
  // cut short: its JSON says where) only warned.
  for (absl::string_view line : absl::StrSplit(err.str(), '\n', absl::SkipEmpty())) {
    absl::ConsumePrefix(&line, "restack-walk: ");
    (rc == kExitError ? in.problems : in.warnings).push_back(std::string(line));
  }
  if (in.stacks.empty() && in.problems.empty()) {
    in.problems.push_back(name + ": no stack walked");
  }
  for (InputStack& s : in.stacks) {
    s.line = 0;  // a line of the walk's output, not of the input
    // The title is "DUMP (context)": the dump is the label already.
    const std::string prefix = name + " (";
    if (absl::StartsWith(s.title, prefix) && absl::EndsWith(s.title, ")")) {
      s.title = s.title.substr(prefix.size(), s.title.size() - prefix.size() - 1);
    }
  }
  if (target) SetFailureCode(*target, in);
  return in;
}

}  // namespace restack::tools
