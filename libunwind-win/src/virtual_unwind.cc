// virtual_unwind.cc - RtlVirtualUnwind semantics for x64
//
// Source of semantics: the system unwinder, minkernel\ntos\rtl\amd64\exdsptch.c,
// as published in dotnet/runtime src/coreclr/unwinder/amd64/unwinder.cpp
// (VirtualUnwind, UnwindPrologue, UnwindEpilogue, SameFunction). Facts only,
// rewritten here; every difference is listed in docs/unwinding.md#deviations.
#include "restack/unwind/virtual_unwind.h"

#include <algorithm>
#include <cstring>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_format.h"
#include "epilog_shape.h"
#include "restack/unwind/unwind_info.h"

namespace restack::unwind {
namespace {

constexpr unsigned kRsp = static_cast<unsigned>(Gpr::kRsp);
constexpr uint32_t kEpilogBytes = 64;  // enough for add/lea + 16 pops + jmp

// Registers a call does not preserve (Microsoft x64 ABI): RAX, RCX, RDX,
// R8-R11, XMM0-XMM5, and the flags and segment state.
RegisterSet VolatileRegisters() {
  RegisterSet set;
  for (unsigned r : {0u, 1u, 2u, 8u, 9u, 10u, 11u}) set.set(r);
  for (unsigned x = 0; x < 6; ++x) set.set(kRegXmm0 + x);
  set.set(kRegEflags);
  set.set(kRegCs);
  set.set(kRegSs);
  return set;
}

class Unwinder {
 public:
  Unwinder(const RuntimeFunctionTable& table, uint64_t image_base, uint64_t control_pc,
           const MemoryReader& memory, RegisterContext& ctx, UnwindStep& step)
      : table_(table),
        image_(table.image()),
        base_(image_base),
        pc_(control_pc),
        memory_(memory),
        ctx_(ctx),
        step_(step) {}

  absl::Status Run(const RuntimeFunction& entry, const UnwindOptions& options);

