// scenario_truth_test.cc - the committed scenario truth against facts that need no
// unwind data
//
// Every return address in the truth must follow a CALL that ends exactly there (Zydis
// on the image bytes), and that CALL must be the instruction the shadow stack saw;
// the user frame must follow a syscall; names must be the link maps' labels and, where
// a full PDB has a procedure there, the procedure's name; frames stay on their stacks
// and change stacks only through a trap or a stack switch; the decoys a scan would see
// must not follow a CALL. Images come from the committed store, loaded at the truth's
// bases by the fixture loader (tests/support/pe_loader.h).
#include <Zydis/Zydis.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "restack/sym/pdb_file.h"
#include "tests/kernel/scenario_fixture.h"
#include "tests/support/call_check.h"
#include "tests/support/file_read.h"
#include "tests/support/link_map.h"
#include "tests/support/pe_loader.h"

namespace restack::test {
namespace {

// The fixture's images at the truth's bases, their maps and (where there is one) the
// full PDB.
class Fixture {
 public:
  explicit Fixture(const ScenarioTruth& truth) {
    const KernelFixtureFiles files = CommittedFixtureFiles();
    for (const TruthModule& m : truth.modules) {
      absl::StatusOr<std::string> path = files.ImagePath(m.name);
      EXPECT_TRUE(path.ok()) << path.status();
      if (!path.ok()) continue;
      absl::StatusOr<std::vector<uint8_t>> bytes = ReadFileBytes(*path);
      EXPECT_TRUE(bytes.ok()) << bytes.status();
      if (!bytes.ok()) continue;
      absl::StatusOr<LoadedImage> image = LoadImage(*bytes, m.name, m.base);
      EXPECT_TRUE(image.ok()) << image.status();
      if (image.ok()) images_.push_back(*std::move(image));
      absl::StatusOr<LinkMap> map = ReadLinkMap(files.MapPath(m.name));
      EXPECT_TRUE(map.ok()) << map.status();
      if (map.ok()) maps_[m.name] = *std::move(map);
    }
  }

  const LoadedImage* ImageAt(uint64_t va) const {
    for (const LoadedImage& i : images_) {
      if (i.Contains(va)) return &i;
    }
    return nullptr;
  }
  const LinkMap& Map(const std::string& module) const { return maps_.at(module); }

  // Up to 15 bytes of code right before `va`.
  std::span<const uint8_t> Before(uint64_t va) const {
    const LoadedImage* i = ImageAt(va);
    if (i == nullptr) return {};
    const uint64_t rva = va - i->base;
    const uint64_t n = std::min<uint64_t>(rva, 15);
    return {i->memory.data() + rva - n, n};
  }

 private:
  std::vector<LoadedImage> images_;
  std::map<std::string, LinkMap> maps_;
};

// A return address is looked up at rip − 1; a context, trap or machine-frame RIP at rip.
bool ExactRip(const TruthFrame& f) {
  return f.how == TruthHow::kContext || f.how == TruthHow::kTrap || f.machine_frame.has_value();
}

// Length of the instruction at `va` if it is a CALL (0 otherwise).
size_t CallLengthAt(const Fixture& fx, uint64_t va) {
  const LoadedImage* i = fx.ImageAt(va);
  if (i == nullptr) return 0;
  const uint64_t rva = va - i->base;
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction insn;
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, nullptr, i->memory.data() + rva,
                                                  i->memory.size() - rva, &insn)) ||
      insn.mnemonic != ZYDIS_MNEMONIC_CALL) {
    return 0;
  }
  return insn.length;
}

// Calls check(truth, fixture, i) for every frame i of every scenario, traced.
template <typename Check>
void ForEachFrame(Check check) {
  for (const std::string& name : ScenarioNames()) {
    const ScenarioTruth t = CommittedTruth(name);
    const Fixture fx(t);
    for (size_t i = 0; i < t.frames.size(); ++i) {
      const TruthFrame& f = t.frames[i];
      SCOPED_TRACE(absl::StrFormat("%s frame %u %s!%s at 0x%x", name, i, f.module, f.function, f.rip));
      check(t, fx, i);
    }
  }
}

TEST(ScenarioTruthTest, FramesStartAtKeBugCheckExAndEndAtTheThreadStart) {
  for (const std::string& name : ScenarioNames()) {
    SCOPED_TRACE(name);
    const ScenarioTruth t = CommittedTruth(name);
    ASSERT_GE(t.frames.size(), 8u);
    Fixture fx(t);
    const TruthFrame& first = t.frames.front();
    EXPECT_EQ(first.how, TruthHow::kContext);
    EXPECT_EQ(first.module, "rsnt.exe");
    EXPECT_EQ(first.function, "KeBugCheckEx");
    const LoadedImage* nt = fx.ImageAt(first.rip);
    ASSERT_NE(nt, nullptr);
    EXPECT_EQ(nt->ExportAddress("KeBugCheckEx"), first.rip);
    EXPECT_EQ(first.rsp, t.context[4].second);
    EXPECT_EQ(first.rip, t.context[16].second);
    const TruthFrame& last = t.frames.back();
    EXPECT_EQ(last.function, name == "syscall" ? "RsUserMain" : "RsThreadStart");
    EXPECT_NE(t.bugcheck_code, 0u);
  }
}

