// exit_code.h - what restack's tools return (docs/tools.md#exit-codes)
#pragma once

namespace restack::tools {

enum ExitCode : int {
  kExitOk = 0,       // complete output
  kExitError = 1,    // bad input or failure; message on stderr
  kExitUsage = 2,    // bad command line
  kExitPartial = 3,  // output printed, but incomplete (a stack cut short, ...)
};

}  // namespace restack::tools
