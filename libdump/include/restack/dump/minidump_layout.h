// minidump_layout.h - on-disk MDMP structures (minidumpapiset.h, winnt.h x64 CONTEXT, RSDS)
//
// Each struct is declared as Microsoft's minidumpapiset.h / winnt.h / verrsrc.h declare it,
// with the same names, fixed-width little-endian fields and the same packing
// (minidumpapiset.h is included under `#pragma pack(4)`). Sizes and field offsets are
// checked below against the documented values (they also match LLVM's
// llvm/BinaryFormat/Minidump.h and rust-minidump's minidump-common/src/format.rs).
//
// Read these only through the bounds-checked ReadStruct<T>() in libdump/src; never
// reinterpret_cast file bytes. Display code stays out of this header.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace restack::dump {

static_assert(std::endian::native == std::endian::little,
              "MDMP fields are little-endian; restack reads them with memcpy");

// MINIDUMP_SIGNATURE: 'MDMP' read as a little-endian uint32.
inline constexpr uint32_t kMinidumpSignature = 0x50'4D'44'4D;  // file bytes "MDMP"
// MINIDUMP_VERSION: the low 16 bits of MINIDUMP_HEADER.Version. The high 16 bits are
// "implementation specific" (Windows puts a build number there, Wine writes 0).
inline constexpr uint32_t kMinidumpVersion = 0xA793;

// MINIDUMP_STREAM_TYPE (minidumpapiset.h). Values are the on-disk StreamType.
enum MinidumpStreamType : uint32_t {
  UnusedStream = 0,  // padding entry; Wine pads the directory to a multiple of 4 with these
  ReservedStream0 = 1,
  ReservedStream1 = 2,
  ThreadListStream = 3,
  ModuleListStream = 4,
  MemoryListStream = 5,
  ExceptionStream = 6,
  SystemInfoStream = 7,
  ThreadExListStream = 8,
  Memory64ListStream = 9,
  CommentStreamA = 10,
  CommentStreamW = 11,
  HandleDataStream = 12,
  FunctionTableStream = 13,
  UnloadedModuleListStream = 14,
  MiscInfoStream = 15,
  MemoryInfoListStream = 16,
  ThreadInfoListStream = 17,
  HandleOperationListStream = 18,
  TokenStream = 19,
  JavaScriptDataStream = 20,
  SystemMemoryInfoStream = 21,
  ProcessVmCountersStream = 22,
  IptTraceStream = 23,
  ThreadNamesStream = 24,
  LastReservedStream = 0xFFFF,
};

// Not a Microsoft type: Wine's dbghelp writes its host (ELF/.so) module list, laid out
// as a MINIDUMP_MODULE_LIST, under this type inside Microsoft's reserved range
// (dlls/dbghelp/minidump.c: "FIXME: this is part of MS reserved streams").
inline constexpr uint32_t kWineElfModuleListStream = 0xFFF0;

// PROCESSOR_ARCHITECTURE_* (winnt.h), as stored in MINIDUMP_SYSTEM_INFO.
inline constexpr uint16_t kProcessorArchitectureIntel = 0;
inline constexpr uint16_t kProcessorArchitectureArm = 5;
inline constexpr uint16_t kProcessorArchitectureIa64 = 6;
inline constexpr uint16_t kProcessorArchitectureAmd64 = 9;
inline constexpr uint16_t kProcessorArchitectureArm64 = 12;
inline constexpr uint16_t kProcessorArchitectureUnknown = 0xFFFF;

// EXCEPTION_MAXIMUM_PARAMETERS (winnt.h): size of ExceptionInformation[].
inline constexpr uint32_t kExceptionMaximumParameters = 15;

// VS_FFI_SIGNATURE (verrsrc.h): VS_FIXEDFILEINFO.dwSignature when the info is present.
inline constexpr uint32_t kVsFfiSignature = 0xFEEF04BD;