TEST(ScenarioTruthTest, ReturnAddressesFollowTheCallTheEmulatorSaw) {
  ForEachFrame([](const ScenarioTruth& t, const Fixture& fx, size_t i) {
    const TruthFrame& f = t.frames[i];
    if (i == 0) return;
    if (f.how == TruthHow::kTrap) {
      // The user RIP is right after the syscall (0F 05) the trap came from.
      const std::span<const uint8_t> b = fx.Before(f.rip);
      ASSERT_GE(b.size(), 2u);
      EXPECT_EQ(b[b.size() - 2], 0x0F);
      EXPECT_EQ(b[b.size() - 1], 0x05);
      EXPECT_EQ(f.call_site, f.rip - 2);
      EXPECT_TRUE(f.trap_frame.has_value());
      return;
    }
    EXPECT_TRUE(CallEndsAt(fx.Before(f.rip)));
    EXPECT_EQ(f.call_site + CallLengthAt(fx, f.call_site), f.rip);
  });
}

TEST(ScenarioTruthTest, FramesAreNamedByTheLinkMaps) {
  ForEachFrame([](const ScenarioTruth& t, const Fixture& fx, size_t i) {
    const TruthFrame& f = t.frames[i];
    const LoadedImage* image = fx.ImageAt(f.rip);
    ASSERT_NE(image, nullptr);
    EXPECT_EQ(f.module, image->name);
    const uint32_t rva = static_cast<uint32_t>((ExactRip(f) ? f.rip : f.rip - 1) - image->base);
    const MapSymbol* label = fx.Map(f.module).Covering(
        rva, [](const MapSymbol& s) { return !absl::StartsWith(s.name, "??_C@"); });
    ASSERT_NE(label, nullptr);
    EXPECT_EQ(f.function, label->name);
    if (f.chunk_of.empty()) return;
    // The cold chunk has no public: the public right before it is the string
    // literal, which is what a publics-only PDB names its frames after.
    EXPECT_EQ(f.function, f.chunk_of + "__c1");
    const MapSymbol* pub =
        fx.Map(f.module).Covering(rva, [](const MapSymbol& s) { return s.is_public; });
    ASSERT_NE(pub, nullptr);
    EXPECT_TRUE(absl::StartsWith(pub->name, "??_C@")) << pub->name;
  });
}

// Where a full PDB has a procedure covering a frame, it has the frame's name: the C
// functions of rsnt.exe (full/rsnt.pdb, outside the store), rsdrv.sys and rsapp.exe.
TEST(ScenarioTruthTest, FullPdbProceduresAgreeWithTheLabels) {
  const KernelFixtureFiles files = CommittedFixtureFiles();
  std::map<std::string, std::unique_ptr<sym::PdbFile>> pdbs;
  const std::map<std::string, std::string> paths = {
      {"rsnt.exe", std::string(kKernelFixtureDir) + "/full/rsnt.pdb"}};
  for (const auto& [module, path] : paths) {
    absl::StatusOr<std::unique_ptr<sym::PdbFile>> pdb = sym::PdbFile::OpenFile(path);
    ASSERT_TRUE(pdb.ok()) << pdb.status();
    pdbs[module] = *std::move(pdb);
  }
  for (const char* module : {"rsdrv.sys", "rsapp.exe"}) {
    const std::string stem = std::string(module).substr(0, std::string(module).rfind('.'));
    absl::StatusOr<std::string> image = files.ImagePath(module);
    ASSERT_TRUE(image.ok());
    // The store holds the PDB under its own name and key: find its one file.
    const std::string dir = files.store + "/" + stem + ".pdb";
    std::vector<std::string> found;
    for (const auto& key : std::filesystem::directory_iterator(dir)) {
      found.push_back(key.path().string() + "/" + stem + ".pdb");
    }
    ASSERT_EQ(found.size(), 1u) << dir;
    absl::StatusOr<std::unique_ptr<sym::PdbFile>> pdb = sym::PdbFile::OpenFile(found[0]);
    ASSERT_TRUE(pdb.ok()) << pdb.status();
    pdbs[module] = *std::move(pdb);
  }
  size_t checked = 0;
  for (const std::string& name : ScenarioNames()) {
    const ScenarioTruth t = CommittedTruth(name);
    for (const TruthFrame& f : t.frames) {
      auto pdb = pdbs.find(f.module);
      if (pdb == pdbs.end()) continue;
      const uint64_t base = t.Module(f.module)->base;
      const uint64_t rva = (ExactRip(f) ? f.rip : f.rip - 1) - base;
      for (const sym::PdbProcedure& p : pdb->second->procedures()) {
        if (p.section == 0 || p.section > pdb->second->sections().size()) continue;
        const uint64_t begin = pdb->second->sections()[p.section - 1].virtual_address + p.offset;
        if (rva >= begin && rva < begin + p.length) {
          EXPECT_EQ(p.name, f.function) << name << " at " << f.module << "+0x" << std::hex << rva;
          ++checked;
        }
      }
    }
  }
  EXPECT_GE(checked, 20u);
}

