// symbol_store.cc - case-insensitive probing of symbol stores and directories
#include "restack/sym/symbol_store.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cab_file.h"
#include "restack/unwind/mapped_file.h"
#include "restack/unwind/pe_image.h"

namespace restack::sym {
namespace {

// file.ptr holds one path; anything longer is not a pointer.
constexpr size_t kMaxPointerFileSize = 0x1000;

absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(ToAbsl(a), ToAbsl(b));
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

enum class Kind { kMissing, kFile, kDirectory, kOther };

Kind KindOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Kind::kMissing;
  if (S_ISREG(st.st_mode)) return Kind::kFile;
  if (S_ISDIR(st.st_mode)) return Kind::kDirectory;
  return Kind::kOther;
}

// The entries of `dir` named `name` ignoring ASCII case: the exact spelling
// first, then other spellings in byte order (a store copied from Windows may
// hold both "c9c030003b000" and "C9C030003B000").
std::vector<std::string> FindEntries(const std::string& dir, std::string_view name) {
  std::vector<std::string> out;
  if (name.empty() || name == "." || name == "..") return out;  // never leave `dir`
  const std::string exact = JoinPath(dir, name);
  if (KindOf(exact) != Kind::kMissing) out.push_back(exact);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  std::vector<std::string> others;
  while (dirent* e = ::readdir(d)) {
    const std::string_view entry(e->d_name);
    if (entry != name && EqualsIgnoreCase(entry, name)) others.push_back(JoinPath(dir, entry));
  }
  ::closedir(d);
  std::sort(others.begin(), others.end());
  out.insert(out.end(), others.begin(), others.end());
  return out;
}

// The first entry of `dir` named `name` (any case) that is of kind `kind`.
bool HasEntryOfKind(const std::string& dir, std::string_view name, Kind kind) {
  for (const std::string& p : FindEntries(dir, name)) {
    if (KindOf(p) == kind) return true;
  }
  return false;
}

// Paths reached from `dir` through `components`, each matched ignoring case.
std::vector<std::string> Walk(const std::string& dir, const std::vector<std::string_view>& components,
                              Kind last_kind) {
  std::vector<std::string> level = {dir};
  for (size_t i = 0; i < components.size(); ++i) {
    const Kind want = i + 1 == components.size() ? last_kind : Kind::kDirectory;
    std::vector<std::string> next;
    for (const std::string& d : level) {
      for (std::string& p : FindEntries(d, components[i])) {
        if (KindOf(p) == want) next.push_back(std::move(p));
      }
    }
    level = std::move(next);
  }
  return level;
}

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kBlank = " \t\r\n\v\f";
  const size_t first = s.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kBlank) - first + 1);
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// A Windows absolute path ("c:\x", "\x"): kept as written; it does not exist here.
bool IsWindowsAbsolute(std::string_view p) {
  if (!p.empty() && p[0] == '\\') return true;
  return p.size() >= 2 && absl::ascii_isalpha(static_cast<unsigned char>(p[0])) && p[1] == ':';
}

// One FindFile call: what it is looking for and what it has seen.
class Search {
 public:
  Search(std::string_view file, std::string_view key, const Verifier& verify,
         const FindOptions& options)
      : file_(file), key_(key), verify_(verify), options_(options) {
    // "amdppm.pdb" -> "amdppm.pd_"; a name already ending in '_' has no compressed form.
    if (file_.back() != '_') compressed_ = std::string(file_.substr(0, file_.size() - 1)) + "_";
    std::string_view ext = options_.image_extension;
    if (ext.empty()) {
      const size_t dot = file_.find_last_of('.');
      if (dot != std::string_view::npos && dot + 1 < file_.size()) ext = file_.substr(dot + 1);
    }
    extension_ = std::string(ext);
  }

  void SearchPlace(const SymbolPlace& place) {
    if (place.kind == PlaceKind::kStore) {
      ProbeStore(place.path, "store");
    } else {
      ProbeDirectory(place.path);
    }
  }

