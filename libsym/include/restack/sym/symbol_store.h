// symbol_store.h - finding an image or PDB by name and key along a symbol path
//
// Places are searched in the symbol path's order (docs/symbol-path.md):
//   store:     <store>/<file>/<key>/ (one-tier), or <store>/<fi>/<file>/<key>/
//              when <store>/index2.txt exists (two-tier); in the key directory
//              <file>, then the compressed <fil_> (a cabinet, decompressed in
//              memory), then file.ptr (a path to the file, or "MSG: ..." when
//              the store has none)
//   directory: <dir>/symbols/<ext>/<file>, <dir>/<ext>/<file>, <dir>/<file>
//              (WinDbg's three directories); a directory holding pingme.txt or
//              index2.txt is searched as a store first
// Every name is matched ignoring ASCII case, as Windows stores are. Each
// candidate goes through a Verifier; one that fails is a mismatch, reported
// and never used. An empty Verifier accepts every candidate.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "restack/sym/symbol_path.h"

namespace restack::sym {

// A file found along a symbol path.
struct LocatedFile {
  std::string path;                // where it was found (the "_" file when decompressed)
  std::span<const uint8_t> bytes;  // the (decompressed) contents
  std::shared_ptr<const void> owner;  // keeps `bytes` alive (a mapping or a buffer)
  bool decompressed = false;       // bytes come from a compressed "_" cabinet
};

// Checks a candidate's identity: OK when it is the file wanted; otherwise a
// status whose message says how it differs ("has key X", "age 2 < 3"), which
// ends up in the final FailedPrecondition error.
using Verifier = std::function<absl::Status(const LocatedFile&)>;

// The file-name part of a Windows or POSIX path ("C:\\x\\ntdll.dll" -> "ntdll.dll").
std::string_view BaseName(std::string_view path);

// Symbol-store key of an image: TimeDateStamp as %08X + SizeOfImage as %x.
std::string ImageStoreKey(uint32_t timestamp, uint32_t size_of_image);

// Symbol-store key of a PDB: the RSDS GUID (16 bytes as stored: Data1..Data3
// little-endian) as %08X%04X%04X + 8 x %02X, then the age as %X.
std::string PdbStoreKey(std::span<const uint8_t, 16> guid, uint32_t age);

// The largest file restack decompresses from a "_" cabinet.
inline constexpr uint64_t kMaxDecompressedSize = uint64_t{1} << 30;

struct FindOptions {
  // Extension used for <dir>/symbols/<ext>/ and <dir>/<ext>/ in plain
  // directories: the image's ("sys" when looking for amdppm.pdb). Empty: the
  // extension of the file looked for.
  std::string image_extension;
  // Compressed files larger than this, uncompressed, are refused.
  uint64_t max_decompressed_size = kMaxDecompressedSize;
};

// Finds `file_name` (a bare name; a directory part is ignored) with store key
// `key` along `path`, returning the first candidate `verify` accepts.
// Errors:
//   NotFound            nothing there; the message lists every place tried
//                       (and the locations the path skipped)
//   FailedPrecondition  only mismatching or unusable candidates (a corrupt
//                       cabinet, a file.ptr to itself); each with its reason,
//                       then the places tried
//   InvalidArgument     an empty name, or a name or key that is not one path
//                       component
absl::StatusOr<LocatedFile> FindFile(const SymbolPath& path, std::string_view file_name,
                                     std::string_view key, const Verifier& verify,
                                     const FindOptions& options = {});

}  // namespace restack::sym
