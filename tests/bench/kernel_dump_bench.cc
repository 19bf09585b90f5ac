// kernel_dump_bench.cc - opening a >= 4 GiB bitmap kernel dump: restack vs a per-page map
//
// Not a test: prints figures. Writes (once) a sparse bitmap dump describing
// 4 GiB of physical memory with every page present, then, each in a fresh
// child process so that peak RSS is its own:
//   restack:  KernelDump::Open, the bugcheck context, the module list, and a
//             read of the context's stack through the page tables;
//   per-page: the design kdmp-parser uses (one hash-map entry per present
//             page, built by scanning the bitmap at open), then the same reads.
// Usage: kernel_dump_bench [DUMP_PATH]   (default /tmp/restack-bench-4g.dmp)
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "restack/dump/kernel_dump.h"
#include "tests/support/kernel_dump_writer.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Measured {
  double ms = 0;
  double peak_rss_mib = 0;
  bool ok = false;
};

// Runs `work` in a child; its wall time and peak RSS come back through a pipe
// and wait4's rusage.
Measured InChild(const std::function<bool()>& work) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const auto t0 = Clock::now();
    const bool ok = work();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    char buf[64];
    const int n = std::snprintf(buf, sizeof(buf), "%d %.3f", ok ? 1 : 0, ms);
    (void)!write(fds[1], buf, n);
    _exit(0);
  }
  close(fds[1]);
  char buf[64] = {0};
  (void)!read(fds[0], buf, sizeof(buf) - 1);
  close(fds[0]);
  int status = 0;
  struct rusage usage;
  wait4(pid, &status, 0, &usage);
  Measured m;
  int ok = 0;
  std::sscanf(buf, "%d %lf", &ok, &m.ms);
  m.ok = ok == 1;
  m.peak_rss_mib = usage.ru_maxrss / 1024.0;
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace restack;
  const std::string path = argc > 1 ? argv[1] : "/tmp/restack-bench-4g.dmp";
  test::KernelScenario scenario = test::TypicalKernelScenario();
  test::WriteOptions options;
  options.runs = {{0x1, 0x9E}, {0x100, 0x100000}};  // 4 GiB + 632 KiB of RAM, all present
  if (access(path.c_str(), R_OK) != 0) {
    std::printf("writing %s ...\n", path.c_str());
    absl::StatusOr<test::KernelDumpLayout> layout =
        test::WriteKernelDumpFile(scenario, test::KernelDumpType::kBitmapFull, path, options);
    if (!layout.ok()) {
      std::fprintf(stderr, "kernel_dump_bench: %s\n", std::string(layout.status().message()).c_str());
      return 1;
    }
  }
  uint64_t pages = 0;
  for (const test::PhysicalRun& r : options.runs) pages += r.page_count;
  std::printf("dump: %s, bitmap (FDMP), %llu pages present (%.2f GiB of physical memory)\n",
              path.c_str(), static_cast<unsigned long long>(pages),
              pages * 4096.0 / (1 << 30));

  // restack: open, bugcheck context, module list, a stack read.
  const Measured ours = InChild([&] {
    absl::StatusOr<dump::KernelDump> d = dump::KernelDump::Open(path);
    if (!d.ok() || !d->header_context() || d->modules().empty()) return false;
    uint8_t stack[256];
    return d->ReadVirtual(d->header_context()->rsp(), stack).ok();
  });

  // kdmp-parser's design: at open, scan the bitmap and give every present
  // page a hash-map entry (physical address -> file offset); then the reads.
  const Measured per_page = InChild([&] {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    uint64_t first_page = 0, bits = 0;
    std::fseek(f, 0x2020, SEEK_SET);
    if (std::fread(&first_page, 8, 1, f) != 1) return false;
    std::fseek(f, 0x2030, SEEK_SET);
    if (std::fread(&bits, 8, 1, f) != 1) return false;
    std::vector<uint8_t> bitmap((bits + 7) / 8);
    if (std::fread(bitmap.data(), 1, bitmap.size(), f) != bitmap.size()) return false;
    std::fclose(f);
    std::unordered_map<uint64_t, uint64_t> physmem;
    uint64_t offset = first_page;
    for (uint64_t pfn = 0; pfn < bits; ++pfn) {
      if ((bitmap[pfn / 8] >> (pfn % 8)) & 1) {
        physmem.emplace(pfn * 4096, offset);
        offset += 4096;
      }
    }
    absl::StatusOr<dump::KernelDump> d = dump::KernelDump::Open(path);
    if (!d.ok() || !d->header_context() || d->modules().empty()) return false;
    uint8_t stack[256];
    return physmem.size() == pages && d->ReadVirtual(d->header_context()->rsp(), stack).ok();
  });

  std::printf("restack   open + context + %s: %9.2f ms, peak RSS %8.1f MiB%s\n",
              "modules + stack read", ours.ms, ours.peak_rss_mib, ours.ok ? "" : "  (FAILED)");
  std::printf("per-page  open + hash map of every page:   %9.2f ms, peak RSS %8.1f MiB%s\n",
              per_page.ms, per_page.peak_rss_mib, per_page.ok ? "" : "  (FAILED)");
  if (ours.ms > 0 && ours.peak_rss_mib > 0) {
    std::printf("ratio     per-page / restack: time x%.1f, peak RSS x%.1f\n",
                per_page.ms / ours.ms, per_page.peak_rss_mib / ours.peak_rss_mib);
  }
  return ours.ok ? 0 : 1;
}
