// demangle_test.cc - names as WinDbg prints them: LLVM's demangler, string literals
#include <cstdio>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "restack/sym/demangle.h"
#include "restack/sym/pdb_file.h"
#include "restack/sym/symbol_index.h"

namespace restack::sym {
namespace {

constexpr char kPdb[] =
    "../shared/real/symbols/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb";

TEST(DemangleTest, StringLiteralsGetWinDbgsName) {
  // The seed's frame: nt! ?? ::FNODOBFM::`string'+0x2a9ab.
  EXPECT_EQ(StringLiteralDisplayName("??_C@_0BF@FNODOBFM@chunk?5reached?5by?5jmp?$AA@"),
            "?? ::FNODOBFM::`string'");
  // One-digit length (amdppm.pdb's "UNKNOWN"), wide strings.
  EXPECT_EQ(StringLiteralDisplayName("??_C@_07NFANNNEC@UNKNOWN@"), "?? ::NFANNNEC::`string'");
  EXPECT_EQ(StringLiteralDisplayName("??_C@_1BC@GDGBMEMK@?$AAs?$AAt?$AAr?$AAi?$AAn?$AAg?$AA?$AA@"),
            "?? ::GDGBMEMK::`string'");
  EXPECT_EQ(FunctionName("??_C@_07NFANNNEC@UNKNOWN@"), "?? ::NFANNNEC::`string'");
  // Malformed: not a literal name WinDbg would print.
  for (const char* bad : {"??_C@", "??_C@_", "??_C@_2AB@X@", "??_C@_0@X@", "??_C@_0BF@", "??_C@_0Z@X@",
                          "??_C@_07@", "?foo@@YAXXZ", ""}) {
    EXPECT_EQ(StringLiteralDisplayName(bad), "") << bad;
  }
  EXPECT_TRUE(IsStringLiteralName("??_C@_07NFANNNEC@UNKNOWN@"));
  EXPECT_FALSE(IsStringLiteralName("?FxStubInitTypes@@YAJXZ"));
}

TEST(DemangleTest, UndecoratedNamesPassThrough) {
  EXPECT_EQ(FunctionName("WriteIoMemRawEx"), "WriteIoMemRawEx");
  EXPECT_EQ(FunctionName(""), "");
  // Not demanglable: kept as it is.
  EXPECT_EQ(FunctionName("?@@@"), "?@@@");
}

// Every decorated function public of amdppm.pdb: the name part of what
// llvm-undname-19 prints (the full signature), e.g. "long __cdecl
// FxStubInitTypes(void)" -> "FxStubInitTypes".
TEST(DemangleTest, AmdppmsDecoratedPublicsMatchLlvmUndname) {
  absl::StatusOr<std::unique_ptr<PdbFile>> pdb = PdbFile::OpenFile(kPdb);
  ASSERT_TRUE(pdb.ok()) << pdb.status();
  size_t checked = 0;
  for (const PdbPublic& p : (*pdb)->publics()) {
    if (!p.function || p.name.empty() || p.name[0] != '?') continue;
    const std::string cmd = "llvm-undname-19 '" + p.name + "' 2>/dev/null";
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
    if (!pipe) GTEST_SKIP() << "llvm-undname-19 is not installed";
    std::string out;
    char buf[1024];
    while (fgets(buf, sizeof(buf), pipe.get()) != nullptr) out += buf;
    if (out.empty()) GTEST_SKIP() << "llvm-undname-19 is not installed";
    const std::string name = FunctionName(p.name);
    // The signature contains the name followed by its parameter list.
    EXPECT_NE(out.find(name + "("), std::string::npos) << p.name << " -> " << name << " vs " << out;
    ++checked;
  }
  EXPECT_GT(checked, 0u);
}

TEST(SymbolIndexNamesTest, EveryFunctionPublicIsFoundByName) {
  absl::StatusOr<std::unique_ptr<PdbFile>> pdb = PdbFile::OpenFile(kPdb);
  ASSERT_TRUE(pdb.ok()) << pdb.status();
  SymbolIndex index = SymbolIndex::FromPdb(**pdb, {});
  size_t checked = 0;
  for (const PdbPublic& p : (*pdb)->publics()) {
    if (!p.function || p.section == 0 || p.section > (*pdb)->sections().size()) continue;
    const uint32_t rva = (*pdb)->sections()[p.section - 1].virtual_address + p.offset;
    std::vector<uint32_t> found = index.FindName(FunctionName(p.name));
    EXPECT_NE(std::find(found.begin(), found.end(), rva), found.end()) << p.name;
    ++checked;
  }
  EXPECT_EQ(checked, 513u);
  EXPECT_TRUE(index.FindName("NoSuchFunction").empty());
  // String literals are found by WinDbg's name for them too.
  EXPECT_FALSE(index.FindName("?? ::NFANNNEC::`string'").empty());
}

}  // namespace
}  // namespace restack::sym
