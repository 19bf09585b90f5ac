// minidump_report.cc - `restack-info DUMP.dmp` for MDMP files
#include "minidump_report.h"

#include "absl/strings/str_format.h"
#include "common/dump_target.h"
#include "common/stack_output.h"
#include "restack/sym/image_locator.h"

namespace restack::tools {

void PrintMinidumpText(const dump::Minidump& d, std::ostream& out) {
  out << absl::StrFormat("Dump:       %s\n", d.name());
  out << absl::StrFormat("Kind:       user-mode minidump (MDMP), %u streams, flags 0x%x\n",
                         d.streams().size(), d.header().flags);
  if (const auto& s = d.system_info()) {
    out << absl::StrFormat("System:     %s, %u processors, Windows %u.%u.%u %s\n",
                           s->IsAmd64() ? "AMD64" : absl::StrFormat("arch %u", s->processor_architecture),
                           s->number_of_processors, s->major_version, s->minor_version,
                           s->build_number, s->csd_version);
    if (s->wine) out << absl::StrFormat("Wine:       %s on %s %s\n", s->wine->build_id,
                                        s->wine->host_system, s->wine->host_release);
  }
  if (const auto& e = d.exception()) {
    out << absl::StrFormat("Exception:  code 0x%08X at %s in thread 0x%x\n", e->code,
                           FormatAddress(e->exception_address), e->thread_id);
  }
  out << absl::StrFormat("Threads:    %u\n", d.threads().size());
  for (const dump::Thread& t : d.threads()) {
    out << absl::StrFormat("  %5x  Teb %s  stack %s-%s%s\n", t.thread_id, FormatAddress(t.teb),
                           FormatAddress(t.stack_start), FormatAddress(t.stack_start + t.stack_size),
                           t.context ? absl::StrFormat("  rip %s", FormatAddress(t.context->rip))
                                     : std::string("  (no context)"));
  }
  out << "Modules:\nstart             end                 module name           timestamp\n";
  for (const dump::Module& m : d.modules()) {
    out << absl::StrFormat("%s %s   %-20s  %08X\n", FormatAddress(m.base), FormatAddress(m.end()),
                           ModuleFileName(m.name), m.timestamp);
  }
  for (const dump::Warning& w : d.warnings()) out << "WARNING: " << w.what << "\n";
}

nlohmann::json MinidumpToJson(const dump::Minidump& d) {
  nlohmann::json threads = nlohmann::json::array();
  for (const dump::Thread& t : d.threads()) {
    threads.push_back({{"thread_id", t.thread_id},
                       {"teb", Hex(t.teb)},
                       {"stack_start", Hex(t.stack_start)},
                       {"stack_size", Hex(t.stack_size)},
                       {"rip", t.context ? nlohmann::json(Hex(t.context->rip)) : nlohmann::json()}});
  }
  nlohmann::json modules = nlohmann::json::array();
  for (const dump::Module& m : d.modules()) {
    modules.push_back({{"name", m.name},
                       {"base", Hex(m.base)},
                       {"size", Hex(m.size)},
                       {"timestamp", Hex(m.timestamp)},
                       {"image_key", sym::ImageStoreKey(m.timestamp, m.size)}});
  }
  nlohmann::json warnings = nlohmann::json::array();
  for (const dump::Warning& w : d.warnings()) warnings.push_back(w.what);
  nlohmann::json j = {{"dump", d.name()},
                      {"kind", "minidump"},
                      {"streams", d.streams().size()},
                      {"threads", threads},
                      {"modules", modules},
                      {"warnings", warnings}};
  if (const auto& s = d.system_info()) {
    j["system"] = {{"processor_architecture", s->processor_architecture},
                   {"processors", s->number_of_processors},
                   {"version", absl::StrFormat("%u.%u.%u", s->major_version, s->minor_version,
                                               s->build_number)}};
  }
  if (const auto& e = d.exception()) {
    j["exception"] = {{"code", Hex(e->code)},
                      {"address", Hex(e->exception_address)},
                      {"thread_id", e->thread_id}};
  }
  return j;
}

}  // namespace restack::tools
