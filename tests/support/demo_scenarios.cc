// demo_scenarios.cc - the demo's machines, runs and dumps (see demo_scenarios.h)
#include "tests/support/demo_scenarios.h"

#include <filesystem>

#include "absl/strings/str_format.h"
#include "tests/support/file_read.h"
#include "tests/support/scenario_dumps.h"

namespace restack::test {
namespace {

namespace fs = std::filesystem;

constexpr char kKernel[] = "ntoskrnl.exe";
constexpr char kUserImage[] = "hamachi-2.exe";
constexpr uint64_t kDriverObjectSize = 0x40;  // demo.h DEMO_DRIVER_OBJECT
constexpr uint64_t kDelayedWorkQueue = 1;

// demo.h driver slots.
constexpr int kSlotNdis = 0, kSlotTcpip = 1, kSlotAfd = 2, kSlotWfplwfs = 3, kSlotBdfndisf6 = 4,
              kSlotHamdrv = 5;

// IMAGE_OPTIONAL_HEADER64.MinorOperatingSystemVersion of a PE32+ file: the demo kernels
// are linked /osversion:6.2 (build 9200) and 6.3 (9600).
absl::StatusOr<uint16_t> MinorOsVersion(const std::string& path) {
  absl::StatusOr<std::vector<uint8_t>> bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  const auto u32 = [&](size_t at) -> uint32_t {
    return at + 4 <= bytes->size() ? (*bytes)[at] | (*bytes)[at + 1] << 8 |
                                         (*bytes)[at + 2] << 16 | uint32_t{(*bytes)[at + 3]} << 24
                                   : 0;
  };
  const size_t field = u32(0x3C) + 24 + 42;  // PE signature, file header, optional header
  if (field + 2 > bytes->size()) return absl::InvalidArgumentError(path + ": not a PE image");
  return static_cast<uint16_t>((*bytes)[field] | (*bytes)[field + 1] << 8);
}

// The store path of `name`: the one version the store holds, or for the kernel the one
// of `nt_build`.
absl::StatusOr<std::string> ImagePath(const KernelFixtureFiles& files, const std::string& name,
                                      uint32_t nt_build) {
  if (name != kKernel) return files.ImagePath(name);
  std::error_code ec;
  std::vector<std::string> found;
  for (const fs::directory_entry& key : fs::directory_iterator(fs::path(files.store) / name, ec)) {
    const fs::path path = key.path() / name;
    if (!fs::exists(path)) continue;
    absl::StatusOr<uint16_t> minor = MinorOsVersion(path.string());
    if (!minor.ok()) return minor.status();
    if (*minor == (nt_build >= 9600 ? 3 : 2)) found.push_back(path.string());
  }
  if (ec || found.size() != 1) {
    return absl::NotFoundError(absl::StrFormat("%s: expected one %s/<key>/%s of build %u",
                                               files.store, name, name, nt_build));
  }
  return found[0];
}

// The kernels' maps are ntoskrnl.<build>.map.
std::string MapPath(const KernelFixtureFiles& files, const std::string& name, uint32_t nt_build) {
  return files.MapPath(name, name == kKernel ? absl::StrFormat(".%u", nt_build) : "");
}

}  // namespace

const std::vector<DemoMachine>& DemoMachines() {
  static const std::vector<DemoMachine> machines = {
      {"machine1",
       "Windows 8.1 (build 9600), the seed's tcpip stack: hamachi-2.exe sends a datagram "
       "through its socket (system call) -> nt!NtDeviceIoControlFile -> IopXxxControlFile -> "
       "afd -> tcpip (stack expanded) -> ndis!NdisSendNetBufferLists -> Hamdrv (no filter "
       "bound) completes its pending read once per fragment -> 0x44",
       9600,
       {{kKernel, 0xFFFFF802EF800000},
        {"ndis.sys", 0xFFFFF80001080000, false, kSlotNdis},
        {"tcpip.sys", 0xFFFFF80001280000, false, kSlotTcpip},
        {"afd.sys", 0xFFFFF80000C20000, false, kSlotAfd},
        {"wfplwfs.sys", 0xFFFFF80001480000, false, kSlotWfplwfs, 0},
        {"Hamdrv.sys", 0xFFFFF800045C0000, false, kSlotHamdrv},
        {kUserImage, 0x00007FF640360000, true}},
       {{"kernel", 0xFFFFD0003A7B8000, 0xFFFFD0003A7BE000, false},
        {"idle", 0xFFFFD00020604000, 0xFFFFD00020606000, false},
        {"user", 0x000000A4EF920000, 0x000000A4EF930000, true}},
       true, 2, 1, 0xFFFFF802EFA00000, 0x1d0091661e3e480, "Mini112614-01.dmp"},
      {"machine2",
       "Windows 8 (build 9200), the seed's BitDefender stack: a system worker thread runs "
       "bdfndisf6's work item, which injects two packets -> ndis!ndisFilterSendNetBufferLists "
       "-> ndisInvokeNextSendHandler (stack expanded) -> wfplwfs -> ndis -> "
       "ndisMSendNBLToMiniport -> Hamdrv completes its pending read twice -> 0x44",
       9200,
       {{kKernel, 0xFFFFF803D8000000},
        {"ndis.sys", 0xFFFFF88001E40000, false, kSlotNdis},
        {"tcpip.sys", 0xFFFFF88001A00000, false, kSlotTcpip},
        {"afd.sys", 0xFFFFF88003A40000, false, kSlotAfd},
        {"wfplwfs.sys", 0xFFFFF88002300000, false, kSlotWfplwfs, 1},
        {"bdfndisf6.sys", 0xFFFFF88004790000, false, kSlotBdfndisf6},
        {"Hamdrv.sys", 0xFFFFF8801A800000, false, kSlotHamdrv}},
       {{"kernel", 0xFFFFF880031A5000, 0xFFFFF880031AB000, false},
        {"idle", 0xFFFFF880009F0000, 0xFFFFF880009F2000, false}},
       false, 2, 1, 0xFFFFF803D8200000, 0x1d00830325aac80, "Mini112414-01.dmp"},
      {"machine3",
       "Windows 8.1 (build 9600) with the WFP filter bound: hamachi-2.exe's datagram -> afd "
       "-> tcpip -> ndis!NdisSendNetBufferLists -> wfplwfs -> ndis!ndisFilterSendNetBufferLists "
       "-> ndisMSendNBLToMiniport -> Hamdrv completes its pending read twice -> 0x44",
       9600,
       {{kKernel, 0xFFFFF80163600000},
        {"ndis.sys", 0xFFFFF800C1A40000, false, kSlotNdis},
        {"tcpip.sys", 0xFFFFF800C1C80000, false, kSlotTcpip},
        {"afd.sys", 0xFFFFF800C2620000, false, kSlotAfd},
        {"wfplwfs.sys", 0xFFFFF800C1E00000, false, kSlotWfplwfs, 1},
        {"Hamdrv.sys", 0xFFFFF800C4F30000, false, kSlotHamdrv},
        {kUserImage, 0x00007FF7A2E10000, true}},
       {{"kernel", 0xFFFFD0012F3C6000, 0xFFFFD0012F3CC000, false},
        {"idle", 0xFFFFD0012E1F0000, 0xFFFFD0012E1F2000, false},
        {"user", 0x000000F1B5D70000, 0x000000F1B5D80000, true}},
       true, 2, 0, 0xFFFFF80163800000, 0x1d00b3146a0f100, "Mini112814-01.dmp"},
  };
  return machines;
}

const DemoMachine* FindDemoMachine(const std::string& name) {
  for (const DemoMachine& m : DemoMachines()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

KernelFixtureFiles DemoFixtureFiles(const std::string& root) {
  return {root + "/demo/symbols", root + "/tests/fixtures/demo/maps"};
}

absl::StatusOr<KernelScenarioRun> RunDemoMachine(const DemoMachine& machine,
                                                 const KernelFixtureFiles& files) {
  std::vector<ScenarioImageSource> sources;
  for (const DemoImage& image : machine.images) {
    absl::StatusOr<std::string> path = ImagePath(files, image.name, machine.nt_build);
    if (!path.ok()) return path.status();
    sources.push_back({{image.name, image.base, image.user}, *path,
                       MapPath(files, image.name, machine.nt_build)});
  }
  absl::StatusOr<KernelScenarioRun> loaded = LoadScenarioImages(sources, machine.stacks);
  if (!loaded.ok()) return loaded.status();
  KernelScenarioRun run = *std::move(loaded);
  run.kernel_data_va = machine.kernel_data_va;
  ScenarioRunner& m = *run.machine;
  absl::StatusOr<uint64_t> prcb = SetUpFixtureKernel(m, kKernel);
  absl::StatusOr<uint64_t> drivers = ExportOf(m, kKernel, "IopDriverObjects");
  for (const auto* s : {&prcb, &drivers}) {
    if (!s->ok()) return s->status();
  }

  std::vector<DriverEntryCall> boot;
  for (const DemoImage& image : machine.images) {
    if (image.driver_slot < 0) continue;
    boot.push_back({image.name, *drivers + kDriverObjectSize * image.driver_slot,
                    image.driver_argument});
  }
  if (absl::Status st = RunDriverEntries(m, boot); !st.ok()) return st;
  if (absl::Status st = RunIdleProcessor(run, kKernel); !st.ok()) return st;

  ThreadStart start;
  if (machine.user_thread) {
    const LoadedImage* app = m.Image(kUserImage);
    if (app == nullptr) return absl::NotFoundError(machine.name + ": no " + kUserImage);
    start = {app->base + app->entry_rva, {}, "user", kSeedUser};
  } else {
    // KiStartSystemThread(ExpWorkerThread, DelayedWorkQueue).
    absl::StatusOr<uint64_t> thread_start = ExportOf(m, kKernel, "KiStartSystemThread");
    absl::StatusOr<uint64_t> worker = ExportOf(m, kKernel, "ExpWorkerThread");
    for (const auto* s : {&thread_start, &worker}) {
      if (!s->ok()) return s->status();
    }
    start = {*thread_start, {*worker, kDelayedWorkQueue, 0, 0}, "kernel", kSeedKernel};
  }
  if (absl::Status st = RunScenarioThread(
          run, start, *prcb,
          {machine.name, machine.description, machine.processors, machine.bugcheck_processor});
      !st.ok()) {
    return st;
  }
  run.truth.dumps = {{"bitmap", kDemoBitmapDump}, {"triage", machine.minidump}};
  return run;
}

absl::StatusOr<std::map<std::string, std::vector<uint8_t>>> WriteDemoDumps(
    const KernelScenarioRun& run, const DemoMachine& machine) {
  absl::StatusOr<KernelScenario> scenario = BuildDumpScenario(run);
  if (!scenario.ok()) return scenario.status();
  scenario->build = machine.nt_build;
  scenario->system_time = machine.system_time;
  absl::StatusOr<std::map<std::string, std::vector<uint8_t>>> dumps = WriteScenarioDumps(*scenario);
  if (!dumps.ok()) return dumps.status();
  dumps->erase("full");
  return dumps;
}

}  // namespace restack::test
