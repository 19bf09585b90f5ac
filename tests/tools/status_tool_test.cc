// status_tool_test.cc - restack-info --status: NTSTATUS values decoded as text and JSON
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "common/exit_code.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "info/info.h"
#include "info/status_report.h"
#include "nlohmann/json.hpp"

namespace restack::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Result {
  int rc;
  std::string out, err;
};

Result Status(std::string value, bool json = false) {
  InfoToolOptions options;
  options.status = std::move(value);
  options.json = json;
  std::ostringstream out, err;
  int rc = RunInfo(options, out, err);
  return {rc, out.str(), err.str()};
}

TEST(StatusToolTest, DecodesAccessViolationAsText) {
  Result r = Status("0xC0000005");
  ASSERT_EQ(r.rc, kExitOk) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, "0xC0000005  STATUS_ACCESS_VIOLATION\n")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("decimal:         3221225477 (as int32: -1073741819)"));
  EXPECT_THAT(r.out, HasSubstr("severity:        3 ERROR         bits 31-30"));
  EXPECT_THAT(r.out, HasSubstr("customer (C):    0               bit 29"));
  EXPECT_THAT(r.out, HasSubstr("reserved (N):    0               bit 28"));
  EXPECT_THAT(r.out, HasSubstr("facility:        0x000           bits 27-16\n"));
  EXPECT_THAT(r.out, HasSubstr("code:            0x0005 (5)      bits 15-0"));
  EXPECT_THAT(r.out, HasSubstr("NT_SUCCESS:      no\n"));
  EXPECT_THAT(r.out, HasSubstr("NT_INFORMATION:  no\n"));
  EXPECT_THAT(r.out, HasSubstr("NT_WARNING:      no\n"));
  EXPECT_THAT(r.out, HasSubstr("NT_ERROR:        yes\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("bug check")));
  EXPECT_THAT(r.out, Not(HasSubstr("note:")));
}

TEST(StatusToolTest, DecimalAndNegativeInputsMeanTheSameValue) {
  const std::string hex = Status("0xc0000005").out;
  EXPECT_EQ(Status("3221225477").out, hex);
  EXPECT_EQ(Status("-1073741819").out, hex);
  EXPECT_EQ(Status("0X00C0000005").out, hex);
}

TEST(StatusToolTest, JsonIsOneObjectWithEveryField) {
  Result r = Status("0xC0000005", /*json=*/true);
  ASSERT_EQ(r.rc, kExitOk) << r.err;
  ASSERT_EQ(r.out.back(), '\n');
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["status"], "0xC0000005");
  EXPECT_EQ(j["value"], 3221225477u);
  EXPECT_EQ(j["int32"], -1073741819);
  EXPECT_EQ(j["name"], "STATUS_ACCESS_VIOLATION");
  EXPECT_EQ(j["known"], true);
  EXPECT_EQ(j["severity"], 3);
  EXPECT_EQ(j["severity_name"], "ERROR");
  EXPECT_EQ(j["customer"], false);
  EXPECT_EQ(j["reserved"], false);
  EXPECT_EQ(j["facility"], 0);
  EXPECT_TRUE(j["facility_name"].is_null());
  EXPECT_EQ(j["code"], 5);
  EXPECT_EQ(j["nt_success"], false);
  EXPECT_EQ(j["nt_information"], false);
  EXPECT_EQ(j["nt_warning"], false);
  EXPECT_EQ(j["nt_error"], true);
  EXPECT_TRUE(j["notes"].empty());
  EXPECT_TRUE(j["bugcheck"].is_null());
}

TEST(StatusToolTest, WarningsAndInformationalStatuses) {
  Result warning = Status("0x80000005");
  EXPECT_THAT(warning.out, HasSubstr("STATUS_BUFFER_OVERFLOW"));
  EXPECT_THAT(warning.out, HasSubstr("2 WARNING"));
  EXPECT_THAT(warning.out, HasSubstr("NT_WARNING:      yes"));
  EXPECT_THAT(warning.out, HasSubstr("NT_SUCCESS:      no"));
  Result info = Status("0x40000000");
  EXPECT_THAT(info.out, HasSubstr("STATUS_OBJECT_NAME_EXISTS"));
  EXPECT_THAT(info.out, HasSubstr("1 INFORMATIONAL"));
  EXPECT_THAT(info.out, HasSubstr("NT_SUCCESS:      yes"));
  EXPECT_THAT(info.out, HasSubstr("NT_INFORMATION:  yes"));
}

