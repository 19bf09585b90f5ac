// pdb_fuzzer.cc - libFuzzer target: PdbFile::Open, then the symbol and inline indexes built from it
//
// Seeds: tests/fuzz/corpus/pdb/ (the fixture PDBs of tests/fixtures/pdb/, see
// make_seeds.py). Reaches LLVM's MSF/DBI/publics readers through restack's
// wrapper, S_SEPCODE and OMAP decoding, inline sites (binary annotations,
// IPI/TPI names), and every index query.
#include <cstddef>
#include <cstdint>
#include <span>

#include "restack/sym/inline_index.h"
#include "restack/sym/pdb_file.h"
#include "restack/sym/symbol_index.h"

namespace {
volatile uint64_t g_sink;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<std::unique_ptr<restack::sym::PdbFile>> pdb =
      restack::sym::PdbFile::Open(std::span<const uint8_t>(data, size), nullptr, "fuzz.pdb");
  if (!pdb.ok()) return 0;
  const restack::sym::PdbFile& p = **pdb;
  g_sink = g_sink + p.StoreKey().size() + p.warnings().size();
  (void)p.CheckMatches(p.guid(), p.dbi_age());
  restack::sym::SymbolIndex index = restack::sym::SymbolIndex::FromPdb(p, {});
  restack::sym::InlineIndex inlines = restack::sym::InlineIndex::FromPdb(p, {});
  g_sink = g_sink + inlines.sites() + inlines.segments() + inlines.warnings().size();
  // Probe every symbol's neighbourhood and a sweep of the address space.
  auto probe = [&](uint32_t rva) {
    if (auto hit = index.Lookup(rva)) g_sink = g_sink + hit->name.size() + hit->start;
    if (auto hit = index.At(rva)) g_sink = g_sink + hit->block_start;
    if (auto line = index.LineAt(rva)) g_sink = g_sink + line->line + line->file.size();
    for (const restack::sym::InlineFrame& f : inlines.At(rva)) {
      g_sink = g_sink + f.name.size() + f.depth + f.range_begin + f.call_file.size() +
               f.call_line + f.file.size() + f.line;
    }
  };
  for (const auto& s : p.sections()) {
    probe(s.virtual_address);
    probe(s.virtual_address + s.virtual_size);
  }
  for (const auto& proc : p.procedures()) probe(proc.offset);
  for (const auto& b : p.separated_blocks()) probe(b.record.offset + b.parent_name.size());
  // Every inline site's ranges: first byte, last byte, one past.
  for (const auto& site : p.inline_sites()) {
    if (site.section == 0 || site.section > p.sections().size()) continue;
    const uint32_t va = p.sections()[site.section - 1].virtual_address;
    for (const auto& [begin, end] : site.ranges) {
      probe(va + begin);
      probe(va + end - 1);
      probe(va + end);
    }
  }
  for (uint64_t rva = 0; rva < 0x100000; rva += 0x1000) probe(static_cast<uint32_t>(rva));
  probe(0xFFFFFFFF);
  return 0;
}