// CodeView signatures at the start of a MINIDUMP_MODULE.CvRecord.
inline constexpr uint32_t kCvSignatureRsds = 0x53'44'53'52;  // file bytes "RSDS" (PDB 7.0)
inline constexpr uint32_t kCvSignatureNb10 = 0x30'31'42'4E;  // file bytes "NB10" (PDB 2.0)

#pragma pack(push, 4)

// MINIDUMP_LOCATION_DESCRIPTOR: a 32-bit (size, file offset) pair.
struct MINIDUMP_LOCATION_DESCRIPTOR {
  static constexpr const char kName[] = "MINIDUMP_LOCATION_DESCRIPTOR";
  uint32_t DataSize;
  uint32_t Rva;
};
static_assert(sizeof(MINIDUMP_LOCATION_DESCRIPTOR) == 0x8);
static_assert(offsetof(MINIDUMP_LOCATION_DESCRIPTOR, Rva) == 0x4);

// MINIDUMP_LOCATION_DESCRIPTOR64: a 64-bit (size, file offset) pair.
struct MINIDUMP_LOCATION_DESCRIPTOR64 {
  static constexpr const char kName[] = "MINIDUMP_LOCATION_DESCRIPTOR64";
  uint64_t DataSize;
  uint64_t Rva;
};
static_assert(sizeof(MINIDUMP_LOCATION_DESCRIPTOR64) == 0x10);
static_assert(offsetof(MINIDUMP_LOCATION_DESCRIPTOR64, Rva) == 0x8);

// MINIDUMP_HEADER: at file offset 0.
struct MINIDUMP_HEADER {
  static constexpr const char kName[] = "MINIDUMP_HEADER";
  uint32_t Signature;           // kMinidumpSignature
  uint32_t Version;             // low 16 bits: kMinidumpVersion
  uint32_t NumberOfStreams;     // entries in the stream directory
  uint32_t StreamDirectoryRva;  // file offset of MINIDUMP_DIRECTORY[NumberOfStreams]
  uint32_t CheckSum;            // 0 in files written by Windows and Wine
  uint32_t TimeDateStamp;       // time_t (seconds since 1970, UTC)
  uint64_t Flags;               // MINIDUMP_TYPE the writer was asked for
};
static_assert(sizeof(MINIDUMP_HEADER) == 0x20);
static_assert(offsetof(MINIDUMP_HEADER, Version) == 0x4);
static_assert(offsetof(MINIDUMP_HEADER, NumberOfStreams) == 0x8);
static_assert(offsetof(MINIDUMP_HEADER, StreamDirectoryRva) == 0xC);
static_assert(offsetof(MINIDUMP_HEADER, CheckSum) == 0x10);
static_assert(offsetof(MINIDUMP_HEADER, TimeDateStamp) == 0x14);
static_assert(offsetof(MINIDUMP_HEADER, Flags) == 0x18);

// MINIDUMP_DIRECTORY: one stream directory entry.
struct MINIDUMP_DIRECTORY {
  static constexpr const char kName[] = "MINIDUMP_DIRECTORY";
  uint32_t StreamType;  // MinidumpStreamType or a vendor value
  MINIDUMP_LOCATION_DESCRIPTOR Location;
};
static_assert(sizeof(MINIDUMP_DIRECTORY) == 0xC);
static_assert(offsetof(MINIDUMP_DIRECTORY, Location) == 0x4);

// MINIDUMP_STRING: uint32 Length in bytes (without the terminator), then UTF-16LE
// Buffer[]. Only the fixed part is declared; the buffer follows it.
struct MINIDUMP_STRING {
  static constexpr const char kName[] = "MINIDUMP_STRING";
  uint32_t Length;
};
static_assert(sizeof(MINIDUMP_STRING) == 0x4);