TEST(StatusToolTest, NamesTheFacility) {
  // NTSTATUS_FROM_WIN32(ERROR_ACCESS_DENIED).
  Result r = Status("0xC0070005");
  EXPECT_EQ(r.rc, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("facility:        0x007           bits 27-16  FACILITY_NTWIN32"));
}

TEST(StatusToolTest, UnknownStatusStillDecodes) {
  Result r = Status("0xE0DEC0DE");
  EXPECT_EQ(r.rc, kExitOk);
  EXPECT_TRUE(absl::StartsWith(r.out, "0xE0DEC0DE  unknown\n")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("customer (C):    1 "));
  EXPECT_THAT(r.out, HasSubstr("facility:        0x0DE "));
  EXPECT_THAT(r.out, HasSubstr("code:            0xC0DE (49374)"));
  nlohmann::json j = nlohmann::json::parse(Status("0xE0DEC0DE", true).out);
  EXPECT_EQ(j["name"], "unknown");
  EXPECT_EQ(j["known"], false);
  EXPECT_EQ(j["customer"], true);
}

TEST(StatusToolTest, BugCheckCodeIsDecodedAndNamedAsABugCheck) {
  // 0x1000007E is a stop code, not a status: bit 28 (N) is set.
  Result r = Status("0x1000007E");
  EXPECT_EQ(r.rc, kExitOk);
  EXPECT_TRUE(absl::StartsWith(r.out, "0x1000007E  unknown\n")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("reserved (N):    1 "));
  EXPECT_THAT(r.out, HasSubstr("note: bit 28 (N) is reserved in an NTSTATUS: ntstatus.h defines no status with it set"));
  EXPECT_THAT(r.out, HasSubstr("as a bug check code: 0x1000007E  SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M\n"
                               "  parameter 1:     exception code\n"));
  EXPECT_THAT(r.out, HasSubstr("  parameter 4:     context record address\n"));
  nlohmann::json j = nlohmann::json::parse(Status("0x1000007E", true).out);
  EXPECT_EQ(j["bugcheck"]["name"], "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M");
  EXPECT_EQ(j["bugcheck"]["parameters"][2], "exception record address");
  EXPECT_EQ(j["notes"].size(), 1u);
}

TEST(StatusToolTest, HresultFromNtNamesTheStatus) {
  // HRESULT_FROM_NT(STATUS_ACCESS_VIOLATION) = 0xD0000005.
  Result r = Status("0xD0000005");
  EXPECT_THAT(r.out, HasSubstr("note: as an HRESULT: HRESULT_FROM_NT(0xC0000005), STATUS_ACCESS_VIOLATION"));
}

TEST(StatusToolTest, RejectsValuesThatAreNot32Bit) {
  for (const char* bad : {"0x100000000", "4294967296", "-2147483649", "0xZZ", "0x", "C0000005",
                          "12abc", " 5", "+5", "--5"}) {
    Result r = Status(bad);
    EXPECT_EQ(r.rc, kExitUsage) << bad;
    EXPECT_TRUE(absl::StartsWith(r.err, "restack-info: --status: '")) << r.err;
    EXPECT_TRUE(r.out.empty()) << bad;
  }
}

TEST(StatusToolTest, ParsesTheLimits) {
  EXPECT_EQ(*ParseStatusValue("0xFFFFFFFF"), 0xFFFFFFFFu);
  EXPECT_EQ(*ParseStatusValue("4294967295"), 0xFFFFFFFFu);
  EXPECT_EQ(*ParseStatusValue("-2147483648"), 0x80000000u);
  EXPECT_EQ(*ParseStatusValue("-1"), 0xFFFFFFFFu);
  EXPECT_EQ(*ParseStatusValue("0"), 0u);
}

}  // namespace
}  // namespace restack::tools
