// image_report.h - text and JSON descriptions of a PE image and its .pdata
#pragma once

#include <ostream>

#include "nlohmann/json.hpp"
#include "restack/unwind/pe_image.h"
#include "restack/unwind/runtime_function_table.h"

namespace restack::tools {

// Counts of RUNTIME_FUNCTIONs by kind, and how many could not be read.
struct UnwindCounts {
  size_t total = 0, primary = 0, chained = 0, indirect = 0, broken = 0;
};

// Headers, identity, sections and the unwind summary, as text.
UnwindCounts PrintImageText(const unwind::PeImage& image, const unwind::RuntimeFunctionTable& table,
                            bool list_unwind, std::ostream& out);

// The same as one JSON object.
nlohmann::json ImageToJson(const unwind::PeImage& image, const unwind::RuntimeFunctionTable& table,
                           bool list_unwind, UnwindCounts* counts);

}  // namespace restack::tools
