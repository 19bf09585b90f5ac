// image_locator.cc - case-insensitive probing of stores and directories for images
#include "restack/sym/image_locator.h"

#include <dirent.h>
#include <sys/stat.h>

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "restack/unwind/mapped_file.h"

namespace restack::sym {
namespace {

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  out += '/';
  out += name;
  return out;
}

// The entry of `dir` equal to `name` ignoring ASCII case (exact match first).
std::optional<std::string> FindEntry(const std::string& dir, std::string_view name) {
  const std::string exact = JoinPath(dir, name);
  struct stat st;
  if (::stat(exact.c_str(), &st) == 0) return exact;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return std::nullopt;
  std::optional<std::string> found;
  while (dirent* e = ::readdir(d)) {
    if (absl::EqualsIgnoreCase(e->d_name, absl::string_view(name.data(), name.size()))) {
      found = JoinPath(dir, e->d_name);
      break;
    }
  }
  ::closedir(d);
  return found;
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string ImageStoreKey(uint32_t timestamp, uint32_t size_of_image) {
  return absl::StrFormat("%08X%x", timestamp, size_of_image);
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
  const std::string_view name = BaseName(file_name);
  const std::string key = ImageStoreKey(timestamp, size_of_image);
  std::vector<std::string> looked;
  std::vector<std::string> mismatches;
  // Opens `path` and checks its identity; a mismatch is noted, never used.
  auto try_candidate = [&](const std::string& path)
      -> std::optional<std::shared_ptr<const unwind::PeImage>> {
    absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image = OpenImageFile(path);
    if (!image.ok()) {
      mismatches.push_back(absl::StrFormat("%s: %s", path, image.status().message()));
      return std::nullopt;
    }
    if ((*image)->timestamp() != timestamp || (*image)->size_of_image() != size_of_image) {
      mismatches.push_back(absl::StrFormat("%s has key %s", path, (*image)->StoreKey()));
      return std::nullopt;
    }
    return *image;
  };
  for (const std::string& root : roots_) {
    // Symbol store: <root>/<file>/<key>/<file>.
    if (std::optional<std::string> dir = FindEntry(root, name)) {
      if (std::optional<std::string> keyed = FindEntry(*dir, key)) {
        if (std::optional<std::string> file = FindEntry(*keyed, name);
            file && IsRegularFile(*file)) {
          if (auto image = try_candidate(*file)) return *image;
        }
      }
      looked.push_back(JoinPath(JoinPath(JoinPath(root, name), key), name));
    }
    // Plain directory: <root>/<file>.
    if (std::optional<std::string> file = FindEntry(root, name); file && IsRegularFile(*file)) {
      if (auto image = try_candidate(*file)) return *image;
    } else {
      looked.push_back(JoinPath(root, name));
    }
  }
  if (!mismatches.empty()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s with key %s: only mismatching images found (%s)", name, key,
        absl::StrJoin(mismatches, "; ")));
  }
  return absl::NotFoundError(absl::StrFormat("%s with key %s not found (looked in %s)", name, key,
                                             looked.empty() ? "no image paths"
                                                            : absl::StrJoin(looked, ", ")));
}

absl::StatusOr<std::string> ImageLocator::Find(std::string_view file_name, uint32_t timestamp,
                                               uint32_t size_of_image) const {
  absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
      Open(file_name, timestamp, size_of_image);
  if (!image.ok()) return image.status();
  return (*image)->name();
}

}  // namespace restack::sym
