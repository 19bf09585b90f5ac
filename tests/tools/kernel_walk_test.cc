// kernel_walk_test.cc - restack-walk on the real Windows 10 triage dump
//
// There is no recorded truth for this dump, so every frame is checked against
// facts that do not come from unwinding: the return address sits in the stack
// slot just below the caller's Child-SP, and the bytes before it in the real
// image decode (Zydis) to a CALL that ends exactly there.
#include <Zydis/Zydis.h>

#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/exit_code.h"
#include "common/dump_target.h"
#include "common/input_file.h"
#include "restack/unwind/call_site.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "restack/dump/kernel_dump.h"
#include "restack/sym/image_locator.h"
#include "restack/sym/pdb_file.h"
#include "walk/walk.h"

namespace restack::tools {
namespace {

constexpr char kTriage[] = "../shared/real/dumps/triage_x64.dmp";
constexpr char kStore[] = "../shared/real/symbols";

uint64_t Hex(const nlohmann::json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }

// Whether the instruction ending at `rva` in the image is a CALL. Windows 10
// rewrites import calls at load time (the kernel's import optimization, driven
// by the image's dynamic value relocations): the 6-byte `call [rip+__imp_X]`
// (FF 15 disp32) becomes a 5-byte direct call and a filler byte, so its return
// address is one byte before the end of the call in the file.
bool CallEndsAt(const unwind::PeImage& image, uint32_t rva) {
  if (absl::StatusOr<std::span<const uint8_t>> b = image.ReadRva(rva - 5, 2);
      b.ok() && (*b)[0] == 0xFF && (*b)[1] == 0x15) {
    return true;
  }
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  for (uint32_t length = 2; length <= 7; ++length) {
    absl::StatusOr<std::span<const uint8_t>> bytes = image.ReadRva(rva - length, length);
    if (!bytes.ok()) continue;
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, bytes->data(), bytes->size(), &insn, ops)) &&
        insn.mnemonic == ZYDIS_MNEMONIC_CALL && insn.length == length) {
      return true;
    }
  }
  return false;
}

nlohmann::json WalkJson(WalkToolOptions options, int* rc) {
  options.dumps = {kTriage};
  options.image_paths = {kStore};
  options.json = true;
  std::ostringstream out, err;
  *rc = RunWalk(options, out, err);
  return nlohmann::json::parse(out.str());
}

TEST(KernelWalkTest, FaultContextWalksThroughAmdppmAndWdfToNtoskrnl) {
  absl::StatusOr<dump::KernelDump> dump = dump::KernelDump::Open(kTriage);
  ASSERT_TRUE(dump.ok());
  const uint64_t context_record = dump->bugcheck().parameters[3];
  int rc = 0;
  WalkToolOptions options;
  options.cxr = context_record;
  nlohmann::json stack = WalkJson(options, &rc);
  EXPECT_EQ(rc, kExitPartial);  // it stops short: ntoskrnl.exe is not in the store
  EXPECT_EQ(stack["context"], "cxr");
  EXPECT_EQ(stack["end"], "image_missing");
  EXPECT_TRUE(absl::StrContains(stack["end_detail"].get<std::string>(),
                                "no image for ntoskrnl.exe"));
  const nlohmann::json& frames = stack["frames"];
  ASSERT_GE(frames.size(), 3u);
  // Frame 0 is the faulting instruction (bugcheck parameter 2).
  EXPECT_EQ(Hex(frames[0]["rip"]), dump->bugcheck().parameters[1]);
  EXPECT_EQ(frames[0]["module"], "amdppm.sys");
  // The modules appear in order: amdppm.sys, then Wdf01000.sys, then the
  // return into ntoskrnl.exe last.
  std::vector<std::string> order;
  for (const nlohmann::json& f : frames) {
    const std::string m = f["module"];
    if (order.empty() || order.back() != m) order.push_back(m);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"amdppm.sys", "Wdf01000.sys", "ntoskrnl.exe"}));
  // Each caller frame: its RIP is the value in the slot below its Child-SP,
  // and the real image has a CALL ending right there.
  const sym::ImageLocator locator({kStore});
  absl::StatusOr<InputFile> input = OpenInput(kTriage);
  ASSERT_TRUE(input.ok()) << input.status();
  absl::StatusOr<std::unique_ptr<DumpTarget>> target =
      OpenDumpTarget(input->bytes, input->owner, input->name, locator);
  ASSERT_TRUE(target.ok()) << target.status();
  for (size_t i = 1; i < frames.size(); ++i) {
    SCOPED_TRACE(absl::StrFormat("frame %u %s", i, frames[i]["call_site"].get<std::string>()));
    const uint64_t rip = Hex(frames[i]["rip"]);
    const uint64_t rsp = Hex(frames[i]["child_sp"]);
    EXPECT_GT(rsp, Hex(frames[i - 1]["child_sp"]));
    absl::StatusOr<uint64_t> slot = dump->ReadU64(rsp - 8);
    ASSERT_TRUE(slot.ok()) << slot.status();
    EXPECT_EQ(*slot, rip);
    const dump::KernelModule* m = dump->ModuleForAddress(rip);
    ASSERT_NE(m, nullptr);
    absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image =
        locator.Open(m->name, m->timestamp, m->size);
    if (!image.ok()) continue;  // ntoskrnl.exe: not in the store
    EXPECT_TRUE(CallEndsAt(**image, static_cast<uint32_t>(rip - m->base)));
    EXPECT_EQ(frames[i]["trust"], "unwind_info");
    // The walker's own CALL check (its fallbacks' test of a return address)
    // accepts every one, the shortened import calls included.
    EXPECT_TRUE(unwind::CallBefore(rip, *(*target)->memory, (*target)->modules).has_value());
  }
}