// MINIDUMP_MEMORY_DESCRIPTOR: a memory range whose bytes live at Memory.Rva.
struct MINIDUMP_MEMORY_DESCRIPTOR {
  static constexpr const char kName[] = "MINIDUMP_MEMORY_DESCRIPTOR";
  uint64_t StartOfMemoryRange;
  MINIDUMP_LOCATION_DESCRIPTOR Memory;
};
static_assert(sizeof(MINIDUMP_MEMORY_DESCRIPTOR) == 0x10);
static_assert(offsetof(MINIDUMP_MEMORY_DESCRIPTOR, Memory) == 0x8);

// MINIDUMP_MEMORY_DESCRIPTOR64: a range in a Memory64ListStream; its bytes follow the
// previous range's bytes, starting at MINIDUMP_MEMORY64_LIST.BaseRva.
struct MINIDUMP_MEMORY_DESCRIPTOR64 {
  static constexpr const char kName[] = "MINIDUMP_MEMORY_DESCRIPTOR64";
  uint64_t StartOfMemoryRange;
  uint64_t DataSize;
};
static_assert(sizeof(MINIDUMP_MEMORY_DESCRIPTOR64) == 0x10);
static_assert(offsetof(MINIDUMP_MEMORY_DESCRIPTOR64, DataSize) == 0x8);

// MINIDUMP_MEMORY_LIST: fixed part; MINIDUMP_MEMORY_DESCRIPTOR[NumberOfMemoryRanges]
// follows (some producers put 4 bytes of padding before the array).
struct MINIDUMP_MEMORY_LIST {
  static constexpr const char kName[] = "MINIDUMP_MEMORY_LIST";
  uint32_t NumberOfMemoryRanges;
};
static_assert(sizeof(MINIDUMP_MEMORY_LIST) == 0x4);

// MINIDUMP_MEMORY64_LIST: fixed part; MINIDUMP_MEMORY_DESCRIPTOR64[] follows.
struct MINIDUMP_MEMORY64_LIST {
  static constexpr const char kName[] = "MINIDUMP_MEMORY64_LIST";
  uint64_t NumberOfMemoryRanges;
  uint64_t BaseRva;  // file offset of the first range's bytes (64-bit: dumps may exceed 4 GiB)
};
static_assert(sizeof(MINIDUMP_MEMORY64_LIST) == 0x10);
static_assert(offsetof(MINIDUMP_MEMORY64_LIST, BaseRva) == 0x8);

// MINIDUMP_THREAD: one ThreadListStream entry.
struct MINIDUMP_THREAD {
  static constexpr const char kName[] = "MINIDUMP_THREAD";
  uint32_t ThreadId;
  uint32_t SuspendCount;
  uint32_t PriorityClass;
  uint32_t Priority;
  uint64_t Teb;                                // thread environment block address
  MINIDUMP_MEMORY_DESCRIPTOR Stack;            // captured stack bytes
  MINIDUMP_LOCATION_DESCRIPTOR ThreadContext;  // CONTEXT of the thread's architecture
};
static_assert(sizeof(MINIDUMP_THREAD) == 0x30);
static_assert(offsetof(MINIDUMP_THREAD, SuspendCount) == 0x4);
static_assert(offsetof(MINIDUMP_THREAD, PriorityClass) == 0x8);
static_assert(offsetof(MINIDUMP_THREAD, Priority) == 0xC);
static_assert(offsetof(MINIDUMP_THREAD, Teb) == 0x10);
static_assert(offsetof(MINIDUMP_THREAD, Stack) == 0x18);
static_assert(offsetof(MINIDUMP_THREAD, ThreadContext) == 0x28);

// MINIDUMP_THREAD_LIST: fixed part; MINIDUMP_THREAD[NumberOfThreads] follows.
struct MINIDUMP_THREAD_LIST {
  static constexpr const char kName[] = "MINIDUMP_THREAD_LIST";
  uint32_t NumberOfThreads;
};
static_assert(sizeof(MINIDUMP_THREAD_LIST) == 0x4);

