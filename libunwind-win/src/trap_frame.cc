// trap_frame.cc - reading a KTRAP_FRAME into a register context
#include "restack/unwind/trap_frame.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace restack::unwind {

absl::StatusOr<RegisterContext> ContextFromTrapFrame(uint64_t base, const MemoryReader& memory) {
  RegisterContext context;
  uint64_t machine[5];
  if (!memory.Read(base + KtrapFrame::kRip, {reinterpret_cast<uint8_t*>(machine), sizeof(machine)})
           .ok()) {
    return absl::NotFoundError(absl::StrFormat(
        "trap frame at 0x%x: its machine frame at 0x%x is not in memory", base,
        base + KtrapFrame::kRip));
  }
  context.SetFromMachineFrame(machine);
  auto gpr = [&](Gpr reg, uint32_t offset) {
    if (absl::StatusOr<uint64_t> v = memory.ReadU64(base + offset); v.ok()) {
      context.SetGpr(static_cast<unsigned>(reg), *v);
    }
  };
  const Gpr volatiles[] = {Gpr::kRax, Gpr::kRcx, Gpr::kRdx, Gpr::kR8,
                           Gpr::kR9,  Gpr::kR10, Gpr::kR11};
  for (size_t i = 0; i < std::size(volatiles); ++i) {
    gpr(volatiles[i], KtrapFrame::kRax + 8 * static_cast<uint32_t>(i));
  }
  gpr(Gpr::kRbx, KtrapFrame::kRbx);
  gpr(Gpr::kRdi, KtrapFrame::kRdi);
  gpr(Gpr::kRsi, KtrapFrame::kRsi);
  gpr(Gpr::kRbp, KtrapFrame::kRbp);
  for (unsigned i = 0; i < 6; ++i) {
    uint8_t bytes[16];
    if (memory.Read(base + KtrapFrame::kXmm0 + 16 * i, bytes).ok()) {
      Uint128 v;
      std::memcpy(&v.low, bytes, 8);
      std::memcpy(&v.high, bytes + 8, 8);
      context.SetXmm(i, v);
    }
  }
  return context;
}

}  // namespace restack::unwind
