// shadow_stack.h - the true call chain of an emulated CPU, kept from CALL and RET alone
//
// The scenario runner reports every CALL, RET, system call and every instruction
// that moved RSP from one stack segment to another; the shadow stack keeps the live
// return addresses with the stack slot each CALL wrote. At any moment Frames() turns
// that into frames as WinDbg and restack define them (docs/scenarios.md): frame 0 the
// given context, each caller (return address, slot + 8), across a system call the user
// frame (RIP after the syscall, user RSP), across a stack switch the frame the
// switch's convention names. Unwind data is never read. A switch is classified from
// the memory the switching code wrote, checked against the RSP the emulator saw:
//   machine frame: the first CALL after the switch has, above its return-address slot,
//                  SegCs 0x10, EFlags, the RSP before the switch and SegSs 0x18 — the
//                  slot itself being the frame's RIP (KiSwitchKernelStackAndCallout);
//   saved RSP:     the qword at the new segment's base − 8 is the RSP before the switch
//                  (KxRetireDpcList on the DPC stack);
// anything else is an error. Inside a system call the first switch is the entry's own
// (user stack -> kernel stack); its KTRAP_FRAME lies just below the new RSP and must
// hold the user RIP, CS 0x33, RSP and SS 0x2B.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/scenario_truth.h"

namespace restack::test {

// A stack the runner set up: [limit, base).
struct StackSegment {
  std::string name;
  uint64_t limit = 0;
  uint64_t base = 0;
  bool user = false;
  // Inclusive of `base`: a stack top is where a fresh stack's RSP points.
  bool Contains(uint64_t va) const { return va >= limit && va <= base; }
};

// Reads a qword of emulated memory (nullopt when unmapped).
using QwordReader = std::function<std::optional<uint64_t>(uint64_t va)>;

// KTRAP_FRAME offsets (Windows 10 x64; sources in docs/scenarios.md).
inline constexpr uint64_t kTrapFrameRip = 0x168;
inline constexpr uint64_t kTrapFrameSegCs = 0x170;
inline constexpr uint64_t kTrapFrameEFlags = 0x178;
inline constexpr uint64_t kTrapFrameRsp = 0x180;
inline constexpr uint64_t kTrapFrameSegSs = 0x188;
inline constexpr uint64_t kTrapFrameLength = 0x190;

class ShadowStack {
 public:
  explicit ShadowStack(std::vector<StackSegment> segments);

  // A thread starts with RSP `rsp` (pointing at its zero return address).
  void Start(uint64_t rsp);
  // A CALL at `insn` is about to push `return_address` at rsp_before − 8.
  void OnCall(uint64_t insn, uint64_t return_address, uint64_t rsp_before);
  // A RET at `insn` is about to pop [rsp_before]. Errors when the slot is not the
  // innermost live CALL's (a return address was moved or a frame abandoned).
  absl::Status OnReturn(uint64_t insn, uint64_t rsp_before);
  // The instruction at `insn` moved RSP from one segment (or none) to another.
  void OnStackMoved(uint64_t insn, uint64_t old_rsp, uint64_t new_rsp);
  // A syscall at `insn` leaves user mode: `user_rip` is the next instruction,
  // `user_rsp` and `user_gpr` (Windows' numbering rax, rcx, ... r15) the user state.
  void OnSyscall(uint64_t insn, uint64_t user_rip, uint64_t user_rsp,
                 const std::array<uint64_t, 16>& user_gpr);

  // The frames now, innermost first, frame 0 = (rip, rsp) as kContext. `stack`,
  // `how`, `call_site` and the switch/trap fields are set; names are not.
  absl::StatusOr<std::vector<TruthFrame>> Frames(uint64_t rip, uint64_t rsp,
                                                 const QwordReader& memory) const;
  // The system calls and stack switches that the live frames went through, outermost
  // first, classified against `memory` (as Frames does).
  absl::StatusOr<std::vector<TruthEvent>> Events(const QwordReader& memory) const;

  // The segment holding `va`, or nullptr.
  const StackSegment* SegmentOf(uint64_t va) const;

 private:
  struct Switch {
    uint64_t insn = 0, from_rsp = 0, to_rsp = 0;
  };
  struct Entry {
    enum class Kind { kRoot, kCall, kTrap } kind = Kind::kRoot;
    uint64_t insn = 0;            // the CALL / syscall
    uint64_t return_address = 0;  // kCall; kTrap: the user RIP
    uint64_t slot = 0;            // kCall: where the return address is
    uint64_t user_rsp = 0;        // kTrap
    std::array<uint64_t, 16> user_gpr{};
    std::vector<Switch> switches;  // RSP moves while this entry was innermost
    std::optional<Switch> switched_before;  // kCall: the move its caller made first
  };
  // The convention of the switch `s` made right before the CALL `call`.
  absl::StatusOr<TruthEvent> Classify(const Switch& s, const Entry& call,
                                      const QwordReader& memory) const;
  // The system call `trap` and the KTRAP_FRAME its entry built.
  absl::StatusOr<TruthEvent> TrapEvent(const Entry& trap, const QwordReader& memory) const;
  std::string SegmentName(uint64_t va) const;
  // An event moving RSP from `from_rsp` to `to_rsp`, with their segments' names.
  TruthEvent Event(const char* kind, uint64_t at, uint64_t from_rsp, uint64_t to_rsp) const;

  std::vector<StackSegment> segments_;
  std::vector<Entry> entries_;  // outermost first; [0] is the thread's root
};

}  // namespace restack::test
