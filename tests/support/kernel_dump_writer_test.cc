// kernel_dump_writer_test.cc - self-checks of the synthetic kernel dump writer
//
// These do not use libdump. Each dump is checked with a deliberately small, separate
// decoder written here (header fields at fixed offsets, the page placement of each
// format, a 4-level page walk), so that the writer's output is known to be coherent
// before libdump's reader is tested against it (tests/dump/kernel_dump_readback_test.cc).
#include "tests/support/kernel_dump_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace restack::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kPage = 0x1000;

uint16_t Get16(const std::vector<uint8_t>& b, uint64_t o) { return b.at(o) | (b.at(o + 1) << 8); }
uint32_t Get32(const std::vector<uint8_t>& b, uint64_t o) {
  return Get16(b, o) | (uint32_t{Get16(b, o + 2)} << 16);
}
uint64_t Get64(const std::vector<uint8_t>& b, uint64_t o) {
  return Get32(b, o) | (uint64_t{Get32(b, o + 4)} << 32);
}
std::string Text(const std::vector<uint8_t>& b, uint64_t o, size_t n) {
  return std::string(b.begin() + o, b.begin() + o + n);
}

// Where each stored page is, decoded from the bytes by the format's own rules.
struct PagePlacement {
  std::map<uint64_t, uint64_t> offset_of_pfn;

  static PagePlacement Decode(const std::vector<uint8_t>& b) {
    PagePlacement p;
    const std::string sig = Text(b, 0x2000, 4);
    if (sig == "SDMP" || sig == "FDMP") {
      uint64_t offset = Get64(b, 0x2020);  // FirstPage
      const uint64_t bits = Get64(b, 0x2030);
      for (uint64_t pfn = 0; pfn < bits; ++pfn) {
        if (b.at(0x2038 + pfn / 8) & (1u << (pfn % 8))) {
          p.offset_of_pfn[pfn] = offset;
          offset += kPage;
        }
      }
    } else if (Get32(b, 0x2000) == 0x40 && Text(b, 0x2004, 4) == "RDMP") {
      uint64_t offset = Get64(b, 0x2018);  // FirstPageOffset
      for (uint64_t at = 0x2030; Get64(b, at) != 0; at += 16) {
        for (uint64_t i = 0; i < Get64(b, at + 8); ++i) {
          p.offset_of_pfn[Get64(b, at) + i] = offset;
          offset += kPage;
        }
      }
    } else {  // full: PhysicalMemoryBlock runs packed from 0x2000
      uint64_t offset = 0x2000;
      for (uint32_t r = 0; r < Get32(b, 0x88); ++r) {
        for (uint64_t i = 0; i < Get64(b, 0x98 + 16 * r + 8); ++i) {
          p.offset_of_pfn[Get64(b, 0x98 + 16 * r) + i] = offset;
          offset += kPage;
        }
      }
    }
    return p;
  }

  std::optional<uint64_t> Offset(uint64_t pa) const {
    auto it = offset_of_pfn.find(pa / kPage);
    if (it == offset_of_pfn.end()) return std::nullopt;
    return it->second + pa % kPage;
  }
};

// The outcome of walking the page tables for one address.
struct Walk {
  std::optional<uint64_t> pa;      // set when a present or transition leaf was found
  uint64_t leaf_entry = 0;         // the last entry read
  int leaf_level = 0;              // 1 = PTE, 2 = PDE, 3 = PDPTE
  std::string fault;               // "not-present", "table-not-in-dump"
};

