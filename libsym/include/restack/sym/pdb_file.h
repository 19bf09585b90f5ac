// pdb_file.h - a PDB read once into plain data: identity, sections, procedures, publics, lines,
// inline sites
//
// Streams and records are read with LLVM 19's native PDB libraries; what LLVM
// lacks (S_SEPCODE, OMAP) is decoded by hand (sep_code.h, omap.h), and so are
// inline sites' binary annotations and the IPI/TPI records that name them.
// Nothing of LLVM shows in this header.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "restack/sym/omap.h"
#include "restack/sym/sep_code.h"

namespace restack::sym {

// A section header as the PDB records it (DBI SectionHdr / SectionHdrOrig).
struct PdbSection {
  std::string name;
  uint32_t virtual_address = 0;
  uint32_t virtual_size = 0;
  uint32_t characteristics = 0;
  bool IsExecutable() const { return (characteristics & 0x20000020u) != 0; }
};

// S_GPROC32/S_LPROC32 (and _ID, _DPC kinds) or S_THUNK32.
struct PdbProcedure {
  uint16_t section = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
  std::string name;  // as the PDB stores it (already undecorated)
  bool thunk = false;
};

// An S_SEPCODE block with the procedure it belongs to (found through any
// enclosing blocks); parent_name is empty when no procedure was found.
struct PdbSeparatedBlock {
  SepCodeRecord record;
  std::string parent_name;
  uint16_t function_section = 0;
  uint32_t function_offset = 0;
};

// One public symbol (S_PUB32).
struct PdbPublic {
  uint16_t section = 0;
  uint32_t offset = 0;
  std::string name;  // decorated
  bool function = false;  // CVPF_Function
};

// One DBI section contribution.
struct PdbContribution {
  uint16_t section = 0;
  uint32_t offset = 0;
  uint32_t size = 0;
  uint32_t characteristics = 0;
};

// One C13 line entry: code at [section:offset, +length) comes from line `line`
// of file `file` (index into PdbFile::files()).
struct PdbLine {
  uint16_t section = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
  uint32_t line = 0;
  uint32_t file = 0;
};

// One row of an inlined function's own line table: code at
// [section:offset, +length) is line `line` of file `file` of the inlinee
// (file: index into PdbFile::files(), or PdbInlineSite::kNoFile; line 0 when
// the module has no inlinee line entry for it).
struct PdbInlineLine {
  uint32_t offset = 0;
  uint32_t length = 0;
  uint32_t line = 0;
  uint32_t file = 0;
};

// An S_INLINESITE / S_INLINESITE2: the code of `name` inlined into a
// procedure, directly (depth 1) or inside another inline site. Its binary
// annotations are decoded into `lines` (code offsets counted from the top
// procedure's start, as the annotations count them, made section-relative
// here) and `ranges` (the same code, adjacent rows merged). A nested site's
// code lies inside its parent's.
struct PdbInlineSite {
  static constexpr uint32_t kNoFile = 0xFFFFFFFF;
  static constexpr uint32_t kNoParent = 0xFFFFFFFF;
  uint16_t section = 0;
  uint32_t parent_offset = 0;  // the top procedure's start within `section`
  // The inlinee (LF_FUNC_ID, qualified by its scope's LF_STRING_ID, or
  // LF_MFUNC_ID, qualified by its class), or "<inlinee 0x...>" when the IPI
  // stream does not name it.
  std::string name;
  uint32_t depth = 0;                 // 1 = directly in the procedure
  uint32_t parent = kNoParent;        // index in inline_sites() of the enclosing site
  // Section-relative [begin, end), sorted, adjacent ones merged.
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  // Where the caller (the procedure's C13 lines at depth 1, else the parent
  // site's rows) was at the site's first byte: the call; 0 / kNoFile if unknown.
  uint32_t call_line = 0;
  uint32_t call_file = kNoFile;
  std::vector<PdbInlineLine> lines;  // the inlinee's rows, by offset
};

class PdbFile {
 public:
  // Parses `bytes` (kept alive by `owner`); `name` labels messages. Required:
  // the MSF container, the PDB info stream and the DBI stream. Broken module
  // streams, publics or lines become warnings.
  static absl::StatusOr<std::unique_ptr<PdbFile>> Open(std::span<const uint8_t> bytes,
                                                       std::shared_ptr<const void> owner,
                                                       std::string name);
  // Maps and parses a file.
  static absl::StatusOr<std::unique_ptr<PdbFile>> OpenFile(const std::string& path);

  ~PdbFile();

  const std::string& name() const { return name_; }
  // PDB info stream GUID (as stored) and age; DBI age (the one images match).
  const std::array<uint8_t, 16>& guid() const { return guid_; }
  uint32_t age() const { return age_; }
  uint32_t dbi_age() const { return dbi_age_; }
  // Symbol-store key: GUID as %08X%04X%04X + 8 x %02X, then the DBI age as %X
  // (the age images record; a stripped PDB's info-stream age is higher).
  std::string StoreKey() const;
  // Identity against an image's RSDS record: GUID equal and DBI age at least
  // the image's age (a PDB rewritten after the link keeps matching). FailedPrecondition naming both identities otherwise.
  absl::Status CheckMatches(const std::array<uint8_t, 16>& image_guid, uint32_t image_age) const;

  const std::vector<PdbSection>& sections() const { return sections_; }
  // Before OMAP rearrangement (SectionHdrOrig); empty without OMAP.
  const std::vector<PdbSection>& original_sections() const { return original_sections_; }
  const Omap& omap_to_src() const { return omap_to_src_; }
  const Omap& omap_from_src() const { return omap_from_src_; }

  const std::vector<PdbProcedure>& procedures() const { return procedures_; }
  const std::vector<PdbSeparatedBlock>& separated_blocks() const { return separated_; }
  const std::vector<PdbPublic>& publics() const { return publics_; }
  const std::vector<PdbContribution>& contributions() const { return contributions_; }
  const std::vector<PdbLine>& lines() const { return lines_; }
  const std::vector<std::string>& files() const { return files_; }
  // Every inline site of every module, in stream order (a parent before its
  // children).
  const std::vector<PdbInlineSite>& inline_sites() const { return inline_sites_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  PdbFile() = default;
  friend class PdbReader;
  std::string name_;
  std::shared_ptr<const void> owner_;
  std::array<uint8_t, 16> guid_{};
  uint32_t age_ = 0;
  uint32_t dbi_age_ = 0;
  std::vector<PdbSection> sections_;
  std::vector<PdbSection> original_sections_;
  Omap omap_to_src_;
  Omap omap_from_src_;
  std::vector<PdbProcedure> procedures_;
  std::vector<PdbSeparatedBlock> separated_;
  std::vector<PdbPublic> publics_;
  std::vector<PdbContribution> contributions_;
  std::vector<PdbLine> lines_;
  std::vector<std::string> files_;
  std::vector<PdbInlineSite> inline_sites_;
  std::vector<std::string> warnings_;
};

// The GUID of an RSDS record or a PDB as a store writes it.
std::string GuidString(const std::array<uint8_t, 16>& guid);

}  // namespace restack::sym
