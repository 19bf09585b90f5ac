// symbol_resolver.cc - PDB along the symbol path, else exports; cached per image
#include "restack/sym/symbol_resolver.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "restack/sym/symbol_store.h"
#include "restack/unwind/runtime_function_table.h"

namespace restack::sym {
namespace {

// The directory part of a POSIX path ("" when there is none).
std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// "sys" for "x/amdppm.sys"; "" without an extension.
std::string ExtensionOf(std::string_view name) {
  name = BaseName(name);
  const size_t dot = name.find_last_of('.');
  return dot == std::string_view::npos ? "" : std::string(name.substr(dot + 1));
}

// The PDB's inline sites as an index. Under OMAP the sites' addresses are
// those before the rearrangement, which lookups (in the final layout) would
// not match: none are used then.
std::shared_ptr<const InlineIndex> LoadInlines(const PdbFile& pdb, const unwind::PeImage& image,
                                               std::vector<std::string>& warnings) {
  if (pdb.inline_sites().empty()) return std::make_shared<const InlineIndex>();
  if (!pdb.omap_to_src().empty() && !pdb.omap_from_src().empty()) {
    warnings.push_back(absl::StrFormat(
        "%s: %u inline sites not used: the PDB has OMAP, which is not applied to them",
        pdb.name(), pdb.inline_sites().size()));
    return std::make_shared<const InlineIndex>();
  }
  auto inlines = std::make_shared<const InlineIndex>(InlineIndex::FromPdb(pdb, image.sections()));
  warnings.insert(warnings.end(), inlines->warnings().begin(), inlines->warnings().end());
  return inlines;
}

}  // namespace

std::string_view SymbolSourceName(SymbolSource source) {
  switch (source) {
    case SymbolSource::kPdb: return "pdb";
    case SymbolSource::kExports: return "exports";
    case SymbolSource::kNone: return "none";
  }
  return "?";
}

const LoadedSymbols& SymbolResolver::Load(
    const std::shared_ptr<const unwind::PeImage>& image, const std::string& image_path,
    std::shared_ptr<const unwind::RuntimeFunctionTable> unwind) {
  std::string key = image_path;
  if (image != nullptr) {
    key = absl::StrCat(image->name(), "\n", image->StoreKey(), "\n", image_path);
  }
  // Loads are serialised: one PDB is read once even when several dumps ask
  // for it at the same time (std::map references survive later inserts).
  std::lock_guard<std::mutex> lock(*mu_);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  LoadedSymbols loaded = LoadUncached(image, image_path, std::move(unwind));
  return cache_.emplace(std::move(key), std::move(loaded)).first->second;
}

LoadedSymbols SymbolResolver::LoadUncached(
    const std::shared_ptr<const unwind::PeImage>& image, const std::string& image_path,
    std::shared_ptr<const unwind::RuntimeFunctionTable> unwind) const {
  LoadedSymbols out;
  out.inlines = std::make_shared<const InlineIndex>();
  if (image == nullptr) {
    out.symbols = std::make_shared<const ModuleSymbols>(nullptr, nullptr);
    out.pdb_status = absl::NotFoundError("no image");
    return out;
  }
  if (unwind == nullptr) {
    absl::StatusOr<unwind::RuntimeFunctionTable> table = unwind::RuntimeFunctionTable::Create(image);
    if (table.ok()) {
      unwind = std::make_shared<const unwind::RuntimeFunctionTable>(*std::move(table));
    } else {
      out.warnings.push_back(std::string(table.status().message()));
    }
  }

  const std::optional<unwind::CodeViewRecord>& cv = image->codeview();
  std::unique_ptr<PdbFile> pdb;
  if (!cv) {
    out.pdb_status = absl::NotFoundError(
        absl::StrFormat("%s: the image has no CodeView (RSDS) record naming a PDB", image->name()));
  } else {
    SymbolPath search = path_;
    if (options_.image_directory) {
      std::vector<SymbolPlace> extra;
      for (const std::string& dir : {DirectoryOf(image_path), DirectoryOf(cv->pdb_path)}) {
        if (!dir.empty()) extra.push_back({PlaceKind::kDirectory, dir, dir});
      }
      search.Append(SymbolPath::FromPlaces(std::move(extra)));
    }
    Verifier verify = [&](const LocatedFile& file) -> absl::Status {
      absl::StatusOr<std::unique_ptr<PdbFile>> candidate =
          PdbFile::Open(file.bytes, file.owner, file.path);
      if (!candidate.ok()) return candidate.status();
      if (absl::Status match = (*candidate)->CheckMatches(cv->guid, cv->age); !match.ok()) {
        return match;
      }
      pdb = *std::move(candidate);
      return absl::OkStatus();
    };
    FindOptions find;
    find.image_extension = ExtensionOf(image_path.empty() ? image->name() : image_path);
    absl::StatusOr<LocatedFile> located =
        FindFile(search, BaseName(cv->pdb_path), cv->StoreKey(), verify, find);
    if (located.ok() && pdb != nullptr) {
      out.source = SymbolSource::kPdb;
      out.pdb_path = located->path;
      out.pdb_has_privates = !pdb->procedures().empty() || !pdb->lines().empty();
      out.warnings.insert(out.warnings.end(), pdb->warnings().begin(), pdb->warnings().end());
      SymbolIndexOptions index_options;
      index_options.raw_names = options_.raw_names;
      auto index = std::make_shared<const SymbolIndex>(
          SymbolIndex::FromPdb(*pdb, image->sections(), index_options));
      out.warnings.insert(out.warnings.end(), index->warnings().begin(), index->warnings().end());
      out.symbols = std::make_shared<const ModuleSymbols>(std::move(index), std::move(unwind));
      out.inlines = LoadInlines(*pdb, *image, out.warnings);
      return out;
    }
    out.pdb_status = located.ok() ? absl::InternalError("PDB accepted but not read") : located.status();
  }
  auto index = std::make_shared<const SymbolIndex>(SymbolIndex::FromExports(*image));
  out.warnings.insert(out.warnings.end(), index->warnings().begin(), index->warnings().end());
  out.source = index->named() > 0 ? SymbolSource::kExports : SymbolSource::kNone;
  out.symbols = std::make_shared<const ModuleSymbols>(std::move(index), std::move(unwind));
  return out;
}

}  // namespace restack::sym
