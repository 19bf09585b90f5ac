// dump_target.cc - the glue between libdump, libsym and libunwind-win
#include "dump_target.h"

#include <algorithm>
#include <cstring>

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

std::string ModuleFileName(const std::string& path) { return std::string(sym::BaseName(path)); }

const dump::AddressSpace& DumpTarget::space() const {
  if (minidump) return *minidump;
  return *kernel;
}

const std::string& DumpTarget::name() const {
  return minidump ? minidump->name() : kernel->name();
}

const std::vector<dump::Warning>& DumpTarget::dump_warnings() const {
  return minidump ? minidump->warnings() : kernel->warnings();
}

namespace {

// Adds one module, with its image when the locator finds a matching one.
void AddModule(DumpTarget& target, const sym::ImageLocator& locator, const std::string& path,
               uint64_t base, uint64_t size, uint32_t timestamp) {
  unwind::Module module;
  module.base = base;
  module.size = size;
  module.name = ModuleFileName(path);
  module.timestamp = timestamp;
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
      locator.Open(module.name, timestamp, static_cast<uint32_t>(size));
  if (image.ok()) {
    if (absl::Status s = module.AttachImage(*image); !s.ok()) {
      module.image_problem = std::string(s.message());
    } else {
      // Oddities of the image itself, shown with --verbose.
      for (const unwind::Warning& w : (*image)->warnings()) {
        target.warnings.push_back(absl::StrFormat("%s: %s", module.name, w.what));
      }
      for (const unwind::Warning& w : module.unwind->warnings()) {
        target.warnings.push_back(absl::StrFormat("%s: rva 0x%x: %s", module.name, w.offset, w.what));
      }
    }
  } else {
    module.image_problem = std::string(image.status().message());
  }
  if (!module.image_problem.empty()) {
    target.warnings.push_back(absl::StrFormat("%s: %s", module.name, module.image_problem));
  }
  if (absl::Status s = target.modules.Add(std::move(module)); !s.ok()) {
    target.module_errors.push_back(std::string(s.message()));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<DumpTarget>> OpenDumpTarget(std::span<const uint8_t> bytes,
                                                           std::shared_ptr<const void> owner,
                                                           const std::string& name,
                                                           const sym::ImageLocator& locator) {
  auto target = std::make_unique<DumpTarget>();
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "MDMP", 4) == 0) {
    absl::StatusOr<dump::Minidump> d = dump::Minidump::FromBytes(bytes, std::move(owner), name);
    if (!d.ok()) return d.status();
    target->minidump = *std::move(d);
    for (const dump::Module& m : target->minidump->modules()) {
      AddModule(*target, locator, m.name, m.base, m.size, m.timestamp);
    }
  } else if (bytes.size() >= 4 && std::memcmp(bytes.data(), "PAGE", 4) == 0) {
    absl::StatusOr<dump::KernelDump> d = dump::KernelDump::FromBytes(bytes, std::move(owner), name);
    if (!d.ok()) return d.status();
    target->kernel = *std::move(d);
    // By base, so that each insertion into the module map is at its end.
    std::vector<const dump::KernelModule*> by_base;
    for (const dump::KernelModule& m : target->kernel->modules()) by_base.push_back(&m);
    std::stable_sort(by_base.begin(), by_base.end(),
                     [](const dump::KernelModule* a, const dump::KernelModule* b) {
                       return a->base < b->base;
                     });
    for (const dump::KernelModule* m : by_base) {
      AddModule(*target, locator, m->name, m->base, m->size, m->timestamp);
    }
  } else {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: offset 0x0: not a user minidump ('MDMP') or kernel dump ('PAGEDU64')", name));
  }
  target->memory = std::make_unique<DumpMemory>(target->space());
  return target;
}

std::vector<unwind::StackBounds> ThreadStackBounds(const dump::Thread& thread) {
  if (thread.stack_size == 0) return {};
  return {{thread.stack_start, thread.stack_start + thread.stack_size}};
}

absl::StatusOr<dump::X64Context> ReadContextRecord(const DumpTarget& target, uint64_t address) {
  std::vector<uint8_t> bytes(0x4D0);
  if (absl::Status s = target.space().ReadVirtual(address, bytes); !s.ok()) {
    return absl::NotFoundError(absl::StrFormat("CONTEXT at 0x%x: %s", address, s.message()));
  }
  return dump::ParseX64Context(bytes, absl::StrFormat("CONTEXT at 0x%x", address), 0);
}

}  // namespace restack::tools
