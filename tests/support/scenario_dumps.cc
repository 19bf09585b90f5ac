// scenario_dumps.cc - KernelScenarioRun -> KernelScenario -> dumps (see scenario_dumps.h)
#include "tests/support/scenario_dumps.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_format.h"

namespace restack::test {
namespace {

constexpr uint64_t kPage = 0x1000;

SynthContext ToSynth(const CpuContext& c) {
  SynthContext s;
  s.flags = 0x0010000F;  // CONTEXT_AMD64 | CONTROL | INTEGER | SEGMENTS | FLOATING_POINT
  s.gpr = c.gpr;
  s.rip = c.rip;
  s.eflags = static_cast<uint32_t>(c.rflags);
  s.seg_cs = 0x10;
  s.seg_ss = 0x18;
  s.seg_ds = s.seg_es = s.seg_gs = 0x2B;
  s.seg_fs = 0x53;
  return s;
}

// Pages of `image` that hold something besides discardable sections.
std::vector<uint64_t> ImagePages(const LoadedImage& image) {
  std::vector<uint64_t> pages;
  for (uint64_t rva = 0; rva < image.size_of_image; rva += kPage) {
    bool keep = rva == 0;  // headers
    for (const LoadedSection& s : image.sections) {
      const bool overlaps = s.rva < rva + kPage && rva < uint64_t{s.rva} + s.size;
      if (overlaps && !s.discardable()) keep = true;
    }
    if (keep) pages.push_back(image.base + rva);
  }
  return pages;
}

// The live part of each stack: from the page of its lowest frame RSP (or, for the
// idle stack, of the other processor's RSP) to its base.
std::map<std::string, uint64_t> LiveStackStarts(const KernelScenarioRun& run) {
  std::map<std::string, uint64_t> low;
  for (const TruthFrame& f : run.truth.frames) {
    auto [it, added] = low.emplace(f.stack, f.rsp);
    if (!added) it->second = std::min(it->second, f.rsp);
  }
  low["idle"] = run.other_context.rsp();
  for (auto& [name, va] : low) va &= ~(kPage - 1);
  return low;
}

absl::StatusOr<std::vector<uint8_t>> Write(const KernelScenario& s, KernelDumpType type,
                                           const WriteOptions& o) {
  absl::StatusOr<WrittenKernelDump> d = WriteKernelDump(s, type, o);
  if (!d.ok()) return d.status();
  return std::move(d->bytes);
}

}  // namespace

SynthKdbgOffsets ScenarioKdbgOffsets() {
  SynthKdbgOffsets o;
  o.size_prcb = 0x600;
  o.current_thread = 0x8;
  o.prcb_number = 0x24;
  o.proc_state_context = 0x40;  // KPROCESSOR_STATE.ContextFrame, 0x4D0 bytes
  o.prcb_context = 0x5F0;       // CONTEXT*
  return o;
}

absl::StatusOr<KernelScenario> BuildDumpScenario(const KernelScenarioRun& run) {
  const ScenarioTruth& t = run.truth;
  const ScenarioRunner& m = *run.machine;
  KernelScenario s;
  s.processors = t.processors;
  s.bugcheck_code = t.bugcheck_code;
  s.bugcheck_parameters = t.bugcheck_parameters;
  s.header_context = ToSynth(run.bugcheck_context);
  s.kernel_data_va = run.kernel_data_va;
  s.kdbg_offsets = ScenarioKdbgOffsets();
  for (const TruthModule& mod : t.modules) {
    if (mod.user) continue;
    const bool kernel = s.modules.empty();  // the kernel is loaded first
    const LoadedImage* image = m.Image(mod.name);
    s.modules.push_back({mod.name,
                         (kernel ? "\\SystemRoot\\system32\\" : "\\SystemRoot\\system32\\drivers\\") + mod.name,
                         mod.base, mod.size, mod.timestamp, image->checksum});
  }
  for (uint32_t cpu = 0; cpu < t.processors; ++cpu) {
    const SynthContext c =
        ToSynth(cpu == t.bugcheck_processor ? run.bugcheck_context : run.other_context);
    SynthProcessor p;
    p.context = c;
    p.processor_state_context = c;
    s.processor_blocks.push_back(p);
  }
  s.bugcheck_processor = t.bugcheck_processor;

  // Memory: images, then the live stacks.
  for (const LoadedImage& image : m.images()) {
    if (t.Module(image.name) == nullptr) continue;
    for (uint64_t page : ImagePages(image)) {
      absl::StatusOr<std::vector<uint8_t>> bytes = m.Read(page, kPage);
      if (!bytes.ok()) return bytes.status();
      s.Map(page, *std::move(bytes));
    }
  }
  const std::map<std::string, uint64_t> live = LiveStackStarts(run);
  const TruthFrame& top = t.frames.front();
  for (const auto& [name, start] : live) {
    const StackSegment* stack = m.Stack(name);
    if (stack == nullptr) return absl::InternalError("frame on no known stack: " + name);
    absl::StatusOr<std::vector<uint8_t>> bytes = m.Read(start, stack->base - start);
    if (!bytes.ok()) return bytes.status();
    s.Map(start, *std::move(bytes));
    if (name == top.stack || name == "idle") continue;
    s.triage.extra_blocks.emplace_back(start, static_cast<uint32_t>(stack->base - start));
  }
  // Triage: the bugcheck stack from KeBugCheckEx's RSP to its base; no image pages.
  const StackSegment* bugcheck_stack = m.Stack(top.stack);
  s.triage.stack_top = top.rsp;
  s.triage.stack_size = static_cast<uint32_t>(bugcheck_stack->base - top.rsp);
  s.triage.copy_mappings = false;
  s.triage.copy_processor_blocks = true;
  return s;
}

absl::StatusOr<std::map<std::string, std::vector<uint8_t>>> WriteScenarioDumps(
    const KernelScenarioRun& run) {
  absl::StatusOr<KernelScenario> s = BuildDumpScenario(run);
  if (!s.ok()) return s.status();
  return WriteScenarioDumps(*s);
}

absl::StatusOr<std::map<std::string, std::vector<uint8_t>>> WriteScenarioDumps(
    const KernelScenario& scenario) {
  // First pass: how many frames the writer allocates (from PFN 1, contiguously).
  WriteOptions probe;
  probe.runs = {{1, 0x10000}};
  absl::StatusOr<WrittenKernelDump> sized =
      WriteKernelDump(scenario, KernelDumpType::kBitmapKernel, probe);
  if (!sized.ok()) return sized.status();
  WriteOptions exact;
  exact.runs = {{1, (sized->layout.stored_pages + 7) & ~uint64_t{7}}};  // whole bitmap bytes
  std::map<std::string, std::vector<uint8_t>> out;
  for (const auto& [kind, type] : {std::pair{"full", KernelDumpType::kFull},
                                   {"bitmap", KernelDumpType::kBitmapKernel},
                                   {"triage", KernelDumpType::kTriage}}) {
    absl::StatusOr<std::vector<uint8_t>> bytes = Write(scenario, type, exact);
    if (!bytes.ok()) {
      return absl::Status(bytes.status().code(),
                          absl::StrFormat("%s dump: %s", kind, bytes.status().message()));
    }
    out[kind] = *std::move(bytes);
  }
  return out;
}

absl::StatusOr<std::string> WriteScenarioFiles(
    const std::string& dir, const std::string& truth_file, const ScenarioTruth& truth,
    const std::map<std::string, std::vector<uint8_t>>& dumps) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrFormat("%s: %s", dir, ec.message()));
  std::string written;
  const auto write = [&](const std::string& file, std::string_view bytes) -> absl::Status {
    std::ofstream out(dir + "/" + file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return absl::InternalError("cannot write " + dir + "/" + file);
    absl::StrAppendFormat(&written, " %s %u", file, bytes.size());
    return absl::OkStatus();
  };
  if (absl::Status st = write(truth_file, TruthToJson(truth)); !st.ok()) return st;
  for (const auto& [kind, bytes] : dumps) {
    const auto file = truth.dumps.find(kind);
    if (file == truth.dumps.end()) return absl::NotFoundError("the truth names no " + kind + " dump");
    const std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (absl::Status st = write(file->second, view); !st.ok()) return st;
  }
  return written;
}

}  // namespace restack::test
