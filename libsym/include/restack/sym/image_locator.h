// image_locator.h - finds PE images along a symbol path (stores and directories)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "restack/sym/symbol_path.h"
#include "restack/sym/symbol_store.h"  // BaseName, ImageStoreKey
#include "restack/unwind/pe_image.h"

namespace restack::sym {

// Looks for images along a symbol path (symbol_store.h gives the probing
// order). Every candidate, in a store or not, is parsed and its TimeDateStamp
// and SizeOfImage compared with the ones asked for: a mismatch is reported,
// never used.
class ImageLocator {
 public:
  // `roots` as `--images` / _NT_EXECUTABLE_IMAGE_PATH list them: each is a
  // symbol path entry ("srv*/s*https://x", "/dir", ...). A plain directory
  // is probed as a symbol store (<root>/<file>/<key>/<file>) and then as a
  // directory. Entries that cannot be used become warnings().
  explicit ImageLocator(std::vector<std::string> roots);
  // Searches exactly the places of `path`, in its order.
  explicit ImageLocator(SymbolPath path);

  // Path of the image `file_name` (a bare name; any directory part of it is
  // ignored) with the given identity; for a compressed store file, the "_"
  // file it was decompressed from. NotFound lists where it looked;
  // FailedPrecondition when only mismatching candidates were found.
  absl::StatusOr<std::string> Find(std::string_view file_name, uint32_t timestamp,
                                   uint32_t size_of_image) const;

  // Finds, maps (or decompresses), parses and checks the image.
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> Open(std::string_view file_name,
                                                              uint32_t timestamp,
                                                              uint32_t size_of_image) const;

  const std::vector<std::string>& roots() const { return roots_; }
  const SymbolPath& path() const { return path_; }
  // Why parts of the roots are not searched (network locations, ...).
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::vector<std::string> roots_;
  SymbolPath path_;
  std::vector<std::string> warnings_;
};

// Opens and parses one image file (file layout).
absl::StatusOr<std::shared_ptr<const unwind::PeImage>> OpenImageFile(const std::string& path);

}  // namespace restack::sym
