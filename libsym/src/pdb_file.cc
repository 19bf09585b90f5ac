// pdb_file.cc - one pass over a PDB with LLVM's native reader, into plain data
#include "restack/sym/pdb_file.h"

#include <cstring>
#include <optional>
#include <unordered_map>

#include "absl/strings/str_format.h"
#include "llvm/DebugInfo/CodeView/CVRecord.h"
#include "llvm/DebugInfo/CodeView/DebugChecksumsSubsection.h"
#include "llvm/DebugInfo/CodeView/DebugLinesSubsection.h"
#include "llvm/DebugInfo/CodeView/DebugSubsectionRecord.h"
#include "llvm/DebugInfo/CodeView/SymbolDeserializer.h"
#include "llvm/DebugInfo/CodeView/SymbolRecord.h"
#include "llvm/DebugInfo/MSF/MappedBlockStream.h"
#include "llvm/DebugInfo/PDB/Native/DbiModuleDescriptor.h"
#include "llvm/DebugInfo/PDB/Native/DbiModuleList.h"
#include "llvm/DebugInfo/PDB/Native/DbiStream.h"
#include "llvm/DebugInfo/PDB/Native/ISectionContribVisitor.h"
#include "llvm/DebugInfo/PDB/Native/InfoStream.h"
#include "llvm/DebugInfo/PDB/Native/ModuleDebugStream.h"
#include "llvm/DebugInfo/PDB/Native/PDBFile.h"
#include "llvm/DebugInfo/PDB/Native/PDBStringTable.h"
#include "llvm/DebugInfo/PDB/Native/PublicsStream.h"
#include "llvm/DebugInfo/PDB/Native/RawTypes.h"
#include "llvm/DebugInfo/PDB/Native/SymbolStream.h"
#include "llvm/Support/BinaryByteStream.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm_status.h"
#include "restack/unwind/mapped_file.h"

namespace restack::sym {

namespace cv = llvm::codeview;
namespace pdb = llvm::pdb;
using internal::FromLlvm;

namespace {

// Caps on what one PDB may make restack hold (far above real PDBs).
constexpr size_t kMaxRecords = 20'000'000;

std::string AsString(llvm::StringRef s) { return std::string(s.data(), s.size()); }

}  // namespace

std::string GuidString(const std::array<uint8_t, 16>& guid) {
  uint32_t d1;
  uint16_t d2, d3;
  std::memcpy(&d1, guid.data(), 4);
  std::memcpy(&d2, guid.data() + 4, 2);
  std::memcpy(&d3, guid.data() + 6, 2);
  std::string out = absl::StrFormat("%08X%04X%04X", d1, d2, d3);
  for (int i = 8; i < 16; ++i) absl::StrAppendFormat(&out, "%02X", guid[i]);
  return out;
}

std::string PdbFile::StoreKey() const { return absl::StrFormat("%s%X", GuidString(guid_), dbi_age_); }

absl::Status PdbFile::CheckMatches(const std::array<uint8_t, 16>& image_guid,
                                   uint32_t image_age) const {
  if (image_guid != guid_ || dbi_age_ < image_age) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: PDB %s age %u (DBI age %u) does not match the image's %s age %u", name_,
        GuidString(guid_), age_, dbi_age_, GuidString(image_guid), image_age));
  }
  return absl::OkStatus();
}

PdbFile::~PdbFile() = default;

// Reads one PDB; holds the LLVM objects only while reading.
class PdbReader {
 public:
  PdbReader(PdbFile& out, pdb::PDBFile& file) : out_(out), file_(file) {}

  absl::Status Read() {
    llvm::Expected<pdb::InfoStream&> info = file_.getPDBInfoStream();
    if (!info) return FromLlvm(info.takeError(), out_.name_ + ": PDB info stream");
    const cv::GUID g = info->getGuid();
    std::memcpy(out_.guid_.data(), g.Guid, 16);
    out_.age_ = info->getAge();
    llvm::Expected<pdb::DbiStream&> dbi = file_.getPDBDbiStream();
    if (!dbi) return FromLlvm(dbi.takeError(), out_.name_ + ": DBI stream");
    out_.dbi_age_ = dbi->getAge();
    ReadSections(*dbi);
    ReadOmap(*dbi);
    ReadContributions(*dbi);
    ReadModules(*dbi);
    ReadPublics();
    return absl::OkStatus();
  }

 private:
  void Warn(std::string what) { out_.warnings_.push_back(out_.name_ + ": " + what); }

