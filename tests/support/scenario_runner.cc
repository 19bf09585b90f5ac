// scenario_runner.cc - Unicorn machine, code and syscall hooks (see scenario_runner.h)
#include "tests/support/scenario_runner.h"

#include <Zydis/Zydis.h>
#include <unicorn/unicorn.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"

namespace restack::test {
namespace {

constexpr uint64_t kPage = 0x1000;
constexpr uint64_t kFmask = 0x4700;  // TF | IF | DF | NT, as Windows programs IA32_FMASK
constexpr uint64_t kSyscallLength = 2;

// Windows' GPR numbering -> Unicorn register ids.
constexpr std::array<int, 16> kUcGpr = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
    UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
    UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};
constexpr std::array<unsigned, 4> kArgGpr = {1, 2, 8, 9};  // rcx, rdx, r8, r9

absl::Status UcError(uc_err e, const std::string& what) {
  return absl::InternalError(absl::StrFormat("unicorn: %s: %s", what, uc_strerror(e)));
}

uint64_t Reg(uc_engine* uc, int id) {
  uint64_t v = 0;
  uc_reg_read(uc, id, &v);
  return v;
}

void SetReg(uc_engine* uc, int id, uint64_t v) { uc_reg_write(uc, id, &v); }

void CodeHook(uc_engine*, uint64_t address, uint32_t size, void* user) {
  static_cast<ScenarioRunner*>(user)->OnCode(address, size);
}

void SyscallHook(uc_engine*, void* user) { static_cast<ScenarioRunner*>(user)->OnSyscall(); }

}  // namespace

absl::StatusOr<std::unique_ptr<ScenarioRunner>> ScenarioRunner::Create(
    std::vector<LoadedImage> images, std::vector<StackSegment> stacks) {
  std::unique_ptr<ScenarioRunner> r(new ScenarioRunner());
  if (uc_err e = uc_open(UC_ARCH_X86, UC_MODE_64, &r->uc_); e != UC_ERR_OK) {
    return UcError(e, "uc_open");
  }
  r->images_ = std::move(images);
  r->stacks_ = std::move(stacks);
  for (const LoadedImage& image : r->images_) {
    if (absl::Status st = r->Map(image.base, image.size_of_image); !st.ok()) return st;
    if (absl::Status st = r->Write(image.base, image.memory); !st.ok()) return st;
  }
  for (const StackSegment& s : r->stacks_) {
    if ((s.limit | s.base) % kPage != 0 || s.limit >= s.base) {
      return absl::InvalidArgumentError("stack " + s.name + " is not whole pages");
    }
    if (absl::Status st = r->Map(s.limit, s.base - s.limit); !st.ok()) return st;
  }
  r->shadow_ = std::make_unique<ShadowStack>(r->stacks_);
  uc_hook code, syscall;
  if (uc_err e = uc_hook_add(r->uc_, &code, UC_HOOK_CODE, reinterpret_cast<void*>(CodeHook),
                             r.get(), 1, 0);
      e != UC_ERR_OK) {
    return UcError(e, "code hook");
  }
  if (uc_err e = uc_hook_add(r->uc_, &syscall, UC_HOOK_INSN, reinterpret_cast<void*>(SyscallHook),
                             r.get(), 1, 0, UC_X86_INS_SYSCALL);
      e != UC_ERR_OK) {
    return UcError(e, "syscall hook");
  }
  return r;
}

ScenarioRunner::~ScenarioRunner() {
  if (uc_ != nullptr) uc_close(uc_);
}