  const std::optional<LocatedFile>& found() const { return found_; }

  absl::Status Failure(const SymbolPath& path) const {
    std::string where = looked_.empty() ? "no local places (the symbol path names none)"
                                        : absl::StrJoin(looked_, "; ");
    if (!path.skipped().empty()) {
      where += absl::StrFormat("; not searched: %s", absl::StrJoin(path.skipped(), ", "));
    }
    if (!rejected_.empty()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s (key %s): only mismatching or unusable files found: %s; looked in: %s", file_, key_,
          absl::StrJoin(rejected_, "; "), where));
    }
    return absl::NotFoundError(
        absl::StrFormat("%s (key %s) not found; looked in: %s", file_, key_, where));
  }

 private:
  // <store>/<file>/<key>/, or <store>/<fi>/<file>/<key>/ in a two-tier store.
  void ProbeStore(const std::string& store, std::string_view what) {
    if (KindOf(store) != Kind::kDirectory) {
      looked_.push_back(absl::StrFormat("%s %s (no such directory)", what, store));
      return;
    }
    const bool two_tier = HasEntryOfKind(store, "index2.txt", Kind::kFile);
    std::vector<std::string_view> components;
    const std::string_view tier = file_.substr(0, std::min<size_t>(2, file_.size()));
    if (two_tier) components.push_back(tier);
    components.push_back(file_);
    components.push_back(key_);
    const std::string expected =
        JoinPath(two_tier ? JoinPath(JoinPath(store, tier), file_) : JoinPath(store, file_), key_) +
        "/";
    const std::vector<std::string> key_dirs = Walk(store, components, Kind::kDirectory);
    if (key_dirs.empty()) {
      std::string note = absl::StrFormat("%s (no such directory)", expected);
      if (two_tier) {
        note += " (two-tier store: index2.txt is present";
        if (!Walk(store, {file_, key_}, Kind::kDirectory).empty()) {
          note += absl::StrFormat("; the one-tier %s/ is not searched",
                                  JoinPath(JoinPath(store, file_), key_));
        }
        note += ")";
      }
      looked_.push_back(std::move(note));
      return;
    }
    for (const std::string& key_dir : key_dirs) {
      ProbeKeyDirectory(key_dir);
      if (found_) return;
    }
  }

  // <key dir>/<file>, <key dir>/<fil_>, <key dir>/file.ptr.
  void ProbeKeyDirectory(const std::string& key_dir) {
    const size_t rejected_before = rejected_.size();
    const size_t looked_before = looked_.size();
    for (const std::string& p : FindEntries(key_dir, file_)) {
      if (KindOf(p) != Kind::kFile) continue;
      if (TryFile(p, false, "")) return;
    }
    if (!compressed_.empty()) {
      for (const std::string& p : FindEntries(key_dir, compressed_)) {
        if (KindOf(p) != Kind::kFile) continue;
        if (TryFile(p, true, "")) return;
      }
    }
    for (const std::string& p : FindEntries(key_dir, "file.ptr")) {
      if (KindOf(p) != Kind::kFile) continue;
      if (FollowPointer(p, key_dir)) return;
    }
    if (rejected_.size() == rejected_before && looked_.size() == looked_before) {
      const std::string names = compressed_.empty()
                                    ? std::string(file_)
                                    : absl::StrFormat("%s, %s", file_, compressed_);
      looked_.push_back(absl::StrFormat("%s/ (no %s or file.ptr)", key_dir, names));
    } else if (looked_.size() == looked_before) {
      looked_.push_back(key_dir + "/");
    }
  }

  // file.ptr: "PATH:<path>" or "<path>" of the real file, or "MSG: <text>"
  // when the store does not have it. Returns whether the file was found.
  bool FollowPointer(const std::string& ptr, const std::string& key_dir) {
    absl::StatusOr<std::shared_ptr<const unwind::MappedFile>> mapped =
        unwind::MappedFile::Open(ptr);
    if (!mapped.ok()) {
      rejected_.emplace_back(mapped.status().message());
      return false;
    }
    const std::span<const uint8_t> bytes = (*mapped)->bytes();
    if (bytes.size() > kMaxPointerFileSize) {
      rejected_.push_back(absl::StrFormat("%s: 0x%x bytes, more than a file.ptr holds (0x%x)", ptr,
                                          bytes.size(), kMaxPointerFileSize));
      return false;
    }
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
    text = Trim(text);
    if (StartsWithIgnoreCase(text, "MSG:")) {
      looked_.push_back(absl::StrFormat("%s (the store has no file: %s)", ptr, text));
      return false;
    }
    if (StartsWithIgnoreCase(text, "PATH:")) text = Trim(text.substr(5));
    if (text.empty() || text.find('\0') != std::string_view::npos) {
      rejected_.push_back(absl::StrFormat("%s: %s", ptr,
                                          text.empty() ? "empty file.ptr" : "NUL in file.ptr"));
      return false;
    }
    if (IsNetworkLocation(text)) {
      looked_.push_back(absl::StrFormat(
          "%s (points at %s, not followed: restack never uses the network)", ptr, text));
      return false;
    }
    // Relative pointers are taken from the key directory.
    const std::string target =
        text[0] == '/' || IsWindowsAbsolute(text) ? std::string(text) : JoinPath(key_dir, text);
    struct stat target_st, ptr_st;
    if (::stat(target.c_str(), &target_st) != 0) {
      looked_.push_back(absl::StrFormat("%s (points at %s: no such file)", ptr, target));
      return false;
    }
    if (::stat(ptr.c_str(), &ptr_st) == 0 && target_st.st_dev == ptr_st.st_dev &&
        target_st.st_ino == ptr_st.st_ino) {
      rejected_.push_back(absl::StrFormat("%s: points at itself", ptr));
      return false;
    }
    if (S_ISDIR(target_st.st_mode)) {
      rejected_.push_back(absl::StrFormat("%s: points at a directory (%s)", ptr, target));
      return false;
    }
    if (!S_ISREG(target_st.st_mode)) {
      rejected_.push_back(absl::StrFormat("%s: points at %s, not a regular file", ptr, target));
      return false;
    }
    const std::string_view target_name = BaseName(target);
    const bool compressed = !compressed_.empty() && !EqualsIgnoreCase(target_name, file_) &&
                            EqualsIgnoreCase(target_name, compressed_);
    return TryFile(target, compressed, ptr);
  }

  // WinDbg's three directories, then the directory as a store when it is one.
  void ProbeDirectory(const std::string& dir) {
    if (KindOf(dir) != Kind::kDirectory) {
      looked_.push_back(absl::StrFormat("directory %s (no such directory)", dir));
      return;
    }
    // symsrv treats a directory with pingme.txt as a store even without srv*.
    if (HasEntryOfKind(dir, "pingme.txt", Kind::kFile) ||
        HasEntryOfKind(dir, "index2.txt", Kind::kFile)) {
      ProbeStore(dir, "store");
      if (found_) return;
    }
    std::vector<std::vector<std::string_view>> layouts;
    if (!extension_.empty()) {
      layouts.push_back({"symbols", extension_, file_});
      layouts.push_back({extension_, file_});
    }
    layouts.push_back({file_});
    std::vector<std::string> tried;
    const size_t rejected_before = rejected_.size();
    for (const std::vector<std::string_view>& layout : layouts) {
      std::string expected = dir;
      for (std::string_view c : layout) expected = JoinPath(expected, c);
      tried.push_back(expected);
      for (const std::string& p : Walk(dir, layout, Kind::kFile)) {
        if (TryFile(p, false, "")) return;
      }
    }
    if (rejected_.size() == rejected_before) {
      looked_.push_back(absl::StrFormat("%s (no such file)", absl::StrJoin(tried, ", ")));
    } else {
      looked_.push_back(absl::StrJoin(tried, ", "));
    }
  }

  // Loads `path` (decompressing it when `compressed`) and verifies it.
  bool TryFile(const std::string& path, bool compressed, std::string_view via) {
    const std::string label =
        via.empty() ? path : absl::StrFormat("%s (from %s)", path, via);
    absl::StatusOr<std::shared_ptr<const unwind::MappedFile>> mapped =
        unwind::MappedFile::Open(path);
    if (!mapped.ok()) {
      rejected_.push_back(Prefixed(label, path, mapped.status()));
      return false;
    }
    LocatedFile located;
    located.path = path;
    located.decompressed = compressed;
    if (compressed) {
      absl::StatusOr<internal::CabFile> cab = internal::ExtractSingleFileCab(
          (*mapped)->bytes(), path, file_, options_.max_decompressed_size);
      if (!cab.ok()) {
        rejected_.push_back(Prefixed(label, path, cab.status()));
        return false;
      }
      auto buffer = std::make_shared<const std::vector<uint8_t>>(std::move(cab->bytes));
      located.bytes = *buffer;
      located.owner = std::move(buffer);
    } else {
      located.bytes = (*mapped)->bytes();
      located.owner = *std::move(mapped);
    }
    if (absl::Status s = verify_ ? verify_(located) : absl::OkStatus(); !s.ok()) {
      rejected_.push_back(Prefixed(label, path, s));
      return false;
    }
    found_ = std::move(located);
    return true;
  }

  // "label: message", without repeating a path the message starts with.
  static std::string Prefixed(const std::string& label, const std::string& path,
                              const absl::Status& s) {
    const std::string_view message(s.message().data(), s.message().size());
    if (message.substr(0, path.size()) == path) {
      return label == path ? std::string(message)
                           : absl::StrFormat("%s%s", label, message.substr(path.size()));
    }
    return absl::StrFormat("%s: %s", label, message);
  }

  std::string_view file_;
  std::string_view key_;
  const Verifier& verify_;
  const FindOptions& options_;
  std::string compressed_;
  std::string extension_;
  std::vector<std::string> looked_;    // places tried, with what was (not) there
  std::vector<std::string> rejected_;  // "path: why" of candidates not used
  std::optional<LocatedFile> found_;
};