  // Bytes of an optional debug stream of the DBI (OMAP, section headers).
  std::optional<std::vector<uint8_t>> DebugStream(pdb::DbiStream& dbi, pdb::DbgHeaderType type) {
    const uint32_t index = dbi.getDebugStreamIndex(type);
    if (index == llvm::pdb::kInvalidStreamIndex) return std::nullopt;
    llvm::Expected<std::unique_ptr<llvm::msf::MappedBlockStream>> s =
        file_.safelyCreateIndexedStream(index);
    if (!s) {
      Warn(absl::StrFormat("debug stream %u: %s", index, llvm::toString(s.takeError())));
      return std::nullopt;
    }
    std::vector<uint8_t> bytes((*s)->getLength());
    llvm::ArrayRef<uint8_t> data;
    if (llvm::Error e = (*s)->readBytes(0, bytes.size(), data)) {
      Warn(absl::StrFormat("debug stream %u: %s", index, llvm::toString(std::move(e))));
      return std::nullopt;
    }
    std::memcpy(bytes.data(), data.data(), bytes.size());
    return bytes;
  }

  static std::vector<PdbSection> ParseSectionHeaders(const std::vector<uint8_t>& bytes) {
    std::vector<PdbSection> out;
    for (size_t at = 0; at + 40 <= bytes.size(); at += 40) {
      PdbSection s;
      s.name.assign(reinterpret_cast<const char*>(bytes.data() + at),
                    strnlen(reinterpret_cast<const char*>(bytes.data() + at), 8));
      std::memcpy(&s.virtual_size, bytes.data() + at + 8, 4);
      std::memcpy(&s.virtual_address, bytes.data() + at + 12, 4);
      std::memcpy(&s.characteristics, bytes.data() + at + 36, 4);
      out.push_back(std::move(s));
    }
    return out;
  }

  void ReadSections(pdb::DbiStream& dbi) {
    if (auto bytes = DebugStream(dbi, pdb::DbgHeaderType::SectionHdr)) {
      out_.sections_ = ParseSectionHeaders(*bytes);
    }
    if (auto bytes = DebugStream(dbi, pdb::DbgHeaderType::SectionHdrOrig)) {
      out_.original_sections_ = ParseSectionHeaders(*bytes);
    }
  }

  void ReadOmap(pdb::DbiStream& dbi) {
    for (auto [type, target, what] :
         {std::tuple{pdb::DbgHeaderType::OmapToSrc, &out_.omap_to_src_, "OmapToSrc"},
          std::tuple{pdb::DbgHeaderType::OmapFromSrc, &out_.omap_from_src_, "OmapFromSrc"}}) {
      if (auto bytes = DebugStream(dbi, type)) {
        absl::StatusOr<Omap> omap = Omap::FromBytes(*bytes);
        if (omap.ok()) {
          *target = *std::move(omap);
        } else {
          Warn(absl::StrFormat("%s: %s", what, omap.status().message()));
        }
      }
    }
  }

  void ReadContributions(pdb::DbiStream& dbi) {
    struct Visitor : pdb::ISectionContribVisitor {
      std::vector<PdbContribution>* out;
      void visit(const pdb::SectionContrib& c) override {
        if (out->size() < kMaxRecords) {
          out->push_back({static_cast<uint16_t>(c.ISect), static_cast<uint32_t>(c.Off),
                          static_cast<uint32_t>(c.Size), c.Characteristics});
        }
      }
      void visit(const pdb::SectionContrib2& c) override { visit(c.Base); }
    } visitor;
    visitor.out = &out_.contributions_;
    dbi.visitSectionContributions(visitor);
  }

  uint32_t FileIndex(const std::string& path) {
    auto [it, inserted] = file_index_.emplace(path, static_cast<uint32_t>(out_.files_.size()));
    if (inserted) out_.files_.push_back(path);
    return it->second;
  }

  void ReadModules(pdb::DbiStream& dbi) {
    llvm::Expected<pdb::PDBStringTable&> strings = file_.getStringTable();
    pdb::PDBStringTable* string_table = nullptr;
    if (strings) {
      string_table = &*strings;
    } else {
      llvm::consumeError(strings.takeError());  // no /names stream: no file names
    }
    const pdb::DbiModuleList& modules = dbi.modules();
    for (uint32_t m = 0; m < modules.getModuleCount(); ++m) {
      const pdb::DbiModuleDescriptor descriptor = modules.getModuleDescriptor(m);
      const uint16_t stream = descriptor.getModuleStreamIndex();
      if (stream == llvm::pdb::kInvalidStreamIndex) continue;
      llvm::Expected<std::unique_ptr<llvm::msf::MappedBlockStream>> s =
          file_.safelyCreateIndexedStream(stream);
      if (!s) {
        Warn(absl::StrFormat("module %u: %s", m, llvm::toString(s.takeError())));
        continue;
      }
      pdb::ModuleDebugStreamRef mds(descriptor, std::move(*s));
      if (llvm::Error e = mds.reload()) {
        Warn(absl::StrFormat("module %u (%s): %s", m, AsString(descriptor.getModuleName()),
                             llvm::toString(std::move(e))));
        continue;
      }
      ReadModuleSymbols(m, mds);
      ReadModuleLines(m, mds, string_table);
    }
  }

