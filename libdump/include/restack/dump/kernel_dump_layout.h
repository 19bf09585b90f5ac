// kernel_dump_layout.h - on-disk x64 kernel dump structures (DUMP_HEADER64 and friends)
//
// Named as Windows names them. Sources (facts only): Microsoft's wdbgexts.h
// (KDDEBUGGER_DATA64), kdmp-parser's kdmp-parser-structs.h (HEADER64,
// BMP_HEADER64, RDMP_HEADER64), rizin's librz/bin/format/dmp/dmp_specs.h
// (TRIAGE_DUMP64, driver list entries), checked against the real Windows 10
// triage dump in ../shared/real/dumps. Read only through libdump's
// bounds-checked ReadStruct; never by casting file bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace restack::dump {

#pragma pack(push, 1)

// PHYSICAL_MEMORY_RUN64.
struct PHYSICAL_MEMORY_RUN64 {
  uint64_t BasePage;
  uint64_t PageCount;
};
static_assert(sizeof(PHYSICAL_MEMORY_RUN64) == 0x10);

// DUMP_HEADER64: the first 0x2000 bytes of every x64 kernel dump. Windows
// fills unused parts with the 'PAGE' pattern.
struct DUMP_HEADER64 {
  uint32_t Signature;  // 'PAGE'
  uint32_t ValidDump;  // 'DU64'
  uint32_t MajorVersion;  // 0xF free build, 0xC checked build
  uint32_t MinorVersion;  // OS build number
  uint64_t DirectoryTableBase;
  uint64_t PfnDataBase;
  uint64_t PsLoadedModuleList;
  uint64_t PsActiveProcessHead;
  uint32_t MachineImageType;  // 0x8664
  uint32_t NumberProcessors;
  uint32_t BugCheckCode;
  uint32_t Padding0;
  uint64_t BugCheckParameter[4];
  uint8_t VersionUser[32];
  uint64_t KdDebuggerDataBlock;
  // PHYSICAL_MEMORY_DESCRIPTOR64 in a 700-byte buffer (padded to 0x2C0):
  uint32_t NumberOfRuns;
  uint32_t Padding1;
  uint64_t NumberOfPages;
  uint8_t RunBuffer[0x2C0 - 0x10];
  uint8_t ContextRecord[3000];  // an x64 CONTEXT (0x4D0) at its start
  uint8_t Exception[0x98];      // EXCEPTION_RECORD64
  uint32_t DumpType;
  uint32_t Padding2;
  uint64_t RequiredDumpSpace;
  uint64_t SystemTime;
  uint8_t Comment[128];
  uint64_t SystemUpTime;
  uint32_t MiniDumpFields;
  uint32_t SecondaryDataState;
  uint32_t ProductType;
  uint32_t SuiteMask;
  uint32_t WriterStatus;
  uint8_t Unused1;
  uint8_t KdSecondaryVersion;
  uint8_t Unused[2];
  uint8_t Reserved[0x2000 - 0x1050];
};
static_assert(sizeof(DUMP_HEADER64) == 0x2000);
static_assert(offsetof(DUMP_HEADER64, DirectoryTableBase) == 0x10);
static_assert(offsetof(DUMP_HEADER64, MachineImageType) == 0x30);
static_assert(offsetof(DUMP_HEADER64, BugCheckCode) == 0x38);
static_assert(offsetof(DUMP_HEADER64, BugCheckParameter) == 0x40);
static_assert(offsetof(DUMP_HEADER64, KdDebuggerDataBlock) == 0x80);
static_assert(offsetof(DUMP_HEADER64, NumberOfRuns) == 0x88);
static_assert(offsetof(DUMP_HEADER64, RunBuffer) == 0x98);
static_assert(offsetof(DUMP_HEADER64, ContextRecord) == 0x348);
static_assert(offsetof(DUMP_HEADER64, Exception) == 0xF00);
static_assert(offsetof(DUMP_HEADER64, DumpType) == 0xF98);
static_assert(offsetof(DUMP_HEADER64, RequiredDumpSpace) == 0xFA0);
static_assert(offsetof(DUMP_HEADER64, SystemTime) == 0xFA8);
static_assert(offsetof(DUMP_HEADER64, SystemUpTime) == 0x1030);
static_assert(offsetof(DUMP_HEADER64, KdSecondaryVersion) == 0x104D);

inline constexpr uint32_t kDumpSignature = 0x45474150;     // 'PAGE'
inline constexpr uint32_t kDumpValidDump64 = 0x34365544;   // 'DU64'
// DMP_PHYSICAL_MEMORY_BLOCK_SIZE_64 is 700 bytes: 42 runs after the 16-byte head.
inline constexpr uint32_t kMaxPhysicalRuns = (700 - 0x10) / sizeof(PHYSICAL_MEMORY_RUN64);
inline constexpr uint64_t kKernelPageSize = 0x1000;