// One path component: not empty, no separators, not "." or "..".
bool IsComponent(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s.find_first_of("/\\") == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}

}  // namespace

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string ImageStoreKey(uint32_t timestamp, uint32_t size_of_image) {
  return absl::StrFormat("%08X%x", timestamp, size_of_image);
}

std::string PdbStoreKey(std::span<const uint8_t, 16> guid, uint32_t age) {
  unwind::CodeViewRecord record{.age = age};
  std::copy(guid.begin(), guid.end(), record.guid.begin());
  return record.StoreKey();
}

absl::StatusOr<LocatedFile> FindFile(const SymbolPath& path, std::string_view file_name,
                                     std::string_view key, const Verifier& verify,
                                     const FindOptions& options) {
  const std::string_view file = BaseName(file_name);
  if (!IsComponent(file)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("symbol store lookup: file name '%s' is not a file name", file_name));
  }
  if (!IsComponent(key)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("symbol store lookup of %s: key '%s' is not a store key", file, key));
  }
  if (!options.image_extension.empty() && !IsComponent(options.image_extension)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "symbol store lookup of %s: image extension '%s' is not a file name extension", file,
        options.image_extension));
  }
  Search search(file, key, verify, options);
  for (const SymbolPlace& place : path.places()) {
    search.SearchPlace(place);
    if (search.found()) return *search.found();
  }
  return search.Failure(path);
}

}  // namespace restack::sym