  void ReadModuleSymbols(uint32_t m, const pdb::ModuleDebugStreamRef& mds) {
    // Offsets in S_SEPCODE.pParent count from the module stream's start (a
    // 4-byte signature precedes the symbols); LLVM's iterator offsets count
    // from there too (the first symbol is at 4).
    // Record offset -> the procedure there, or the S_SEPCODE block there (a
    // block's parent may be another block: cvinfo's "enclosing scope").
    struct Scope {
      size_t procedure_index = 0;  // into procedures_, unless `block`
      std::optional<SepCodeRecord> block;
    };
    std::unordered_map<uint32_t, Scope> scopes;
    std::vector<std::pair<SepCodeRecord, size_t>> pending;
    const cv::CVSymbolArray& symbols = mds.getSymbolArray();
    for (auto it = symbols.begin(); it != symbols.end(); ++it) {
      if (out_.procedures_.size() + out_.separated_.size() > kMaxRecords) break;
      const cv::CVSymbol& sym = *it;
      const uint32_t offset = it.offset();
      switch (sym.kind()) {
        case cv::S_GPROC32:
        case cv::S_LPROC32:
        case cv::S_GPROC32_ID:
        case cv::S_LPROC32_ID:
        case cv::S_LPROC32_DPC:
        case cv::S_LPROC32_DPC_ID: {
          llvm::Expected<cv::ProcSym> proc = cv::SymbolDeserializer::deserializeAs<cv::ProcSym>(sym);
          if (!proc) {
            Warn(absl::StrFormat("module %u: procedure at 0x%x: %s", m, offset,
                                 llvm::toString(proc.takeError())));
            break;
          }
          scopes[offset] = Scope{out_.procedures_.size(), std::nullopt};
          out_.procedures_.push_back(
              {proc->Segment, proc->CodeOffset, proc->CodeSize, AsString(proc->Name), false});
          break;
        }
        case cv::S_THUNK32: {
          llvm::Expected<cv::Thunk32Sym> thunk =
              cv::SymbolDeserializer::deserializeAs<cv::Thunk32Sym>(sym);
          if (!thunk) {
            llvm::consumeError(thunk.takeError());
            break;
          }
          out_.procedures_.push_back(
              {thunk->Segment, thunk->Offset, thunk->Length, AsString(thunk->Name), true});
          break;
        }
        case cv::S_SEPCODE: {
          llvm::ArrayRef<uint8_t> data = sym.data();
          absl::StatusOr<SepCodeRecord> rec = DecodeSepCode({data.data(), data.size()});
          if (!rec.ok()) {
            Warn(absl::StrFormat("module %u: S_SEPCODE at 0x%x: %s", m, offset,
                                 rec.status().message()));
            break;
          }
          scopes[offset] = Scope{0, *rec};
          pending.emplace_back(*rec, out_.separated_.size());
          out_.separated_.push_back({*rec, ""});
          break;
        }
        default:
          break;
      }
    }
    // Follow each block's parents (through enclosing blocks, at most
    // kMaxSepCodeDepth of them, so a cycle ends) to its procedure.
    constexpr int kMaxSepCodeDepth = 16;
    for (const auto& [rec, index] : pending) {
      uint32_t parent = rec.parent;
      const PdbProcedure* procedure = nullptr;
      for (int depth = 0; depth < kMaxSepCodeDepth; ++depth) {
        auto scope = scopes.find(parent);
        if (scope == scopes.end()) break;
        if (!scope->second.block) {
          procedure = &out_.procedures_[scope->second.procedure_index];
          break;
        }
        parent = scope->second.block->parent;
      }
      if (procedure != nullptr) {
        PdbSeparatedBlock& b = out_.separated_[index];
        b.parent_name = procedure->name;
        b.function_section = procedure->section;
        b.function_offset = procedure->offset;
      } else {
        Warn(absl::StrFormat("module %u: S_SEPCODE at section %u offset 0x%x: parent record 0x%x "
                             "does not lead to a procedure",
                             m, rec.section, rec.offset, rec.parent));
      }
    }
  }

