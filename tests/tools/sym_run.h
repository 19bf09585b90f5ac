// sym_run.h - runs restack-sym's core (RunSym) in the test process
#pragma once

#include <sstream>
#include <string>

#include "sym/sym.h"

namespace restack::tools {

// What one restack-sym run returned and printed.
struct SymRun {
  int rc = 0;
  std::string out, err;
};

inline SymRun RunOn(const SymToolOptions& options) {
  std::ostringstream out, err;
  SymRun r;
  r.rc = RunSym(options, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

}  // namespace restack::tools
