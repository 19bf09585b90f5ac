// mapped_file.cc - mmap-based MappedFile (POSIX)
#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace restack::dump {

namespace {

// Closes a descriptor when it goes out of scope.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

absl::StatusOr<MappedFile> MapFileReadOnly(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": open"));
  FdCloser closer(fd);

  struct stat st;
  if (::fstat(fd, &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": fstat"));
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  MappedFile file;
  if (st.st_size == 0) return file;  // mmap rejects length 0; an empty span is enough

  const size_t length = static_cast<size_t>(st.st_size);
  void* address = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd, 0);
  if (address == MAP_FAILED) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": mmap"));
  // The last owner unmaps it.
  file.owner = std::shared_ptr<const void>(address,
                                           [length](const void* p) {
                                             ::munmap(const_cast<void*>(p), length);
                                           });
  file.bytes = std::span<const uint8_t>(static_cast<const uint8_t*>(address), length);
  return file;
}

}  // namespace restack::dump