 private:
  absl::StatusOr<uint64_t> Gpr(unsigned reg, const char* why) const {
    if (!ctx_.IsKnown(reg)) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s at 0x%x: %s needs %s, whose value is unknown", image_.name(), pc_, why,
          GprName(reg)));
    }
    return ctx_.gpr[reg];
  }
  // Restores a saved integer register; memory that is not in the dump leaves
  // it unknown (RSP itself must be readable).
  absl::Status RestoreGpr(unsigned reg, uint64_t address) {
    absl::StatusOr<uint64_t> value = memory_.ReadU64(address);
    if (!value.ok()) {
      if (reg == kRsp) return value.status();
      ctx_.known.reset(reg);
      step_.warnings.push_back(
          {address, absl::StrFormat("saved %s at 0x%x not in memory", GprName(reg), address)});
      return absl::OkStatus();
    }
    ctx_.SetGpr(reg, *value);
    return absl::OkStatus();
  }
  void RestoreXmm(unsigned reg, uint64_t address) {
    uint8_t bytes[16];
    if (!memory_.Read(address, bytes).ok()) {
      ctx_.known.reset(kRegXmm0 + reg);
      step_.warnings.push_back(
          {address, absl::StrFormat("saved xmm%u at 0x%x not in memory", reg, address)});
      return;
    }
    Uint128 v;
    std::memcpy(&v.low, bytes, 8);
    std::memcpy(&v.high, bytes + 8, 8);
    ctx_.SetXmm(reg, v);
  }
  // RIP = [RSP]; RSP += 8.
  absl::Status PopReturnAddress() {
    absl::StatusOr<uint64_t> ra = memory_.ReadU64(ctx_.rsp());
    if (!ra.ok()) {
      return absl::NotFoundError(absl::StrFormat(
          "%s at 0x%x: return address at 0x%x not in memory", image_.name(), pc_, ctx_.rsp()));
    }
    ctx_.SetRip(*ra);
    ctx_.SetRsp(ctx_.rsp() + 8);
    return absl::OkStatus();
  }
  // UWOP_PUSH_MACHFRAME: RIP, CS, EFLAGS, RSP, SS at `frame`.
  absl::Status PopMachineFrame(uint64_t frame) {
    step_.machine_frame_address = frame;
    uint64_t words[5];
    if (!memory_.Read(frame, {reinterpret_cast<uint8_t*>(words), sizeof(words)}).ok()) {
      // RIP and RSP are required; CS, EFLAGS and SS are a bonus.
      absl::StatusOr<uint64_t> rip = memory_.ReadU64(frame);
      absl::StatusOr<uint64_t> rsp = memory_.ReadU64(frame + 24);
      if (!rip.ok() || !rsp.ok()) {
        return absl::NotFoundError(absl::StrFormat(
            "%s at 0x%x: machine frame at 0x%x not in memory", image_.name(), pc_, frame));
      }
      ctx_.SetRip(*rip);
      ctx_.SetRsp(*rsp);
      return absl::OkStatus();
    }
    ctx_.SetFromMachineFrame(words);
    return absl::OkStatus();
  }

  // Decodes the UNWIND_INFO of `entry`; a chained parent that is indirect is
  // corrupt data. Notes are reported once per UNWIND_INFO.
  absl::StatusOr<UnwindInfo> Decode(const RuntimeFunction& entry) {
    if (entry.IsIndirect()) {
      return absl::DataLossError(absl::StrFormat(
          "%s: chained parent RUNTIME_FUNCTION [0x%x, 0x%x) is indirect (UnwindData 0x%x)",
          image_.name(), entry.begin, entry.end, entry.unwind_data));
    }
    absl::StatusOr<UnwindInfo> info = DecodeUnwindInfo(image_, entry.unwind_data);
    if (info.ok() && std::find(noted_.begin(), noted_.end(), info->rva) == noted_.end()) {
      noted_.push_back(info->rva);
      for (const std::string& note : info->notes) step_.warnings.push_back({info->rva, note});
    }
    return info;
  }

  absl::StatusOr<uint64_t> EstablisherFrame(const RuntimeFunction& entry, const UnwindInfo& info);
  absl::StatusOr<bool> InVersion1Epilog(const RuntimeFunction& entry, const UnwindInfo& info,
                                        internal::EpilogShape& shape);
  absl::Status EmulateVersion1Epilog(const internal::EpilogShape& shape);
  absl::Status UnwindEpilogue(RuntimeFunction entry, uint32_t epilogue_offset);
  absl::Status UnwindPrologue(RuntimeFunction entry, UnwindInfo first, uint64_t frame_base);
  absl::StatusOr<bool> SameFunction(const RuntimeFunction& entry, uint32_t target_rva,
                                    RuntimeFunction& primary) const;

  const RuntimeFunctionTable& table_;
  const PeImage& image_;
  const uint64_t base_;
  const uint64_t pc_;
  const MemoryReader& memory_;
  RegisterContext& ctx_;
  UnwindStep& step_;
  // UNWIND_INFOs whose notes were reported: a step decodes a few (a chain is
  // at most kMaxUnwindChainDepth long), so no allocation for the usual ones.
  absl::InlinedVector<uint32_t, 4> noted_;
};

// The establisher frame, as VirtualUnwind computes it before unwinding.
absl::StatusOr<uint64_t> Unwinder::EstablisherFrame(const RuntimeFunction& entry,
                                                    const UnwindInfo& info) {
  const uint32_t prolog_offset = static_cast<uint32_t>(pc_ - (entry.begin + base_));
  if (info.frame_register == 0) return ctx_.rsp();
  const uint64_t offset = uint64_t{info.frame_offset} * 16;
  if (prolog_offset >= info.size_of_prolog || info.HasChainInfo()) {
    absl::StatusOr<uint64_t> fp = Gpr(info.frame_register, "the establisher frame");
    if (!fp.ok()) return fp.status();
    return *fp - offset;
  }
  // Inside the prolog: the frame register counts only once UWOP_SET_FPREG ran.
  for (const UnwindCode& code : info.codes) {
    if (code.op != UnwindOp::kSetFpreg) continue;
    if (prolog_offset < code.code_offset) break;
    absl::StatusOr<uint64_t> fp = Gpr(info.frame_register, "the establisher frame");
    if (!fp.ok()) return fp.status();
    return *fp - offset;
  }
  return ctx_.rsp();
}

// Windows' SameFunction: whether `target_rva` lies in a function whose chain
// root starts where `entry`'s does; `primary` receives that root.
absl::StatusOr<bool> Unwinder::SameFunction(const RuntimeFunction& entry, uint32_t target_rva,
                                            RuntimeFunction& primary) const {
  // Like LookupPrimaryFunctionEntry, a chain that cannot be followed stops
  // at the entry reached.
  const RuntimeFunction own = table_.PrimaryEntry(entry).value_or(entry);
  absl::StatusOr<std::optional<RuntimeFunction>> target = table_.LookupFunctionEntry(target_rva);
  if (!target.ok() || !target->has_value()) return false;
  const RuntimeFunction target_primary = table_.PrimaryEntry(**target).value_or(**target);
  if (target_primary.begin != own.begin) return false;
  primary = own;
  return true;
}

