// dump_target.cc - the glue between libdump, libsym and libunwind-win
#include "dump_target.h"

#include "absl/strings/str_format.h"

namespace restack::tools {

unwind::RegisterContext ToRegisterContext(const dump::X64Context& c) {
  unwind::RegisterContext r;
  r.gpr = c.gpr;
  r.rip = c.rip;
  r.eflags = c.eflags;
  r.cs = c.seg_cs;
  r.ss = c.seg_ss;
  for (size_t i = 0; i < 16; ++i) r.xmm[i] = {c.xmm[i].low, c.xmm[i].high};
  for (size_t i = 0; i < 16; ++i) r.known.set(i, c.IsGprValid(i));
  if (c.HasControl()) {
    for (unsigned i : {unwind::kRegRip, unwind::kRegEflags, unwind::kRegCs, unwind::kRegSs}) {
      r.known.set(i);
    }
  }
  if (c.HasFloatingPoint()) {
    for (unsigned i = 0; i < 16; ++i) r.known.set(unwind::kRegXmm0 + i);
  }
  return r;
}

std::string ModuleFileName(const std::string& path) {
  const size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

absl::StatusOr<std::unique_ptr<MinidumpTarget>> OpenMinidumpTarget(
    std::span<const uint8_t> bytes, std::shared_ptr<const void> owner, const std::string& name,
    const sym::ImageLocator& locator) {
  absl::StatusOr<dump::Minidump> dump = dump::Minidump::FromBytes(bytes, std::move(owner), name);
  if (!dump.ok()) return dump.status();
  auto target = std::unique_ptr<MinidumpTarget>(new MinidumpTarget{*std::move(dump), nullptr, {}, {}});
  target->memory = std::make_unique<DumpMemory>(target->dump);
  for (const dump::Module& m : target->dump.modules()) {
    unwind::Module module;
    module.base = m.base;
    module.size = m.size;
    module.name = ModuleFileName(m.name);
    module.timestamp = m.timestamp;
    absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
        locator.Open(module.name, m.timestamp, m.size);
    if (image.ok()) {
      if (absl::Status s = module.AttachImage(*image); !s.ok()) {
        module.image_problem = std::string(s.message());
      }
    } else {
      module.image_problem = std::string(image.status().message());
    }
    if (!module.image_problem.empty()) {
      target->warnings.push_back(absl::StrFormat("%s: %s", module.name, module.image_problem));
    }
    if (absl::Status s = target->modules.Add(std::move(module)); !s.ok()) {
      target->warnings.push_back(std::string(s.message()));
    }
  }
  return target;
}

std::vector<unwind::StackBounds> ThreadStackBounds(const dump::Thread& thread) {
  if (thread.stack_size == 0) return {};
  return {{thread.stack_start, thread.stack_start + thread.stack_size}};
}

}  // namespace restack::tools