const LoadedImage* ScenarioRunner::Image(const std::string& name) const {
  for (const LoadedImage& i : images_) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

const StackSegment* ScenarioRunner::Stack(const std::string& name) const {
  for (const StackSegment& s : stacks_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

absl::Status ScenarioRunner::Map(uint64_t va, uint64_t size) {
  const uint64_t rounded = (size + kPage - 1) & ~(kPage - 1);
  if (uc_err e = uc_mem_map(uc_, va, rounded, UC_PROT_ALL); e != UC_ERR_OK) {
    return UcError(e, absl::StrFormat("map 0x%x+0x%x", va, rounded));
  }
  return absl::OkStatus();
}

absl::Status ScenarioRunner::Write(uint64_t va, std::span<const uint8_t> bytes) {
  if (uc_err e = uc_mem_write(uc_, va, bytes.data(), bytes.size()); e != UC_ERR_OK) {
    return UcError(e, absl::StrFormat("write 0x%x+0x%x", va, bytes.size()));
  }
  return absl::OkStatus();
}

absl::Status ScenarioRunner::WriteU64(uint64_t va, uint64_t value) {
  uint8_t b[8];
  std::memcpy(b, &value, 8);
  return Write(va, b);
}

absl::StatusOr<std::vector<uint8_t>> ScenarioRunner::Read(uint64_t va, uint64_t size) const {
  std::vector<uint8_t> out(size);
  if (uc_err e = uc_mem_read(uc_, va, out.data(), size); e != UC_ERR_OK) {
    return UcError(e, absl::StrFormat("read 0x%x+0x%x", va, size));
  }
  return out;
}

std::optional<uint64_t> ScenarioRunner::ReadU64(uint64_t va) const {
  uint64_t v = 0;
  if (uc_mem_read(uc_, va, &v, 8) != UC_ERR_OK) return std::nullopt;
  return v;
}

CpuContext ScenarioRunner::ReadContext() const {
  CpuContext c;
  for (size_t i = 0; i < 16; ++i) c.gpr[i] = Reg(uc_, kUcGpr[i]);
  c.rip = Reg(uc_, UC_X86_REG_RIP);
  c.rflags = Reg(uc_, UC_X86_REG_EFLAGS);
  return c;
}

void ScenarioRunner::Fail(absl::Status status) {
  if (error_.ok()) error_ = std::move(status);
  uc_emu_stop(uc_);
}

ScenarioRunner::InsnKind ScenarioRunner::Decode(uint64_t address, uint32_t size) {
  auto it = std::lower_bound(decoded_.begin(), decoded_.end(), address,
                             [](const auto& e, uint64_t a) { return e.first < a; });
  if (it != decoded_.end() && it->first == address) return it->second;
  uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH] = {};
  InsnKind kind = InsnKind::kUnsupported;
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction insn;
  if (size <= sizeof bytes && uc_mem_read(uc_, address, bytes, size) == UC_ERR_OK &&
      ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, nullptr, bytes, size, &insn)) &&
      insn.length == size) {
    switch (insn.mnemonic) {
      case ZYDIS_MNEMONIC_CALL: kind = InsnKind::kCall; break;
      case ZYDIS_MNEMONIC_RET: kind = InsnKind::kRet; break;
      case ZYDIS_MNEMONIC_SYSCALL: kind = InsnKind::kSyscall; break;
      // Returns the shadow stack does not model: the scenarios never execute them.
      case ZYDIS_MNEMONIC_IRETQ:
      case ZYDIS_MNEMONIC_SYSRET:
      case ZYDIS_MNEMONIC_ENTER:
      case ZYDIS_MNEMONIC_INT:
      case ZYDIS_MNEMONIC_INT3: kind = InsnKind::kUnsupported; break;
      default: kind = InsnKind::kOther; break;
    }
  }
  decoded_.insert(it, {address, kind});
  return kind;
}

void ScenarioRunner::OnCode(uint64_t address, uint32_t size) {
  if (!error_.ok()) return;
  ++count_;
  const uint64_t rsp = Reg(uc_, UC_X86_REG_RSP);
  if (expect_next_) {
    if (address != *expect_next_) {
      return Fail(absl::InternalError(absl::StrFormat(
          "after the syscall the CPU is at 0x%x, not at the entry 0x%x (Unicorn's syscall "
          "hook RIP adjustment changed?)",
          address, *expect_next_)));
    }
    expect_next_.reset();
  }
  if (have_prev_ && shadow_->SegmentOf(prev_rsp_) != shadow_->SegmentOf(rsp)) {
    shadow_->OnStackMoved(prev_insn_, prev_rsp_, rsp);
  }
  if (address == bugcheck_ && bugcheck_ != 0 && !capture_) {
    BugcheckCapture c;
    c.context = ReadContext();
    c.instructions = count_;
    const QwordReader memory = [this](uint64_t va) { return ReadU64(va); };
    absl::StatusOr<std::vector<TruthFrame>> frames = shadow_->Frames(address, rsp, memory);
    absl::StatusOr<std::vector<TruthEvent>> events = shadow_->Events(memory);
    if (!frames.ok()) return Fail(frames.status());
    if (!events.ok()) return Fail(events.status());
    c.frames = *std::move(frames);
    c.events = *std::move(events);
    capture_ = std::move(c);
  }
  switch (Decode(address, size)) {
    case InsnKind::kCall:
      shadow_->OnCall(address, address + size, rsp);
      break;
    case InsnKind::kRet:
      if (absl::Status st = shadow_->OnReturn(address, rsp); !st.ok()) return Fail(st);
      break;
    case InsnKind::kUnsupported:
      return Fail(absl::UnimplementedError(
          absl::StrFormat("instruction at 0x%x cannot be shadowed (or not decoded)", address)));
    case InsnKind::kSyscall:
    case InsnKind::kOther:
      break;
  }
  have_prev_ = true;
  prev_insn_ = address;
  prev_rsp_ = rsp;
}

