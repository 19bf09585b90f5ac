// minidump_report.h - text and JSON summaries of a user-mode minidump
#pragma once

#include <ostream>

#include "nlohmann/json.hpp"
#include "restack/dump/minidump.h"

namespace restack::tools {

// Kind, system, exception, threads and a WinDbg `lm`-like module list.
void PrintMinidumpText(const dump::Minidump& dump, std::ostream& out);
nlohmann::json MinidumpToJson(const dump::Minidump& dump);

}  // namespace restack::tools
