// symbol_resolver.h - a module's symbols, found once along a symbol path
//
// For an image: its PDB (RSDS name and key) along the symbol path, then next
// to the image and at the path the RSDS record names, each candidate checked
// with PdbFile::CheckMatches; without a matching PDB, the export table (as
// WinDbg's "Defaulted to export symbols"); with neither, nothing (callers
// print module+0xRVA). With a PDB, also its inline sites (InlineIndex), built
// once at load. Results are cached per image.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "restack/sym/inline_index.h"
#include "restack/sym/module_symbols.h"
#include "restack/sym/pdb_file.h"
#include "restack/sym/symbol_path.h"
#include "restack/unwind/pe_image.h"

namespace restack::sym {

// Where a module's names come from.
enum class SymbolSource : uint8_t {
  kPdb,      // a matching PDB (full or publics only)
  kExports,  // no PDB: the image's export table
  kNone,     // nothing (no image)
};
// "pdb", "exports", "none".
std::string_view SymbolSourceName(SymbolSource source);

// One module's symbols and how they were found.
struct LoadedSymbols {
  SymbolSource source = SymbolSource::kNone;
  std::shared_ptr<const ModuleSymbols> symbols;  // never null
  // The inline frames of the PDB's S_INLINESITE records (kPdb); never null,
  // empty without a PDB, without inline sites (publics-only PDBs) or under
  // OMAP (not applied to inline sites; a warning says so).
  std::shared_ptr<const InlineIndex> inlines;
  std::string pdb_path;        // kPdb: the file read
  bool pdb_has_privates = false;  // kPdb: procedures or lines (not publics only)
  // Why no PDB was used (kExports, kNone): NotFound listing the places tried,
  // FailedPrecondition for mismatches, or the PDB's parse error.
  absl::Status pdb_status;
  std::vector<std::string> warnings;  // PDB and index warnings
};

struct SymbolResolverOptions {
  bool raw_names = false;  // keep publics decorated (--raw-names)
  // Also look next to the image file and at the RSDS record's path.
  bool image_directory = true;
};

class SymbolResolver {
 public:
  explicit SymbolResolver(SymbolPath path, SymbolResolverOptions options = {})
      : path_(std::move(path)), options_(options) {}

  // The symbols of `image`. `image_path` (may be empty) is where the image
  // was read from, for the next-to-the-image lookup; `unwind` its .pdata
  // when the caller has it already (else it is built). Cached by the image's
  // identity (its name as opened, TimeDateStamp and SizeOfImage), so that
  // the same image opened again for another dump is not loaded twice. Safe
  // to call from several threads; the reference stays valid as long as the
  // resolver.
  const LoadedSymbols& Load(const std::shared_ptr<const unwind::PeImage>& image,
                            const std::string& image_path,
                            std::shared_ptr<const unwind::RuntimeFunctionTable> unwind = nullptr);

  const SymbolPath& path() const { return path_; }

 private:
  LoadedSymbols LoadUncached(const std::shared_ptr<const unwind::PeImage>& image,
                             const std::string& image_path,
                             std::shared_ptr<const unwind::RuntimeFunctionTable> unwind) const;

  SymbolPath path_;
  SymbolResolverOptions options_;
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();  // guards cache_ (movable)
  std::map<std::string, LoadedSymbols> cache_;  // by image identity (Load)
};

}  // namespace restack::sym