// VS_FIXEDFILEINFO (verrsrc.h): a module's version resource root, or zeros.
struct VS_FIXEDFILEINFO {
  static constexpr const char kName[] = "VS_FIXEDFILEINFO";
  uint32_t dwSignature;  // kVsFfiSignature when present
  uint32_t dwStrucVersion;
  uint32_t dwFileVersionMS;
  uint32_t dwFileVersionLS;
  uint32_t dwProductVersionMS;
  uint32_t dwProductVersionLS;
  uint32_t dwFileFlagsMask;
  uint32_t dwFileFlags;
  uint32_t dwFileOS;
  uint32_t dwFileType;
  uint32_t dwFileSubtype;
  uint32_t dwFileDateMS;
  uint32_t dwFileDateLS;
};
static_assert(sizeof(VS_FIXEDFILEINFO) == 0x34);
static_assert(offsetof(VS_FIXEDFILEINFO, dwFileVersionMS) == 0x8);
static_assert(offsetof(VS_FIXEDFILEINFO, dwProductVersionMS) == 0x10);
static_assert(offsetof(VS_FIXEDFILEINFO, dwFileDateLS) == 0x30);

// MINIDUMP_MODULE: one ModuleListStream entry. Packed to 4, so Reserved0 sits at 0x5C.
struct MINIDUMP_MODULE {
  static constexpr const char kName[] = "MINIDUMP_MODULE";
  uint64_t BaseOfImage;
  uint32_t SizeOfImage;
  uint32_t CheckSum;
  uint32_t TimeDateStamp;
  uint32_t ModuleNameRva;  // file offset of a MINIDUMP_STRING
  VS_FIXEDFILEINFO VersionInfo;
  MINIDUMP_LOCATION_DESCRIPTOR CvRecord;    // CodeView record (RSDS, NB10) or empty
  MINIDUMP_LOCATION_DESCRIPTOR MiscRecord;  // IMAGE_DEBUG_MISC or empty
  uint64_t Reserved0;
  uint64_t Reserved1;
};
static_assert(sizeof(MINIDUMP_MODULE) == 0x6C);
static_assert(offsetof(MINIDUMP_MODULE, SizeOfImage) == 0x8);
static_assert(offsetof(MINIDUMP_MODULE, CheckSum) == 0xC);
static_assert(offsetof(MINIDUMP_MODULE, TimeDateStamp) == 0x10);
static_assert(offsetof(MINIDUMP_MODULE, ModuleNameRva) == 0x14);
static_assert(offsetof(MINIDUMP_MODULE, VersionInfo) == 0x18);
static_assert(offsetof(MINIDUMP_MODULE, CvRecord) == 0x4C);
static_assert(offsetof(MINIDUMP_MODULE, MiscRecord) == 0x54);
static_assert(offsetof(MINIDUMP_MODULE, Reserved0) == 0x5C);
static_assert(offsetof(MINIDUMP_MODULE, Reserved1) == 0x64);

// MINIDUMP_MODULE_LIST: fixed part; MINIDUMP_MODULE[NumberOfModules] follows.
struct MINIDUMP_MODULE_LIST {
  static constexpr const char kName[] = "MINIDUMP_MODULE_LIST";
  uint32_t NumberOfModules;
};
static_assert(sizeof(MINIDUMP_MODULE_LIST) == 0x4);

// CPU_INFORMATION (minidumpapiset.h): a union; X86CpuInfo for x86 and AMD64, else
// OtherCpuInfo.ProcessorFeatures[2]. Kept as raw words; see the accessors.
struct CPU_INFORMATION {
  static constexpr const char kName[] = "CPU_INFORMATION";
  uint32_t Words[6];
  // X86CpuInfo.VendorId[3]: cpuid(0) ebx, edx, ecx ("GenuineIntel", "AuthenticAMD").
  const uint32_t* VendorId() const { return &Words[0]; }
  uint32_t VersionInformation() const { return Words[3]; }      // cpuid(1) eax
  uint32_t FeatureInformation() const { return Words[4]; }      // cpuid(1) edx
  uint32_t AMDExtendedCpuFeatures() const { return Words[5]; }  // cpuid(0x80000001) edx
};
static_assert(sizeof(CPU_INFORMATION) == 0x18);

