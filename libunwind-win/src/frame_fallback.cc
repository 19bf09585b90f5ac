// frame_fallback.cc - leaf, frame-pointer and stack-scan recovery of a caller
#include "frame_fallback.h"

#include <algorithm>

#include "restack/unwind/call_site.h"

namespace restack::unwind::internal {
namespace {

constexpr unsigned kRbp = static_cast<unsigned>(Gpr::kRbp);
// A call target this far below the code being unwound is not taken as its
// function's start.
constexpr uint64_t kMaxFunctionSpan = 1 << 20;

// Whether `site` calls the function holding `pc`: its target is at or below
// `pc` in the same module, not too far, and no RUNTIME_FUNCTION lies between
// (pc itself has none, so a function with unwind data in between, or one
// holding the target and ending before pc, is another function).
bool LeadsTo(const CallSite& site, uint64_t pc, const ModuleMap& modules) {
  if (!site.target || *site.target > pc || pc - *site.target > kMaxFunctionSpan) return false;
  const Module* module = modules.Find(pc);
  if (module == nullptr || module->unwind == nullptr || !module->Contains(*site.target)) {
    return false;
  }
  const uint32_t target = static_cast<uint32_t>(*site.target - module->base);
  const uint32_t at = static_cast<uint32_t>(pc - module->base);
  const auto entries = module->unwind->entries();
  // The first entry that ends after the target: it must start after pc.
  auto it = std::upper_bound(entries.begin(), entries.end(), target,
                             [](uint32_t v, const RuntimeFunction& f) { return v < f.end; });
  return it == entries.end() || it->begin > at;
}

struct Candidate {
  uint64_t slot = 0;          // where the return address was read
  uint64_t return_address = 0;
  bool leads_here = false;
};

std::optional<Candidate> Check(uint64_t slot, uint64_t pc, const MemoryReader& memory,
                               const ModuleMap& modules) {
  absl::StatusOr<uint64_t> ra = memory.ReadU64(slot);
  if (!ra.ok() || *ra == 0) return std::nullopt;
  std::optional<CallSite> site = CallBefore(*ra, memory, modules);
  if (!site) return std::nullopt;
  return Candidate{slot, *ra, LeadsTo(*site, pc, modules)};
}

bool InSegment(const std::optional<StackBounds>& segment, uint64_t va) {
  return !segment || segment->Contains(va);
}

}  // namespace

std::optional<RecoveredCaller> RecoverCaller(const RegisterContext& callee, uint64_t pc,
                                             const MemoryReader& memory, const ModuleMap& modules,
                                             std::optional<StackBounds> segment,
                                             uint64_t scan_limit) {
  const uint64_t rsp = callee.rsp();
  std::optional<Candidate> leaf = Check(rsp, pc, memory, modules);
  std::optional<Candidate> frame;
  uint64_t rbp = 0;
  if (callee.IsKnown(kRbp)) {
    rbp = callee[Gpr::kRbp];
    if (rbp >= rsp && rbp <= UINT64_MAX - 16 && InSegment(segment, rbp) &&
        InSegment(segment, rbp + 8)) {
      frame = Check(rbp + 8, pc, memory, modules);
    }
  }
  auto as_leaf = [&](const Candidate& c) {
    RecoveredCaller out;
    // A leaf neither moves RSP nor saves registers: the callee's nonvolatile
    // values are the caller's.
    out.context.gpr = callee.gpr;
    out.context.xmm = callee.xmm;
    out.context.known = callee.known & NonvolatileRegisters();
    out.context.SetRip(c.return_address);
    out.context.SetRsp(c.slot + 8);
    out.trust = FrameTrust::kLeaf;
    return out;
  };
  auto as_frame = [&](const Candidate& c) -> std::optional<RecoveredCaller> {
    absl::StatusOr<uint64_t> saved_rbp = memory.ReadU64(rbp);
    if (!saved_rbp.ok()) return std::nullopt;
    RecoveredCaller out;  // what the function saved besides RBP is unknown
    out.context.SetRip(c.return_address);
    out.context.SetRsp(c.slot + 8);
    out.context.SetGpr(kRbp, *saved_rbp);
    out.trust = FrameTrust::kFramePointer;
    return out;
  };
  if (leaf && leaf->leads_here) return as_leaf(*leaf);
  if (frame && frame->leads_here) {
    if (std::optional<RecoveredCaller> r = as_frame(*frame)) return r;
  }
  if (leaf) return as_leaf(*leaf);
  if (frame) {
    if (std::optional<RecoveredCaller> r = as_frame(*frame)) return r;
  }
  // Scan: the slots above RSP (RSP itself was the leaf candidate), a value
  // whose CALL leads here first, else the nearest value after any CALL.
  std::optional<Candidate> nearest;
  const uint64_t top = segment ? segment->high : UINT64_MAX;
  for (uint64_t slot = rsp + 8, n = 0; slot > rsp && slot + 8 - 1 <= top && n < scan_limit;
       slot += 8, n += 8) {
    std::optional<Candidate> c = Check(slot, pc, memory, modules);
    if (!c) continue;
    if (c->leads_here) {
      nearest = c;
      break;
    }
    if (!nearest) nearest = c;
  }
  if (!nearest) {
    // A leaf at the bottom of a stack: its return address is 0. Only when
    // nothing above qualifies: a zeroed home area of a frame-pointer
    // function looks the same.
    if (absl::StatusOr<uint64_t> at_rsp = memory.ReadU64(rsp); at_rsp.ok() && *at_rsp == 0) {
      return as_leaf(Candidate{rsp, 0, false});
    }
    return std::nullopt;
  }
  RecoveredCaller out;
  out.context.SetRip(nearest->return_address);
  out.context.SetRsp(nearest->slot + 8);
  out.trust = FrameTrust::kScan;
  return out;
}

}  // namespace restack::unwind::internal
