// pdb_records_fuzzer.cc - libFuzzer target: the PDB records restack decodes by hand
//
// The first byte picks the decoder: S_SEPCODE records (DecodeSepCode) or OMAP
// streams (Omap::FromBytes, then Map over the entries' edges).
#include <cstddef>
#include <cstdint>
#include <span>

#include "restack/sym/omap.h"
#include "restack/sym/sep_code.h"

namespace {
volatile uint64_t g_sink;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> body(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    absl::StatusOr<restack::sym::SepCodeRecord> r = restack::sym::DecodeSepCode(body);
    if (r.ok()) g_sink = g_sink + r->offset + r->parent_offset + r->IsLexicalScope();
    return 0;
  }
  absl::StatusOr<restack::sym::Omap> omap = restack::sym::Omap::FromBytes(body);
  if (!omap.ok()) return 0;
  for (const auto& e : omap->entries()) {
    for (uint32_t rva : {e.rva, e.rva - 1, e.rva + 1, e.rva_to}) {
      if (auto m = omap->Map(rva)) g_sink = g_sink + *m;
    }
  }
  return 0;
}
