// image_locator.cc - images found through the symbol store code and checked by identity
#include "restack/sym/image_locator.h"

#include "absl/strings/str_format.h"
#include "restack/unwind/mapped_file.h"

namespace restack::sym {

ImageLocator::ImageLocator(std::vector<std::string> roots) : roots_(std::move(roots)) {
  SymbolPath all;
  for (const std::string& root : roots_) {
    absl::StatusOr<SymbolPath> parsed = SymbolPath::Parse(root);
    if (!parsed.ok()) {
      warnings_.push_back(absl::StrFormat("image path '%s' skipped: %s", root,
                                          parsed.status().message()));
      continue;
    }
    all.Append(*parsed);
  }
  path_ = all.WithDirectoriesAsStores();
  warnings_.insert(warnings_.end(), path_.warnings().begin(), path_.warnings().end());
}

ImageLocator::ImageLocator(SymbolPath path) : path_(std::move(path)) {
  for (const SymbolPlace& place : path_.places()) roots_.push_back(place.path);
  warnings_ = path_.warnings();
}

absl::StatusOr<std::shared_ptr<const unwind::PeImage>> OpenImageFile(const std::string& path) {
  absl::StatusOr<std::shared_ptr<const unwind::MappedFile>> file =
      unwind::MappedFile::Open(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<unwind::PeImage> image =
      unwind::PeImage::Create((*file)->bytes(), unwind::PeLayout::kFile, path, *file);
  if (!image.ok()) return image.status();
  return std::make_shared<const unwind::PeImage>(*std::move(image));
}

absl::StatusOr<std::shared_ptr<const unwind::PeImage>> ImageLocator::Open(
    std::string_view file_name, uint32_t timestamp, uint32_t size_of_image) const {
  const std::string key = ImageStoreKey(timestamp, size_of_image);
  std::shared_ptr<const unwind::PeImage> accepted;
  // Parses a candidate and compares its identity; the parsed image is kept.
  const Verifier verify = [&](const LocatedFile& file) -> absl::Status {
    absl::StatusOr<unwind::PeImage> image =
        unwind::PeImage::Create(file.bytes, unwind::PeLayout::kFile, file.path, file.owner);
    if (!image.ok()) return image.status();
    if (image->timestamp() != timestamp || image->size_of_image() != size_of_image) {
      return absl::FailedPreconditionError(
          absl::StrFormat("has key %s (TimeDateStamp 0x%08X, SizeOfImage 0x%x)", image->StoreKey(),
                          image->timestamp(), image->size_of_image()));
    }
    accepted = std::make_shared<const unwind::PeImage>(*std::move(image));
    return absl::OkStatus();
  };
  absl::StatusOr<LocatedFile> found = FindFile(path_, file_name, key, verify);
  if (!found.ok()) return found.status();
  return accepted;
}

absl::StatusOr<std::string> ImageLocator::Find(std::string_view file_name, uint32_t timestamp,
                                               uint32_t size_of_image) const {
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
      Open(file_name, timestamp, size_of_image);
  if (!image.ok()) return image.status();
  return (*image)->name();
}

}  // namespace restack::sym
