// shadow_stack.cc - CALL/RET shadowing and the frames it implies (see shadow_stack.h)
#include "tests/support/shadow_stack.h"

#include "absl/strings/str_format.h"

namespace restack::test {
namespace {

constexpr uint64_t kKernelCs = 0x10, kKernelSs = 0x18, kUserCs = 0x33, kUserSs = 0x2B;
// Windows' numbering of the nonvolatile GPRs a trap frame's user state keeps.
constexpr std::array<std::pair<const char*, unsigned>, 8> kNonvolatile = {{
    {"rbx", 3}, {"rbp", 5}, {"rsi", 6}, {"rdi", 7}, {"r12", 12}, {"r13", 13}, {"r14", 14}, {"r15", 15},
}};

absl::StatusOr<uint64_t> Need(const QwordReader& memory, uint64_t va) {
  std::optional<uint64_t> v = memory(va);
  if (!v) return absl::NotFoundError(absl::StrFormat("0x%x is not mapped", va));
  return *v;
}

}  // namespace

ShadowStack::ShadowStack(std::vector<StackSegment> segments) : segments_(std::move(segments)) {
  Start(0);
}

void ShadowStack::Start(uint64_t rsp) {
  entries_.clear();
  Entry root;
  root.slot = rsp;
  entries_.push_back(root);
}

const StackSegment* ShadowStack::SegmentOf(uint64_t va) const {
  for (const StackSegment& s : segments_) {
    if (s.Contains(va)) return &s;
  }
  return nullptr;
}

std::string ShadowStack::SegmentName(uint64_t va) const {
  const StackSegment* s = SegmentOf(va);
  return s != nullptr ? s->name : "";
}

void ShadowStack::OnCall(uint64_t insn, uint64_t return_address, uint64_t rsp_before) {
  const Entry& parent = entries_.back();
  Entry e;
  e.kind = Entry::Kind::kCall;
  e.insn = insn;
  e.return_address = return_address;
  e.slot = rsp_before - 8;
  // The caller runs on the stack its own return address is on (the root: the start
  // RSP); a CALL writing elsewhere follows a switch the caller made. Inside a system
  // call the entry's own switch is the trap's, not a convention to classify.
  if (parent.kind != Entry::Kind::kTrap && !parent.switches.empty() &&
      SegmentOf(e.slot) != SegmentOf(parent.slot)) {
    e.switched_before = parent.switches.back();
  }
  entries_.push_back(std::move(e));
}

absl::Status ShadowStack::OnReturn(uint64_t insn, uint64_t rsp_before) {
  const Entry& top = entries_.back();
  // The thread's first function returning to its zero return address ends the thread.
  if (top.kind == Entry::Kind::kRoot && top.slot == rsp_before) return absl::OkStatus();
  if (top.kind != Entry::Kind::kCall || top.slot != rsp_before) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "RET at 0x%x pops 0x%x, but the innermost live CALL (at 0x%x) wrote its return "
        "address at 0x%x",
        insn, rsp_before, top.insn, top.slot));
  }
  entries_.pop_back();
  return absl::OkStatus();
}

void ShadowStack::OnStackMoved(uint64_t insn, uint64_t old_rsp, uint64_t new_rsp) {
  entries_.back().switches.push_back({insn, old_rsp, new_rsp});
}

void ShadowStack::OnSyscall(uint64_t insn, uint64_t user_rip, uint64_t user_rsp,
                            const std::array<uint64_t, 16>& user_gpr) {
  Entry e;
  e.kind = Entry::Kind::kTrap;
  e.insn = insn;
  e.return_address = user_rip;
  e.user_rsp = user_rsp;
  e.user_gpr = user_gpr;
  entries_.push_back(std::move(e));
}

TruthEvent ShadowStack::Event(const char* kind, uint64_t at, uint64_t from_rsp,
                               uint64_t to_rsp) const {
  TruthEvent ev;
  ev.kind = kind;
  ev.at = at;
  ev.from_rsp = from_rsp;
  ev.to_rsp = to_rsp;
  ev.from_stack = SegmentName(from_rsp);
  ev.to_stack = SegmentName(to_rsp);
  return ev;
}

absl::StatusOr<TruthEvent> ShadowStack::Classify(const Switch& s, const Entry& call,
                                                 const QwordReader& memory) const {
  TruthEvent ev = Event("stack_switch", s.insn, s.from_rsp, s.to_rsp);
  // Machine frame: [slot] Rip (the return address), +8 SegCs, +0x10 EFlags, +0x18 Rsp,
  // +0x20 SegSs.
  const std::optional<uint64_t> rip = memory(call.slot), cs = memory(call.slot + 8),
                                rsp = memory(call.slot + 0x18), ss = memory(call.slot + 0x20);
  if (rip == call.return_address && cs == kKernelCs && ss == kKernelSs && rsp == s.from_rsp) {
    ev.convention = "machine_frame";
    ev.evidence = call.slot;
    return ev;
  }
  if (const StackSegment* seg = SegmentOf(s.to_rsp);
      seg != nullptr && memory(seg->base - 8) == s.from_rsp) {
    ev.convention = "saved_rsp";
    ev.evidence = seg->base - 8;
    return ev;
  }
  return absl::FailedPreconditionError(absl::StrFormat(
      "stack switch at 0x%x (RSP 0x%x -> 0x%x) before the CALL at 0x%x: neither a machine "
      "frame above the return address nor the old RSP at the new stack's base - 8",
      s.insn, s.from_rsp, s.to_rsp, call.insn));
}

