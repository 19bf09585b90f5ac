// virtual_unwind_fuzzer.cc - WalkStack over a fuzzed image, stack and context
//
// Layout of the input: 8 bytes RIP offset, 8 bytes RSP offset, 512 bytes of
// stack, the rest is the image body (as in unwind_info_fuzzer: .pdata first).
// The RIP offset's top bit loads the image in the kernel half, where machine
// frames with a user-mode CS are read as KTRAP_FRAMEs; code without .pdata
// reaches the leaf / frame-pointer / scan fallbacks and their CALL decoding.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "restack/unwind/module_map.h"
#include "fuzz_image.h"
#include "restack/unwind/pe_image.h"
#include "restack/unwind/stack_walker.h"

namespace {

constexpr uint64_t kUserBase = 0x140000000;
constexpr uint64_t kKernelBase = 0xfffff80000000000;
constexpr uint64_t kStack = 0x7ff000;
constexpr size_t kStackSize = 512;

class Memory final : public restack::unwind::MemoryReader {
 public:
  Memory(std::span<const uint8_t> stack, std::span<const uint8_t> image, uint64_t base)
      : stack_(stack), image_(image), base_(base) {}
  absl::Status Read(uint64_t va, std::span<uint8_t> out) const override {
    for (auto [base, bytes] : {std::pair{kStack, stack_}, std::pair{base_, image_}}) {
      if (va >= base && va - base <= bytes.size() && bytes.size() - (va - base) >= out.size()) {
        std::memcpy(out.data(), bytes.data() + (va - base), out.size());
        return absl::OkStatus();
      }
    }
    return absl::NotFoundError("not in memory");
  }

 private:
  std::span<const uint8_t> stack_, image_;
  uint64_t base_;
};


}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace restack::unwind;
  if (size < 16 + kStackSize) return 0;
  uint64_t rip_off, rsp_off;
  std::memcpy(&rip_off, data, 8);
  std::memcpy(&rsp_off, data + 8, 8);
  const uint64_t kBase = (rip_off >> 63) != 0 ? kKernelBase : kUserBase;
  std::span<const uint8_t> stack(data + 16, kStackSize);
  std::vector<uint8_t> bytes = restack::fuzz::WrapInImage(data + 16 + kStackSize, size - 16 - kStackSize, 4);
  absl::StatusOr<PeImage> image = PeImage::Create(bytes, PeLayout::kMapped, "fuzz.sys");
  if (!image.ok()) return 0;
  auto shared = std::make_shared<const PeImage>(*std::move(image));
  Module module;
  module.base = kBase;
  module.size = shared->size_of_image();
  module.name = "fuzz.sys";
  if (!module.AttachImage(shared).ok()) return 0;
  ModuleMap modules;
  if (!modules.Add(std::move(module)).ok()) return 0;
  Memory memory(stack, bytes, kBase);
  RegisterContext ctx;
  for (unsigned r = 0; r < 16; ++r) ctx.SetGpr(r, kStack + (r * 8) % kStackSize);
  ctx.SetRip(kBase + 0x1000 + rip_off % (bytes.size() - 0x1000 + 1));
  ctx.SetRsp(kStack + rsp_off % kStackSize);
  WalkOptions options;
  options.max_frames = 64;
  options.stacks = {{kStack, kStack + kStackSize}};
  StackWalk walk = WalkStack(ctx, memory, modules, options);
  (void)walk;
  return 0;
}