  void ReadModuleLines(uint32_t m, const pdb::ModuleDebugStreamRef& mds,
                       pdb::PDBStringTable* strings) {
    // File checksums first: lines name files by checksum-entry offset.
    std::unordered_map<uint32_t, uint32_t> file_by_checksum;
    for (const cv::DebugSubsectionRecord& ss : mds.subsections()) {
      if (ss.kind() != cv::DebugSubsectionKind::FileChecksums) continue;
      cv::DebugChecksumsSubsectionRef checksums;
      if (llvm::Error e = checksums.initialize(ss.getRecordData())) {
        Warn(absl::StrFormat("module %u: file checksums: %s", m, llvm::toString(std::move(e))));
        continue;
      }
      for (auto it = checksums.begin(); it != checksums.end(); ++it) {
        std::string path = absl::StrFormat("<file 0x%x>", it->FileNameOffset);
        if (strings != nullptr) {
          llvm::Expected<llvm::StringRef> name = strings->getStringForID(it->FileNameOffset);
          if (name) {
            path = AsString(*name);
          } else {
            llvm::consumeError(name.takeError());
          }
        }
        file_by_checksum[it.offset()] = FileIndex(path);
      }
    }
    for (const cv::DebugSubsectionRecord& ss : mds.subsections()) {
      if (ss.kind() != cv::DebugSubsectionKind::Lines) continue;
      cv::DebugLinesSubsectionRef lines;
      if (llvm::Error e = lines.initialize(llvm::BinaryStreamReader(ss.getRecordData()))) {
        Warn(absl::StrFormat("module %u: lines: %s", m, llvm::toString(std::move(e))));
        continue;
      }
      const cv::LineFragmentHeader* h = lines.header();
      for (const cv::LineColumnEntry& block : lines) {
        auto file = file_by_checksum.find(block.NameIndex);
        const uint32_t file_index = file == file_by_checksum.end() ? FileIndex("<unknown>")
                                                                   : file->second;
        const size_t count = block.LineNumbers.size();
        size_t i = 0;
        for (const cv::LineNumberEntry& n : block.LineNumbers) {
          if (out_.lines_.size() >= kMaxRecords) return;
          const cv::LineInfo info(n.Flags);
          // Each entry lasts to the next entry, the last to the fragment's end.
          uint32_t end = h->CodeSize;
          if (i + 1 < count) end = block.LineNumbers[i + 1].Offset;
          const uint32_t begin = n.Offset;
          out_.lines_.push_back({h->RelocSegment, h->RelocOffset + begin,
                                 end > begin ? end - begin : 0, info.getStartLine(), file_index});
          ++i;
        }
      }
    }
  }

  void ReadPublics() {
    llvm::Expected<pdb::PublicsStream&> publics = file_.getPDBPublicsStream();
    if (!publics) {
      llvm::consumeError(publics.takeError());  // a PDB without publics is valid
      return;
    }
    llvm::Expected<pdb::SymbolStream&> records = file_.getPDBSymbolStream();
    if (!records) {
      Warn(absl::StrFormat("symbol record stream: %s", llvm::toString(records.takeError())));
      return;
    }
    for (const auto& offset : publics->getPublicsTable()) {
      if (out_.publics_.size() >= kMaxRecords) break;
      const cv::CVSymbol sym = records->readRecord(offset);
      if (sym.kind() != cv::S_PUB32) continue;
      llvm::Expected<cv::PublicSym32> pub =
          cv::SymbolDeserializer::deserializeAs<cv::PublicSym32>(sym);
      if (!pub) {
        llvm::consumeError(pub.takeError());
        continue;
      }
      out_.publics_.push_back({pub->Segment, pub->Offset, AsString(pub->Name),
                               (static_cast<uint32_t>(pub->Flags) &
                                static_cast<uint32_t>(cv::PublicSymFlags::Function)) != 0});
    }
  }

  PdbFile& out_;
  pdb::PDBFile& file_;
  std::unordered_map<std::string, uint32_t> file_index_;
};

absl::StatusOr<std::unique_ptr<PdbFile>> PdbFile::Open(std::span<const uint8_t> bytes,
                                                       std::shared_ptr<const void> owner,
                                                       std::string name) {
  std::unique_ptr<PdbFile> out(new PdbFile);
  out->name_ = std::move(name);
  out->owner_ = std::move(owner);
  llvm::BumpPtrAllocator allocator;
  auto buffer = llvm::MemoryBuffer::getMemBuffer(
      llvm::StringRef(reinterpret_cast<const char*>(bytes.data()), bytes.size()), out->name_,
      /*RequiresNullTerminator=*/false);
  auto stream =
      std::make_unique<llvm::MemoryBufferByteStream>(std::move(buffer), llvm::endianness::little);
  pdb::PDBFile file(out->name_, std::move(stream), allocator);
  if (llvm::Error e = file.parseFileHeaders()) return FromLlvm(std::move(e), out->name_);
  if (llvm::Error e = file.parseStreamData()) return FromLlvm(std::move(e), out->name_);
  PdbReader reader(*out, file);
  if (absl::Status s = reader.Read(); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::unique_ptr<PdbFile>> PdbFile::OpenFile(const std::string& path) {
  absl::StatusOr<std::shared_ptr<const unwind::MappedFile>> file = unwind::MappedFile::Open(path);
  if (!file.ok()) return file.status();
  return Open((*file)->bytes(), *file, path);
}

}  // namespace restack::sym
