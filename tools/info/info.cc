// info.cc - restack-info: recognise the input by its content, then describe it
#include "info.h"

#include <cstring>

#include "common/exit_code.h"
#include "common/stack_output.h"
#include "common/input_file.h"
#include "image_report.h"
#include "kernel_report.h"
#include "minidump_report.h"
#include "status_report.h"
#include "restack/dump/kernel_dump.h"
#include "restack/dump/minidump.h"
#include "restack/unwind/pe_image.h"
#include "restack/unwind/runtime_function_table.h"

namespace restack::tools {

int RunInfo(const InfoToolOptions& options, std::ostream& out, std::ostream& err) {
  if (!options.status.empty()) return RunStatusReport(options.status, options.json, out, err);
  absl::StatusOr<InputFile> input = OpenInput(options.path);
  if (!input.ok()) {
    err << "restack-info: " << input.status().message() << "\n";
    return kExitError;
  }
  const std::span<const uint8_t> b = input->bytes;
  if (b.size() >= 4 && std::memcmp(b.data(), "MDMP", 4) == 0) {
    absl::StatusOr<dump::Minidump> d = dump::Minidump::FromBytes(b, input->owner, input->name);
    if (!d.ok()) {
      err << "restack-info: " << d.status().message() << "\n";
      return kExitError;
    }
    if (options.json) {
      out << JsonLine(MinidumpToJson(*d)) << "\n";
    } else {
      PrintMinidumpText(*d, out);
    }
    return d->warnings().empty() ? kExitOk : kExitPartial;
  }
  if (b.size() >= 4 && std::memcmp(b.data(), "PAGE", 4) == 0) {
    absl::StatusOr<dump::KernelDump> d = dump::KernelDump::FromBytes(b, input->owner, input->name);
    if (!d.ok()) {
      err << "restack-info: " << d.status().message() << "\n";
      return kExitError;
    }
    if (options.json) {
      out << JsonLine(KernelDumpToJson(*d)) << "\n";
    } else {
      PrintKernelDumpText(*d, out);
    }
    return d->warnings().empty() ? kExitOk : kExitPartial;
  }
  if (b.size() >= 2 && b[0] == 'M' && b[1] == 'Z') {
    absl::StatusOr<unwind::PeImage> image =
        unwind::PeImage::Create(b, unwind::PeLayout::kFile, input->name, input->owner);
    if (!image.ok()) {
      err << "restack-info: " << image.status().message() << "\n";
      return kExitError;
    }
    auto shared = std::make_shared<const unwind::PeImage>(*std::move(image));
    absl::StatusOr<unwind::RuntimeFunctionTable> table = unwind::RuntimeFunctionTable::Create(shared);
    if (!table.ok()) {
      err << "restack-info: " << table.status().message() << "\n";
      return kExitError;
    }
    UnwindCounts counts;
    if (options.json) {
      out << JsonLine(ImageToJson(*shared, *table, options.unwind, &counts)) << "\n";
    } else {
      counts = PrintImageText(*shared, *table, options.unwind, out);
    }
    const bool partial = counts.broken > 0 || !shared->warnings().empty() || !table->warnings().empty();
    return partial ? kExitPartial : kExitOk;
  }
  err << "restack-info: " << input->name
      << ": offset 0x0: not a PE image (MZ), user minidump (MDMP) or kernel dump (PAGEDU64)\n";
  return kExitError;
}

}  // namespace restack::tools