absl::StatusOr<TruthEvent> ShadowStack::TrapEvent(const Entry& trap,
                                                  const QwordReader& memory) const {
  if (trap.switches.empty()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("syscall at 0x%x: the entry never moved to a kernel stack", trap.insn));
  }
  const Switch& s = trap.switches.front();
  const uint64_t tf = s.to_rsp - kTrapFrameLength;
  struct Want {
    uint64_t offset, value;
    const char* field;
  };
  for (const Want& w : {Want{kTrapFrameRip, trap.return_address, "Rip"},
                        Want{kTrapFrameSegCs, kUserCs, "SegCs"},
                        Want{kTrapFrameRsp, trap.user_rsp, "Rsp"},
                        Want{kTrapFrameSegSs, kUserSs, "SegSs"}}) {
    absl::StatusOr<uint64_t> got = Need(memory, tf + w.offset);
    if (!got.ok()) return got.status();
    const uint64_t v = w.offset == kTrapFrameSegCs || w.offset == kTrapFrameSegSs ? *got & 0xFFFF : *got;
    if (v != w.value) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "syscall at 0x%x: KTRAP_FRAME at 0x%x has %s 0x%x, the CPU had 0x%x", trap.insn, tf,
          w.field, v, w.value));
    }
  }
  TruthEvent ev = Event("syscall", trap.insn, trap.user_rsp, s.to_rsp);
  ev.convention = "syscall";
  ev.evidence = tf;
  return ev;
}

absl::StatusOr<std::vector<TruthFrame>> ShadowStack::Frames(uint64_t rip, uint64_t rsp,
                                                            const QwordReader& memory) const {
  std::vector<TruthFrame> frames;
  TruthFrame first;
  first.rip = rip;
  first.rsp = rsp;
  first.how = TruthHow::kContext;
  first.stack = SegmentName(rsp);
  frames.push_back(std::move(first));
  std::optional<uint64_t> saved_rsp_pending;  // the next caller is behind a saved RSP
  for (size_t i = entries_.size() - 1; i >= 1; --i) {
    const Entry& e = entries_[i];
    TruthFrame f;
    f.call_site = e.insn;
    if (e.kind == Entry::Kind::kTrap) {
      absl::StatusOr<TruthEvent> ev = TrapEvent(e, memory);
      if (!ev.ok()) return ev.status();
      f.rip = e.return_address;
      f.rsp = e.user_rsp;
      f.how = TruthHow::kTrap;
      f.trap_frame = ev->evidence;
      for (const auto& [name, number] : kNonvolatile) f.regs.emplace_back(name, e.user_gpr[number]);
    } else {
      f.rip = e.return_address;
      f.rsp = e.slot + 8;
      f.how = TruthHow::kCall;
      if (saved_rsp_pending) {
        f.how = TruthHow::kStackSwitch;
        f.saved_rsp_slot = *saved_rsp_pending;
        saved_rsp_pending.reset();
      }
      if (e.switched_before) {
        absl::StatusOr<TruthEvent> ev = Classify(*e.switched_before, e, memory);
        if (!ev.ok()) return ev.status();
        if (ev->convention == "machine_frame") {
          // The switching function's frame is the machine frame's: its RIP (this
          // return address) and the RSP it had on the old stack.
          f.rsp = e.switched_before->from_rsp;
          f.how = TruthHow::kStackSwitch;
          f.machine_frame = ev->evidence;
        } else {
          // The switching function's frame stays on the new stack; its caller is found
          // through the saved RSP.
          saved_rsp_pending = ev->evidence;
        }
      }
    }
    f.stack = SegmentName(f.rsp);
    frames.push_back(std::move(f));
  }
  return frames;
}

absl::StatusOr<std::vector<TruthEvent>> ShadowStack::Events(const QwordReader& memory) const {
  std::vector<TruthEvent> events;
  for (size_t i = 1; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    absl::StatusOr<TruthEvent> ev;
    if (e.kind == Entry::Kind::kTrap) {
      ev = TrapEvent(e, memory);
    } else if (e.switched_before) {
      ev = Classify(*e.switched_before, e, memory);
    } else {
      continue;
    }
    if (!ev.ok()) return ev.status();
    events.push_back(*std::move(ev));
  }
  return events;
}

}  // namespace restack::test
