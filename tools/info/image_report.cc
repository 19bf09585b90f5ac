// image_report.cc - `restack-info IMAGE [--unwind]`, in the manner of dumpbin /headers /unwindinfo
#include "image_report.h"

#include <ctime>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/stack_output.h"
#include "restack/unwind/register_context.h"
#include "restack/unwind/unwind_info.h"

namespace restack::tools {
namespace {

using unwind::FunctionEntryKind;
using unwind::RuntimeFunction;
using unwind::UnwindCode;
using unwind::UnwindInfo;
using unwind::UnwindOp;

std::string TimeText(uint32_t timestamp) {
  time_t t = timestamp;
  struct tm tm;
  char buf[64];
  if (gmtime_r(&t, &tm) == nullptr || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
    return "?";
  }
  return buf;
}

std::string SectionFlags(uint32_t ch) {
  std::string s;
  s += (ch & 0x40000000) ? 'r' : '-';
  s += (ch & 0x80000000) ? 'w' : '-';
  s += (ch & 0x20000000) ? 'x' : '-';
  return s;
}

std::string FlagsText(uint8_t flags) {
  std::vector<std::string> names;
  if (flags & unwind::kUnwFlagEHandler) names.push_back("EHANDLER");
  if (flags & unwind::kUnwFlagUHandler) names.push_back("UHANDLER");
  if (flags & unwind::kUnwFlagChainInfo) names.push_back("CHAININFO");
  return names.empty() ? "None" : absl::StrJoin(names, " ");
}

// One unwind code as dumpbin /unwindinfo words it (without the UWOP_ prefix).
std::string CodeText(const UnwindInfo& info, const UnwindCode& c) {
  const std::string name(unwind::UnwindOpName(c.op).substr(5));
  switch (c.op) {
    case UnwindOp::kPushNonvol:
      return absl::StrFormat("%s, register=%s", name, unwind::GprName(c.op_info));
    case UnwindOp::kAllocLarge:
    case UnwindOp::kAllocSmall:
      return absl::StrFormat("%s, size=0x%X", name, c.operand);
    case UnwindOp::kSetFpreg:
      return absl::StrFormat("%s, register=%s, offset=0x%X", name,
                             unwind::GprName(info.frame_register), c.operand);
    case UnwindOp::kSaveNonvol:
    case UnwindOp::kSaveNonvolFar:
      return absl::StrFormat("%s, register=%s offset=0x%X", name, unwind::GprName(c.op_info),
                             c.operand);
    case UnwindOp::kSaveXmm128:
    case UnwindOp::kSaveXmm128Far:
      return absl::StrFormat("%s, register=xmm%u offset=0x%X", name, c.op_info, c.operand);
    case UnwindOp::kPushMachFrame:
      return c.op_info ? name + " (with error code)" : name;
    case UnwindOp::kEpilog:
      return absl::StrFormat("%s, operand=0x%X", name, c.operand);
    case UnwindOp::kSpareCode:
      return name;
  }
  return name;
}

nlohmann::json CodeJson(const UnwindInfo& info, const UnwindCode& c) {
  return {{"code_offset", c.code_offset}, {"op", std::string(unwind::UnwindOpName(c.op))},
          {"op_info", c.op_info},         {"slots", c.slots},
          {"operand", c.operand},         {"text", CodeText(info, c)}};
}

nlohmann::json InfoJson(const UnwindInfo& info) {
  nlohmann::json codes = nlohmann::json::array();
  for (const UnwindCode& c : info.codes) codes.push_back(CodeJson(info, c));
  nlohmann::json j = {{"rva", Hex(info.rva)},
                      {"version", info.version},
                      {"flags", FlagsText(info.flags)},
                      {"size_of_prolog", info.size_of_prolog},
                      {"count_of_codes", info.count_of_codes},
                      {"frame_register", info.frame_register
                                             ? std::string(unwind::GprName(info.frame_register))
                                             : std::string()},
                      {"frame_offset", info.frame_offset * 16},
                      {"codes", codes}};
  if (info.version >= 2) {
    nlohmann::json epilogs = nlohmann::json::array();
    for (const auto& e : info.epilogs) epilogs.push_back(e.offset_from_end);
    j["epilog_size"] = info.epilog_size;
    j["epilog_at_end"] = info.epilog_at_end;
    j["epilog_offsets_from_end"] = epilogs;
  }
  if (info.handler_rva) j["handler_rva"] = Hex(*info.handler_rva);
  if (info.chained_parent) {
    j["chained_parent"] = {{"begin", Hex(info.chained_parent->begin)},
                           {"end", Hex(info.chained_parent->end)},
                           {"unwind_data", Hex(info.chained_parent->unwind_data)}};
  }
  if (!info.notes.empty()) j["notes"] = std::vector<std::string>(info.notes.begin(), info.notes.end());
  return j;
}

// Everything about one row, computed once for both outputs.
struct RowReport {
  RuntimeFunction row;
  absl::StatusOr<FunctionEntryKind> kind = absl::UnknownError("");
  std::optional<RuntimeFunction> target;  // indirect: the entry referred to
  absl::StatusOr<UnwindInfo> info = absl::UnknownError("");  // of row or target
  absl::StatusOr<RuntimeFunction> root = absl::UnknownError("");
  int depth = 0;
  absl::Status problem;
};

RowReport Analyse(const unwind::PeImage& image, const unwind::RuntimeFunctionTable& table,
                  const RuntimeFunction& row) {
  RowReport r;
  r.row = row;
  r.kind = table.KindOf(row);
  RuntimeFunction described = row;
  if (row.IsIndirect()) {
    // As RtlLookupFunctionEntry resolves it (one level; a second is corrupt).
    absl::StatusOr<std::optional<RuntimeFunction>> t = table.LookupFunctionEntry(row.begin);
    if (!t.ok()) {
      r.problem = t.status();
      return r;
    }
    r.target = **t;
    described = **t;
  }
  if (!r.kind.ok()) r.problem = r.kind.status();
  r.info = unwind::DecodeUnwindInfo(image, described.unwind_data);
  if (!r.info.ok() && r.problem.ok()) r.problem = r.info.status();
  r.root = table.PrimaryEntry(described, &r.depth);
  if (!r.root.ok() && r.problem.ok()) r.problem = r.root.status();
  return r;
}

void Count(const RowReport& r, UnwindCounts& counts) {
  ++counts.total;
  if (!r.problem.ok()) {
    ++counts.broken;
  }
  if (r.kind.ok()) {
    counts.primary += *r.kind == FunctionEntryKind::kPrimary;
    counts.chained += *r.kind == FunctionEntryKind::kChained;
    counts.indirect += *r.kind == FunctionEntryKind::kIndirect;
  }
}

std::string SummaryLine(const UnwindCounts& c) {
  return absl::StrFormat("%u RUNTIME_FUNCTIONs: %u primary, %u chained, %u indirect%s", c.total,
                         c.primary, c.chained, c.indirect,
                         c.broken ? absl::StrFormat(", %u unreadable", c.broken) : "");
}

}  // namespace

UnwindCounts PrintImageText(const unwind::PeImage& image, const unwind::RuntimeFunctionTable& table,
                            bool list_unwind, std::ostream& out) {
  out << absl::StrFormat("Image:          %s\n", image.name());
  out << absl::StrFormat("Machine:        x64 (0x%04X)\n", image.machine());
  out << absl::StrFormat("TimeDateStamp:  %08X (%s)\n", image.timestamp(),
                         TimeText(image.timestamp()));
  out << absl::StrFormat("SizeOfImage:    0x%x\n", image.size_of_image());
  out << absl::StrFormat("Image key:      %s\n", image.StoreKey());
  out << absl::StrFormat("Preferred base: %s\n", FormatAddress(image.preferred_base()));
  out << absl::StrFormat("Entry point:    0x%x\n", image.entry_point());
  if (image.codeview()) {
    out << absl::StrFormat("PDB:            %s\n", image.codeview()->pdb_path);
    out << absl::StrFormat("PDB key:        %s (GUID %s, age %u)\n", image.codeview()->StoreKey(),
                           image.codeview()->GuidString(), image.codeview()->age);
  } else {
    out << "PDB:            (no CodeView RSDS record)\n";
  }
  out << "Sections:\n  Name      VirtAddr VirtSize RawAddr  RawSize  Flags\n";
  for (const unwind::PeSection& s : image.sections()) {
    out << absl::StrFormat("  %-8s  %08X %08X %08X %08X %s\n", s.name, s.virtual_address,
                           s.virtual_size, s.raw_offset, s.raw_size, SectionFlags(s.characteristics));
  }
  for (const unwind::Warning& w : image.warnings()) out << "WARNING: " << w.what << "\n";
  for (const unwind::Warning& w : table.warnings()) {
    out << absl::StrFormat("WARNING: rva 0x%x: %s\n", w.offset, w.what);
  }

  UnwindCounts counts;
  if (list_unwind) out << absl::StrFormat("\nFunction Table (%u)\n\n", table.size());
  for (const RuntimeFunction& row : table.entries()) {
    RowReport r = Analyse(image, table, row);
    Count(r, counts);
    if (!list_unwind) continue;
    out << absl::StrFormat("  %08X %08X %08X  %s\n", row.begin, row.end, row.unwind_data,
                           r.kind.ok() ? unwind::FunctionEntryKindName(*r.kind) : "?");
    if (r.target) {
      out << absl::StrFormat("    Indirect to:      %08X %08X %08X\n", r.target->begin,
                             r.target->end, r.target->unwind_data);
    }
    if (r.info.ok()) {
      const UnwindInfo& info = *r.info;
      out << absl::StrFormat("    Unwind version:   %u\n", info.version);
      out << absl::StrFormat("    Unwind flags:     %s\n", FlagsText(info.flags));
      out << absl::StrFormat("    Size of prologue: 0x%02X\n", info.size_of_prolog);
      out << absl::StrFormat("    Count of codes:   %u\n", info.count_of_codes);
      if (info.frame_register) {
        out << absl::StrFormat("    Frame register:   %s, offset 0x%X\n",
                               unwind::GprName(info.frame_register), info.frame_offset * 16);
      }
      if (info.version >= 2 && info.epilog_size) {
        std::vector<std::string> offs;
        for (const auto& e : info.epilogs) offs.push_back(absl::StrFormat("0x%X", e.offset_from_end));
        out << absl::StrFormat("    Epilogs:          size 0x%X%s%s%s\n", info.epilog_size,
                               info.epilog_at_end ? ", one at the end" : "",
                               offs.empty() ? "" : ", others at end-",
                               absl::StrJoin(offs, ", end-"));
      }
      if (!info.codes.empty()) out << "    Unwind codes:\n";
      for (const UnwindCode& c : info.codes) {
        out << absl::StrFormat("      %02X: %s\n", c.code_offset, CodeText(info, c));
      }
      if (info.handler_rva) {
        out << absl::StrFormat("    Handler:          %08X\n", *info.handler_rva);
      }
      if (info.chained_parent) {
        out << absl::StrFormat("    Chained to:       %08X %08X %08X\n", info.chained_parent->begin,
                               info.chained_parent->end, info.chained_parent->unwind_data);
      }
      for (const std::string& note : info.notes) out << "    Note: " << note << "\n";
    }
    if (r.root.ok() && (r.depth > 0 || r.target)) {
      out << absl::StrFormat("    Chain root:       %08X (depth %d)\n", r.root->begin, r.depth);
    }
    if (!r.problem.ok()) out << "    ERROR: " << r.problem.message() << "\n";
    out << "\n";
  }
  out << (list_unwind ? "" : "\n") << SummaryLine(counts) << "\n";
  return counts;
}

nlohmann::json ImageToJson(const unwind::PeImage& image, const unwind::RuntimeFunctionTable& table,
                           bool list_unwind, UnwindCounts* counts_out) {
  nlohmann::json sections = nlohmann::json::array();
  for (const unwind::PeSection& s : image.sections()) {
    sections.push_back({{"name", s.name},
                        {"virtual_address", Hex(s.virtual_address)},
                        {"virtual_size", Hex(s.virtual_size)},
                        {"raw_offset", Hex(s.raw_offset)},
                        {"raw_size", Hex(s.raw_size)},
                        {"flags", SectionFlags(s.characteristics)}});
  }
  nlohmann::json j = {{"image", image.name()},
                      {"machine", Hex(image.machine())},
                      {"timestamp", Hex(image.timestamp())},
                      {"size_of_image", Hex(image.size_of_image())},
                      {"image_key", image.StoreKey()},
                      {"preferred_base", Hex(image.preferred_base())},
                      {"entry_point", Hex(image.entry_point())},
                      {"sections", sections}};
  if (image.codeview()) {
    j["pdb"] = {{"path", image.codeview()->pdb_path},
                {"guid", image.codeview()->GuidString()},
                {"age", image.codeview()->age},
                {"key", image.codeview()->StoreKey()}};
  } else {
    j["pdb"] = nullptr;
  }
  nlohmann::json warnings = nlohmann::json::array();
  for (const unwind::Warning& w : image.warnings()) warnings.push_back(w.what);
  for (const unwind::Warning& w : table.warnings()) warnings.push_back(w.what);
  j["warnings"] = warnings;
  UnwindCounts counts;
  nlohmann::json functions = nlohmann::json::array();
  for (const RuntimeFunction& row : table.entries()) {
    RowReport r = Analyse(image, table, row);
    Count(r, counts);
    if (!list_unwind) continue;
    nlohmann::json f = {{"begin", Hex(row.begin)},
                        {"end", Hex(row.end)},
                        {"unwind_data", Hex(row.unwind_data)},
                        {"kind", r.kind.ok() ? std::string(unwind::FunctionEntryKindName(*r.kind))
                                             : std::string("?")}};
    if (r.target) f["indirect_to"] = Hex(r.target->begin);
    if (r.info.ok()) f["unwind_info"] = InfoJson(*r.info);
    if (r.root.ok()) {
      f["chain_root"] = Hex(r.root->begin);
      f["chain_depth"] = r.depth;
    }
    if (!r.problem.ok()) f["error"] = std::string(r.problem.message());
    functions.push_back(std::move(f));
  }
  j["runtime_functions"] = {{"count", counts.total},
                            {"primary", counts.primary},
                            {"chained", counts.chained},
                            {"indirect", counts.indirect},
                            {"unreadable", counts.broken}};
  if (list_unwind) j["functions"] = functions;
  if (counts_out != nullptr) *counts_out = counts;
  return j;
}

}  // namespace restack::tools
