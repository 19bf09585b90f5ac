// minidump_fuzzer.cc - libFuzzer target: Minidump::FromBytes, then every accessor and reads
//
// Seeds: tests/fuzz/corpus/minidump/ (written by tests/dump/minidump_seed_corpus_test.cc).
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "restack/dump/minidump.h"

namespace {

// Keeps values alive so the optimiser cannot drop the reads.
volatile uint64_t g_sink;

void Touch(const std::string& s) { g_sink = g_sink + s.size(); }

void ReadAround(const restack::dump::Minidump& dump, uint64_t va) {
  std::array<uint8_t, 64> buffer;
  (void)dump.ReadVirtual(va, buffer);
  (void)dump.ReadVirtual(va - 32, buffer);
  absl::StatusOr<uint64_t> word = dump.ReadU64(va);
  if (word.ok()) g_sink = g_sink + *word;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<restack::dump::Minidump> dump = restack::dump::Minidump::FromBytes(
      std::span<const uint8_t>(data, size), nullptr, "fuzz.dmp");
  if (!dump.ok()) return 0;

  const auto& h = dump->header();
  g_sink = h.signature + h.version + h.stream_count + h.flags;
  for (const auto& s : dump->streams()) {
    g_sink = g_sink + s.type + restack::dump::StreamTypeName(s.type).size();
    absl::StatusOr<std::span<const uint8_t>> bytes = dump->StreamData(s);
    if (bytes.ok() && !bytes->empty()) g_sink = g_sink + (*bytes)[bytes->size() - 1];
    (void)dump->FindStream(s.type);
  }
  if (const auto& info = dump->system_info()) {
    Touch(info->csd_version);
    Touch(info->cpu_vendor);
    g_sink = g_sink + info->IsAmd64();
    if (info->wine) Touch(info->wine->build_id + info->wine->host_system + info->wine->host_release);
  }
  for (const auto& t : dump->threads()) {
    (void)dump->ThreadById(t.thread_id);
    absl::StatusOr<std::span<const uint8_t>> stack = dump->StackMemoryOf(t);
    if (stack.ok() && !stack->empty()) g_sink = g_sink + (*stack)[stack->size() - 1];
    ReadAround(*dump, t.stack_start);
    if (t.context) {
      g_sink = g_sink + t.context->HasControl() + t.context->IsGprValid(restack::dump::kRsp);
      ReadAround(*dump, t.context->rsp());
      ReadAround(*dump, t.context->rip);
    }
  }
  for (const auto& m : dump->modules()) {
    Touch(m.name);
    (void)dump->ModuleForAddress(m.base);
    if (m.code_view) Touch(m.code_view->GuidString() + m.code_view->pdb_path);
  }
  for (const auto& r : dump->memory_ranges()) {
    (void)dump->FindMemoryRange(r.start);
    ReadAround(*dump, r.start);
    ReadAround(*dump, r.end() - 8);
    // A read spanning the whole range and one byte past it.
    std::array<uint8_t, 4096> big;
    const size_t n = r.size < big.size() ? static_cast<size_t>(r.size) : big.size();
    (void)dump->ReadVirtual(r.end() - n, std::span<uint8_t>(big.data(), n));
  }
  if (const auto& e = dump->exception()) {
    g_sink = g_sink + e->code + e->parameters.size();
    ReadAround(*dump, e->exception_address);
    if (e->context) ReadAround(*dump, e->context->rsp());
  }
  for (const auto& w : dump->warnings()) Touch(w.what);
  return 0;
}
