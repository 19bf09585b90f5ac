// seed_corpus.h - writing and checking committed fuzz seed corpora in tests
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/file_read.h"

namespace restack::test {

// name -> bytes of one seed file.
using Seeds = std::vector<std::pair<std::string, std::vector<uint8_t>>>;

// Whether RESTACK_WRITE_SEEDS asks the seed tests to rewrite the corpus.
inline bool SeedRewriteRequested() { return std::getenv("RESTACK_WRITE_SEEDS") != nullptr; }

// Writes every seed into `dir`; the name of the first one that fails, or "".
inline std::string WriteSeeds(const std::filesystem::path& dir, const Seeds& seeds) {
  std::filesystem::create_directories(dir);
  for (const auto& [name, bytes] : seeds) {
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out.good()) return name;
  }
  return "";
}

// The bytes of a committed seed (empty when missing).
inline std::vector<uint8_t> ReadSeed(const std::filesystem::path& path) {
  return ReadFileBytes(path).value_or(std::vector<uint8_t>{});
}

}  // namespace restack::test