// With the store as symbol path, the amdppm frames are named after the
// function public covering each call (the return address minus one; frame 0
// the faulting instruction itself), read here straight from the PDB's publics.
TEST(KernelWalkTest, SympathNamesTheAmdppmFrames) {
  absl::StatusOr<dump::KernelDump> dump = dump::KernelDump::Open(kTriage);
  ASSERT_TRUE(dump.ok());
  absl::StatusOr<std::unique_ptr<sym::PdbFile>> pdb = sym::PdbFile::OpenFile(
      "../shared/real/symbols/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb");
  ASSERT_TRUE(pdb.ok()) << pdb.status();
  std::map<uint64_t, std::string> functions;  // RVA -> undecorated name
  for (const sym::PdbPublic& p : (*pdb)->publics()) {
    if (p.function && p.section >= 1 && p.section <= (*pdb)->sections().size()) {
      functions.emplace((*pdb)->sections()[p.section - 1].virtual_address + p.offset, p.name);
    }
  }
  int rc = 0;
  WalkToolOptions options;
  options.cxr = dump->bugcheck().parameters[3];
  options.sympath = std::string("srv*") + kStore;
  nlohmann::json stack = WalkJson(options, &rc);
  const nlohmann::json& frames = stack["frames"];
  size_t amdppm = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE(frames[i]["call_site"].get<std::string>());
    const uint64_t offset = Hex(frames[i]["offset"]);
    if (frames[i]["module"] != "amdppm.sys") {
      // No PDB and no exports: module+0xRVA (the kernel as WinDbg calls it).
      EXPECT_TRUE(frames[i]["symbol"].is_null());
      const std::string expected = frames[i]["module"] == "ntoskrnl.exe" ? "nt" : "Wdf01000";
      EXPECT_EQ(frames[i]["call_site"].get<std::string>().rfind(expected + "+0x", 0), 0u);
      continue;
    }
    ++amdppm;
    auto covering = functions.upper_bound(i == 0 ? offset : offset - 1);
    ASSERT_NE(covering, functions.begin());
    --covering;
    const std::string expected = absl::StrFormat("amdppm!%s+0x%x", covering->second,
                                                 offset - covering->first);
    EXPECT_EQ(frames[i]["call_site"], expected);
    EXPECT_EQ(frames[i]["symbol"]["function"], covering->second);
    EXPECT_EQ(frames[i]["symbol"]["origin"], "public");
  }
  EXPECT_EQ(amdppm, 6u);
}

TEST(KernelWalkTest, DefaultWalkStartsInKeBugCheckExAndNamesTheMissingImage) {
  int rc = 0;
  nlohmann::json stack = WalkJson({}, &rc);
  EXPECT_EQ(rc, kExitPartial);
  EXPECT_EQ(stack["context"], "bugcheck");
  EXPECT_EQ(stack["processor"], 0);
  ASSERT_EQ(stack["frames"].size(), 1u);
  EXPECT_EQ(stack["frames"][0]["module"], "ntoskrnl.exe");
  EXPECT_EQ(stack["end"], "image_missing");
  EXPECT_TRUE(absl::StrContains(stack["end_detail"].get<std::string>(), "ntoskrnl.exe"));
}

TEST(KernelWalkTest, EveryProcessorHasAStackWithAll) {
  int rc = 0;
  WalkToolOptions options;
  options.dumps = {kTriage};
  options.image_paths = {kStore};
  options.json = true;
  options.all_threads = true;
  std::ostringstream out, err;
  rc = RunWalk(options, out, err);
  EXPECT_EQ(rc, kExitPartial);
  std::istringstream lines(out.str());
  std::string line;
  int stacks = 0;
  while (std::getline(lines, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j["processor"], stacks);
    ++stacks;
  }
  EXPECT_EQ(stacks, 16);  // README: 16 processors
}

TEST(KernelWalkTest, CxrOutsideTheDumpIsAClearError) {
  WalkToolOptions options;
  options.dumps = {kTriage};
  options.cxr = 0xfffff80000001000;
  std::ostringstream out, err;
  EXPECT_EQ(RunWalk(options, out, err), kExitError);
  EXPECT_TRUE(absl::StrContains(err.str(), "--cxr: CONTEXT at 0xfffff80000001000")) << err.str();
  EXPECT_TRUE(absl::StrContains(err.str(), "not in dump")) << err.str();
}

}  // namespace
}  // namespace restack::tools
