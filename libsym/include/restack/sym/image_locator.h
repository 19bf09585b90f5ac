// image_locator.h - finds PE images in directories and symbol-store layouts
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "restack/unwind/pe_image.h"

namespace restack::sym {

// Symbol-store key of an image: TimeDateStamp as %08X + SizeOfImage as %x.
std::string ImageStoreKey(uint32_t timestamp, uint32_t size_of_image);

// The file-name part of a Windows or POSIX path ("C:\\x\\ntdll.dll" -> "ntdll.dll").
std::string_view BaseName(std::string_view path);

// Looks for images under a list of roots. Each root is probed, in order, as
// a symbol store (<root>/<file>/<key>/<file>) and as a plain directory
// (<root>/<file>), with case-insensitive names. Every candidate, in a store
// or not, is opened and its TimeDateStamp and SizeOfImage compared with the
// ones asked for: a mismatch is reported, never used.
class ImageLocator {
 public:
  explicit ImageLocator(std::vector<std::string> roots) : roots_(std::move(roots)) {}

  // Path of the image `file_name` (a bare name; any directory part of it is
  // ignored) with the given identity. NotFound lists where it looked;
  // FailedPrecondition when only mismatching candidates were found.
  absl::StatusOr<std::string> Find(std::string_view file_name, uint32_t timestamp,
                                   uint32_t size_of_image) const;

  // Finds, maps, parses and checks the image.
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> Open(std::string_view file_name,
                                                              uint32_t timestamp,
                                                              uint32_t size_of_image) const;

  const std::vector<std::string>& roots() const { return roots_; }

 private:
  std::vector<std::string> roots_;
};

// Opens and parses one image file (file layout).
absl::StatusOr<std::shared_ptr<const unwind::PeImage>> OpenImageFile(const std::string& path);

}  // namespace restack::sym