// MINIDUMP_SYSTEM_INFO: the SystemInfoStream.
struct MINIDUMP_SYSTEM_INFO {
  static constexpr const char kName[] = "MINIDUMP_SYSTEM_INFO";
  uint16_t ProcessorArchitecture;  // kProcessorArchitecture*
  uint16_t ProcessorLevel;
  uint16_t ProcessorRevision;
  uint8_t NumberOfProcessors;
  uint8_t ProductType;  // VER_NT_WORKSTATION = 1, VER_NT_DOMAIN_CONTROLLER = 2, VER_NT_SERVER = 3
  uint32_t MajorVersion;
  uint32_t MinorVersion;
  uint32_t BuildNumber;
  uint32_t PlatformId;     // VER_PLATFORM_WIN32_NT = 2
  uint32_t CSDVersionRva;  // file offset of a MINIDUMP_STRING ("Service Pack 1" or "")
  uint16_t SuiteMask;
  uint16_t Reserved2;
  CPU_INFORMATION Cpu;
};
static_assert(sizeof(MINIDUMP_SYSTEM_INFO) == 0x38);
static_assert(offsetof(MINIDUMP_SYSTEM_INFO, ProcessorLevel) == 0x2);
static_assert(offsetof(MINIDUMP_SYSTEM_INFO, ProcessorRevision) == 0x4);
static_assert(offsetof(MINIDUMP_SYSTEM_INFO, NumberOfProcessors) == 0x6);
static_assert(offsetof(MINIDUMP_SYSTEM_INFO, ProductType) == 0x7);
static_assert(offsetof(MINIDUMP_SYSTEM_INFO, MajorVersion) == 0x8);
static_assert(offsetof(MINIDUMP_SYSTEM_INFO, MinorVersion) == 0xC);
static_assert(offsetof(MINIDUMP_SYSTEM_INFO, BuildNumber) == 0x10);
static_assert(offsetof(MINIDUMP_SYSTEM_INFO, PlatformId) == 0x14);
static_assert(offsetof(MINIDUMP_SYSTEM_INFO, CSDVersionRva) == 0x18);
static_assert(offsetof(MINIDUMP_SYSTEM_INFO, SuiteMask) == 0x1C);
static_assert(offsetof(MINIDUMP_SYSTEM_INFO, Cpu) == 0x20);

// MINIDUMP_EXCEPTION: an EXCEPTION_RECORD with 64-bit pointers.
struct MINIDUMP_EXCEPTION {
  static constexpr const char kName[] = "MINIDUMP_EXCEPTION";
  uint32_t ExceptionCode;     // NTSTATUS, e.g. 0xC0000005 (STATUS_ACCESS_VIOLATION)
  uint32_t ExceptionFlags;    // EXCEPTION_NONCONTINUABLE = 1, ...
  uint64_t ExceptionRecord;   // target address of a chained EXCEPTION_RECORD (not followed)
  uint64_t ExceptionAddress;  // where the exception happened
  uint32_t NumberParameters;  // entries of ExceptionInformation[] in use (<= 15)
  uint32_t __unusedAlignment;
  uint64_t ExceptionInformation[kExceptionMaximumParameters];
};
static_assert(sizeof(MINIDUMP_EXCEPTION) == 0x98);
static_assert(offsetof(MINIDUMP_EXCEPTION, ExceptionFlags) == 0x4);
static_assert(offsetof(MINIDUMP_EXCEPTION, ExceptionRecord) == 0x8);
static_assert(offsetof(MINIDUMP_EXCEPTION, ExceptionAddress) == 0x10);
static_assert(offsetof(MINIDUMP_EXCEPTION, NumberParameters) == 0x18);
static_assert(offsetof(MINIDUMP_EXCEPTION, ExceptionInformation) == 0x20);

