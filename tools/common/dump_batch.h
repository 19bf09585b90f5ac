// dump_batch.h - many dumps at once: arguments expanded, work spread over
// threads, results handed back in input order as soon as they are ready
//
// restack-walk and restack-blame take any number of dumps (files, directories,
// glob patterns, a list of paths from a file or standard input), process them
// on `jobs` threads and stream their output in the order given, so that
// output is deterministic whatever the thread count. A dump that cannot be
// read is one input's error; the others are still processed.
#pragma once

#include <cstddef>
#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace restack::tools {

// The dump paths `args` stand for, in order: a directory gives its regular
// files named *.dmp / *.DMP (sorted, not recursive); an argument with `*`,
// `?` or `[` is a glob pattern (sorted matches; none is an error for that
// argument); "-" stays "-" (a dump on standard input); anything else is a
// path. `list`, when not null, adds one path per non-empty line (after the
// arguments; lines starting with '#' are comments). Arguments that expand
// to nothing are reported in `problems` ("ARG: no dump matches") and skipped.
std::vector<std::string> ExpandDumpArguments(const std::vector<std::string>& args,
                                             std::istream* list,
                                             std::vector<std::string>* problems);

// ExpandDumpArguments with the paths listed in the file `list` (--list:
// "" none, "-" standard input); nullopt when that file cannot be read.
std::optional<std::vector<std::string>> ExpandDumpArgumentsAndList(
    const std::vector<std::string>& args, const std::string& list,
    std::vector<std::string>* problems);

// The default for -j: the machine's hardware threads (at least 1).
int DefaultJobs();

// Runs work(i) for i in [0, count) on up to `jobs` threads (jobs <= 1: in
// this thread, in order) and calls emit(i, result) in increasing i, each as
// soon as result i and every earlier one are done; emit runs on the calling
// thread only. `progress`, when not null, gets "restack: [k/n] LABEL\r"-style
// updates (label(i)) and a final newline; pass it only when it is a terminal.
template <typename Result>
void RunInOrder(size_t count, int jobs, const std::function<Result(size_t)>& work,
                const std::function<void(size_t, Result&)>& emit, std::ostream* progress = nullptr,
                const std::function<std::string(size_t)>& label = {});

// Whether standard error is a terminal (progress is shown only then).
bool StderrIsTerminal();

}  // namespace restack::tools

#include "common/dump_batch_impl.h"  // IWYU pragma: export