absl::StatusOr<bool> Unwinder::InVersion1Epilog(const RuntimeFunction& entry,
                                                const UnwindInfo& info,
                                                internal::EpilogShape& shape) {
  std::span<const uint8_t> code;
  uint8_t buffer[kEpilogBytes];
  if (pc_ >= base_ && pc_ - base_ < image_.size_of_image()) {
    code = image_.BytesAt(static_cast<uint32_t>(pc_ - base_), kEpilogBytes);
  }
  if (code.empty()) {
    // No image bytes: try target memory; unreadable code is "not an epilog",
    // as Windows' out-of-process unwinder assumes.
    for (uint32_t n = kEpilogBytes; n >= 16; n /= 2) {
      if (memory_.Read(pc_, {buffer, n}).ok()) {
        code = {buffer, n};
        break;
      }
    }
    if (code.empty()) {
      step_.warnings.push_back({pc_, "code bytes unavailable; epilog detection skipped"});
      return false;
    }
  }
  std::optional<internal::EpilogShape> match =
      internal::MatchEpilogShape(code, pc_, info.frame_register);
  if (!match) return false;
  shape = *match;
  using Exit = internal::EpilogShape::Exit;
  if (shape.exit != Exit::kJmpRelative) return true;
  // An unconditional branch to outside the function, or to its start (a
  // recursive tail call), is a tail call; a branch to another chunk of the
  // same function is not.
  const uint64_t target = shape.jmp_target - base_;
  if (target > UINT32_MAX) return true;
  const uint32_t target_rva = static_cast<uint32_t>(target);
  if (target_rva < entry.begin || target_rva >= entry.end) {
    RuntimeFunction primary;
    absl::StatusOr<bool> same = SameFunction(entry, target_rva, primary);
    if (!same.ok()) return same.status();
    return !*same || target_rva == primary.begin;
  }
  return target_rva == entry.begin && !info.HasChainInfo();
}

absl::Status Unwinder::EmulateVersion1Epilog(const internal::EpilogShape& shape) {
  using Adjust = internal::EpilogShape::Adjust;
  if (shape.adjust == Adjust::kAddRsp) {
    ctx_.SetRsp(ctx_.rsp() + static_cast<uint64_t>(shape.displacement));
  } else if (shape.adjust == Adjust::kLeaRsp) {
    absl::StatusOr<uint64_t> base = Gpr(shape.lea_base, "lea rsp in the epilog");
    if (!base.ok()) return base.status();
    ctx_.SetRsp(*base + static_cast<uint64_t>(shape.displacement));
  }
  for (uint8_t reg : shape.pops) {
    if (absl::Status s = RestoreGpr(reg, ctx_.rsp()); !s.ok()) return s;
    ctx_.SetRsp(ctx_.rsp() + 8);  // after the load, even for rsp (as Windows)
  }
  // Whatever the control transfer is (ret or a tail-call jmp), the caller's
  // state is that of a return.
  return PopReturnAddress();
}

