// kernel_report.cc - `restack-info MEMORY.DMP` for kernel dumps
#include "kernel_report.h"

#include <ctime>

#include "absl/strings/str_format.h"
#include "common/stack_output.h"
#include "restack/sym/image_locator.h"
#include "restack/dump/bugcheck_names.h"
#include "restack/dump/ntstatus.h"

namespace restack::tools {
namespace {

// FILETIME (100 ns since 1601) as UTC text.
std::string FileTimeText(uint64_t filetime) {
  if (filetime == 0) return "-";
  const int64_t unix_seconds = static_cast<int64_t>(filetime / 10000000) - 11644473600LL;
  time_t t = unix_seconds;
  struct tm tm;
  char buf[64];
  if (gmtime_r(&t, &tm) == nullptr || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
    return "?";
  }
  return buf;
}

std::string NameOr(std::string name, uint32_t code) {
  return name.empty() ? absl::StrFormat("unknown bugcheck 0x%X", code) : name;
}

}  // namespace

void PrintKernelDumpText(const dump::KernelDump& d, std::ostream& out) {
  out << absl::StrFormat("Dump:        %s\n", d.name());
  out << absl::StrFormat("Kind:        kernel dump, %s (DumpType %u)\n",
                         dump::KernelDumpKindName(d.kind()), d.dump_type());
  out << absl::StrFormat("OS build:    %u (%s build)\n", d.build(),
                         d.major_version() == 0xC ? "checked" : "free");
  out << absl::StrFormat("Processors:  %u\n", d.processors());
  out << absl::StrFormat("System time: %s\n", FileTimeText(d.system_time()));
  const dump::BugCheck& b = d.bugcheck();
  out << absl::StrFormat("Bugcheck:    %s (0x%X)\n", NameOr(dump::BugCheckName(b.code), b.code),
                         b.code);
  const std::array<std::string_view, 4> meanings = dump::BugCheckParameterMeanings(b.code);
  for (int i = 0; i < 4; ++i) {
    std::string note;
    if (meanings[i].find("exception code") != std::string_view::npos) {
      const std::string_view status = dump::NtStatusName(static_cast<uint32_t>(b.parameters[i]));
      if (!status.empty()) note = absl::StrFormat(" (%s)", status);
    }
    out << absl::StrFormat("  Arg%d: %s%s%s%s\n", i + 1, FormatAddress(b.parameters[i]),
                           meanings[i].empty() ? "" : ", ", meanings[i], note);
  }
  for (int i = 0; i < 4; ++i) {
    // As !analyze: the context a parameter names is where the fault happened.
    if (meanings[i].find("context record") != std::string_view::npos && b.parameters[i] != 0) {
      out << absl::StrFormat("Fault context: .cxr %s  (restack-walk --cxr 0x%x %s)\n",
                             FormatAddress(b.parameters[i]), b.parameters[i], d.name());
    }
  }
  if (std::optional<uint32_t> cpu = d.bugcheck_processor()) {
    out << absl::StrFormat("Bugcheck processor: %u\n", *cpu);
  }
  out << absl::StrFormat("Modules (%u):\nstart             end                 module name           "
                         "timestamp  image key\n",
                         d.modules().size());
  for (const dump::KernelModule& m : d.modules()) {
    out << absl::StrFormat("%s %s   %-20s  %08X   %s\n", FormatAddress(m.base),
                           FormatAddress(m.end()), m.name, m.timestamp,
                           sym::ImageStoreKey(m.timestamp, m.size));
  }
  out << absl::StrFormat("Unloaded modules (%u):\n", d.unloaded_drivers().size());
  for (const dump::UnloadedDriver& u : d.unloaded_drivers()) {
    out << absl::StrFormat("%s %s   %s\n", FormatAddress(u.start), FormatAddress(u.end), u.name);
  }
  for (const dump::SecondaryData& s : d.secondary_data()) {
    out << absl::StrFormat("Secondary data: 0x%x bytes at file offset 0x%x (\"%s\"), not read\n",
                           s.size, s.offset, s.magic);
  }
  for (const dump::Warning& w : d.warnings()) out << "WARNING: " << w.what << "\n";
}

nlohmann::json KernelDumpToJson(const dump::KernelDump& d) {
  const dump::BugCheck& b = d.bugcheck();
  const std::array<std::string_view, 4> meanings = dump::BugCheckParameterMeanings(b.code);
  nlohmann::json params = nlohmann::json::array();
  for (int i = 0; i < 4; ++i) {
    params.push_back({{"value", Hex(b.parameters[i])}, {"meaning", std::string(meanings[i])}});
  }
  nlohmann::json modules = nlohmann::json::array();
  for (const dump::KernelModule& m : d.modules()) {
    modules.push_back({{"name", m.name},
                       {"full_name", m.full_name},
                       {"base", Hex(m.base)},
                       {"size", Hex(m.size)},
                       {"timestamp", Hex(m.timestamp)},
                       {"checksum", Hex(m.checksum)},
                       {"image_key", sym::ImageStoreKey(m.timestamp, m.size)}});
  }
  nlohmann::json unloaded = nlohmann::json::array();
  for (const dump::UnloadedDriver& u : d.unloaded_drivers()) {
    unloaded.push_back({{"name", u.name}, {"start", Hex(u.start)}, {"end", Hex(u.end)}});
  }
  nlohmann::json secondary = nlohmann::json::array();
  for (const dump::SecondaryData& s : d.secondary_data()) {
    secondary.push_back({{"offset", Hex(s.offset)}, {"size", Hex(s.size)}, {"magic", s.magic}});
  }
  nlohmann::json warnings = nlohmann::json::array();
  for (const dump::Warning& w : d.warnings()) warnings.push_back(w.what);
  nlohmann::json j = {{"dump", d.name()},
                      {"kind", "kernel"},
                      {"layout", std::string(dump::KernelDumpKindName(d.kind()))},
                      {"dump_type", d.dump_type()},
                      {"build", d.build()},
                      {"processors", d.processors()},
                      {"system_time", Hex(d.system_time())},
                      {"bugcheck",
                       {{"code", Hex(b.code)},
                        {"name", dump::BugCheckName(b.code)},
                        {"parameters", params}}},
                      {"modules", modules},
                      {"unloaded_modules", unloaded},
                      {"secondary_data", secondary},
                      {"warnings", warnings}};
  if (std::optional<uint32_t> cpu = d.bugcheck_processor()) j["bugcheck_processor"] = *cpu;
  return j;
}

}  // namespace restack::tools
