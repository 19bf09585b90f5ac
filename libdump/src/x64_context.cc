// x64_context.cc - parses an x64 CONTEXT into X64Context
#include "restack/dump/x64_context.h"

#include "byte_reader.h"
#include "restack/dump/minidump_layout.h"

namespace restack::dump {

std::string_view X64GprName(size_t index) {
  static constexpr std::string_view kNames[16] = {
      "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
      "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  return index < 16 ? kNames[index] : std::string_view("?");
}

namespace {
bool HasPart(uint32_t flags, uint32_t part) {
  return (flags & kContextAmd64) != 0 && (flags & part) != 0;
}
}  // namespace

bool X64Context::HasControl() const { return HasPart(context_flags, kContextControl); }
bool X64Context::HasInteger() const { return HasPart(context_flags, kContextInteger); }
bool X64Context::HasSegments() const { return HasPart(context_flags, kContextSegments); }
bool X64Context::HasFloatingPoint() const {
  return HasPart(context_flags, kContextFloatingPoint);
}

bool X64Context::IsGprValid(size_t index) const {
  if (index >= gpr.size()) return false;
  return index == kRsp ? HasControl() : HasInteger();
}

absl::StatusOr<X64Context> ParseX64Context(std::span<const uint8_t> bytes,
                                           std::string_view file, uint64_t file_offset) {
  CONTEXT raw;
  if (!ReadStruct(bytes, 0, &raw)) {
    return DumpError(absl::StatusCode::kOutOfRange, file, file_offset,
                     absl::StrFormat("CONTEXT: too short for an x64 CONTEXT "
                                     "(expected at least 0x%x bytes, got 0x%x)",
                                     sizeof(CONTEXT), bytes.size()));
  }
  const uint64_t flags_offset = file_offset + offsetof(CONTEXT, ContextFlags);
  if ((raw.ContextFlags & kContextAmd64) == 0) {
    if ((raw.ContextFlags & kContextI386) != 0) {
      return DumpError(absl::StatusCode::kUnimplemented, file, flags_offset,
                       absl::StrFormat("CONTEXT.ContextFlags: an x86 CONTEXT (CONTEXT_i386 "
                                       "set); only x64 is supported (expected 0x%x set, "
                                       "got 0x%x)",
                                       kContextAmd64, raw.ContextFlags));
    }
    return DumpError(absl::StatusCode::kInvalidArgument, file, flags_offset,
                     absl::StrFormat("CONTEXT.ContextFlags: CONTEXT_AMD64 not set "
                                     "(expected 0x%x set, got 0x%x)",
                                     kContextAmd64, raw.ContextFlags));
  }

  X64Context c;
  c.context_flags = raw.ContextFlags;
  c.gpr = {raw.Rax, raw.Rcx, raw.Rdx, raw.Rbx, raw.Rsp, raw.Rbp, raw.Rsi, raw.Rdi,
           raw.R8,  raw.R9,  raw.R10, raw.R11, raw.R12, raw.R13, raw.R14, raw.R15};
  c.rip = raw.Rip;
  c.eflags = raw.EFlags;
  c.seg_cs = raw.SegCs;
  c.seg_ds = raw.SegDs;
  c.seg_es = raw.SegEs;
  c.seg_fs = raw.SegFs;
  c.seg_gs = raw.SegGs;
  c.seg_ss = raw.SegSs;
  c.mxcsr = raw.MxCsr;
  for (size_t i = 0; i < c.xmm.size(); ++i) {
    c.xmm[i] = {raw.FltSave.XmmRegisters[i].Low, raw.FltSave.XmmRegisters[i].High};
  }
  return c;
}

}  // namespace restack::dump
