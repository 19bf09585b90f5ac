// module_map.cc - sorted module lookup
#include "restack/unwind/module_map.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace restack::unwind {

std::string Module::ShortName() const {
  const size_t slash = name.find_last_of("/\\");
  std::string file = slash == std::string::npos ? name : name.substr(slash + 1);
  const size_t dot = file.find_last_of('.');
  std::string stem = dot == std::string::npos || dot == 0 ? file : file.substr(0, dot);
  // WinDbg's names for the kernel and the HAL, whatever their file names.
  const std::string lower = absl::AsciiStrToLower(stem);
  if (lower == "ntoskrnl" || lower == "ntkrnlmp" || lower == "ntkrnlpa" || lower == "ntkrpamp") {
    return "nt";
  }
  if (lower == "hal" || lower == "halacpi" || lower == "halmacpi" || lower == "halaacpi" ||
      lower == "halapic" || lower == "halmps" || lower == "halsp") {
    return "hal";
  }
  return stem;
}

absl::Status Module::AttachImage(std::shared_ptr<const PeImage> pe) {
  absl::StatusOr<RuntimeFunctionTable> table = RuntimeFunctionTable::Create(pe);
  if (!table.ok()) return table.status();
  image = std::move(pe);
  unwind = std::make_shared<const RuntimeFunctionTable>(*std::move(table));
  image_problem.clear();
  return absl::OkStatus();
}

absl::Status ModuleMap::Add(Module module) {
  if (module.size == 0 || module.base + module.size < module.base) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "module %s: bad range 0x%x+0x%x", module.name, module.base, module.size));
  }
  auto it = std::upper_bound(
      modules_.begin(), modules_.end(), module.base,
      [](uint64_t base, const Module& m) { return base < m.base; });
  if (it != modules_.end() && it->base < module.base + module.size) {
    return absl::AlreadyExistsError(absl::StrFormat(
        "module %s at 0x%x+0x%x overlaps %s at 0x%x", module.name, module.base, module.size,
        it->name, it->base));
  }
  if (it != modules_.begin() && std::prev(it)->Contains(module.base)) {
    return absl::AlreadyExistsError(absl::StrFormat(
        "module %s at 0x%x overlaps %s at 0x%x+0x%x", module.name, module.base,
        std::prev(it)->name, std::prev(it)->base, std::prev(it)->size));
  }
  modules_.insert(it, std::move(module));
  return absl::OkStatus();
}

const Module* ModuleMap::Find(uint64_t va) const {
  auto it = std::upper_bound(modules_.begin(), modules_.end(), va,
                             [](uint64_t v, const Module& m) { return v < m.base; });
  if (it == modules_.begin()) return nullptr;
  --it;
  return it->Contains(va) ? &*it : nullptr;
}

}  // namespace restack::unwind