// DumpType values as writers use them (they disagree on 5/6/7; restack goes by content).
inline constexpr uint32_t kDumpTypeFull = 1;
inline constexpr uint32_t kDumpTypeSummary = 2;
inline constexpr uint32_t kDumpTypeHeader = 3;
inline constexpr uint32_t kDumpTypeTriage = 4;
inline constexpr uint32_t kDumpTypeBitmapFull = 5;
inline constexpr uint32_t kDumpTypeBitmapKernel = 6;
inline constexpr uint32_t kDumpTypeAutomatic = 7;
inline constexpr uint32_t kDumpTypeRdmpKernel = 8;       // `.dump /k`
inline constexpr uint32_t kDumpTypeRdmpKernelUser = 9;   // `.dump /ka`
inline constexpr uint32_t kDumpTypeRdmpComplete = 10;    // `.dump /f`

// BMP_HEADER64 at 0x2000 of bitmap dumps.
struct BMP_HEADER64 {
  uint32_t Signature;  // 'SDMP' (kernel) or 'FDMP' (full)
  uint32_t ValidDump;  // 'DUMP'
  uint8_t Padding[0x18];
  uint64_t FirstPage;          // absolute file offset of the first present page
  uint64_t TotalPresentPages;  // bits set in the bitmap
  uint64_t Pages;              // bits in the bitmap
  // uint8_t Bitmap[Pages / 8] follows at 0x38.
};
static_assert(sizeof(BMP_HEADER64) == 0x38);
static_assert(offsetof(BMP_HEADER64, FirstPage) == 0x20);

inline constexpr uint32_t kBmpSignatureKernel = 0x504D4453;  // 'SDMP'
inline constexpr uint32_t kBmpSignatureFull = 0x504D4446;    // 'FDMP'
inline constexpr uint32_t kBmpValidDump = 0x504D5544;        // 'DUMP'

// RDMP_HEADER64 at 0x2000 of WinDbgX dumps (DumpType 8, 9, 10).
struct RDMP_HEADER64 {
  uint32_t Marker;     // 0x40
  uint32_t Signature;  // 'RDMP'
  uint32_t ValidDump;  // 'DUMP'
  uint32_t Unused;
  uint64_t MetadataSize;     // bytes from 0x2020 to FirstPageOffset
  uint64_t FirstPageOffset;  // absolute file offset of the first page
  // 8/9: two unknown u64; 10: NumberOfRanges u32, two u16, TotalNumberOfPages u64.
  uint64_t Field0;
  uint64_t Field1;
  // PFN_RANGE64 ranges from 0x2030, up to FirstPageOffset or a zero PFN.
};
static_assert(sizeof(RDMP_HEADER64) == 0x30);

inline constexpr uint32_t kRdmpMarker = 0x40;
inline constexpr uint32_t kRdmpSignature = 0x504D4452;  // 'RDMP'

// One range of present pages in an RDMP dump.
struct PFN_RANGE64 {
  uint64_t PageFileNumber;
  uint64_t NumberOfPages;
};
static_assert(sizeof(PFN_RANGE64) == 0x10);

// TRIAGE_DUMP64 at 0x2000 of kernel minidumps (DumpType 4). Offsets are
// absolute file offsets.
struct TRIAGE_DUMP64 {
  uint32_t ServicePackBuild;
  uint32_t SizeOfDump;
  uint32_t ValidOffset;
  uint32_t ContextOffset;
  uint32_t ExceptionOffset;
  uint32_t MmOffset;
  uint32_t UnloadedDriversOffset;
  uint32_t PrcbOffset;
  uint32_t ProcessOffset;
  uint32_t ThreadOffset;
  uint32_t CallStackOffset;
  uint32_t SizeOfCallStack;
  uint32_t DriverListOffset;
  uint32_t DriverCount;
  uint32_t StringPoolOffset;
  uint32_t StringPoolSize;
  uint32_t BrokenDriverOffset;
  uint32_t TriageOptions;
  uint64_t TopOfStack;
  uint32_t BStoreOffset;  // ArchitectureSpecific (IA-64 only)
  uint32_t SizeOfBStore;
  uint64_t LimitOfBStore;
  uint64_t DataPageAddress;
  uint32_t DataPageOffset;
  uint32_t DataPageSize;
  uint32_t DebuggerDataOffset;
  uint32_t DebuggerDataSize;
  uint32_t DataBlocksOffset;
  uint32_t DataBlocksCount;
};
static_assert(sizeof(TRIAGE_DUMP64) == 0x80);
static_assert(offsetof(TRIAGE_DUMP64, TopOfStack) == 0x48);
static_assert(offsetof(TRIAGE_DUMP64, DataPageAddress) == 0x60);
static_assert(offsetof(TRIAGE_DUMP64, DataBlocksCount) == 0x7C);

inline constexpr uint32_t kTriageValidDump = 0x44475254;  // 'TRGD'

// TRIAGE_DATA_BLOCK64.
struct TRIAGE_DATA_BLOCK64 {
  uint64_t VirtualAddress;
  uint32_t Offset;
  uint32_t Size;
};
static_assert(sizeof(TRIAGE_DATA_BLOCK64) == 0x10);

// UNICODE_STRING64.
struct UNICODE_STRING64 {
  uint16_t Length;  // bytes, without a terminator
  uint16_t MaximumLength;
  uint32_t Padding;
  uint64_t Buffer;
};
static_assert(sizeof(UNICODE_STRING64) == 0x10);