// Version-2 epilogs: pops described by the first push codes of the function
// (or of its chained parents), offset by how far control is into the epilog.
absl::Status Unwinder::UnwindEpilogue(RuntimeFunction entry, uint32_t epilogue_offset) {
  UnwindInfo info;
  size_t first_push = 0;
  for (int depth = 0;; ++depth) {
    absl::StatusOr<UnwindInfo> decoded = Decode(entry);
    if (!decoded.ok()) return decoded.status();
    info = *std::move(decoded);
    first_push = 0;
    while (first_push < info.codes.size() && info.codes[first_push].op != UnwindOp::kPushNonvol &&
           info.codes[first_push].op != UnwindOp::kPushMachFrame) {
      ++first_push;
    }
    if (first_push < info.codes.size() || !info.chained_parent) break;
    if (depth + 1 > kMaxUnwindChainDepth) {
      return absl::DataLossError(absl::StrFormat(
          "%s: chain from UNWIND_INFO at rva 0x%x is longer than %d entries", image_.name(),
          info.rva, kMaxUnwindChainDepth));
    }
    entry = *info.chained_parent;
  }
  uint32_t current_offset = 0;
  size_t k = first_push;
  for (; k < info.codes.size() && info.codes[k].op == UnwindOp::kPushNonvol; ++k) {
    const unsigned reg = info.codes[k].op_info;
    if (current_offset >= epilogue_offset) {
      if (absl::Status s = RestoreGpr(reg, ctx_.rsp()); !s.ok()) return s;
      ctx_.SetRsp(ctx_.rsp() + 8);
    }
    // pop r64 is one byte for rax..rdi, two (REX.B) for r8..r15.
    current_offset += reg >= 8 ? 2 : 1;
  }
  // A UWOP_ALLOC_SMALL of 8 right after the pushes is a pushfq, popped into a
  // volatile register.
  if (k < info.codes.size() && info.codes[k].op == UnwindOp::kAllocSmall &&
      info.codes[k].op_info == 0) {
    if (current_offset >= epilogue_offset) ctx_.SetRsp(ctx_.rsp() + 8);
    current_offset += 1;
    ++k;
  }
  if (k < info.codes.size()) {
    if (info.codes[k].op == UnwindOp::kPushMachFrame) {
      // As Windows: RIP and RSP from the frame, no error-code adjustment.
      step_.machine_frame = true;
      return PopMachineFrame(ctx_.rsp());
    }
    step_.warnings.push_back(
        {info.rva, absl::StrFormat("version-2 epilog: unexpected %s after the pushes",
                                   UnwindOpName(info.codes[k].op))});
  }
  return PopReturnAddress();
}

// Undoes the prolog codes of `entry` and its chained parents.
absl::Status Unwinder::UnwindPrologue(RuntimeFunction entry, UnwindInfo first,
                                      uint64_t frame_base) {
  UnwindInfo info = std::move(first);
  for (int depth = 0;; ++depth) {
    if (depth > 0) {
      absl::StatusOr<UnwindInfo> decoded = Decode(entry);
      if (!decoded.ok()) return decoded.status();
      info = *std::move(decoded);
    }
    const uint32_t prolog_offset = static_cast<uint32_t>(pc_ - (entry.begin + base_));
    bool machine_frame = false;
    for (const UnwindCode& code : info.codes) {
      // Only codes whose instruction has executed: CodeOffset <= offset.
      if (prolog_offset < code.code_offset) continue;
      switch (code.op) {
        case UnwindOp::kPushNonvol:
          // Pop of register OpInfo.
          if (absl::Status s = RestoreGpr(code.op_info, ctx_.rsp()); !s.ok()) return s;
          ctx_.SetRsp(ctx_.rsp() + 8);
          break;
        case UnwindOp::kAllocLarge:
        case UnwindOp::kAllocSmall:
          // Stack allocation of `operand` bytes (already scaled/unscaled).
          ctx_.SetRsp(ctx_.rsp() + code.operand);
          break;
        case UnwindOp::kSetFpreg: {
          // RSP = FrameRegister - FrameOffset * 16.
          absl::StatusOr<uint64_t> fp = Gpr(info.frame_register, "UWOP_SET_FPREG");
          if (!fp.ok()) return fp.status();
          ctx_.SetRsp(*fp - uint64_t{info.frame_offset} * 16);
          break;
        }
        case UnwindOp::kSaveNonvol:
        case UnwindOp::kSaveNonvolFar:
          // Register saved at the establisher frame + offset (x8 / unscaled).
          if (absl::Status s = RestoreGpr(code.op_info, frame_base + code.operand); !s.ok()) {
            return s;
          }
          break;
        case UnwindOp::kSaveXmm128:
        case UnwindOp::kSaveXmm128Far:
          // XMM register saved at the establisher frame + offset (x16 / unscaled).
          RestoreXmm(code.op_info, frame_base + code.operand);
          break;
        case UnwindOp::kPushMachFrame: {
          // RIP, CS, EFLAGS, RSP, SS pushed by the CPU, above an error code
          // when OpInfo is 1. No return address is popped afterwards.
          machine_frame = true;
          const uint64_t frame = ctx_.rsp() + (code.op_info != 0 ? 8 : 0);
          if (absl::Status s = PopMachineFrame(frame); !s.ok()) return s;
          break;
        }
        case UnwindOp::kEpilog:
        case UnwindOp::kSpareCode:
          // Epilog descriptors mean nothing to the prolog; spare codes are
          // reserved (already noted by the decoder).
          break;
      }
    }
    if (!info.chained_parent) {
      if (!machine_frame) {
        if (absl::Status s = PopReturnAddress(); !s.ok()) return s;
      }
      step_.machine_frame = machine_frame;
      step_.primary_entry = entry;
      return absl::OkStatus();
    }
    if (depth + 1 > kMaxUnwindChainDepth) {
      return absl::DataLossError(absl::StrFormat(
          "%s: UNW_FLAG_CHAININFO chain from rva 0x%x is longer than %d entries (cyclic?)",
          image_.name(), info.rva, kMaxUnwindChainDepth));
    }
    entry = *info.chained_parent;
  }
}