Walk WalkVa(const std::vector<uint8_t>& b, const PagePlacement& p, uint64_t va) {
  constexpr uint64_t kPfnMask = 0x000FFFFFFFFFF000;
  uint64_t table = Get64(b, 0x10) & kPfnMask;  // DirectoryTableBase without its flags
  Walk w;
  for (int level = 4; level >= 1; --level) {
    const uint64_t index = (va >> (12 + 9 * (level - 1))) & 0x1FF;
    const std::optional<uint64_t> at = p.Offset(table + 8 * index);
    if (!at) {
      w.fault = "table-not-in-dump";
      return w;
    }
    const uint64_t e = Get64(b, *at);
    w.leaf_entry = e;
    w.leaf_level = level;
    if (!(e & 1)) {
      if (level == 1 && (e & (1u << 11)) && !(e & (1u << 10))) {  // transition
        w.pa = (e & kPfnMask) + va % kPage;
      } else {
        w.fault = "not-present";
      }
      return w;
    }
    if ((level == 3 || level == 2) && (e & 0x80)) {
      const uint64_t size = level == 3 ? 0x40000000 : 0x200000;
      w.pa = (e & kPfnMask & ~(size - 1)) + va % size;
      return w;
    }
    table = e & kPfnMask;
  }
  w.pa = table + va % kPage;
  return w;
}

// Reads n bytes at `va` through the page walk (each page must be stored).
std::optional<std::vector<uint8_t>> ReadVa(const std::vector<uint8_t>& b, uint64_t va, size_t n) {
  const PagePlacement p = PagePlacement::Decode(b);
  std::vector<uint8_t> out;
  while (out.size() < n) {
    const Walk w = WalkVa(b, p, va + out.size());
    if (!w.pa) return std::nullopt;
    const std::optional<uint64_t> at = p.Offset(*w.pa);
    if (!at) return std::nullopt;
    const size_t chunk = std::min<size_t>(n - out.size(), kPage - (va + out.size()) % kPage);
    out.insert(out.end(), b.begin() + *at, b.begin() + *at + chunk);
  }
  return out;
}

WrittenKernelDump Write(const KernelScenario& s, KernelDumpType type, const WriteOptions& o = {}) {
  absl::StatusOr<WrittenKernelDump> d = WriteKernelDump(s, type, o);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *std::move(d) : WrittenKernelDump{};
}

constexpr KernelDumpType kPhysicalTypes[] = {
    KernelDumpType::kFull,       KernelDumpType::kBitmapFull,     KernelDumpType::kBitmapKernel,
    KernelDumpType::kRdmpKernel, KernelDumpType::kRdmpKernelUser, KernelDumpType::kRdmpComplete,
};

TEST(KernelDumpWriterTest, HeaderFieldsAtDocumentedOffsets) {
  KernelScenario s = TypicalKernelScenario();
  s.dtb_low_bits = 0x002;
  const WrittenKernelDump d = Write(s, KernelDumpType::kFull);
  const std::vector<uint8_t>& b = d.bytes;
  EXPECT_EQ(Text(b, 0, 8), "PAGEDU64");
  EXPECT_EQ(Get32(b, 0x8), 0xFu);
  EXPECT_EQ(Get32(b, 0xC), 19041u);
  EXPECT_EQ(Get64(b, 0x10), d.layout.directory_table_base);
  EXPECT_EQ(Get64(b, 0x10) & 0xFFF, 0x002u);
  EXPECT_EQ(Get64(b, 0x20), d.layout.ps_loaded_module_list);
  EXPECT_EQ(Get32(b, 0x30), 0x8664u);
  EXPECT_EQ(Get32(b, 0x34), 2u);
  EXPECT_EQ(Get32(b, 0x38), 0x1000007Eu);
  EXPECT_EQ(Text(b, 0x3C, 4), "PAGE");  // padding keeps the fill, as in the real dump
  EXPECT_EQ(Get64(b, 0x48), 0xFFFFF8048B58334Cu);
  EXPECT_EQ(Text(b, 0x60, 4), "PAGE");  // VersionUser
  EXPECT_EQ(Get64(b, 0x80), d.layout.kdbg);
  EXPECT_EQ(Get32(b, 0x348 + 0x30), 0x0010001Fu);   // ContextFlags
  EXPECT_EQ(Get64(b, 0x348 + 0xF8), s.header_context.rip);
  EXPECT_EQ(Text(b, 0x348 + 0x4D0, 4), "PAGE");  // rest of the 3000-byte buffer
  EXPECT_EQ(Get32(b, 0xF00), 0x80000003u);
  EXPECT_EQ(Text(b, 0xF1C, 4), "PAGE");  // past NumberParameters
  EXPECT_EQ(Get32(b, 0xF98), 1u);
  EXPECT_EQ(Get64(b, 0xFA0), b.size());
  EXPECT_EQ(Get64(b, 0xFA8), 0x1d707f23dbb3399u);
  EXPECT_EQ(Text(b, 0x1FFC, 4), "PAGE");
}

