// demo_walk_test.cc - the bundled demo (demo/, docs/demo.md): every machine's
// MEMORY.DMP and triage minidump walked frame by frame to its truth, the seed's facts
// the demo imitates, and the names `make demo` shows (restack's, and a nearest-public
// symbolizer's for the cold chunk).
#include <map>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/exit_code.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "restack/sym/demangle.h"
#include "restack/sym/image_locator.h"
#include "restack/sym/pdb_file.h"
#include "tests/kernel/truth_walk.h"
#include "tests/support/demo_scenarios.h"
#include "walk/walk.h"

namespace restack::test {
namespace {

constexpr char kSymbols[] = "demo/symbols";
constexpr char kLiteral[] = "??_C@_0DC@FNODOBFM@IofCompleteRequest?3?5IRP?5complete@";

std::string MachineFile(const DemoMachine& m, const std::string& file) {
  return "demo/" + m.name + "/" + file;
}

ScenarioTruth DemoTruth(const DemoMachine& m) {
  absl::StatusOr<ScenarioTruth> t = ReadTruthFile(MachineFile(m, kDemoTruthFile));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : ScenarioTruth{};
}

const TruthModule* ModuleOf(const ScenarioTruth& t, const TruthFrame& f) {
  return t.Module(f.module);
}

uint64_t Rva(const ScenarioTruth& t, const TruthFrame& f) {
  const TruthModule* m = ModuleOf(t, f);
  return m != nullptr ? f.rip - m->base : 0;
}

// The modules of the truth's frames, innermost first, without repeats.
std::vector<std::string> FrameModules(const ScenarioTruth& t) {
  std::vector<std::string> out;
  for (const TruthFrame& f : t.frames) {
    if (out.empty() || out.back() != f.module) out.push_back(f.module);
  }
  return out;
}

bool HasFrameIn(const ScenarioTruth& t, const std::string& module) {
  for (const TruthFrame& f : t.frames) {
    if (f.module == module) return true;
  }
  return false;
}

TEST(DemoWalkTest, EveryDumpWalksToItsTruth) {
  for (const DemoMachine& m : DemoMachines()) {
    const ScenarioTruth truth = DemoTruth(m);
    ASSERT_EQ(truth.dumps.size(), 2u) << m.name;
    for (const auto& [kind, file] : truth.dumps) {
      SCOPED_TRACE(m.name + " " + file);
      absl::StatusOr<TruthWalk> w = WalkDumpOfTruth(truth, MachineFile(m, file), kSymbols);
      ASSERT_TRUE(w.ok()) << w.status();
      EXPECT_TRUE(WalkMatchesTruth(truth, w->walk, true)) << TruthWalkTable(truth, w->walk);
      // Every frame from unwind data (the user-mode stub's caller from its [RSP]), none
      // from a scan.
      EXPECT_EQ(CheckFrameTrust(truth, *w), 0u) << TruthWalkTable(truth, w->walk);
    }
  }
}

// What the demo imitates (../shared/seed, the stack texts of ../shared/samples/stacktext).
TEST(DemoWalkTest, TheSeedsFramesAreWhereTheSeedHadThem) {
  std::map<std::string, ScenarioTruth> truths;
  for (const DemoMachine& m : DemoMachines()) truths[m.name] = DemoTruth(m);
  for (const auto& [name, t] : truths) {
    SCOPED_TRACE(name);
    ASSERT_GE(t.frames.size(), 10u);
    EXPECT_EQ(t.bugcheck_code, 0x44u);  // MULTIPLE_IRP_COMPLETE_REQUESTS
    EXPECT_NE(t.bugcheck_parameters[0], 0u);  // the IRP
    EXPECT_EQ(t.frames[0].function, "KeBugCheckEx");
    EXPECT_EQ(t.frames[1].module, "ntoskrnl.exe");
    EXPECT_EQ(t.frames[1].chunk_of, "IofCompleteRequest");
    const uint64_t hamdrv[] = {0x1f0a, 0x3059, 0x2a56};
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(t.frames[2 + i].module, "Hamdrv.sys");
      EXPECT_EQ(Rva(t, t.frames[2 + i]), hamdrv[i]) << "frame " << 2 + i;
    }
    EXPECT_EQ(t.frames[5].module, "ndis.sys");
    EXPECT_EQ(t.frames.back().function, t.frames.back().module == "ntoskrnl.exe"
                                            ? "KiStartSystemThread"
                                            : "HamTunnelThread");
  }
  // The builds: parameter 2 and the kernel differ between Windows 8 and 8.1.
  const ScenarioTruth& m1 = truths["machine1"];
  const ScenarioTruth& m2 = truths["machine2"];
  const ScenarioTruth& m3 = truths["machine3"];
  EXPECT_EQ(m1.bugcheck_parameters[1], 0xF8Au);
  EXPECT_EQ(m2.bugcheck_parameters[1], 0xF7Au);
  EXPECT_EQ(m3.bugcheck_parameters[1], 0xF8Au);
  EXPECT_NE(m1.modules[0].timestamp, m2.modules[0].timestamp);
  EXPECT_EQ(m1.modules[0].timestamp, m3.modules[0].timestamp);
  EXPECT_NE(Rva(m1, m1.frames[1]), Rva(m2, m2.frames[1]));  // the chunk moved
  for (size_t i = 0; i < m1.modules.size(); ++i) {
    if (m1.modules[i].user) continue;
    EXPECT_NE(m1.modules[i].base, m3.modules[i].base) << m1.modules[i].name;
  }
  // The filter is loaded on machine2 only, and on its stack: bdfndisf6+0x3997, +0x8bc5.
  EXPECT_EQ(m1.Module("bdfndisf6.sys"), nullptr);
  EXPECT_EQ(m3.Module("bdfndisf6.sys"), nullptr);
  std::vector<uint64_t> filter;
  for (const TruthFrame& f : m2.frames) {
    if (f.module == "bdfndisf6.sys") filter.push_back(Rva(m2, f));
  }
  EXPECT_EQ(filter, (std::vector<uint64_t>{0x3997, 0x8bc5}));
  // The send paths: machine1 through tcpip to the miniport with no filter (the seed's
  // Windows 8.1 stack), machine2 from the filter's work item through wfplwfs (its
  // Windows 8 stack), machine3 through tcpip and wfplwfs.
  EXPECT_EQ(FrameModules(m1),
            (std::vector<std::string>{"ntoskrnl.exe", "Hamdrv.sys", "ndis.sys", "tcpip.sys",
                                      "ntoskrnl.exe", "tcpip.sys", "afd.sys", "ntoskrnl.exe",
                                      "hamachi-2.exe"}));
  EXPECT_EQ(FrameModules(m2),
            (std::vector<std::string>{"ntoskrnl.exe", "Hamdrv.sys", "ndis.sys", "wfplwfs.sys",
                                      "ndis.sys", "ntoskrnl.exe", "ndis.sys", "bdfndisf6.sys",
                                      "ntoskrnl.exe"}));
  EXPECT_EQ(FrameModules(m3),
            (std::vector<std::string>{"ntoskrnl.exe", "Hamdrv.sys", "ndis.sys", "wfplwfs.sys",
                                      "ndis.sys", "tcpip.sys", "ntoskrnl.exe", "tcpip.sys",
                                      "afd.sys", "ntoskrnl.exe", "hamachi-2.exe"}));
  EXPECT_FALSE(HasFrameIn(m1, "wfplwfs.sys"));
  EXPECT_FALSE(HasFrameIn(m2, "tcpip.sys"));
}

// restack-walk --json --sympath srv*demo/symbols on every dump: each kernel frame named
// as the truth names it -- module!Function from the publics-only PDBs, the cold chunk
// after IofCompleteRequest with its chunk start, Hamdrv and bdfndisf6 (no PDB) as
// module+0xRVA.
TEST(DemoWalkTest, RestackNamesTheFramesAsTheDemoShowsThem) {
  for (const DemoMachine& m : DemoMachines()) {
    const ScenarioTruth truth = DemoTruth(m);
    for (const auto& [kind, file] : truth.dumps) {
      SCOPED_TRACE(m.name + " " + file);
      tools::WalkToolOptions options;
      options.dumps = {MachineFile(m, file)};
      options.sympath = std::string("srv*") + kSymbols;
      options.json = true;
      std::ostringstream out, err;
      const int rc = tools::RunWalk(options, out, err);
      // The user-mode frame behind the system call is in no kernel module: the walk
      // ends there, as WinDbg's did.
      EXPECT_EQ(rc, m.user_thread ? tools::kExitPartial : tools::kExitOk) << err.str();
      const nlohmann::json stack = nlohmann::json::parse(out.str());
      const nlohmann::json& frames = stack["frames"];
      size_t kernel_frames = 0;
      for (const TruthFrame& f : truth.frames) kernel_frames += !ModuleOf(truth, f)->user;
      ASSERT_EQ(frames.size(), kernel_frames + (m.user_thread ? 1 : 0));
      for (size_t i = 0; i < kernel_frames; ++i) {
        const TruthFrame& f = truth.frames[i];
        const nlohmann::json& j = frames[i];
        SCOPED_TRACE(absl::StrFormat("frame %u (%s)", i, f.function));
        const std::string stem = f.module.substr(0, f.module.rfind('.'));
        const std::string shown = stem == "ntoskrnl" ? "nt" : stem;
        if (f.module == "Hamdrv.sys" || f.module == "bdfndisf6.sys") {
          EXPECT_EQ(j["call_site"], absl::StrFormat("%s+0x%x", shown, Rva(truth, f)));
          continue;
        }
        std::string function = f.chunk_of.empty() ? f.function : f.chunk_of;
        // A label inside KiSystemCall64's .pdata entry is named after it (docs/symbols.md).
        if (function == "KiSystemServiceCopyEnd") function = "KiSystemCall64";
        EXPECT_EQ(j["symbol"]["function"], function);
        const std::string call_site = j["call_site"];
        EXPECT_EQ(call_site.substr(0, shown.size() + 1 + function.size()), shown + "!" + function);
        EXPECT_EQ(!j["chunk_start"].is_null(), !f.chunk_of.empty());
      }
    }
  }
}

// What `make demo` prints beside restack's name: the nearest public at or below the
// chunk frame's address in the kernel's PDB is the FNODOBFM string literal, shown by
// WinDbg as " ?? ::FNODOBFM::`string'".
TEST(DemoWalkTest, TheNearestPublicBeforeTheChunkIsTheFnodobfmLiteral) {
  const sym::ImageLocator locator({kSymbols});
  for (const DemoMachine& m : DemoMachines()) {
    SCOPED_TRACE(m.name);
    const ScenarioTruth truth = DemoTruth(m);
    const TruthModule& nt = truth.modules[0];
    ASSERT_EQ(nt.name, "ntoskrnl.exe");
    absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
        locator.Open(nt.name, nt.timestamp, nt.size);
    ASSERT_TRUE(image.ok()) << image.status();
    ASSERT_TRUE((*image)->codeview().has_value());
    const std::string pdb_path = absl::StrFormat(
        "%s/ntkrnlmp.pdb/%s/ntkrnlmp.pdb", kSymbols, (*image)->codeview()->StoreKey());
    absl::StatusOr<std::unique_ptr<sym::PdbFile>> pdb = sym::PdbFile::OpenFile(pdb_path);
    ASSERT_TRUE(pdb.ok()) << pdb.status();
    const uint64_t rva = truth.frames[1].rip - nt.base;
    const sym::PdbPublic* nearest = nullptr;
    uint64_t nearest_rva = 0;
    for (const sym::PdbPublic& p : (*pdb)->publics()) {
      if (p.section == 0 || p.section > (*pdb)->sections().size()) continue;
      const uint64_t at = (*pdb)->sections()[p.section - 1].virtual_address + p.offset;
      if (at <= rva && (nearest == nullptr || at > nearest_rva)) {
        nearest = &p;
        nearest_rva = at;
      }
    }
    ASSERT_NE(nearest, nullptr);
    EXPECT_EQ(nearest->name, kLiteral);
    EXPECT_EQ(sym::FunctionName(nearest->name), "?? ::FNODOBFM::`string'");
    EXPECT_GT(rva - nearest_rva, 0x300u);  // the literal, then other cold code
  }
}

}  // namespace
}  // namespace restack::test
