// scenario_dump_test.cc - every committed scenario dump opens with libdump and holds
// what its truth says: the kind, the bugcheck, the modules, the processors' contexts,
// and the stack memory each truth frame is found through (also in the triage dumps)
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "restack/dump/kernel_dump.h"
#include "tests/kernel/scenario_fixture.h"
#include "tests/support/shadow_stack.h"

namespace restack::test {
namespace {

using dump::KernelDump;
using dump::KernelDumpKind;

KernelDumpKind ExpectedKind(const std::string& kind) {
  if (kind == "full") return KernelDumpKind::kFull;
  if (kind == "bitmap") return KernelDumpKind::kBitmapKernel;
  return KernelDumpKind::kTriage;
}

uint64_t Read(const KernelDump& d, uint64_t va) {
  absl::StatusOr<uint64_t> v = d.ReadU64(va);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.value_or(0);
}

const dump::ProcessorContext* Processor(const KernelDump& d, uint32_t cpu) {
  for (const dump::ProcessorContext& p : d.processor_contexts()) {
    if (p.processor == cpu) return &p;
  }
  return nullptr;
}

TEST(ScenarioDumpTest, EveryDumpHasTheScenariosBugcheckModulesAndContexts) {
  for (const std::string& name : ScenarioNames()) {
    const ScenarioTruth t = CommittedTruth(name);
    for (const std::string& kind : DumpKinds()) {
      SCOPED_TRACE(name + " " + kind);
      absl::StatusOr<KernelDump> d = KernelDump::Open(ScenarioFile(t.dumps.at(kind)));
      ASSERT_TRUE(d.ok()) << d.status();
      for (const dump::Warning& w : d->warnings()) ADD_FAILURE() << "warning: " << w.what;
      EXPECT_EQ(d->kind(), ExpectedKind(kind));
      EXPECT_EQ(d->processors(), t.processors);
      EXPECT_EQ(d->bugcheck().code, t.bugcheck_code);
      EXPECT_EQ(d->bugcheck().parameters, t.bugcheck_parameters);

      std::vector<TruthModule> kernel;
      for (const TruthModule& m : t.modules) {
        if (!m.user) kernel.push_back(m);
      }
      ASSERT_EQ(d->modules().size(), kernel.size());
      for (size_t i = 0; i < kernel.size(); ++i) {
        EXPECT_EQ(d->modules()[i].name, kernel[i].name);
        EXPECT_EQ(d->modules()[i].base, kernel[i].base);
        EXPECT_EQ(d->modules()[i].size, kernel[i].size);
        EXPECT_EQ(d->modules()[i].timestamp, kernel[i].timestamp);
      }

      ASSERT_EQ(d->bugcheck_processor(), t.bugcheck_processor);
      const dump::ProcessorContext* cpu = Processor(*d, t.bugcheck_processor);
      ASSERT_NE(cpu, nullptr);
      ASSERT_TRUE(d->header_context().has_value());
      for (const dump::X64Context* c : {&cpu->context, &*d->header_context()}) {
        for (size_t r = 0; r < 16; ++r) EXPECT_EQ(c->gpr[r], t.context[r].second) << t.context[r].first;
        EXPECT_EQ(c->rip, t.frames[0].rip);
        EXPECT_EQ(c->seg_cs, 0x10);
        EXPECT_EQ(c->seg_ss, 0x18);
      }
      // The other processor halted in KiIdleLoop, on the idle stack.
      const dump::ProcessorContext* other = Processor(*d, 1 - t.bugcheck_processor);
      ASSERT_NE(other, nullptr);
      const TruthModule* nt = t.Module("rsnt.exe");
      EXPECT_TRUE(other->context.rip > nt->base && other->context.rip < nt->base + nt->size);
      EXPECT_GE(other->context.gpr[4], t.Stack("idle")->limit);
      EXPECT_LT(other->context.gpr[4], t.Stack("idle")->base);
      // Triage dumps carry no image memory (images come from a store).
      if (kind == "triage") {
        EXPECT_FALSE(d->ReadU64(nt->base).ok());
      }
    }
  }
}

// The memory each truth frame is found through: the return-address slot below its
// Child-SP, the machine frame, the KTRAP_FRAME, the saved RSP.
TEST(ScenarioDumpTest, EveryDumpHoldsTheStackMemoryOfEveryFrame) {
  for (const std::string& name : ScenarioNames()) {
    const ScenarioTruth t = CommittedTruth(name);
    for (const std::string& kind : DumpKinds()) {
      absl::StatusOr<KernelDump> d = KernelDump::Open(ScenarioFile(t.dumps.at(kind)));
      ASSERT_TRUE(d.ok()) << d.status();
      for (size_t i = 0; i < t.frames.size(); ++i) {
        const TruthFrame& f = t.frames[i];
        SCOPED_TRACE(absl::StrFormat("%s %s frame %u %s", name, kind, i, f.function));
        if (i == 0) {
          EXPECT_EQ(Read(*d, f.rsp), t.frames[1].rip);  // KeBugCheckEx's return address
        } else if (f.machine_frame) {
          EXPECT_EQ(Read(*d, *f.machine_frame), f.rip);
          EXPECT_EQ(Read(*d, *f.machine_frame + 0x18), f.rsp);
        } else if (f.trap_frame) {
          EXPECT_EQ(Read(*d, *f.trap_frame + kTrapFrameRip), f.rip);
          EXPECT_EQ(Read(*d, *f.trap_frame + kTrapFrameRsp), f.rsp);
          EXPECT_EQ(Read(*d, *f.trap_frame + kTrapFrameSegCs) & 0xFFFF, 0x33u);
          EXPECT_EQ(Read(*d, *f.trap_frame + kTrapFrameSegSs) & 0xFFFF, 0x2Bu);
          // The user frame's stack: its return address is readable too.
          EXPECT_EQ(Read(*d, f.rsp), t.frames[i + 1].rip);
        } else {
          EXPECT_EQ(Read(*d, f.rsp - 8), f.rip);
        }
        if (f.saved_rsp_slot) {
          const uint64_t saved = Read(*d, *f.saved_rsp_slot);
          EXPECT_GE(saved, t.Stack(f.stack)->limit);
          EXPECT_LT(saved, f.rsp);
        }
      }
    }
  }
}

}  // namespace
}  // namespace restack::test