TEST(KernelDumpWriterTest, PageFillCanBeTurnedOff) {
  WriteOptions o;
  o.page_fill = false;
  const WrittenKernelDump d = Write(TypicalKernelScenario(), KernelDumpType::kFull, o);
  EXPECT_EQ(Get32(d.bytes, 0x3C), 0u);
  EXPECT_EQ(Get32(d.bytes, 0x1FFC), 0u);
}

TEST(KernelDumpWriterTest, FullDumpPacksRunsInOrderFrom0x2000) {
  WriteOptions o;
  o.runs = {{0x1, 0x9E}, {0x100, 0x80}, {0x400, 0x40}};
  const WrittenKernelDump d = Write(TypicalKernelScenario(), KernelDumpType::kFull, o);
  const std::vector<uint8_t>& b = d.bytes;
  EXPECT_EQ(Get32(b, 0x88), 3u);                         // NumberOfRuns
  EXPECT_EQ(Get64(b, 0x90), 0x9Eu + 0x80 + 0x40);        // NumberOfPages
  EXPECT_EQ(Get64(b, 0xA8), 0x100u);                     // Run[1].BasePage
  EXPECT_EQ(b.size(), 0x2000u + (0x9E + 0x80 + 0x40) * kPage);
  EXPECT_EQ(d.layout.FileOffsetOfPhysical(0x100 * kPage), 0x2000u + 0x9E * kPage);
  EXPECT_EQ(d.layout.FileOffsetOfPhysical(0x401 * kPage + 8), 0x2000u + (0x9E + 0x81) * kPage + 8);
  EXPECT_EQ(d.layout.FileOffsetOfPhysical(0x180 * kPage), std::nullopt);  // the hole
}

TEST(KernelDumpWriterTest, EveryPhysicalTypeWalksToTheMappedBytes) {
  KernelScenario s = TypicalKernelScenario();
  s.dtb_low_bits = 0x002;
  for (KernelDumpType type : kPhysicalTypes) {
    SCOPED_TRACE(static_cast<int>(type));
    const WrittenKernelDump d = Write(s, type);
    const std::vector<uint8_t>& b = d.bytes;
    const std::optional<std::vector<uint8_t>> code = ReadVa(b, 0xFFFFF8048B583000, 16);
    ASSERT_TRUE(code);
    EXPECT_EQ((*code)[0], 0xCC);
    const std::optional<std::vector<uint8_t>> slot = ReadVa(b, 0xFFFF850429892128, 8);
    ASSERT_TRUE(slot);
    EXPECT_EQ(Get64(*slot, 0), 0xFFFFF8048B581234u);
    // KDBG: OwnerTag and the fields the reader follows.
    const std::optional<std::vector<uint8_t>> kdbg = ReadVa(b, d.layout.kdbg, 0x380);
    ASSERT_TRUE(kdbg);
    EXPECT_EQ(Text(*kdbg, 0x10, 4), "KDBG");
    EXPECT_EQ(Get32(*kdbg, 0x14), 0x380u);
    EXPECT_EQ(Get64(*kdbg, 0x18), 0xFFFFF8047BA00000u);
    EXPECT_EQ(Get64(*kdbg, 0x48), d.layout.ps_loaded_module_list);
    EXPECT_EQ(Get64(*kdbg, 0x218), d.layout.ki_processor_block);
    EXPECT_EQ(Get16(*kdbg, 0x2B0), 0xAF00);
    EXPECT_EQ(Get16(*kdbg, 0x338), 0x85C0);
    // Reads agree with the writer's own idea of where things are.
    EXPECT_EQ(d.layout.FileOffsetOfVirtual(d.layout.kdbg),
              PagePlacement::Decode(b).Offset(*WalkVa(b, PagePlacement::Decode(b), d.layout.kdbg).pa));
    EXPECT_EQ(Get64(b, 0xFA0), d.layout.dump_size);
    EXPECT_EQ(b.size(), d.layout.file_size);
  }
}

