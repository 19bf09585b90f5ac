// kernel_report.h - text and JSON summaries of a kernel dump
#pragma once

#include <ostream>

#include "nlohmann/json.hpp"
#include "restack/dump/kernel_dump.h"

namespace restack::tools {

// Kind, OS build, processors, bugcheck name and parameters with their
// meaning, modules like WinDbg's `lm`, unloaded modules, secondary data.
void PrintKernelDumpText(const dump::KernelDump& dump, std::ostream& out);
nlohmann::json KernelDumpToJson(const dump::KernelDump& dump);

}  // namespace restack::tools