// MINIDUMP_EXCEPTION_STREAM: the ExceptionStream.
struct MINIDUMP_EXCEPTION_STREAM {
  static constexpr const char kName[] = "MINIDUMP_EXCEPTION_STREAM";
  uint32_t ThreadId;  // the thread that raised the exception
  uint32_t __alignment;
  MINIDUMP_EXCEPTION ExceptionRecord;
  MINIDUMP_LOCATION_DESCRIPTOR ThreadContext;  // CONTEXT at the time of the exception
};
static_assert(sizeof(MINIDUMP_EXCEPTION_STREAM) == 0xA8);
static_assert(offsetof(MINIDUMP_EXCEPTION_STREAM, ExceptionRecord) == 0x8);
static_assert(offsetof(MINIDUMP_EXCEPTION_STREAM, ThreadContext) == 0xA0);

#pragma pack(pop)

// ---- x64 CONTEXT (winnt.h, _AMD64_), naturally aligned to 16 ------------------------

// CONTEXT_* flags for x64 (winnt.h). A part's bit only counts with CONTEXT_AMD64 set.
inline constexpr uint32_t kContextAmd64 = 0x00100000;          // CONTEXT_AMD64
inline constexpr uint32_t kContextI386 = 0x00010000;           // CONTEXT_i386 (x86 CONTEXT)
inline constexpr uint32_t kContextControl = 0x00000001;        // SegSs, Rsp, SegCs, Rip, EFlags
inline constexpr uint32_t kContextInteger = 0x00000002;        // Rax..R15 except Rsp
inline constexpr uint32_t kContextSegments = 0x00000004;       // SegDs, SegEs, SegFs, SegGs
inline constexpr uint32_t kContextFloatingPoint = 0x00000008;  // FltSave / Xmm0..15, MxCsr
inline constexpr uint32_t kContextDebugRegisters = 0x00000010; // Dr0..Dr7

// M128A: one 128-bit XMM/x87 slot.
struct M128A {
  static constexpr const char kName[] = "M128A";
  uint64_t Low;
  uint64_t High;
};
static_assert(sizeof(M128A) == 0x10);

// XMM_SAVE_AREA32: the FXSAVE image (legacy x87 + SSE state).
struct XMM_SAVE_AREA32 {
  static constexpr const char kName[] = "XMM_SAVE_AREA32";
  uint16_t ControlWord;
  uint16_t StatusWord;
  uint8_t TagWord;
  uint8_t Reserved1;
  uint16_t ErrorOpcode;
  uint32_t ErrorOffset;
  uint16_t ErrorSelector;
  uint16_t Reserved2;
  uint32_t DataOffset;
  uint16_t DataSelector;
  uint16_t Reserved3;
  uint32_t MxCsr;
  uint32_t MxCsr_Mask;
  M128A FloatRegisters[8];
  M128A XmmRegisters[16];
  uint8_t Reserved4[96];
};
static_assert(sizeof(XMM_SAVE_AREA32) == 0x200);
static_assert(offsetof(XMM_SAVE_AREA32, MxCsr) == 0x18);
static_assert(offsetof(XMM_SAVE_AREA32, FloatRegisters) == 0x20);
static_assert(offsetof(XMM_SAVE_AREA32, XmmRegisters) == 0xA0);
static_assert(offsetof(XMM_SAVE_AREA32, Reserved4) == 0x1A0);

