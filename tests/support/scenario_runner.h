// scenario_runner.h - runs fixture PE images on an emulated x64 CPU (Unicorn) until a
// bugcheck, recording the true call chain without any unwind data
//
// The runner maps loaded images (pe_loader.h) at their bases and the stacks it is
// given, then runs code from a thread start until the bugcheck function's first
// instruction. Every instruction goes through a code hook that decodes it (Zydis) and
// tells the shadow stack (shadow_stack.h) about each CALL, each RET and each
// instruction after which RSP is in another stack segment. `syscall` is emulated in a
// UC_HOOK_INSN hook as the CPU does it with Windows' MSRs: RCX = the next RIP, R11 =
// RFLAGS, RFLAGS &= ~0x4700 (IA32_FMASK: TF, IF, DF, NT), RIP = the system-call entry
// (the fixture kernel's KiSystemCall64). The selectors are not changed — the entry
// pushes Windows' values (user CS 0x33, SS 0x2B) itself.
//
// Unicorn 2.0.1 quirk, relied on and checked: RIP written in the syscall hook gets the
// syscall's length (2) added when the hook returns, so the hook writes entry − 2 and
// the next instruction must be the entry.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/pe_loader.h"
#include "tests/support/scenario_truth.h"
#include "tests/support/shadow_stack.h"

struct uc_struct;  // Unicorn's uc_engine (unicorn/unicorn.h)

namespace restack::test {

// General-purpose registers in Windows' numbering (rax, rcx, rdx, rbx, rsp, rbp, rsi,
// rdi, r8..r15), RIP and RFLAGS.
struct CpuContext {
  std::array<uint64_t, 16> gpr{};
  uint64_t rip = 0;
  uint64_t rflags = 0;
  uint64_t rsp() const { return gpr[4]; }
};

// Where and how a thread starts: RSP = the stack's base − 0x38, [RSP] = 0 (a zero
// return address: the end of the chain), the home area above it zero; RCX, RDX, R8, R9
// = args; every other GPR = 0xA5A5'0000'0000'0000 | seed << 16 | register number, so
// that registers restored from the wrong frame show.
struct ThreadStart {
  uint64_t entry = 0;
  std::array<uint64_t, 4> args{};
  std::string stack;
  uint16_t seed = 0;
};

// What the CPU looked like when it reached the bugcheck function.
struct BugcheckCapture {
  CpuContext context;              // at the bugcheck function's first instruction
  std::vector<TruthFrame> frames;  // unnamed (ShadowStack::Frames)
  std::vector<TruthEvent> events;  // ShadowStack::Events
  uint64_t instructions = 0;       // emulated until the bugcheck function
};

class ScenarioRunner {
 public:
  // Maps `images` (already loaded and bound) and `stacks` (zero-filled).
  static absl::StatusOr<std::unique_ptr<ScenarioRunner>> Create(std::vector<LoadedImage> images,
                                                                std::vector<StackSegment> stacks);
  ~ScenarioRunner();
  ScenarioRunner(const ScenarioRunner&) = delete;
  ScenarioRunner& operator=(const ScenarioRunner&) = delete;

  // Where `syscall` goes (KiSystemCall64) and which address is the bugcheck.
  void set_syscall_entry(uint64_t va) { syscall_entry_ = va; }
  void set_bugcheck(uint64_t va) { bugcheck_ = va; }

  const std::vector<LoadedImage>& images() const { return images_; }
  const std::vector<StackSegment>& stacks() const { return stacks_; }
  const LoadedImage* Image(const std::string& name) const;
  const StackSegment* Stack(const std::string& name) const;

  absl::Status Write(uint64_t va, std::span<const uint8_t> bytes);
  absl::Status WriteU64(uint64_t va, uint64_t value);
  absl::StatusOr<std::vector<uint8_t>> Read(uint64_t va, uint64_t size) const;
  std::optional<uint64_t> ReadU64(uint64_t va) const;

  // Runs `start` until it returns to its zero return address (e.g. a DriverEntry);
  // returns RAX. At most `max_instructions`.
  absl::StatusOr<uint64_t> Call(const ThreadStart& start, uint64_t max_instructions = 100000);
  // Runs `start` until the CPU executes hlt; returns its context then (RIP after the
  // hlt, as a halted processor's context has it).
  absl::StatusOr<CpuContext> RunToHalt(const ThreadStart& start, uint64_t max_instructions = 1000);
  // Runs `start` until the bugcheck function's first instruction, captures, and lets
  // the bugcheck function run on until it halts (hlt).
  absl::StatusOr<BugcheckCapture> RunToBugcheck(const ThreadStart& start,
                                                uint64_t max_instructions = 1000000);

  // Hook entry points (public for the C callbacks only).
  void OnCode(uint64_t address, uint32_t size);
  void OnSyscall();

 private:
  enum class InsnKind { kOther, kCall, kRet, kSyscall, kUnsupported };
  ScenarioRunner() = default;
  absl::Status Map(uint64_t va, uint64_t size);
  absl::Status Begin(const ThreadStart& start);
  absl::Status Emulate(uint64_t begin, uint64_t until, uint64_t max_instructions);
  InsnKind Decode(uint64_t address, uint32_t size);
  CpuContext ReadContext() const;
  void Fail(absl::Status status);

  ::uc_struct* uc_ = nullptr;
  std::vector<LoadedImage> images_;
  std::vector<StackSegment> stacks_;
  std::unique_ptr<ShadowStack> shadow_;
  uint64_t syscall_entry_ = 0;
  uint64_t bugcheck_ = 0;

  // Per run.
  absl::Status error_;
  uint64_t count_ = 0;
  bool have_prev_ = false;
  uint64_t prev_insn_ = 0, prev_rsp_ = 0;
  std::optional<uint64_t> expect_next_;  // after a syscall: the entry
  std::optional<BugcheckCapture> capture_;
  std::vector<std::pair<uint64_t, InsnKind>> decoded_;  // sorted cache by address
};

}  // namespace restack::test
