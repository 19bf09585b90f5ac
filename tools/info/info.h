// info.h - restack-info: describe a PE image (and its unwind data) or a minidump, or decode an NTSTATUS
#pragma once

#include <ostream>
#include <string>

namespace restack::tools {

struct InfoToolOptions {
  std::string path;     // a file, or "-" for stdin
  bool unwind = false;  // images: list every RUNTIME_FUNCTION with its unwind info
  bool json = false;
  std::string status;   // --status: decode this NTSTATUS value instead of reading `path`
};

// Runs the tool; returns an ExitCode (exit_code.h).
int RunInfo(const InfoToolOptions& options, std::ostream& out, std::ostream& err);

}  // namespace restack::tools
