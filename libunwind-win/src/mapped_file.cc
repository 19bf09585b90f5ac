// mapped_file.cc - read-only mmap of a whole file
#include "restack/unwind/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace restack::unwind {
namespace {

absl::Status Errno(absl::StatusCode code, const std::string& path, const char* call) {
  return absl::Status(code, absl::StrCat(path, ": ", call, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const MappedFile>> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const absl::StatusCode code = errno == ENOENT || errno == ENOTDIR
                                      ? absl::StatusCode::kNotFound
                                  : errno == EACCES || errno == EPERM
                                      ? absl::StatusCode::kPermissionDenied
                                      : absl::StatusCode::kUnavailable;
    return Errno(code, path, "open");
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    absl::Status status = Errno(absl::StatusCode::kInternal, path, "fstat");
    ::close(fd);
    return status;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  const uint8_t* data = nullptr;
  size_t size = static_cast<size_t>(st.st_size);
  if (size > 0) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      absl::Status status = Errno(absl::StatusCode::kResourceExhausted, path, "mmap");
      ::close(fd);
      return status;
    }
    data = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return std::shared_ptr<const MappedFile>(new MappedFile(path, data, size));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace restack::unwind