// KLDR_DATA_TABLE_ENTRY (x64), the part restack reads.
struct KLDR_DATA_TABLE_ENTRY64 {
  uint64_t InLoadOrderFlink;
  uint64_t InLoadOrderBlink;
  uint64_t ExceptionTable;
  uint32_t ExceptionTableSize;
  uint32_t Padding0;
  uint64_t GpValue;
  uint64_t NonPagedDebugInfo;
  uint64_t DllBase;
  uint64_t EntryPoint;
  uint32_t SizeOfImage;
  uint32_t Padding1;
  UNICODE_STRING64 FullDllName;
  UNICODE_STRING64 BaseDllName;
  uint32_t Flags;
  uint16_t LoadCount;
  uint16_t Padding2;
  uint64_t SectionPointer;
  uint32_t CheckSum;
  uint32_t Padding3;
  uint32_t TimeDateStamp;
  uint32_t Padding4;
};
static_assert(sizeof(KLDR_DATA_TABLE_ENTRY64) == 0x88);
static_assert(offsetof(KLDR_DATA_TABLE_ENTRY64, DllBase) == 0x30);
static_assert(offsetof(KLDR_DATA_TABLE_ENTRY64, SizeOfImage) == 0x40);
static_assert(offsetof(KLDR_DATA_TABLE_ENTRY64, FullDllName) == 0x48);
static_assert(offsetof(KLDR_DATA_TABLE_ENTRY64, BaseDllName) == 0x58);
static_assert(offsetof(KLDR_DATA_TABLE_ENTRY64, CheckSum) == 0x78);
static_assert(offsetof(KLDR_DATA_TABLE_ENTRY64, TimeDateStamp) == 0x80);

// Where the in-memory KLDR_DATA_TABLE_ENTRY keeps TimeDateStamp: at 0x80 (the
// layout above, which triage driver lists use) before Windows 7; nowhere in
// Windows 7 and 8.x; at 0x9C from Windows 10 on.
inline constexpr uint32_t kFirstWindows7Build = 7600;
inline constexpr uint32_t kFirstWindows10Build = 10240;
inline constexpr uint32_t kLdrTimeDateStampWindows10 = 0x9C;

// DUMP_DRIVER_ENTRY64: one triage driver-list entry.
struct DUMP_DRIVER_ENTRY64 {
  uint32_t DriverNameOffset;  // file offset of a DUMP_STRING
  uint32_t Padding;
  KLDR_DATA_TABLE_ENTRY64 LdrEntry;
};
static_assert(sizeof(DUMP_DRIVER_ENTRY64) == 0x90);

// DUMP_UNLOADED_DRIVERS64: one triage unloaded-driver entry (after a u32
// count and 4 bytes of padding).
struct DUMP_UNLOADED_DRIVERS64 {
  UNICODE_STRING64 Name;
  uint16_t DriverName[12];  // MAX_UNLOADED_NAME_LENGTH / sizeof(WCHAR), inline copy
  uint64_t StartAddress;
  uint64_t EndAddress;
};
static_assert(sizeof(DUMP_UNLOADED_DRIVERS64) == 0x38);

// MM_UNLOADED_DRIVER: one entry of the kernel's MmUnloadedDrivers array.
struct MM_UNLOADED_DRIVER64 {
  UNICODE_STRING64 Name;
  uint64_t StartAddress;
  uint64_t EndAddress;
  uint64_t CurrentTime;
};
static_assert(sizeof(MM_UNLOADED_DRIVER64) == 0x28);
inline constexpr uint32_t kMaxMmUnloadedDrivers = 50;  // MI_UNLOADED_DRIVERS

// Offsets in KDDEBUGGER_DATA64 (wdbgexts.h) of the fields restack reads.
struct KdDebuggerDataOffsets {
  static constexpr uint32_t kOwnerTag = 0x10;  // DBGKD_DEBUG_DATA_HEADER64.OwnerTag
  static constexpr uint32_t kSize = 0x14;
  static constexpr uint32_t kKernBase = 0x18;
  static constexpr uint32_t kPsLoadedModuleList = 0x48;
  static constexpr uint32_t kKiProcessorBlock = 0x218;
  static constexpr uint32_t kMmUnloadedDrivers = 0x220;
  static constexpr uint32_t kMmLastUnloadedDriver = 0x228;
  static constexpr uint32_t kSizePrcb = 0x2B0;
  static constexpr uint32_t kOffsetPrcbCurrentThread = 0x2B4;
  static constexpr uint32_t kOffsetPrcbProcStateContext = 0x2BC;
  static constexpr uint32_t kOffsetPrcbNumber = 0x2BE;
  static constexpr uint32_t kOffsetPrcbContext = 0x338;  // Windows 7 and later
  static constexpr uint32_t kMinimumSize = 0x340;        // through OffsetPrcbContext
};
inline constexpr uint32_t kKdbgOwnerTag = 0x4742444B;  // 'KDBG'

#pragma pack(pop)

}  // namespace restack::dump
