// kernel_scenarios.cc - loading, DriverEntry, scenario runs, naming (see kernel_scenarios.h)
#include "tests/support/kernel_scenarios.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "tests/support/call_check.h"
#include "tests/support/file_read.h"

namespace restack::test {
namespace {

namespace fs = std::filesystem;

// rskernel.h: RS_PRCB fields, CONTEXT offsets, driver slots, I/O control codes.
constexpr uint64_t kPrcbRspBase = 0x08, kPrcbDpcStack = 0x10, kPrcbExpandStack = 0x18,
                   kPrcbContext = 0x50;
constexpr uint64_t kContextRax = 0x78, kContextRip = 0xF8;
constexpr uint64_t kDriverObjectSize = 0x40;
constexpr uint64_t kIoctlHamForward = 0x222007, kIoctlHamPlant = 0x22200B,
                   kIoctlHamLoop = 0x22200F;

constexpr const char* kGprNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                       "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

// Labels that name code: not string literals (a chunk's literal is data in code).
bool IsCodeLabel(const MapSymbol& s) { return !absl::StartsWith(s.name, "??_C@"); }

// Every live stack value that points into code and is not a truth RIP.
std::vector<TruthDecoy> FindDecoys(const KernelScenarioRun& run) {
  std::vector<TruthDecoy> decoys;
  std::vector<uint64_t> rips;
  for (const TruthFrame& f : run.truth.frames) rips.push_back(f.rip);
  for (const StackSegment& s : run.machine->stacks()) {
    uint64_t low = s.base;
    for (const TruthFrame& f : run.truth.frames) {
      if (f.stack == s.name) low = std::min(low, f.rsp);
    }
    for (uint64_t slot = low & ~7ull; slot + 8 <= s.base; slot += 8) {
      const std::optional<uint64_t> v = run.machine->ReadU64(slot);
      if (!v || std::find(rips.begin(), rips.end(), *v) != rips.end()) continue;
      for (const LoadedImage& image : run.machine->images()) {
        if (!image.IsCode(*v)) continue;
        const uint64_t rva = *v - image.base;
        const uint64_t n = std::min<uint64_t>(rva, 15);
        const std::span<const uint8_t> before(image.memory.data() + rva - n, n);
        decoys.push_back({slot, *v, s.name, CallEndsAt(before)});
      }
    }
  }
  return decoys;
}

}  // namespace

std::vector<StackSegment> KernelFixtureStacks() {
  return {
      {"kernel", 0xFFFF850429880000, 0xFFFF850429886000, false},
      {"expand", 0xFFFF850429890000, 0xFFFF8504298A0000, false},
      {"dpc", 0xFFFF8504298B0000, 0xFFFF8504298B6000, false},
      {"idle", 0xFFFF8504298C0000, 0xFFFF8504298C2000, false},
      {"user", 0x000000A52F1F0000, 0x000000A52F200000, true},
  };
}

const std::vector<FixtureImage>& KernelFixtureImages() {
  static const std::vector<FixtureImage> images = {
      {"rsnt.exe", KernelFixtureLayout::kNtBase, false},
      {"rsdrv.sys", KernelFixtureLayout::kRsdrvBase, false},
      {"rsham.sys", KernelFixtureLayout::kRshamBase, false},
      {"rsfpo.sys", KernelFixtureLayout::kRsfpoBase, false},
      {"rsapp.exe", KernelFixtureLayout::kAppBase, true},
  };
  return images;
}

const std::vector<KernelScenarioSpec>& KernelScenarios() {
  static const std::vector<KernelScenarioSpec> specs = {
      {"syscall",
       "rsapp!RsUserMain -> UserDeviceIoControl -> NtDeviceIoControlFile (stub, syscall) -> "
       "KiSystemCall64 (machine frame + KTRAP_FRAME) -> rsnt!NtDeviceIoControlFile -> "
       "IofCallDriver -> rsdrv (full PDB) DrvDispatchDeviceControl -> DrvCompleteTwice -> "
       "IofCompleteRequest's cold chunk -> KeBugCheckEx 0x44",
       true, "", 0, 0},
      {"expand_stack",
       "RsThreadStart -> RsScenarioExpand -> KeExpandKernelStackAndCallout -> "
       "KiSwitchKernelStackAndCallout (machine frame onto the expand stack) -> "
       "KySwitchKernelStackCallout -> rsdrv!DrvExpandCallout -> IofCallDriver -> "
       "DrvDispatchDeviceControl -> DrvCompleteTwice -> IofCompleteRequest's cold chunk -> "
       "KeBugCheckEx 0x44",
       false, "RsScenarioExpand", 0x5CA1AB1E, 0},
      {"dpc_stack",
       "RsThreadStart -> RsScenarioDpc -> KiDispatchInterrupt -> KxRetireDpcList (switch to "
       "the DPC stack, no unwind description; old RSP at the DPC stack's base - 8) -> "
       "KiRetireDpcList -> KiExecuteAllDpcs -> rsdrv!DrvDpcRoutine -> DrvDpcWatchdog -> "
       "KeBugCheckEx 0x133, on processor 1",
       false, "RsScenarioDpc", 0xD9C0, 1},
      {"no_pdb_fpo",
       "RsThreadStart -> RsScenarioHam -> IofCallDriver -> rsham (no PDB) "
       "HamDispatchDeviceControl -> HamForward -> rsfpo (no .pdata, frame pointers) FpForward "
       "-> FpForwardInner -> IofCompleteRequest's cold chunk -> KeBugCheckEx 0x44",
       false, "RsScenarioHam", kIoctlHamForward, 0},
      {"fake_returns",
       "RsThreadStart -> RsScenarioHam -> IofCallDriver -> rsham HamDispatchDeviceControl -> "
       "HamPlant -> rsfpo FpPlant (no .pdata, no frame pointer; every slot up to its return "
       "address is a decoy pointing into code, not after a CALL, and RBP points at a fake "
       "frame record) -> IofCompleteRequest's cold chunk -> KeBugCheckEx 0x44",
       false, "RsScenarioHam", kIoctlHamPlant, 0},
      {"fp_loop",
       "RsThreadStart -> RsScenarioHam -> IofCallDriver -> rsham HamDispatchDeviceControl -> "
       "HamLoop -> rsfpo FpLoopOuter -> FpLoopInner (no .pdata; its saved RBP points at "
       "itself: a loop of frame pointers) -> IofCompleteRequest's cold chunk -> KeBugCheckEx 0x44",
       false, "RsScenarioHam", kIoctlHamLoop, 0},
  };
  return specs;
}

const KernelScenarioSpec* FindKernelScenario(const std::string& name) {
  for (const KernelScenarioSpec& s : KernelScenarios()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

KernelFixtureFiles KernelFixtureFiles::In(const std::string& fixture_dir) {
  return {fixture_dir + "/store", fixture_dir + "/maps"};
}

absl::StatusOr<std::string> KernelFixtureFiles::ImagePath(const std::string& name) const {
  const fs::path dir = fs::path(store) / name;
  std::error_code ec;
  std::vector<fs::path> found;
  for (const fs::directory_entry& key : fs::directory_iterator(dir, ec)) {
    if (fs::exists(key.path() / name)) found.push_back(key.path() / name);
  }
  if (ec || found.size() != 1) {
    return absl::NotFoundError(absl::StrFormat("%s: expected one %s/<key>/%s", store, name, name));
  }
  return found[0].string();
}

std::string KernelFixtureFiles::MapPath(const std::string& name, const std::string& suffix) const {
  return maps + "/" + name.substr(0, name.rfind('.')) + suffix + ".map";
}

FixtureLabel LabelOf(const KernelScenarioRun& run, uint64_t va) {
  const std::vector<FixtureImage>& images = run.images;
  for (size_t i = 0; i < images.size() && i < run.maps.size(); ++i) {
    const LoadedImage* image = run.machine->Image(images[i].name);
    if (image == nullptr || !image->Contains(va)) continue;
    FixtureLabel out;
    out.module = image->name;
    const MapSymbol* s = run.maps[i].Covering(static_cast<uint32_t>(va - image->base), IsCodeLabel);
    if (s != nullptr) {
      out.label = s->name;
      if (const size_t c = s->name.rfind("__c"); c != std::string::npos && c > 0) {
        out.chunk_of = s->name.substr(0, c);
      }
    }
    return out;
  }
  return {};
}

absl::StatusOr<uint64_t> ExportOf(const ScenarioRunner& m, const std::string& image,
                                  const std::string& name) {
  const LoadedImage* i = m.Image(image);
  std::optional<uint64_t> va = i != nullptr ? i->ExportAddress(name) : std::nullopt;
  if (!va) return absl::NotFoundError(absl::StrFormat("%s has no export %s", image, name));
  return *va;
}

absl::StatusOr<KernelScenarioRun> LoadScenarioImages(const std::vector<ScenarioImageSource>& sources,
                                                     std::vector<StackSegment> stacks) {
  KernelScenarioRun run;
  std::vector<LoadedImage> images;
  for (const ScenarioImageSource& source : sources) {
    absl::StatusOr<std::vector<uint8_t>> bytes = ReadFileBytes(source.path);
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<LoadedImage> image = LoadImage(*bytes, source.image.name, source.image.base);
    if (!image.ok()) return image.status();
    images.push_back(*std::move(image));
    absl::StatusOr<LinkMap> map = ReadLinkMap(source.map);
    if (!map.ok()) return map.status();
    run.maps.push_back(*std::move(map));
    run.images.push_back(source.image);
  }
  if (absl::Status st = BindImports(images); !st.ok()) return st;
  absl::StatusOr<std::unique_ptr<ScenarioRunner>> machine =
      ScenarioRunner::Create(std::move(images), std::move(stacks));
  if (!machine.ok()) return machine.status();
  run.machine = *std::move(machine);
  return run;
}

absl::StatusOr<uint64_t> SetUpFixtureKernel(ScenarioRunner& m, const std::string& kernel) {
  absl::StatusOr<uint64_t> prcb = ExportOf(m, kernel, "RsPrcb");
  absl::StatusOr<uint64_t> syscall = ExportOf(m, kernel, "KiSystemCall64");
  absl::StatusOr<uint64_t> bugcheck = ExportOf(m, kernel, "KeBugCheckEx");
  for (const auto* s : {&prcb, &syscall, &bugcheck}) {
    if (!s->ok()) return s->status();
  }
  // The stacks KiSystemCall64, KxRetireDpcList and KeExpandKernelStackAndCallout switch to.
  for (const auto& [field, stack] : {std::pair{kPrcbRspBase, "kernel"}, {kPrcbDpcStack, "dpc"},
                                     {kPrcbExpandStack, "expand"}}) {
    const StackSegment* segment = m.Stack(stack);
    if (segment == nullptr) {
      if (field == kPrcbRspBase) return absl::NotFoundError("no \"kernel\" stack");
      continue;
    }
    if (absl::Status st = m.WriteU64(*prcb + field, segment->base); !st.ok()) return st;
  }
  m.set_syscall_entry(*syscall);
  m.set_bugcheck(*bugcheck);
  return *prcb;
}

absl::Status RunDriverEntries(ScenarioRunner& m, const std::vector<DriverEntryCall>& calls) {
  for (const DriverEntryCall& call : calls) {
    const LoadedImage* driver = m.Image(call.image);
    if (driver == nullptr) return absl::NotFoundError("no image " + call.image);
    ThreadStart boot{driver->base + driver->entry_rva, {call.object, call.argument, 0, 0},
                     "kernel", kSeedBoot};
    absl::StatusOr<uint64_t> status = m.Call(boot);
    if (!status.ok()) return status.status();
    if (static_cast<uint32_t>(*status) != 0) {
      return absl::InternalError(
          absl::StrFormat("%s!DriverEntry returned 0x%x", call.image, *status));
    }
  }
  return absl::OkStatus();
}

absl::Status RunIdleProcessor(KernelScenarioRun& run, const std::string& kernel) {
  absl::StatusOr<uint64_t> idle = ExportOf(*run.machine, kernel, "KiIdleLoop");
  if (!idle.ok()) return idle.status();
  absl::StatusOr<CpuContext> other = run.machine->RunToHalt({*idle, {}, "idle", kSeedIdle});
  if (!other.ok()) return other.status();
  run.other_context = *other;
  return absl::OkStatus();
}

absl::Status RunScenarioThread(KernelScenarioRun& run, const ThreadStart& start, uint64_t prcb,
                               const ScenarioRecord& record) {
  ScenarioRunner& m = *run.machine;
  absl::StatusOr<BugcheckCapture> capture = m.RunToBugcheck(start);
  if (!capture.ok()) return capture.status();
  run.bugcheck_context = capture->context;

  // KeBugCheckEx saved its own view of the entry context: it must be the emulator's.
  for (size_t i = 0; i < 16; ++i) {
    const std::optional<uint64_t> saved = m.ReadU64(prcb + kPrcbContext + kContextRax + 8 * i);
    if (saved != capture->context.gpr[i]) {
      return absl::InternalError(absl::StrFormat(
          "KeBugCheckEx saved %s = 0x%x, the emulator had 0x%x", kGprNames[i], saved.value_or(0),
          capture->context.gpr[i]));
    }
  }
  if (m.ReadU64(prcb + kPrcbContext + kContextRip) != capture->context.rip) {
    return absl::InternalError("KeBugCheckEx saved another RIP than its entry");
  }

  ScenarioTruth& t = run.truth;
  t.scenario = record.name;
  t.description = record.description;
  const CpuContext& c = capture->context;
  t.bugcheck_code = static_cast<uint32_t>(c.gpr[1]);
  const std::optional<uint64_t> p4 = m.ReadU64(c.rsp() + 0x28);
  t.bugcheck_parameters = {c.gpr[2], c.gpr[8], c.gpr[9], p4.value_or(0)};
  t.processors = record.processors;
  t.bugcheck_processor = record.bugcheck_processor;
  for (const FixtureImage& fi : run.images) {
    const LoadedImage* image = m.Image(fi.name);
    t.modules.push_back({image->name, image->base, image->size_of_image, image->timestamp, fi.user});
  }
  for (const StackSegment& s : m.stacks()) t.stacks.push_back({s.name, s.limit, s.base, s.user});
  for (size_t i = 0; i < 16; ++i) t.context.emplace_back(kGprNames[i], c.gpr[i]);
  t.context.emplace_back("rip", c.rip);
  t.context.emplace_back("eflags", c.rflags);
  t.frames = capture->frames;
  t.frames[0].regs = t.context;
  for (TruthFrame& f : t.frames) {
    const bool exact = f.how == TruthHow::kContext || f.how == TruthHow::kTrap || f.machine_frame;
    const FixtureLabel label = LabelOf(run, exact ? f.rip : f.rip - 1);
    f.module = label.module;
    f.function = label.label;
    f.chunk_of = label.chunk_of;
  }
  t.events = capture->events;
  t.instructions = capture->instructions;
  t.decoys = FindDecoys(run);
  return absl::OkStatus();
}

absl::StatusOr<KernelScenarioRun> RunKernelScenario(const KernelScenarioSpec& spec,
                                                    const KernelFixtureFiles& files) {
  std::vector<ScenarioImageSource> sources;
  for (const FixtureImage& fi : KernelFixtureImages()) {
    absl::StatusOr<std::string> path = files.ImagePath(fi.name);
    if (!path.ok()) return path.status();
    sources.push_back({fi, *path, files.MapPath(fi.name)});
  }
  absl::StatusOr<KernelScenarioRun> loaded = LoadScenarioImages(sources, KernelFixtureStacks());
  if (!loaded.ok()) return loaded.status();
  KernelScenarioRun run = *std::move(loaded);
  ScenarioRunner& m = *run.machine;
  absl::StatusOr<uint64_t> prcb = SetUpFixtureKernel(m, "rsnt.exe");
  absl::StatusOr<uint64_t> drivers = ExportOf(m, "rsnt.exe", "RsDriverObjects");
  absl::StatusOr<uint64_t> thread_start = ExportOf(m, "rsnt.exe", "RsThreadStart");
  for (const auto* s : {&prcb, &drivers, &thread_start}) {
    if (!s->ok()) return s->status();
  }

  // Boot: each driver's DriverEntry(&RsDriverObjects[slot], NULL), in slot order.
  std::vector<DriverEntryCall> boot;
  for (const auto& [name, slot] : {std::pair{"rsdrv.sys", 0}, {"rsham.sys", 1}, {"rsfpo.sys", 2}}) {
    boot.push_back({name, *drivers + kDriverObjectSize * slot, 0});
  }
  if (absl::Status st = RunDriverEntries(m, boot); !st.ok()) return st;

  // The other processor: halted in KiIdleLoop on the idle stack.
  if (absl::Status st = RunIdleProcessor(run, "rsnt.exe"); !st.ok()) return st;

  // The scenario.
  ThreadStart start;
  if (spec.user_thread) {
    const LoadedImage* app = m.Image("rsapp.exe");
    start = {app->base + app->entry_rva, {}, "user", kSeedUser};
  } else {
    absl::StatusOr<uint64_t> routine = ExportOf(m, "rsnt.exe", spec.routine);
    if (!routine.ok()) return routine.status();
    start = {*thread_start, {*routine, spec.context, 0, 0}, "kernel", kSeedKernel};
  }
  if (absl::Status st = RunScenarioThread(run, start, *prcb,
                                          {spec.name, spec.description, 2, spec.bugcheck_processor});
      !st.ok()) {
    return st;
  }
  run.truth.dumps = {{"full", spec.name + ".full.dmp"},
                     {"bitmap", spec.name + ".bitmap.dmp"},
                     {"triage", spec.name + ".triage.dmp"}};
  return run;
}

}  // namespace restack::test