TEST(KernelDumpWriterTest, ModuleListAndProcessorBlocksAreLinked) {
  const KernelScenario s = TypicalKernelScenario();
  const WrittenKernelDump d = Write(s, KernelDumpType::kBitmapKernel);
  const std::vector<uint8_t>& b = d.bytes;
  const uint64_t head = d.layout.ps_loaded_module_list;
  uint64_t entry = Get64(*ReadVa(b, head, 8), 0);
  std::vector<uint32_t> timestamps;
  for (int i = 0; i < 10 && entry != head; ++i) {
    const std::vector<uint8_t> e = *ReadVa(b, entry, 0xA0);
    // The default layout is Windows 10's: TimeDateStamp at 0x9C.
    timestamps.push_back(Get32(e, 0x9C));
    const uint16_t name_length = Get16(e, 0x58);
    const std::vector<uint8_t> name = *ReadVa(b, Get64(e, 0x60), name_length);
    EXPECT_EQ(name.size(), 2 * s.modules[i].name.size());
    EXPECT_EQ(Get64(e, 0x08), i == 0 ? head : d.layout.module_entries[i - 1]);  // Blink
    entry = Get64(e, 0);
  }
  EXPECT_THAT(timestamps, ElementsAre(0x0D8333E6u, 0xA9A9D36Eu, 0xC9C03000u));

  const std::vector<uint8_t> block = *ReadVa(b, d.layout.ki_processor_block, 16);
  ASSERT_EQ(Get64(block, 0), d.layout.prcbs[0]);
  const std::vector<uint8_t> prcb = *ReadVa(b, d.layout.prcbs[0], 0xAF00);
  EXPECT_EQ(Get64(prcb, 0x8), 0xFFFFC08BDE9E1640u);              // CurrentThread
  EXPECT_EQ(Get64(prcb, 0x1F0 + 0xF8), s.header_context.rip);    // ProcessorState.ContextFrame
  const uint64_t context = Get64(prcb, 0x85C0);
  EXPECT_EQ(context, d.layout.prcb_contexts[0]);
  EXPECT_EQ(Get64(*ReadVa(b, context + 0xF8, 8), 0), s.header_context.rip);

  const std::vector<uint8_t> unloaded = *ReadVa(b, d.layout.mm_unloaded_drivers, 12);
  EXPECT_EQ(Get64(unloaded, 0), d.layout.mm_unloaded_drivers_array);
  EXPECT_EQ(Get32(*ReadVa(b, d.layout.mm_last_unloaded_driver, 4), 0), 2u);
  EXPECT_EQ(Get64(*ReadVa(b, d.layout.mm_unloaded_drivers_array + 0x28 + 0x10, 8), 0),
            0xFFFFF80479D30000u);  // [1].StartAddress
}

TEST(KernelDumpWriterTest, Windows10LdrLayoutMovesTheTimestamp) {
  KernelScenario s = TypicalKernelScenario();
  s.ldr_entry_layout = LdrEntryLayout::kWindows10;
  const WrittenKernelDump d = Write(s, KernelDumpType::kFull);
  const std::vector<uint8_t> e = *ReadVa(d.bytes, d.layout.module_entries[0], 0xA0);
  EXPECT_EQ(Get32(e, 0x80), 0u);
  EXPECT_EQ(Get32(e, 0x9C), 0x0D8333E6u);
}

