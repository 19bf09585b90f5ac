// walk.cc - restack-walk: open each dump, pick threads, walk, print
#include "walk.h"

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/dump_target.h"
#include "common/exit_code.h"
#include "common/input_file.h"
#include "common/stack_output.h"

namespace restack::tools {

std::vector<std::string> SplitPathList(const std::string& list) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(list, absl::ByAnyChar(";,"), absl::SkipEmpty())) {
    out.emplace_back(part);
  }
  return out;
}

namespace {

struct Selected {
  const dump::Thread* thread;
  uint32_t index;
  const dump::X64Context* context;
  std::string source;
};

std::vector<Selected> SelectThreads(const dump::Minidump& dump, const WalkToolOptions& options) {
  const std::optional<dump::ExceptionInfo>& exception = dump.exception();
  std::vector<Selected> out;
  const bool every = options.all_threads || (!options.thread_id && !exception);
  for (uint32_t i = 0; i < dump.threads().size(); ++i) {
    const dump::Thread& t = dump.threads()[i];
    const bool is_exception_thread = exception && exception->thread_id == t.thread_id;
    if (options.thread_id ? t.thread_id != *options.thread_id
                          : !every && !is_exception_thread) {
      continue;
    }
    if (is_exception_thread && exception->context) {
      out.push_back({&t, i, &*exception->context, "exception"});
    } else {
      out.push_back({&t, i, t.context ? &*t.context : nullptr, "thread"});
    }
  }
  return out;
}

}  // namespace

int RunWalk(const WalkToolOptions& options, std::ostream& out, std::ostream& err) {
  const sym::ImageLocator locator(options.image_paths);
  int rc = kExitOk;
  auto worsen = [&rc](int code) {
    if (code == kExitError || rc == kExitOk) rc = code;
  };
  for (const std::string& path : options.dumps) {
    absl::StatusOr<InputFile> input = OpenInput(path);
    if (!input.ok()) {
      err << "restack-walk: " << input.status().message() << "\n";
      worsen(kExitError);
      continue;
    }
    absl::StatusOr<std::unique_ptr<MinidumpTarget>> target =
        OpenMinidumpTarget(input->bytes, input->owner, input->name, locator);
    if (!target.ok()) {
      err << "restack-walk: " << target.status().message() << "\n";
      worsen(kExitError);
      continue;
    }
    const dump::Minidump& dump = (*target)->dump;
    for (const dump::Warning& w : dump.warnings()) err << "restack-walk: warning: " << w.what << "\n";
    // Modules without images matter only where a stack needs them, and each
    // walk says so; --verbose lists them all up front.
    if (options.verbose) {
      for (const std::string& w : (*target)->warnings) {
        err << "restack-walk: warning: " << input->name << ": " << w << "\n";
      }
    }
    std::vector<Selected> threads = SelectThreads(dump, options);
    if (threads.empty()) {
      err << "restack-walk: " << input->name
          << (options.thread_id ? absl::StrFormat(": no thread with id 0x%x", *options.thread_id)
                                : std::string(": no threads"))
          << "\n";
      worsen(kExitError);
      continue;
    }
    for (const Selected& s : threads) {
      StackOrigin origin{input->name, s.thread->thread_id, s.index, s.thread->suspend_count,
                         s.thread->teb, s.source};
      if (s.context == nullptr) {
        err << absl::StrFormat("restack-walk: warning: %s: thread 0x%x has no context\n",
                               input->name, s.thread->thread_id);
        worsen(kExitPartial);
        continue;
      }
      unwind::WalkOptions walk_options;
      walk_options.max_frames = options.max_frames;
      walk_options.stacks = ThreadStackBounds(*s.thread);
      unwind::StackWalk walk = unwind::WalkStack(ToRegisterContext(*s.context),
                                                 *(*target)->memory, (*target)->modules,
                                                 walk_options);
      if (options.json) {
        out << StackToJson(origin, walk, {options.registers}).dump() << "\n";
      } else {
        PrintStackText(origin, walk, out);
        out << "\n";
      }
      if (!unwind::IsCompleteEnd(walk.end)) worsen(kExitPartial);
    }
  }
  return rc;
}

}  // namespace restack::tools
