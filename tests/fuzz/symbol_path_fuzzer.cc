// symbol_path_fuzzer.cc - SymbolPath::Parse on any text; cabinets through libsym's reader
//
// Inputs starting "MSCF" go to the single-file cabinet reader (libsym's
// internal cab_file.h, with a 16 MiB limit so that a lying cbFile cannot
// exhaust memory); everything else is parsed as a symbol path, and every
// place, warning and derived path is touched. No file system access.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "../../libsym/src/cab_file.h"
#include "restack/sym/symbol_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace restack::sym;
  if (size >= 4 && std::memcmp(data, "MSCF", 4) == 0) {
    absl::StatusOr<internal::CabFile> cab =
        internal::ExtractSingleFileCab({data, size}, "fuzz.pd_", "", 16u << 20);
    if (cab.ok()) {
      volatile size_t n = cab->bytes.size() + cab->name.size();
      (void)n;
    }
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<SymbolPath> path = SymbolPath::Parse(text);
  if (!path.ok()) return 0;
  size_t total = 0;
  for (const SymbolPlace& p : path->places()) {
    // Places are never empty and never network locations.
    if (p.path.empty() || IsNetworkLocation(p.path)) __builtin_trap();
    total += p.path.size() + p.entry.size();
  }
  for (const std::string& w : path->warnings()) total += w.size();
  for (const std::string& s : path->skipped()) total += s.size();
  SymbolPath stores = path->WithDirectoriesAsStores();
  stores.Append(*path);
  if (stores.places().size() < path->places().size()) __builtin_trap();
  volatile size_t sink = total;
  (void)sink;
  return 0;
}
