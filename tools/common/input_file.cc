// input_file.cc - files by mmap, stdin by reading
#include "input_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "restack/unwind/mapped_file.h"

namespace restack::tools {

absl::StatusOr<InputFile> OpenInput(const std::string& path) {
  if (path == "-") {
    auto buffer = std::make_shared<std::vector<uint8_t>>();
    uint8_t chunk[1 << 16];
    for (;;) {
      ssize_t n = ::read(STDIN_FILENO, chunk, sizeof(chunk));
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        return absl::InternalError(absl::StrCat("<stdin>: read: ", std::strerror(errno)));
      }
      buffer->insert(buffer->end(), chunk, chunk + n);
    }
    InputFile in{"<stdin>", *buffer, buffer};
    return in;
  }
  absl::StatusOr<std::shared_ptr<const unwind::MappedFile>> file = unwind::MappedFile::Open(path);
  if (!file.ok()) return file.status();
  return InputFile{path, (*file)->bytes(), *file};
}

}  // namespace restack::tools
