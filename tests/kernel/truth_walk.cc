// truth_walk.cc - walks of emulated-run dumps against their truth (see truth_walk.h)
#include "tests/kernel/truth_walk.h"

#include <sstream>

#include "absl/strings/str_format.h"
#include "common/input_file.h"
#include "gtest/gtest.h"
#include "restack/sym/image_locator.h"
#include "restack/unwind/trap_frame.h"

namespace restack::test {

absl::StatusOr<TruthWalk> WalkDumpOfTruth(const ScenarioTruth& truth, const std::string& path,
                                          const std::string& store) {
  absl::StatusOr<tools::InputFile> input = tools::OpenInput(path);
  if (!input.ok()) return input.status();
  const sym::ImageLocator locator({store});
  absl::StatusOr<std::unique_ptr<tools::DumpTarget>> target =
      tools::OpenDumpTarget(input->bytes, input->owner, input->name, locator);
  if (!target.ok()) return target.status();
  TruthWalk w;
  w.target = *std::move(target);
  for (const TruthModule& m : truth.modules) {
    if (!m.user) continue;
    unwind::Module module;
    module.base = m.base;
    module.size = m.size;
    module.name = m.name;
    module.timestamp = m.timestamp;
    absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
        locator.Open(m.name, m.timestamp, m.size);
    if (!image.ok()) return image.status();
    if (absl::Status st = module.AttachImage(*image); !st.ok()) return st;
    if (absl::Status st = w.target->modules.Add(std::move(module)); !st.ok()) return st;
  }
  const dump::KernelDump& dump = *w.target->kernel;
  const std::optional<uint32_t> cpu = dump.bugcheck_processor();
  if (!cpu) return absl::NotFoundError("no bugcheck processor");
  const dump::ProcessorContext* context = nullptr;
  for (const dump::ProcessorContext& p : dump.processor_contexts()) {
    if (p.processor == *cpu) context = &p;
  }
  if (context == nullptr) return absl::NotFoundError("no context for the bugcheck processor");
  unwind::WalkOptions options;
  for (const TruthStack& s : truth.stacks) options.stacks.push_back({s.limit, s.base});
  w.walk = unwind::WalkStack(tools::ToRegisterContext(context->context), *w.target->memory,
                             w.target->modules, options);
  return w;
}

bool WalkMatchesTruth(const ScenarioTruth& truth, const unwind::StackWalk& walk, bool complete) {
  bool ok = walk.frames.size() <= truth.frames.size() &&
            (complete ? walk.end == unwind::WalkEnd::kRipZero &&
                            walk.frames.size() == truth.frames.size()
                      : walk.end != unwind::WalkEnd::kFrameLimit);
  for (size_t i = 0; ok && i < walk.frames.size(); ++i) {
    ok = walk.frames[i].rip == truth.frames[i].rip && walk.frames[i].rsp == truth.frames[i].rsp;
  }
  return ok;
}

std::string TruthWalkTable(const ScenarioTruth& truth, const unwind::StackWalk& walk) {
  std::ostringstream out;
  out << absl::StrFormat("walk ended %s (%s)\n", unwind::WalkEndName(walk.end), walk.status.ToString());
  out << " #  truth RIP          Child-SP           how           | walk RIP           Child-SP           trust\n";
  for (size_t i = 0; i < std::max(truth.frames.size(), walk.frames.size()); ++i) {
    std::string left(54, ' '), right;
    if (i < truth.frames.size()) {
      const TruthFrame& f = truth.frames[i];
      left = absl::StrFormat("%-18x %-18x %-13s", f.rip, f.rsp, TruthHowName(f.how));
    }
    if (i < walk.frames.size()) {
      const unwind::StackFrame& f = walk.frames[i];
      right = absl::StrFormat("%-18x %-18x %s", f.rip, f.rsp, unwind::FrameTrustName(f.trust));
    }
    const bool same = i < truth.frames.size() && i < walk.frames.size() &&
                      truth.frames[i].rip == walk.frames[i].rip &&
                      truth.frames[i].rsp == walk.frames[i].rsp;
    out << absl::StrFormat("%2u%s %s| %s  %s\n", i, same ? " " : "*", left, right,
                           i < truth.frames.size() ? truth.frames[i].function : "");
  }
  return out.str();
}

size_t CheckFrameTrust(const ScenarioTruth& truth, const TruthWalk& w) {
  size_t scanned = 0;
  const unwind::StackWalk& walk = w.walk;
  for (size_t i = 1; i < walk.frames.size() && i < truth.frames.size(); ++i) {
    SCOPED_TRACE(absl::StrFormat("frame %u (%s)", i, truth.frames[i].function));
    const unwind::StackFrame& callee = walk.frames[i - 1];
    const unwind::StackFrame& f = walk.frames[i];
    if (truth.frames[i].how == TruthHow::kTrap) {
      EXPECT_EQ(f.trust, unwind::FrameTrust::kTrapFrame);
      EXPECT_TRUE(callee.trap_frame.has_value());
      if (!callee.trap_frame) continue;
      absl::StatusOr<uint64_t> rip =
          w.target->memory->ReadU64(*callee.trap_frame + unwind::KtrapFrame::kRip);
      absl::StatusOr<uint64_t> rsp =
          w.target->memory->ReadU64(*callee.trap_frame + unwind::KtrapFrame::kRsp);
      EXPECT_TRUE(rip.ok() && rsp.ok());
      if (rip.ok() && rsp.ok()) {
        EXPECT_EQ(*rip, truth.frames[i].rip);
        EXPECT_EQ(*rsp, truth.frames[i].rsp);
      }
    } else {
      EXPECT_FALSE(callee.trap_frame.has_value());
    }
    if (!callee.function.has_value()) {
      EXPECT_TRUE(f.trust == unwind::FrameTrust::kLeaf ||
                  f.trust == unwind::FrameTrust::kFramePointer ||
                  f.trust == unwind::FrameTrust::kScan)
          << unwind::FrameTrustName(f.trust);
    } else if (truth.frames[i].how != TruthHow::kTrap) {
      EXPECT_EQ(f.trust, unwind::FrameTrust::kUnwindInfo);
    }
    scanned += f.trust == unwind::FrameTrust::kScan;
  }
  return scanned;
}

}  // namespace restack::test