absl::Status Unwinder::Run(const RuntimeFunction& entry, const UnwindOptions& options) {
  if (entry.IsIndirect()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: RUNTIME_FUNCTION [0x%x, 0x%x) is indirect (UnwindData 0x%x); resolve it first",
        image_.name(), entry.begin, entry.end, entry.unwind_data));
  }
  absl::StatusOr<UnwindInfo> decoded = Decode(entry);
  if (!decoded.ok()) return decoded.status();
  UnwindInfo& info = *decoded;
  const uint32_t prolog_offset = static_cast<uint32_t>(pc_ - (entry.begin + base_));
  step_.in_prolog = prolog_offset < info.size_of_prolog;

  // The establisher frame, as VirtualUnwind computes it first; an epilog does
  // not need it, so an unknown frame register only matters for the prolog.
  absl::StatusOr<uint64_t> frame = EstablisherFrame(entry, info);
  if (frame.ok()) step_.establisher_frame = *frame;

  if (options.detect_epilog) {
    if (info.version < 2) {
      internal::EpilogShape shape;
      absl::StatusOr<bool> in_epilog = InVersion1Epilog(entry, info, shape);
      if (!in_epilog.ok()) return in_epilog.status();
      if (*in_epilog) {
        step_.in_epilog = true;
        step_.in_prolog = false;
        step_.primary_entry = entry;
        return EmulateVersion1Epilog(shape);
      }
    } else if (info.epilog_size != 0) {
      const uint32_t relative_pc = static_cast<uint32_t>(pc_ - base_);
      std::optional<uint32_t> epilog_start;
      if (info.epilog_at_end &&
          relative_pc - (entry.end - info.epilog_size) < info.epilog_size) {
        epilog_start = entry.end - info.epilog_size;
      }
      for (size_t i = 0; !epilog_start && i < info.epilogs.size(); ++i) {
        const uint32_t start = entry.end - info.epilogs[i].offset_from_end;
        if (relative_pc - start < info.epilog_size) epilog_start = start;
      }
      if (epilog_start) {
        step_.in_epilog = true;
        step_.in_prolog = false;
        step_.primary_entry = entry;
        return UnwindEpilogue(entry, relative_pc - *epilog_start);
      }
    }
  }

  if (!frame.ok()) return frame.status();
  if (absl::Status s = UnwindPrologue(entry, std::move(info), *frame); !s.ok()) return s;

  if (options.handler_type != 0) {
    absl::StatusOr<UnwindInfo> root = Decode(step_.primary_entry);
    if (!root.ok()) return root.status();
    const uint32_t root_offset =
        static_cast<uint32_t>(pc_ - (step_.primary_entry.begin + base_));
    if (root_offset >= root->size_of_prolog && (root->flags & options.handler_type) != 0 &&
        root->handler_rva) {
      step_.handler = base_ + *root->handler_rva;
      step_.handler_data = base_ + root->handler_data_rva;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<UnwindStep> VirtualUnwind(const RuntimeFunctionTable& table, uint64_t image_base,
                                         uint64_t control_pc,
                                         const RuntimeFunction& function_entry,
                                         RegisterContext& context, const MemoryReader& memory,
                                         const UnwindOptions& options) {
  if (!context.IsKnown(kRsp)) {
    return absl::FailedPreconditionError("virtual unwind needs a known RSP");
  }
  RegisterContext ctx = context;
  ctx.known &= ~VolatileRegisters();
  UnwindStep step;
  Unwinder unwinder(table, image_base, control_pc, memory, ctx, step);
  if (absl::Status s = unwinder.Run(function_entry, options); !s.ok()) return s;
  context = ctx;
  return step;
}

}  // namespace restack::unwind
