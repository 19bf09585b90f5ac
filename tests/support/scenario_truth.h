// scenario_truth.h - the ground truth of one emulated kernel scenario, and its JSON form
//
// Written by the scenario runner (tests/support/scenario_runner.h) from what the
// emulated CPU did, never from unwind data; read back by the tests in tests/kernel/.
// The JSON schema is described in docs/scenarios.md ("Truth files"). All numbers are
// written as "0x…" strings.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace restack::test {

// How a truth frame is reached from the frame before it (the callee).
enum class TruthHow {
  kContext,      // "context": frame 0, RIP/RSP at KeBugCheckEx's entry
  kCall,         // "call": a return address; RSP = its slot + 8
  kTrap,         // "trap": the user frame behind a system call (RIP after the syscall,
                 //         the user RSP), recorded when the syscall executed
  kStackSwitch,  // "stack_switch": on another stack than its callee (machine frame or
                 //                 saved RSP, see TruthFrame)
};
std::string_view TruthHowName(TruthHow how);
std::optional<TruthHow> TruthHowFromName(std::string_view name);

// Ordered register values ("rax", "rbx", ..., "rip", "eflags").
using TruthRegisters = std::vector<std::pair<std::string, uint64_t>>;

struct TruthFrame {
  uint64_t rip = 0;
  uint64_t rsp = 0;  // Child-SP
  TruthHow how = TruthHow::kCall;
  std::string stack;     // the stack segment holding rsp (TruthStack::name)
  std::string module;    // file name of the image holding rip ("" outside images)
  std::string function;  // the fixture's label at rip (rip - 1 for return addresses)
  std::string chunk_of;  // when `function` is a chunk label F__cN: F
  // The instruction that made this frame a caller: the CALL for kCall / kStackSwitch
  // frames, the syscall for kTrap.
  uint64_t call_site = 0;
  std::optional<uint64_t> trap_frame;      // kTrap: the KTRAP_FRAME's address
  std::optional<uint64_t> machine_frame;   // kStackSwitch via a machine frame: its address
  std::optional<uint64_t> saved_rsp_slot;  // kStackSwitch via a saved RSP: where it is
  TruthRegisters regs;  // kContext: all GPRs; kTrap: the user's nonvolatile GPRs
};

// A stack segment [limit, base): what WalkOptions::stacks should hold.
struct TruthStack {
  std::string name;  // "kernel", "expand", "dpc", "user", "idle"
  uint64_t limit = 0;
  uint64_t base = 0;
  bool user = false;
};

struct TruthModule {
  std::string name;
  uint64_t base = 0;
  uint32_t size = 0;
  uint32_t timestamp = 0;
  bool user = false;  // not on the kernel's module list (a user-mode image)
};

// A stack switch or a system call the emulator saw.
struct TruthEvent {
  std::string kind;  // "syscall" or "stack_switch"
  uint64_t at = 0;   // the instruction
  uint64_t from_rsp = 0, to_rsp = 0;
  std::string from_stack, to_stack;
  // stack_switch: "machine_frame", "saved_rsp" or "trap" (KiSystemCall64's own switch);
  // syscall: "syscall".
  std::string convention;
  uint64_t evidence = 0;  // the machine frame, the saved-RSP slot or the KTRAP_FRAME
};

// A stack value in a live frame that points into code but is not a truth return
// address: what a stack scan would have to reject.
struct TruthDecoy {
  uint64_t slot = 0;
  uint64_t value = 0;
  std::string stack;
  bool after_call = false;  // the bytes before `value` decode to a CALL ending there
};

struct ScenarioTruth {
  std::string scenario;
  std::string description;
  uint32_t bugcheck_code = 0;
  std::array<uint64_t, 4> bugcheck_parameters{};
  uint32_t processors = 0;
  uint32_t bugcheck_processor = 0;
  std::vector<TruthModule> modules;
  std::vector<TruthStack> stacks;
  TruthRegisters context;  // the bugcheck CPU at KeBugCheckEx's entry
  std::vector<TruthFrame> frames;  // innermost first
  std::vector<TruthEvent> events;
  std::vector<TruthDecoy> decoys;
  std::map<std::string, std::string> dumps;  // "full" / "bitmap" / "triage" -> file name
  uint64_t instructions = 0;  // emulated in the scenario run

  const TruthStack* Stack(std::string_view name) const;
  const TruthModule* Module(std::string_view name) const;
};

// Pretty JSON, byte-stable for equal truths (fixed key order, two-space indent).
std::string TruthToJson(const ScenarioTruth& truth);
absl::StatusOr<ScenarioTruth> TruthFromJson(std::string_view json);
absl::StatusOr<ScenarioTruth> ReadTruthFile(const std::string& path);

}  // namespace restack::test
