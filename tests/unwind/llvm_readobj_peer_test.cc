// llvm_readobj_peer_test.cc - restack's unwind decoding against LLVM's, entry by entry
//
// Peer: `llvm-readobj-19 --unwind` (Debian's llvm-19, installed with
// llvm-19-dev). It decodes version-1 unwind info correctly but crashes on
// version-2 images and misreads indirect entries, so only direct entries of
// version-1 images are compared: header fields and every unwind code.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "restack/sym/image_locator.h"
#include "restack/unwind/register_context.h"
#include "restack/unwind/runtime_function_table.h"
#include "restack/unwind/unwind_info.h"

namespace restack::unwind {
namespace {

struct PeerEntry {
  uint64_t start = 0;
  int version = -1, prolog = -1, count = -1;
  unsigned flags = 0;
  std::string frame_register = "-";
  std::string frame_offset = "-";
  std::vector<std::string> codes;  // "0x05: ALLOC_SMALL size=32"
};

// Runs the peer; nullopt when it is not installed or did not finish.
std::optional<std::map<uint64_t, PeerEntry>> RunReadobj(const std::string& path) {
  const std::string cmd = "llvm-readobj-19 --unwind '" + path + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return std::nullopt;
  std::map<uint64_t, PeerEntry> out;
  PeerEntry cur;
  bool in_entry = false, in_chained = false;
  char line[512];
  const std::regex start(R"(^\s*StartAddress: .*\((0x[0-9A-Fa-f]+)\))");
  const std::regex field(R"(^\s*(Version|PrologSize|UnwindCodeCount|FrameRegister|FrameOffset): (.*)$)");
  const std::regex flags(R"(^\s*Flags \[ \((0x[0-9A-Fa-f]+)\))");
  const std::regex code(R"(^\s*(0x[0-9A-F]+: .*)$)");
  std::cmatch m;
  while (fgets(line, sizeof(line), pipe.get()) != nullptr) {
    std::string s(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    if (s.find("RuntimeFunction {") != std::string::npos) {
      if (in_entry) out[cur.start] = cur;
      cur = PeerEntry{};
      in_entry = true;
      in_chained = false;
      continue;
    }
    if (s.find("Chained {") != std::string::npos) in_chained = true;
    if (in_chained) continue;
    if (std::regex_search(s.c_str(), m, start)) {
      cur.start = std::stoull(m[1].str(), nullptr, 16);
    } else if (std::regex_search(s.c_str(), m, flags)) {
      cur.flags = static_cast<unsigned>(std::stoul(m[1].str(), nullptr, 16));
    } else if (std::regex_search(s.c_str(), m, field)) {
      const std::string k = m[1].str(), v = m[2].str();
      if (k == "Version") cur.version = std::stoi(v);
      if (k == "PrologSize") cur.prolog = std::stoi(v);
      if (k == "UnwindCodeCount") cur.count = std::stoi(v);
      if (k == "FrameRegister") cur.frame_register = v.substr(0, v.find(' '));
      if (k == "FrameOffset") cur.frame_offset = v;
    } else if (std::regex_search(s.c_str(), m, code)) {
      cur.codes.push_back(m[1].str());
    }
  }
  if (in_entry) out[cur.start] = cur;
  if (out.empty()) return std::nullopt;
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return out;
}

// restack's decoding of one code, in llvm-readobj's wording.
std::string PeerText(const UnwindInfo& info, const UnwindCode& c) {
  std::string op(UnwindOpName(c.op).substr(5));
  std::string text = absl::StrFormat("0x%02X: ", c.code_offset);
  switch (c.op) {
    case UnwindOp::kPushNonvol:
      return text + absl::StrFormat("PUSH_NONVOL reg=%s", Upper(GprName(c.op_info)));
    case UnwindOp::kAllocLarge:
    case UnwindOp::kAllocSmall:
      return text + absl::StrFormat("%s size=%u", op, c.operand);
    case UnwindOp::kSetFpreg:
      return text + absl::StrFormat("SET_FPREG reg=%s, offset=0x%X",
                                    Upper(GprName(info.frame_register)), c.operand);
    case UnwindOp::kSaveNonvol:
      return text + absl::StrFormat("SAVE_NONVOL reg=%s, offset=0x%X", Upper(GprName(c.op_info)),
                                    c.operand);
    case UnwindOp::kSaveNonvolFar:
      return text + absl::StrFormat("SAVE_NONVOL_FAR reg=%s, offset=0x%X",
                                    Upper(GprName(c.op_info)), c.operand);
    case UnwindOp::kSaveXmm128:
      return text + absl::StrFormat("SAVE_XMM128 reg=XMM%u, offset=0x%X", c.op_info, c.operand);
    case UnwindOp::kSaveXmm128Far:
      return text + absl::StrFormat("SAVE_XMM128_FAR reg=XMM%u, offset=0x%X", c.op_info,
                                    c.operand);
    case UnwindOp::kPushMachFrame:
      return text + absl::StrFormat("PUSH_MACHFRAME errcode=%s", c.op_info ? "yes" : "no");
    default:
      return text + op;
  }
}

// llvm-readobj pads hex offsets to 4 or 8 digits; compare numerically.
std::string Normalise(const std::string& s) {
  static const std::regex hex("0x0*([0-9A-Fa-f]+)");
  return std::regex_replace(s, hex, "0x$1");
}

// expected_compared: entries to compare; 0 = as many as the peer lists.
void ComparePeer(const std::string& path, size_t expected_compared) {
  absl::StatusOr<std::shared_ptr<const PeImage>> image = sym::OpenImageFile(path);
  ASSERT_TRUE(image.ok()) << image.status();
  absl::StatusOr<RuntimeFunctionTable> table = RuntimeFunctionTable::Create(*image);
  ASSERT_TRUE(table.ok());
  std::optional<std::map<uint64_t, PeerEntry>> peer = RunReadobj(path);
  if (!peer) GTEST_SKIP() << "llvm-readobj-19 not available or failed on " << path;
  size_t compared = 0;
  for (const RuntimeFunction& e : table->entries()) {
    if (e.IsIndirect()) continue;
    auto it = peer->find((*image)->preferred_base() + e.begin);
    ASSERT_NE(it, peer->end()) << absl::StrFormat("entry 0x%x missing in the peer", e.begin);
    const PeerEntry& p = it->second;
    absl::StatusOr<UnwindInfo> info = DecodeUnwindInfo(**image, e.unwind_data);
    ASSERT_TRUE(info.ok()) << info.status();
    SCOPED_TRACE(absl::StrFormat("entry 0x%x", e.begin));
    EXPECT_EQ(p.version, info->version);
    EXPECT_EQ(p.flags, info->flags);
    EXPECT_EQ(p.prolog, info->size_of_prolog);
    EXPECT_EQ(p.count, info->count_of_codes);
    EXPECT_EQ(p.frame_register,
              info->frame_register ? Upper(GprName(info->frame_register)) : std::string("-"));
    if (info->frame_register) {
      EXPECT_EQ(std::stoul(p.frame_offset, nullptr, 16), info->frame_offset);
    }
    std::vector<std::string> ours;
    for (const UnwindCode& c : info->codes) ours.push_back(Normalise(PeerText(*info, c)));
    std::vector<std::string> theirs;
    for (const std::string& c : p.codes) theirs.push_back(Normalise(c));
    EXPECT_EQ(ours, theirs);
    ++compared;
  }
  EXPECT_EQ(compared, expected_compared ? expected_compared : peer->size());
}

TEST(LlvmReadobjPeerTest, Kernel32DirectEntriesDecodeAlike) {
  // 3,224 entries less the 428 indirect ones (../shared/real/README.md).
  ComparePeer("../shared/real/symbols/kernel32.dll/4CE7C78B11f000/kernel32.dll", 3224 - 428);
}

// The clang-built fixture images exercise every unwind code (tests/fixtures/README.md).
TEST(LlvmReadobjPeerTest, FixtureImagesDecodeAlike) {
  for (const char* name : {"restack_fx.exe", "restack_fxdll.dll"}) {
    SCOPED_TRACE(name);
    // The store holds one key directory per image: <name>/<key>/<name>.
    std::string p;
    for (const auto& key : std::filesystem::directory_iterator(
             std::filesystem::path("tests/fixtures/store") / name)) {
      p = (key.path() / name).string();
    }
    ASSERT_FALSE(p.empty()) << "no " << name << " in tests/fixtures/store";
    ComparePeer(p, 0);
  }
}

}  // namespace
}  // namespace restack::unwind