TEST(KernelDumpWriterTest, BitmapHeaderCountsAndSignatures) {
  const KernelScenario s = TypicalKernelScenario();
  for (KernelDumpType type : {KernelDumpType::kBitmapFull, KernelDumpType::kBitmapKernel}) {
    const WrittenKernelDump d = Write(s, type);
    const std::vector<uint8_t>& b = d.bytes;
    const bool full = type == KernelDumpType::kBitmapFull;
    EXPECT_EQ(Text(b, 0x2000, 8), full ? "FDMPDUMP" : "SDMPDUMP");
    EXPECT_EQ(Get32(b, 0xF98), full ? 5u : 6u);
    const uint64_t bits = Get64(b, 0x2030);
    uint64_t set = 0;
    for (uint64_t i = 0; i < bits; ++i) set += (b[0x2038 + i / 8] >> (i % 8)) & 1;
    EXPECT_EQ(Get64(b, 0x2028), set);  // TotalPresentPages
    EXPECT_EQ(set, d.layout.stored_pages);
    EXPECT_EQ(Get64(b, 0x2020) % kPage, 0u);
    EXPECT_EQ(b.size(), Get64(b, 0x2020) + set * kPage);
    // Default layout: {1, 0x9E}, {0x100, n}; Pages covers PFN 0 to the end of the last run.
    EXPECT_EQ(bits, d.layout.runs.back().base_page + d.layout.runs.back().page_count);
    if (full) {
      EXPECT_EQ(set, 0x9E + d.layout.runs.back().page_count);
    }
  }
}