void ScenarioRunner::OnSyscall() {
  if (!error_.ok()) return;
  if (syscall_entry_ == 0) return Fail(absl::FailedPreconditionError("syscall without an entry"));
  const CpuContext c = ReadContext();  // RIP: the syscall instruction
  const uint64_t next = c.rip + kSyscallLength;
  shadow_->OnSyscall(c.rip, next, c.rsp(), c.gpr);
  SetReg(uc_, UC_X86_REG_RCX, next);
  SetReg(uc_, UC_X86_REG_R11, c.rflags);
  SetReg(uc_, UC_X86_REG_EFLAGS, c.rflags & ~kFmask);
  SetReg(uc_, UC_X86_REG_RIP, syscall_entry_ - kSyscallLength);  // see the header: quirk
  expect_next_ = syscall_entry_;
}

absl::Status ScenarioRunner::Begin(const ThreadStart& start) {
  const StackSegment* stack = Stack(start.stack);
  if (stack == nullptr) return absl::InvalidArgumentError("no stack named " + start.stack);
  const uint64_t rsp = stack->base - 0x38;
  for (uint64_t at = rsp; at < stack->base; at += 8) {
    if (absl::Status st = WriteU64(at, 0); !st.ok()) return st;
  }
  for (unsigned i = 0; i < 16; ++i) {
    SetReg(uc_, kUcGpr[i], 0xA5A5000000000000ull | uint64_t{start.seed} << 16 | i);
  }
  for (size_t i = 0; i < 4; ++i) SetReg(uc_, kUcGpr[kArgGpr[i]], start.args[i]);
  SetReg(uc_, UC_X86_REG_RSP, rsp);
  SetReg(uc_, UC_X86_REG_EFLAGS, 0x202);
  shadow_->Start(rsp);
  error_ = absl::OkStatus();
  count_ = 0;
  have_prev_ = false;
  expect_next_.reset();
  capture_.reset();
  return absl::OkStatus();
}

absl::Status ScenarioRunner::Emulate(uint64_t begin, uint64_t until, uint64_t max_instructions) {
  const uc_err e = uc_emu_start(uc_, begin, until, 0, max_instructions);
  if (!error_.ok()) return error_;
  if (e != UC_ERR_OK) {
    return UcError(e, absl::StrFormat("run from 0x%x, stopped at 0x%x", begin,
                                      Reg(uc_, UC_X86_REG_RIP)));
  }
  if (count_ >= max_instructions) {
    return absl::DeadlineExceededError(
        absl::StrFormat("run from 0x%x: %u instructions and no end", begin, count_));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ScenarioRunner::Call(const ThreadStart& start, uint64_t max_instructions) {
  if (absl::Status st = Begin(start); !st.ok()) return st;
  if (absl::Status st = Emulate(start.entry, 0, max_instructions); !st.ok()) return st;
  if (Reg(uc_, UC_X86_REG_RIP) != 0) {
    return absl::InternalError(absl::StrFormat("call of 0x%x did not return (RIP 0x%x)",
                                               start.entry, Reg(uc_, UC_X86_REG_RIP)));
  }
  return Reg(uc_, UC_X86_REG_RAX);
}

absl::StatusOr<CpuContext> ScenarioRunner::RunToHalt(const ThreadStart& start,
                                                     uint64_t max_instructions) {
  if (absl::Status st = Begin(start); !st.ok()) return st;
  if (absl::Status st = Emulate(start.entry, 0, max_instructions); !st.ok()) return st;
  const CpuContext c = ReadContext();
  uint8_t last = 0;
  if (uc_mem_read(uc_, c.rip - 1, &last, 1) != UC_ERR_OK || last != 0xF4) {
    return absl::InternalError(absl::StrFormat("run from 0x%x stopped at 0x%x, not after a hlt",
                                               start.entry, c.rip));
  }
  return c;
}

absl::StatusOr<BugcheckCapture> ScenarioRunner::RunToBugcheck(const ThreadStart& start,
                                                              uint64_t max_instructions) {
  if (bugcheck_ == 0) return absl::FailedPreconditionError("no bugcheck address set");
  if (absl::Status st = Begin(start); !st.ok()) return st;
  // Ends at the bugcheck function's hlt (or with an error).
  if (absl::Status st = Emulate(start.entry, 0, max_instructions); !st.ok()) return st;
  if (!capture_) {
    return absl::InternalError(absl::StrFormat("run from 0x%x halted at 0x%x before the bugcheck",
                                               start.entry, Reg(uc_, UC_X86_REG_RIP)));
  }
  return *std::move(capture_);
}

}  // namespace restack::test
