// kernel_scenarios.h - the emulated kernel scenarios of tests/fixtures/kernel/
//
// The fixture kernel (rsnt.exe), its drivers (rsdrv.sys, rsham.sys, rsfpo.sys) and the
// user-mode image (rsapp.exe) are loaded at fixed addresses, every driver's
// DriverEntry runs, and one scenario runs from its thread start to KeBugCheckEx.
// The result is the scenario's ground truth (named frames, stack switches, decoys)
// plus the emulator holding the memory the dumps are made of (scenario_dumps.h).
// Layout, conventions and scenarios: docs/scenarios.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/link_map.h"
#include "tests/support/scenario_runner.h"
#include "tests/support/scenario_truth.h"

namespace restack::test {

// Where everything is (docs/scenarios.md, "Layout").
struct KernelFixtureLayout {
  static constexpr uint64_t kNtBase = 0xFFFFF8061A200000;     // rsnt.exe
  static constexpr uint64_t kRsdrvBase = 0xFFFFF8061A300000;  // rsdrv.sys (full PDB)
  static constexpr uint64_t kRshamBase = 0xFFFFF8061A340000;  // rsham.sys (no PDB)
  static constexpr uint64_t kRsfpoBase = 0xFFFFF8061A380000;  // rsfpo.sys (no .pdata)
  // The dump writer's KDBG, module list, KPRCBs and CONTEXTs.
  static constexpr uint64_t kKernelDataVa = 0xFFFFF8061A3C0000;
  static constexpr uint64_t kAppBase = 0x00007FF76A8E0000;  // rsapp.exe (user mode)
};

// The stacks: kernel thread stack, the stack KeExpandKernelStackAndCallout switches
// to, the DPC stack, the other processor's idle stack, the user thread's stack.
std::vector<StackSegment> KernelFixtureStacks();

// One scenario: how its thread starts.
struct KernelScenarioSpec {
  std::string name;
  std::string description;
  bool user_thread = false;  // starts at rsapp.exe's entry (RsUserMain) on the user stack
  std::string routine;       // otherwise: rsnt!RsThreadStart(routine, context) ...
  uint64_t context = 0;      // ... on the kernel stack
  uint32_t bugcheck_processor = 0;
};

// syscall, expand_stack, dpc_stack, no_pdb_fpo, fake_returns, fp_loop.
const std::vector<KernelScenarioSpec>& KernelScenarios();
const KernelScenarioSpec* FindKernelScenario(const std::string& name);

// The committed fixture files: `store` (symbol store with the images and PDBs) and
// `maps` (lld-link /map of every image).
struct KernelFixtureFiles {
  std::string store;
  std::string maps;
  // tests/fixtures/kernel/{store,maps} under `fixture_dir`.
  static KernelFixtureFiles In(const std::string& fixture_dir);
  // The store path of image `name` (the one version the store holds).
  absl::StatusOr<std::string> ImagePath(const std::string& name) const;
  // The lld-link map of image `name`: <maps>/<name without extension><suffix>.map.
  std::string MapPath(const std::string& name, const std::string& suffix = "") const;
};

// Names of the images, kernel ones first (rsnt.exe is the kernel), and their bases.
struct FixtureImage {
  std::string name;
  uint64_t base = 0;
  bool user = false;
};
const std::vector<FixtureImage>& KernelFixtureImages();

// A finished scenario run.
struct KernelScenarioRun {
  ScenarioTruth truth;
  std::unique_ptr<ScenarioRunner> machine;  // memory after KeBugCheckEx halted
  CpuContext bugcheck_context;              // at KeBugCheckEx's entry
  CpuContext other_context;                 // the other processor, halted in KiIdleLoop
  std::vector<FixtureImage> images;         // as loaded, the kernel first
  std::vector<LinkMap> maps;                // per `images` entry
  // Where the dumps' KDBG, module list, KPRCBs and CONTEXTs go (scenario_dumps.h).
  uint64_t kernel_data_va = KernelFixtureLayout::kKernelDataVa;
};

// Loads the images, runs the drivers' DriverEntry and `spec` to the bugcheck, checks
// the context KeBugCheckEx saved against the emulator's, and names the truth frames.
absl::StatusOr<KernelScenarioRun> RunKernelScenario(const KernelScenarioSpec& spec,
                                                    const KernelFixtureFiles& files);

// ---------------------------------------------------------------- building blocks
// RunKernelScenario's steps, for other image sets around a kernel built from the
// fixture's rsnt.S (the bundled demo, tests/support/demo_scenarios.h).

// Register seeds of the runs (ThreadStart::seed): drivers' DriverEntry, kernel and
// user scenario threads, the idle processor.
inline constexpr uint16_t kSeedBoot = 0xB007, kSeedKernel = 0xC0DE, kSeedUser = 0x05E4,
                          kSeedIdle = 0x1D1E;

// One image to load: its name, base and mode, its file and its lld-link map.
struct ScenarioImageSource {
  FixtureImage image;
  std::string path;
  std::string map;
};

// Loads `sources` at their bases (the kernel first), binds their imports, reads their
// maps and maps them and `stacks` into a new machine: run.images, run.maps, run.machine.
absl::StatusOr<KernelScenarioRun> LoadScenarioImages(const std::vector<ScenarioImageSource>& sources,
                                                     std::vector<StackSegment> stacks);

// The address of export `name` of the loaded image `image`.
absl::StatusOr<uint64_t> ExportOf(const ScenarioRunner& m, const std::string& image,
                                  const std::string& name);

// For a kernel image built from rsnt.S: writes the stack tops into its RsPrcb (RspBase =
// the "kernel" stack's base; DpcStack and ExpandStack = the "dpc" and "expand" stacks'
// when the machine has them) and makes KiSystemCall64 the system-call entry and
// KeBugCheckEx the bugcheck. Returns RsPrcb's address.
absl::StatusOr<uint64_t> SetUpFixtureKernel(ScenarioRunner& m, const std::string& kernel);

// Boot: DriverEntry(object, argument) of each image, in order, on the "kernel" stack;
// each must return 0.
struct DriverEntryCall {
  std::string image;
  uint64_t object = 0;    // the driver object (first argument)
  uint64_t argument = 0;  // second argument (the registry path in Windows)
};
absl::Status RunDriverEntries(ScenarioRunner& m, const std::vector<DriverEntryCall>& calls);

// The other processor: `kernel`!KiIdleLoop run on the "idle" stack until its hlt;
// run.other_context.
absl::Status RunIdleProcessor(KernelScenarioRun& run, const std::string& kernel);

// What a truth says besides the run.
struct ScenarioRecord {
  std::string name;
  std::string description;
  uint32_t processors = 2;
  uint32_t bugcheck_processor = 0;
};

// Runs `start` to KeBugCheckEx, checks the context KeBugCheckEx saved into the RsPrcb at
// `prcb` against the emulator's, and fills run.truth (all but `dumps`) and
// run.bugcheck_context.
absl::Status RunScenarioThread(KernelScenarioRun& run, const ThreadStart& start, uint64_t prcb,
                               const ScenarioRecord& record);

// The fixture label of `va` in `run`'s images ("" outside), as truth frames are named:
// the last map symbol at or below it (return addresses are looked up at rip − 1).
struct FixtureLabel {
  std::string module;
  std::string label;
  std::string chunk_of;  // label F__cN: F
};
FixtureLabel LabelOf(const KernelScenarioRun& run, uint64_t va);

}  // namespace restack::test