TEST(KernelDumpWriterTest, BitmapFirstPageAndDumpTypeCanBeOverridden) {
  WriteOptions o;
  o.first_page_offset = 0x3003;
  o.dump_type = 5;  // an SDMP bitmap labelled as a full one
  const WrittenKernelDump d = Write(TypicalKernelScenario(), KernelDumpType::kBitmapKernel, o);
  EXPECT_EQ(Text(d.bytes, 0x2000, 4), "SDMP");
  EXPECT_EQ(Get32(d.bytes, 0xF98), 5u);
  EXPECT_EQ(Get64(d.bytes, 0x2020), 0x3003u);
  const std::optional<std::vector<uint8_t>> code = ReadVa(d.bytes, 0xFFFFF8048B583000, 1);
  ASSERT_TRUE(code);
  EXPECT_EQ((*code)[0], 0xCC);

  o.first_page_offset = 0x2040;  // inside the bitmap
  EXPECT_EQ(WriteKernelDump(TypicalKernelScenario(), KernelDumpType::kBitmapKernel, o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KernelDumpWriterTest, RdmpHeaderAndRanges) {
  const KernelScenario s = TypicalKernelScenario();
  for (KernelDumpType type : {KernelDumpType::kRdmpKernel, KernelDumpType::kRdmpKernelUser,
                              KernelDumpType::kRdmpComplete}) {
    const WrittenKernelDump d = Write(s, type);
    const std::vector<uint8_t>& b = d.bytes;
    EXPECT_EQ(Get32(b, 0x2000), 0x40u);
    EXPECT_EQ(Text(b, 0x2004, 8), "RDMPDUMP");
    const uint64_t metadata_size = Get64(b, 0x2010);
    const uint64_t first_page = Get64(b, 0x2018);
    EXPECT_EQ(first_page - 0x2040, metadata_size - 0x20);
    EXPECT_EQ(first_page % kPage, 0u);
    uint64_t ranges = 0, pages = 0;
    for (uint64_t at = 0x2030; Get64(b, at) != 0; at += 16, ++ranges) pages += Get64(b, at + 8);
    EXPECT_LT(0x2030 + 16 * ranges, first_page);  // the terminator fits
    EXPECT_EQ(b.size(), first_page + pages * kPage);
    if (type == KernelDumpType::kRdmpComplete) {
      EXPECT_EQ(Get32(b, 0xF98), 10u);
      EXPECT_EQ(Get32(b, 0x2020), ranges);  // NumberOfRanges
      EXPECT_EQ(Get64(b, 0x2028), pages);   // TotalNumberOfPages
    } else {
      EXPECT_EQ(Get32(b, 0xF98), type == KernelDumpType::kRdmpKernel ? 8u : 9u);
    }
  }
}

TEST(KernelDumpWriterTest, RdmpCompleteCannotStartARangeAtPfnZero) {
  WriteOptions o;
  o.runs = {{0, 0x200}};
  const WrittenKernelDump d = Write(TypicalKernelScenario(), KernelDumpType::kRdmpComplete, o);
  EXPECT_EQ(Get64(d.bytes, 0x2030), 1u);
  EXPECT_EQ(Get64(d.bytes, 0x2038), 0x1FFu);
  EXPECT_EQ(Get64(d.bytes, 0x88 + 0x10), 0u);  // the header's run still starts at 0
}

TEST(KernelDumpWriterTest, SpecialPageTableEntries) {
  KernelScenario s = TypicalKernelScenario();
  std::vector<uint8_t> transition(kPage, 0x7E);
  s.MapTransition(0xFFFFF80470001000, transition);
  s.MapNotPresent(0xFFFFF80470002000);
  s.MapPageTableOutsideDump(0xFFFFF80470400000);
  s.MapLarge(0xFFFFF80470600000, std::vector<uint8_t>(0x1800, 0x2B), PageSize::k2MiB);
  s.MapLarge(0xFFFFF80500000000, std::vector<uint8_t>(0x10, 0x1B), PageSize::k1GiB);
  s.large_page_pat = true;
  for (KernelDumpType type : {KernelDumpType::kBitmapKernel, KernelDumpType::kRdmpKernel}) {
    const WrittenKernelDump d = Write(s, type);
    const std::vector<uint8_t>& b = d.bytes;
    const PagePlacement p = PagePlacement::Decode(b);

    const Walk t = WalkVa(b, p, 0xFFFFF80470001010);
    ASSERT_TRUE(t.pa);
    EXPECT_EQ(t.leaf_entry & 0xC01, 0x800u);  // P = 0, Prototype = 0, Transition = 1
    EXPECT_EQ(b.at(*p.Offset(*t.pa)), 0x7E);

    const Walk np = WalkVa(b, p, 0xFFFFF80470002000);
    EXPECT_EQ(np.fault, "not-present");
    EXPECT_EQ(np.leaf_level, 1);
    EXPECT_NE(np.leaf_entry, 0u);

    const Walk out = WalkVa(b, p, 0xFFFFF80470400000);
    EXPECT_EQ(out.fault, "table-not-in-dump");
    EXPECT_EQ(d.layout.outside_dump_pfn, 0xA0u);

    const Walk large = WalkVa(b, p, 0xFFFFF80470601004);
    ASSERT_TRUE(large.pa);
    EXPECT_EQ(large.leaf_level, 2);
    EXPECT_EQ(large.leaf_entry & (1u << 12), 1u << 12);  // PAT, not a PFN bit
    EXPECT_EQ(*large.pa % 0x200000, 0x1004u);
    EXPECT_EQ(b.at(*p.Offset(*large.pa)), 0x2B);
    EXPECT_EQ(p.Offset(*large.pa + kPage), std::nullopt);  // past the bytes: not stored

    const Walk huge = WalkVa(b, p, 0xFFFFF80500000008);
    ASSERT_TRUE(huge.pa);
    EXPECT_EQ(huge.leaf_level, 3);
    EXPECT_EQ(*huge.pa, 0x40000008u);  // the first 1 GiB-aligned frame
    EXPECT_EQ(b.at(*p.Offset(*huge.pa)), 0x1B);
  }
}

TEST(KernelDumpWriterTest, TriageLayoutFollowsTheRealDump) {
  KernelScenario s = TypicalKernelScenario();
  WriteOptions o;
  o.secondary_data = DumpBlob({0x10, 0, 0, 0});
  const WrittenKernelDump d = Write(s, KernelDumpType::kTriage, o);
  const std::vector<uint8_t>& b = d.bytes;
  const TriageOffsets& t = d.layout.triage;
  EXPECT_EQ(Get32(b, 0xF98), 4u);
  EXPECT_EQ(Text(b, 0x88, 4), "PAGE");  // no PhysicalMemoryBlock
  EXPECT_EQ(Get32(b, 0x1038), 0xCFFu);  // MiniDumpFields
  EXPECT_EQ(Get32(b, 0x2004), t.size_of_dump);
  EXPECT_EQ(Get32(b, 0x2008), t.valid_offset);
  EXPECT_EQ(Get32(b, 0x200C), 0x348u);
  EXPECT_EQ(Get32(b, 0x2010), 0xF00u);
  EXPECT_EQ(Get32(b, 0x2014), 0x2080u);  // MmOffset, as in the real dump
  EXPECT_EQ(Get32(b, 0x2018), 0x20D0u);  // UnloadedDriversOffset
  EXPECT_EQ(Get32(b, 0x201C), 0x20D0u + 8 + 2 * 56);  // PrcbOffset
  EXPECT_EQ(Get32(b, 0x2020) - Get32(b, 0x201C), 0xAF00u);
  EXPECT_EQ(Text(b, t.valid_offset, 4), "TRGD");
  EXPECT_EQ(t.size_of_dump, t.valid_offset + 4);
  EXPECT_EQ(Get64(b, 0xFA0), t.size_of_dump);
  EXPECT_EQ(Text(b, t.size_of_dump, 8), "DumpBlob");
  EXPECT_EQ(b.size(), t.size_of_dump + 12u);

  // Unloaded drivers: inline names.
  EXPECT_EQ(Get32(b, 0x20D0), 2u);
  EXPECT_EQ(Get16(b, 0x20D8), 14);  // "dam.sys"
  EXPECT_EQ(Get64(b, 0x20D8 + 0x28), 0xFFFFF80487DE0000u);

  // Drivers: DUMP_STRING full paths in the string pool, LDR fields at wdbgexts offsets.
  EXPECT_EQ(Get32(b, 0x2034), 3u);
  const uint32_t name = Get32(b, t.driver_list_offset + 0x90 * 2);
  EXPECT_GE(name, t.string_pool_offset);
  EXPECT_LT(name, t.string_pool_offset + t.string_pool_size);
  EXPECT_EQ(Get32(b, name), std::string("\\SystemRoot\\System32\\drivers\\amdppm.sys").size());
  EXPECT_EQ(Get64(b, t.driver_list_offset + 0x90 * 2 + 8 + 0x30), 0xFFFFF8048B580000u);
  EXPECT_EQ(Get32(b, t.driver_list_offset + 0x90 * 2 + 8 + 0x80), 0xC9C03000u);

  // Stack window: the bytes mapped at TopOfStack.
  EXPECT_EQ(Get64(b, 0x2048), s.header_context.gpr[4]);
  EXPECT_EQ(t.size_of_call_stack, 0x1EE0u);  // cut where the stack mapping ends
  EXPECT_EQ(Get64(b, t.call_stack_offset + 8), 0xFFFFF8048B581234u);  // [rsp + 8]

  // KDBG copy.
  EXPECT_EQ(Get32(b, 0x2074), 0x380u);
  EXPECT_EQ(Text(b, t.debugger_data_offset + 0x10, 4), "KDBG");

  // Data blocks: packed right after the table, inside the dump, none overlapping the
  // stack window or each other.
  const uint32_t count = Get32(b, 0x207C);
  ASSERT_GT(count, 0u);
  uint64_t next = t.data_blocks_offset + 16ull * count;
  std::vector<std::pair<uint64_t, uint64_t>> vas = {
      {t.top_of_stack, t.top_of_stack + t.size_of_call_stack}};
  bool has_prcb = false;
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t at = t.data_blocks_offset + 16ull * i;
    EXPECT_EQ(Get32(b, at + 8), next);
    next += Get32(b, at + 12);
    const uint64_t va = Get64(b, at);
    for (const auto& [begin, end] : vas) {
      EXPECT_FALSE(va < end && begin < va + Get32(b, at + 12)) << std::hex << va;
    }
    vas.emplace_back(va, va + Get32(b, at + 12));
    has_prcb |= va == d.layout.prcbs[0] && Get32(b, at + 12) == 0xAF00;
  }
  EXPECT_LE(next, t.valid_offset);
  EXPECT_TRUE(has_prcb);
  // The code page is a data block; the stack mapping beyond the window is one too.
  EXPECT_EQ(b.at(*d.layout.FileOffsetOfVirtual(0xFFFFF8048B583000)), 0xCC);
  EXPECT_TRUE(d.layout.FileOffsetOfVirtual(0xFFFF850429893FF8));
}

TEST(KernelDumpWriterTest, CorruptionKnobs) {
  KernelScenario s = TypicalKernelScenario();
  s.corruption.module_list_cycle = true;
  s.corruption.last_unloaded_driver = 1000;
  s.encode_kdbg = true;
  const WrittenKernelDump d = Write(s, KernelDumpType::kFull);
  const std::vector<uint8_t>& b = d.bytes;
  EXPECT_EQ(Get64(*ReadVa(b, d.layout.module_entries.back(), 8), 0), d.layout.module_entries[0]);
  EXPECT_EQ(Get32(*ReadVa(b, d.layout.mm_last_unloaded_driver, 4), 0), 1000u);
  EXPECT_NE(Text(*ReadVa(b, d.layout.kdbg, 0x20), 0x10, 4), "KDBG");

  KernelScenario u = TypicalKernelScenario();
  u.corruption.kdbg_unmapped = true;
  u.corruption.triage_driver_count = 5000;
  const WrittenKernelDump t = Write(u, KernelDumpType::kTriage);
  EXPECT_EQ(Get32(t.bytes, 0x2034), 5000u);
  EXPECT_EQ(Get32(t.bytes, 0x2070), 0u);  // no KDBG copy
  const WrittenKernelDump f = Write(u, KernelDumpType::kFull);
  EXPECT_FALSE(ReadVa(f.bytes, Get64(f.bytes, 0x80), 8));
}

TEST(KernelDumpWriterTest, RejectsImpossibleScenarios) {
  KernelScenario overlap = TypicalKernelScenario();
  overlap.Map(0xFFFFF8048B583000, {1});  // the code page again
  absl::Status st = WriteKernelDump(overlap, KernelDumpType::kFull).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("0xfffff8048b583000"));

  KernelScenario noncanonical = TypicalKernelScenario();
  noncanonical.Map(0x0000900000000000, {1});
  EXPECT_EQ(WriteKernelDump(noncanonical, KernelDumpType::kFull).status().code(),
            absl::StatusCode::kInvalidArgument);

  KernelScenario large_over_small = TypicalKernelScenario();
  large_over_small.MapLarge(0xFFFFF8048B400000, {1}, PageSize::k2MiB);  // covers the code page
  EXPECT_EQ(WriteKernelDump(large_over_small, KernelDumpType::kFull).status().code(),
            absl::StatusCode::kInvalidArgument);

  WriteOptions tiny;
  tiny.runs = {{1, 8}};
  EXPECT_EQ(WriteKernelDump(TypicalKernelScenario(), KernelDumpType::kFull, tiny).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(KernelDumpWriterTest, OutputIsDeterministic) {
  for (KernelDumpType type : {KernelDumpType::kBitmapKernel, KernelDumpType::kTriage}) {
    EXPECT_EQ(Write(TypicalKernelScenario(), type).bytes, Write(TypicalKernelScenario(), type).bytes);
  }
}

TEST(KernelDumpWriterTest, SparseFileDescribingMoreThan4GiB) {
  // 1 Mi + 0x9E pages, everything present; the scenario's frames at the top of memory so
  // that their file offsets pass 4 GiB.
  WriteOptions o;
  o.runs = {{0x1, 0x9E}, {0x100, 0x100000}};
  o.first_allocated_pfn = 0x100100 - 0x40;
  const std::string path = ::testing::TempDir() + "kernel_dump_writer_sparse.dmp";
  const absl::StatusOr<KernelDumpLayout> layout =
      WriteKernelDumpFile(TypicalKernelScenario(), KernelDumpType::kBitmapFull, path, o);
  ASSERT_TRUE(layout.ok()) << layout.status();
  struct stat st{};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), layout->file_size);
  EXPECT_GT(layout->file_size, 0x100000000u);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 64u << 20);  // holes cost nothing

  const std::optional<uint64_t> code = layout->FileOffsetOfVirtual(0xFFFFF8048B583000);
  ASSERT_TRUE(code);
  EXPECT_GT(*code, 0x100000000u);
  const int fd = open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  uint8_t byte = 0;
  EXPECT_EQ(pread(fd, &byte, 1, static_cast<off_t>(*code)), 1);
  EXPECT_EQ(byte, 0xCC);
  char signature[4] = {};
  EXPECT_EQ(pread(fd, signature, 4, 0x2000), 4);
  EXPECT_EQ(std::string(signature, 4), "FDMP");
  close(fd);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace restack::test
