// kernel_dump_fuzzer.cc - KernelDump::FromBytes over every layout, then every accessor
//
// The input is a whole dump file: DUMP_HEADER64, then whatever follows
// (SDMP/FDMP bitmap, RDMP ranges, TRIAGE_DUMP64 or full-dump pages). Seeds in
// tests/fuzz/corpus/kernel_dump/ come from the test dump writer.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "restack/dump/kernel_dump.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace restack::dump;
  absl::StatusOr<KernelDump> dump = KernelDump::FromBytes({data, size}, nullptr, "fuzz.dmp");
  if (!dump.ok()) return 0;
  (void)dump->kind();
  (void)dump->bugcheck();
  (void)dump->bugcheck_processor();
  (void)dump->stack_window();
  uint8_t buffer[0x2000];
  for (const KernelModule& m : dump->modules()) {
    (void)dump->ReadVirtual(m.base, {buffer, 0x40});
    (void)dump->ModuleForAddress(m.base + 1);
  }
  for (const ProcessorContext& pc : dump->processor_contexts()) {
    (void)dump->ReadVirtual(pc.context.rsp(), {buffer, sizeof(buffer)});
    (void)dump->Translate(pc.context.rip);
  }
  if (dump->header_context()) {
    (void)dump->ReadVirtual(dump->header_context()->rsp() - 0x100, {buffer, sizeof(buffer)});
  }
  // A few addresses and physical pages taken from the input itself.
  for (size_t at = 0; at + 8 <= size && at < 0x400; at += 0x58) {
    uint64_t va;
    std::memcpy(&va, data + at, 8);
    (void)dump->Translate(va);
    (void)dump->ReadVirtual(va, {buffer, 0x10});
    (void)dump->ReadPhysical(va & 0xFFFFFFFFFFull, {buffer, 0x10});
  }
  return 0;
}
