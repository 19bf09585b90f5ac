// walk.cc - restack-walk: open each dump, pick the contexts, walk, print
#include "walk.h"

#include <functional>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/dump_batch.h"
#include "common/dump_target.h"
#include "common/exit_code.h"
#include "common/frame_symbols.h"
#include "common/input_file.h"
#include "common/stack_output.h"
#include "common/symbol_setup.h"

namespace restack::tools {

std::vector<std::string> SplitPathList(const std::string& list) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(list, absl::ByAnyChar(";,"), absl::SkipEmpty())) {
    out.emplace_back(part);
  }
  return out;
}

namespace {

// One stack to walk: where it starts and how it is labelled.
struct StackStart {
  StackOrigin origin;
  std::optional<dump::X64Context> context;  // nullopt: the thread has none
  std::vector<unwind::StackBounds> bounds;
};

// Minidumps: the exception thread by default, every thread without an
// exception stream or with --all, one thread with --thread.
std::vector<StackStart> MinidumpStacks(const dump::Minidump& dump,
                                       const WalkToolOptions& options) {
  const std::optional<dump::ExceptionInfo>& exception = dump.exception();
  std::vector<StackStart> out;
  const bool every = options.all_threads || (!options.thread_id && !exception);
  for (uint32_t i = 0; i < dump.threads().size(); ++i) {
    const dump::Thread& t = dump.threads()[i];
    const bool is_exception_thread = exception && exception->thread_id == t.thread_id;
    if (options.thread_id ? t.thread_id != *options.thread_id
                          : !every && !is_exception_thread) {
      continue;
    }
    StackStart s;
    s.origin.dump = dump.name();
    s.origin.thread_id = t.thread_id;
    s.origin.thread_index = i;
    s.origin.suspend_count = t.suspend_count;
    s.origin.teb = t.teb;
    s.bounds = ThreadStackBounds(t);
    if (is_exception_thread && exception->context) {
      s.origin.context = "exception";
      s.context = *exception->context;
    } else {
      s.origin.context = "thread";
      s.context = t.context;
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Kernel dumps: the bugchecking processor's context by default (WinDbg's
// first `k`), the header's ContextRecord with --header, a processor's with
// --cpu, every processor's with --all.
std::vector<StackStart> KernelStacks(const dump::KernelDump& dump,
                                     const WalkToolOptions& options) {
  std::vector<StackStart> out;
  auto header = [&] {
    StackStart s;
    s.origin.dump = dump.name();
    s.origin.context = "header";
    s.context = dump.header_context();
    return s;
  };
  if (options.header_context) return {header()};
  const std::optional<uint32_t> bugcheck_cpu = dump.bugcheck_processor();
  const bool every = options.all_threads;
  for (const dump::ProcessorContext& pc : dump.processor_contexts()) {
    const bool wanted = every                    ? true
                        : options.cpu            ? pc.processor == *options.cpu
                                                 : bugcheck_cpu && pc.processor == *bugcheck_cpu;
    if (!wanted) continue;
    StackStart s;
    s.origin.dump = dump.name();
    s.origin.context =
        bugcheck_cpu && pc.processor == *bugcheck_cpu ? "bugcheck" : "processor";
    s.origin.processor = pc.processor;
    s.origin.prcb = pc.prcb;
    s.origin.kernel_thread = pc.current_thread;
    s.origin.context_source = pc.source;
    s.context = pc.context;
    out.push_back(std::move(s));
  }
  // Without a known bugchecking processor, the header's context stands in.
  if (out.empty() && !options.cpu) out.push_back(header());
  return out;
}


}  // namespace

int WalkDumpTarget(const DumpTarget& t, const WalkToolOptions& options,
                   FrameSymbolizer& symbolizer, std::ostream& out, std::ostream& err) {
  int rc = kExitOk;
  auto worsen = [&rc](int code) {
    if (code == kExitError || rc == kExitOk) rc = code;
  };
  const std::string& name = t.name();
  for (const dump::Warning& w : t.dump_warnings()) {
    err << "restack-walk: warning: " << w.what << "\n";
    worsen(kExitPartial);
  }
  for (const std::string& e : t.module_errors) {
    err << "restack-walk: warning: " << name << ": " << e << "\n";
    worsen(kExitPartial);
  }
  // Modules without images matter only where a stack needs them, and each
  // walk says so; --verbose lists them all up front.
  if (options.verbose) {
    for (const std::string& w : t.warnings) {
      err << "restack-walk: warning: " << name << ": " << w << "\n";
    }
  }
  std::vector<StackStart> stacks;
  if (options.cxr) {
    absl::StatusOr<dump::X64Context> context = ReadContextRecord(t, *options.cxr);
    if (!context.ok()) {
      err << "restack-walk: --cxr: " << context.status().message() << "\n";
      worsen(kExitError);
      return rc;
    }
    StackStart s;
    s.origin.dump = name;
    s.origin.context = "cxr";
    s.origin.cxr = *options.cxr;
    s.context = *std::move(context);
    stacks.push_back(std::move(s));
  } else if (t.minidump) {
    if (options.cpu || options.header_context) {
      err << "restack-walk: " << name << ": --cpu and --header apply to kernel dumps\n";
      worsen(kExitUsage);
      return rc;
    }
    stacks = MinidumpStacks(*t.minidump, options);
  } else {
    if (options.thread_id) {
      err << "restack-walk: " << name
          << ": --thread applies to user minidumps (kernel dumps: --cpu)\n";
      worsen(kExitUsage);
      return rc;
    }
    stacks = KernelStacks(*t.kernel, options);
  }
  if (stacks.empty()) {
    std::string what = options.thread_id ? absl::StrFormat("no thread with id 0x%x", *options.thread_id)
                       : options.cpu     ? absl::StrFormat("no context for processor %u", *options.cpu)
                                         : "no threads";
    err << "restack-walk: " << name << ": " << what << "\n";
    worsen(kExitError);
    return rc;
  }
  for (const StackStart& s : stacks) {
    if (!s.context) {
      err << "restack-walk: warning: " << name << ": " << StackTitle(s.origin)
          << ": no context\n";
      worsen(kExitPartial);
      continue;
    }
    unwind::WalkOptions walk_options;
    walk_options.max_frames = options.max_frames;
    walk_options.stacks = s.bounds;
    unwind::StackWalk walk =
        unwind::WalkStack(ToRegisterContext(*s.context), *t.memory, t.modules, walk_options);
    std::vector<FrameSymbol> symbols;
    for (size_t i = 0; i < walk.frames.size(); ++i) symbols.push_back(symbolizer.Symbolize(walk, i));
    for (const std::string& m : symbolizer.TakeMessages()) {
      err << "restack-walk: warning: " << name << ": " << m << "\n";
    }
    if (options.json) {
      out << JsonLine(StackToJson(s.origin, walk, {options.registers}, &symbols)) << "\n";
    } else {
      PrintStack(s.origin, walk, options.format, t.memory.get(), out, &symbols);
      out << "\n";
    }
    if (!unwind::IsCompleteEnd(walk.end)) worsen(kExitPartial);
  }
  return rc;
}

namespace {

// Walks the dump at `path` into `out`, its messages into `err`; returns the
// exit code it deserves alone.
int WalkOneDump(const std::string& path, const WalkToolOptions& options,
                const sym::ImageLocator& locator, FrameSymbolizer& symbolizer, std::ostream& out,
                std::ostream& err) {
  absl::StatusOr<InputFile> input = OpenInput(path);
  if (!input.ok()) {
    err << "restack-walk: " << input.status().message() << "\n";
    return kExitError;
  }
  absl::StatusOr<std::unique_ptr<DumpTarget>> target =
      OpenDumpTarget(input->bytes, input->owner, input->name, locator);
  if (!target.ok()) {
    err << "restack-walk: " << target.status().message() << "\n";
    return kExitError;
  }
  return WalkDumpTarget(**target, options, symbolizer, out, err);
}

// One dump's output, kept until its turn to be printed.
struct DumpOutput {
  int rc = kExitOk;
  std::string out, err;
};

}  // namespace

int RunWalk(const WalkToolOptions& options, std::ostream& out, std::ostream& err) {
  int rc = kExitOk;
  auto worsen = [&rc](int code) {
    if (code == kExitError || rc == kExitOk) rc = code;
  };
  std::optional<SymbolSetup> setup = MakeSymbolSetup(
      "restack-walk", options.sympath, options.image_paths, options.raw_names, false, err);
  if (!setup) return kExitUsage;
  const sym::ImageLocator locator(setup->image_roots);
  std::vector<std::string> problems;
  const std::optional<std::vector<std::string>> expanded =
      ExpandDumpArgumentsAndList(options.dumps, options.list, &problems);
  if (!expanded) {
    err << "restack-walk: --list " << options.list << ": cannot be read\n";
    return kExitError;
  }
  const std::vector<std::string>& dumps = *expanded;
  for (const std::string& p : problems) {
    err << "restack-walk: " << p << "\n";
    worsen(kExitError);
  }
  const int jobs = std::max(1, options.jobs);
  // One resolver serves every dump (it is thread-safe and caches each image's
  // symbols by identity, so a PDB is read once per batch); each dump gets its
  // own FrameSymbolizer, so that each reports its own missing symbols and
  // -j N prints what -j 1 prints.
  std::function<DumpOutput(size_t)> work = [&](size_t i) {
    DumpOutput o;
    std::ostringstream dump_out, dump_err;
    FrameSymbolizer dump_symbolizer(setup->resolver ? &*setup->resolver : nullptr,
                                    options.inlines);
    o.rc = WalkOneDump(dumps[i], options, locator, dump_symbolizer, dump_out, dump_err);
    o.out = dump_out.str();
    o.err = dump_err.str();
    return o;
  };
  std::function<void(size_t, DumpOutput&)> emit = [&](size_t, DumpOutput& o) {
    out << o.out;
    out.flush();
    err << o.err;
    worsen(o.rc);
  };
  std::function<std::string(size_t)> label = [&](size_t i) { return dumps[i]; };
  RunInOrder<DumpOutput>(dumps.size(), jobs, work, emit, options.progress ? &err : nullptr, label);
  return rc;
}

}  // namespace restack::tools