TEST(ScenarioTruthTest, FramesStayOnTheirStacksAndSwitchOnlyThroughTrapsAndSwitches) {
  ForEachFrame([](const ScenarioTruth& t, const Fixture&, size_t i) {
    const TruthFrame& f = t.frames[i];
    const TruthStack* s = t.Stack(f.stack);
    ASSERT_NE(s, nullptr) << f.stack;
    EXPECT_GE(f.rsp, s->limit);
    EXPECT_LT(f.rsp, s->base);
    EXPECT_EQ(s->user, t.Module(f.module)->user);
    if (i == 0) return;
    const TruthFrame& callee = t.frames[i - 1];
    if (f.stack == callee.stack) {
      EXPECT_GT(f.rsp, callee.rsp);
      EXPECT_TRUE(f.how == TruthHow::kCall) << TruthHowName(f.how);
    } else {
      EXPECT_TRUE(f.how == TruthHow::kTrap || f.how == TruthHow::kStackSwitch)
          << TruthHowName(f.how);
    }
  });
}

TEST(ScenarioTruthTest, EachScenarioHasItsShape) {
  const auto count = [](const ScenarioTruth& t, auto pred) {
    return std::count_if(t.frames.begin(), t.frames.end(), pred);
  };
  const ScenarioTruth syscall = CommittedTruth("syscall");
  EXPECT_EQ(count(syscall, [](const TruthFrame& f) {
              return f.how == TruthHow::kTrap && f.module == "rsapp.exe" &&
                     f.function == "NtDeviceIoControlFile" && f.stack == "user";
            }), 1);
  EXPECT_EQ(count(syscall, [](const TruthFrame& f) { return f.function == "KiSystemServiceCopyEnd"; }), 1);
  const ScenarioTruth expand = CommittedTruth("expand_stack");
  EXPECT_EQ(count(expand, [](const TruthFrame& f) {
              return f.how == TruthHow::kStackSwitch && f.machine_frame &&
                     f.function == "KiSwitchKernelStackContinue" && f.stack == "kernel";
            }), 1);
  EXPECT_EQ(count(expand, [](const TruthFrame& f) { return f.stack == "expand"; }), 7);
  const ScenarioTruth dpc = CommittedTruth("dpc_stack");
  EXPECT_EQ(dpc.bugcheck_processor, 1u);
  EXPECT_EQ(count(dpc, [](const TruthFrame& f) {
              return f.how == TruthHow::kStackSwitch && f.saved_rsp_slot &&
                     *f.saved_rsp_slot == 0xFFFF8504298B6000 - 8 && f.stack == "kernel";
            }), 1);
  const ScenarioTruth fpo = CommittedTruth("no_pdb_fpo");
  EXPECT_EQ(count(fpo, [](const TruthFrame& f) { return f.module == "rsham.sys"; }), 2);
  EXPECT_EQ(count(fpo, [](const TruthFrame& f) { return f.module == "rsfpo.sys"; }), 2);
  const ScenarioTruth loop = CommittedTruth("fp_loop");
  EXPECT_EQ(count(loop, [](const TruthFrame& f) { return f.function == "FpLoopInner"; }), 1);
  for (const std::string& name : ScenarioNames()) {
    const ScenarioTruth t = CommittedTruth(name);
    if (t.bugcheck_code != 0x44) continue;  // MULTIPLE_IRP_COMPLETE_REQUESTS, from the chunk
    EXPECT_EQ(t.frames[1].chunk_of, "IofCompleteRequest") << name;
  }
}

// What a stack scan meets in fake_returns before FpPlant's return address: values
// pointing into code, none after a CALL, so a scan that checks the CALL skips them all.
TEST(ScenarioTruthTest, PlantedDecoysDoNotFollowACall) {
  const ScenarioTruth t = CommittedTruth("fake_returns");
  Fixture fx(t);
  const auto plant = std::find_if(t.frames.begin(), t.frames.end(),
                                  [](const TruthFrame& f) { return f.function == "FpPlant"; });
  ASSERT_NE(plant, t.frames.end());
  const TruthFrame& caller = *(plant + 1);
  size_t in_frame = 0;
  for (const TruthDecoy& d : t.decoys) {
    SCOPED_TRACE(absl::StrFormat("decoy 0x%x at 0x%x", d.value, d.slot));
    EXPECT_FALSE(d.after_call);
    EXPECT_FALSE(CallEndsAt(fx.Before(d.value)));
    if (d.slot >= plant->rsp && d.slot < caller.rsp - 8) ++in_frame;
  }
  EXPECT_EQ(in_frame, 8u);  // rsfpo.S: every slot but the fake record's stack pointers and RBX
}

}  // namespace
}  // namespace restack::test
