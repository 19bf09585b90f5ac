// pe_layout.h - on-disk layouts of the PE32+ structures restack reads
//
// Each struct mirrors the Windows type named in its comment (winnt.h, as
// documented in Microsoft's "PE Format" specification). Fields are
// little-endian fixed-width integers; structs are read only through the
// bounds-checked readers in pe_image.cc, never by casting a pointer.
#pragma once

#include <cstddef>
#include <cstdint>

namespace restack::unwind {

#pragma pack(push, 1)

// IMAGE_DOS_HEADER: only the fields restack uses.
struct ImageDosHeader {
  uint16_t e_magic;  // 'MZ'
  uint8_t unused[58];
  uint32_t e_lfanew;  // file offset of the IMAGE_NT_HEADERS64
};
static_assert(sizeof(ImageDosHeader) == 0x40);
static_assert(offsetof(ImageDosHeader, e_lfanew) == 0x3c);

// IMAGE_FILE_HEADER.
struct ImageFileHeader {
  uint16_t Machine;
  uint16_t NumberOfSections;
  uint32_t TimeDateStamp;
  uint32_t PointerToSymbolTable;
  uint32_t NumberOfSymbols;
  uint16_t SizeOfOptionalHeader;
  uint16_t Characteristics;
};
static_assert(sizeof(ImageFileHeader) == 20);

// IMAGE_DATA_DIRECTORY.
struct ImageDataDirectory {
  uint32_t VirtualAddress;
  uint32_t Size;
};
static_assert(sizeof(ImageDataDirectory) == 8);

// IMAGE_OPTIONAL_HEADER64 without the data directory array, which follows it
// with NumberOfRvaAndSizes entries.
struct ImageOptionalHeader64 {
  uint16_t Magic;  // 0x20b
  uint8_t MajorLinkerVersion;
  uint8_t MinorLinkerVersion;
  uint32_t SizeOfCode;
  uint32_t SizeOfInitializedData;
  uint32_t SizeOfUninitializedData;
  uint32_t AddressOfEntryPoint;
  uint32_t BaseOfCode;
  uint64_t ImageBase;
  uint32_t SectionAlignment;
  uint32_t FileAlignment;
  uint16_t MajorOperatingSystemVersion;
  uint16_t MinorOperatingSystemVersion;
  uint16_t MajorImageVersion;
  uint16_t MinorImageVersion;
  uint16_t MajorSubsystemVersion;
  uint16_t MinorSubsystemVersion;
  uint32_t Win32VersionValue;
  uint32_t SizeOfImage;
  uint32_t SizeOfHeaders;
  uint32_t CheckSum;
  uint16_t Subsystem;
  uint16_t DllCharacteristics;
  uint64_t SizeOfStackReserve;
  uint64_t SizeOfStackCommit;
  uint64_t SizeOfHeapReserve;
  uint64_t SizeOfHeapCommit;
  uint32_t LoaderFlags;
  uint32_t NumberOfRvaAndSizes;
};
static_assert(sizeof(ImageOptionalHeader64) == 112);
static_assert(offsetof(ImageOptionalHeader64, ImageBase) == 24);
static_assert(offsetof(ImageOptionalHeader64, SizeOfImage) == 56);
static_assert(offsetof(ImageOptionalHeader64, CheckSum) == 64);

// IMAGE_SECTION_HEADER.
struct ImageSectionHeader {
  char Name[8];
  uint32_t VirtualSize;
  uint32_t VirtualAddress;
  uint32_t SizeOfRawData;
  uint32_t PointerToRawData;
  uint32_t PointerToRelocations;
  uint32_t PointerToLinenumbers;
  uint16_t NumberOfRelocations;
  uint16_t NumberOfLinenumbers;
  uint32_t Characteristics;
};
static_assert(sizeof(ImageSectionHeader) == 40);

// IMAGE_DEBUG_DIRECTORY.
struct ImageDebugDirectory {
  uint32_t Characteristics;
  uint32_t TimeDateStamp;
  uint16_t MajorVersion;
  uint16_t MinorVersion;
  uint32_t Type;  // IMAGE_DEBUG_TYPE_CODEVIEW = 2
  uint32_t SizeOfData;
  uint32_t AddressOfRawData;
  uint32_t PointerToRawData;
};
static_assert(sizeof(ImageDebugDirectory) == 28);

// CV_INFO_PDB70: the CodeView "RSDS" record a debug directory entry points at.
struct CvInfoPdb70 {
  uint32_t CvSignature;  // 'RSDS'
  uint8_t Signature[16];  // GUID as stored (Data1..3 little-endian)
  uint32_t Age;
  // Followed by a NUL-terminated UTF-8 PDB path.
};
static_assert(sizeof(CvInfoPdb70) == 24);

// IMAGE_EXPORT_DIRECTORY.
struct ImageExportDirectory {
  uint32_t Characteristics;
  uint32_t TimeDateStamp;
  uint16_t MajorVersion;
  uint16_t MinorVersion;
  uint32_t Name;
  uint32_t Base;
  uint32_t NumberOfFunctions;
  uint32_t NumberOfNames;
  uint32_t AddressOfFunctions;
  uint32_t AddressOfNames;
  uint32_t AddressOfNameOrdinals;
};
static_assert(sizeof(ImageExportDirectory) == 40);

// IMAGE_RUNTIME_FUNCTION_ENTRY (RUNTIME_FUNCTION): one .pdata entry.
struct ImageRuntimeFunctionEntry {
  uint32_t BeginAddress;
  uint32_t EndAddress;
  uint32_t UnwindData;  // UnwindInfoAddress; low bit set = indirect entry
};
static_assert(sizeof(ImageRuntimeFunctionEntry) == 12);

#pragma pack(pop)

inline constexpr uint16_t kImageDosSignature = 0x5A4D;        // 'MZ'
inline constexpr uint32_t kImageNtSignature = 0x00004550;     // 'PE\0\0'
inline constexpr uint16_t kImageNtOptionalHdr64Magic = 0x20b;  // PE32+
inline constexpr uint16_t kImageFileMachineAmd64 = 0x8664;
inline constexpr uint32_t kImageScnCntCode = 0x00000020;
inline constexpr uint32_t kImageScnMemExecute = 0x20000000;
inline constexpr uint32_t kImageDebugTypeCodeView = 2;
inline constexpr uint32_t kCvSignatureRsds = 0x53445352;  // 'RSDS'

// Data directory indices (IMAGE_DIRECTORY_ENTRY_*).
enum class DataDirectoryIndex : uint32_t {
  kExport = 0,
  kImport = 1,
  kResource = 2,
  kException = 3,
  kSecurity = 4,
  kBaseReloc = 5,
  kDebug = 6,
};

}  // namespace restack::unwind