// CONTEXT (x64): 0x4D0 bytes. winnt.h declares FltSave in a union with
// {Header[2], Legacy[8], Xmm0..Xmm15}; Xmm0 is FltSave.XmmRegisters[0] at 0x1A0.
struct CONTEXT {
  static constexpr const char kName[] = "CONTEXT";
  uint64_t P1Home;
  uint64_t P2Home;
  uint64_t P3Home;
  uint64_t P4Home;
  uint64_t P5Home;
  uint64_t P6Home;
  uint32_t ContextFlags;  // kContextAmd64 | kContextControl | ...
  uint32_t MxCsr;
  uint16_t SegCs;
  uint16_t SegDs;
  uint16_t SegEs;
  uint16_t SegFs;
  uint16_t SegGs;
  uint16_t SegSs;
  uint32_t EFlags;
  uint64_t Dr0;
  uint64_t Dr1;
  uint64_t Dr2;
  uint64_t Dr3;
  uint64_t Dr6;
  uint64_t Dr7;
  uint64_t Rax;
  uint64_t Rcx;
  uint64_t Rdx;
  uint64_t Rbx;
  uint64_t Rsp;
  uint64_t Rbp;
  uint64_t Rsi;
  uint64_t Rdi;
  uint64_t R8;
  uint64_t R9;
  uint64_t R10;
  uint64_t R11;
  uint64_t R12;
  uint64_t R13;
  uint64_t R14;
  uint64_t R15;
  uint64_t Rip;
  XMM_SAVE_AREA32 FltSave;  // union { FltSave; struct { Header[2]; Legacy[8]; Xmm0..15; } }
  M128A VectorRegister[26];
  uint64_t VectorControl;
  uint64_t DebugControl;
  uint64_t LastBranchToRip;
  uint64_t LastBranchFromRip;
  uint64_t LastExceptionToRip;
  uint64_t LastExceptionFromRip;
};
static_assert(sizeof(CONTEXT) == 0x4D0);
static_assert(offsetof(CONTEXT, ContextFlags) == 0x30);
static_assert(offsetof(CONTEXT, MxCsr) == 0x34);
static_assert(offsetof(CONTEXT, SegCs) == 0x38);
static_assert(offsetof(CONTEXT, SegSs) == 0x42);
static_assert(offsetof(CONTEXT, EFlags) == 0x44);
static_assert(offsetof(CONTEXT, Dr0) == 0x48);
static_assert(offsetof(CONTEXT, Rax) == 0x78);
static_assert(offsetof(CONTEXT, Rsp) == 0x98);
static_assert(offsetof(CONTEXT, Rbp) == 0xA0);
static_assert(offsetof(CONTEXT, R8) == 0xB8);
static_assert(offsetof(CONTEXT, R15) == 0xF0);
static_assert(offsetof(CONTEXT, Rip) == 0xF8);
static_assert(offsetof(CONTEXT, FltSave) == 0x100);
static_assert(offsetof(CONTEXT, FltSave) + offsetof(XMM_SAVE_AREA32, XmmRegisters) == 0x1A0);
static_assert(offsetof(CONTEXT, VectorRegister) == 0x300);
static_assert(offsetof(CONTEXT, VectorControl) == 0x4A0);
static_assert(offsetof(CONTEXT, DebugControl) == 0x4A8);
static_assert(offsetof(CONTEXT, LastExceptionFromRip) == 0x4C8);

// ---- CodeView -------------------------------------------------------------------------

// GUID (guiddef.h): Data1..3 are little-endian integers, Data4 is bytes.
struct GUID {
  static constexpr const char kName[] = "GUID";
  uint32_t Data1;
  uint16_t Data2;
  uint16_t Data3;
  uint8_t Data4[8];
};
static_assert(sizeof(GUID) == 0x10);

// CV_INFO_PDB70: the "RSDS" CodeView record a module's CvRecord points at. Only the
// fixed part is declared; a NUL-terminated UTF-8 PdbFileName follows it.
struct CV_INFO_PDB70 {
  static constexpr const char kName[] = "CV_INFO_PDB70";
  uint32_t CvSignature;  // kCvSignatureRsds
  GUID Signature;        // matches the PDB's GUID
  uint32_t Age;          // matches the PDB's age
};
static_assert(sizeof(CV_INFO_PDB70) == 0x18);
static_assert(offsetof(CV_INFO_PDB70, Signature) == 0x4);
static_assert(offsetof(CV_INFO_PDB70, Age) == 0x14);

}  // namespace restack::dump
