// demo_scenarios.h - the bundled demo (demo/): the seed's 0x44 bugcheck on three machines
//
// The demo's images (tests/fixtures/demo/src/: an nt-like ntoskrnl.exe in two builds,
// ndis.sys, tcpip.sys, afd.sys, wfplwfs.sys, the filter bdfndisf6.sys, the miniport
// Hamdrv.sys and the user-mode hamachi-2.exe) are loaded at each machine's addresses,
// their DriverEntry routines run, and the machine's thread runs until Hamdrv.sys
// completes an IRP a second time and ntoskrnl's IofCompleteRequest bugchecks 0x44 from
// its cold chunk. Built on the emulated kernel scenarios' runner (kernel_scenarios.h);
// machines, paths and files: docs/demo.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/kernel_scenarios.h"

namespace restack::test {

// One image of a machine. Drivers are booted in the machine's image order.
struct DemoImage {
  std::string name;            // file name, e.g. "Hamdrv.sys"
  uint64_t base = 0;
  bool user = false;           // hamachi-2.exe: not on the kernel's module list
  int driver_slot = -1;        // ntoskrnl!IopDriverObjects slot (demo.h); -1: no DriverEntry
  uint64_t driver_argument = 0;  // DriverEntry's second argument (wfplwfs: 1 = bound)
};

struct DemoMachine {
  std::string name;         // "machine1": its directory under demo/
  std::string description;  // the OS it plays and the send path
  uint32_t nt_build = 0;    // 9200 (Windows 8) or 9600 (Windows 8.1): which ntoskrnl.exe
  std::vector<DemoImage> images;  // ntoskrnl.exe first
  std::vector<StackSegment> stacks;  // "kernel", "idle" and, for a user thread, "user"
  bool user_thread = false;  // hamachi-2.exe's HamTunnelThread, else a system worker thread
  uint32_t processors = 2;
  uint32_t bugcheck_processor = 0;
  uint64_t kernel_data_va = 0;  // the dump writer's KDBG, lists, KPRCBs
  uint64_t system_time = 0;     // DUMP_HEADER64.SystemTime (FILETIME)
  std::string minidump;         // the triage dump's file name, e.g. "Mini112614-01.dmp"
};

// machine1, machine2, machine3 (docs/demo.md).
const std::vector<DemoMachine>& DemoMachines();
const DemoMachine* FindDemoMachine(const std::string& name);

// The files the runs need: `store` = <root>/demo/symbols (the demo's symbol store: images
// and PDBs, two builds of ntoskrnl.exe) and `maps` = <root>/tests/fixtures/demo/maps
// (lld-link /map of every image, the kernels' as ntoskrnl.9200.map and ntoskrnl.9600.map).
KernelFixtureFiles DemoFixtureFiles(const std::string& root);

// The machine's directory under demo/ holds "MEMORY.DMP" (bitmap), the triage dump
// (DemoMachine::minidump) and "truth.json".
inline constexpr char kDemoBitmapDump[] = "MEMORY.DMP";
inline constexpr char kDemoTruthFile[] = "truth.json";

// Runs `machine` to its bugcheck; the truth's `dumps` name "bitmap" and "triage".
absl::StatusOr<KernelScenarioRun> RunDemoMachine(const DemoMachine& machine,
                                                 const KernelFixtureFiles& files);

// "bitmap" and "triage" -> the dump bytes of a finished run of `machine` (its build
// number and crash time in the header).
absl::StatusOr<std::map<std::string, std::vector<uint8_t>>> WriteDemoDumps(
    const KernelScenarioRun& run, const DemoMachine& machine);

}  // namespace restack::test
