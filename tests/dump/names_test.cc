// names_test.cc - bug check and NTSTATUS names, parameter meanings and NTSTATUS fields
//
// Expected values are independent facts, not read back from the mingw-w64 headers:
// bug check codes and names from Microsoft's Bug Check Code Reference, NTSTATUS values
// from the Windows SDK's ntstatus.h (as WinDbg's `!error` shows them).
#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "restack/dump/bugcheck_names.h"
#include "restack/dump/ntstatus.h"

namespace restack::dump {
namespace {

using ::testing::ElementsAre;

template <typename Entry>
void ExpectSortedUnique(std::span<const Entry> table, std::string_view what) {
  for (size_t i = 1; i < table.size(); ++i) {
    EXPECT_LT(table[i - 1].code, table[i].code) << what << " row " << i;
  }
}

TEST(BugCheckNamesTest, NamesCodesTheMingwHeaderHas) {
  EXPECT_EQ(BugCheckName(0x0A), "IRQL_NOT_LESS_OR_EQUAL");
  EXPECT_EQ(BugCheckName(0x1E), "KMODE_EXCEPTION_NOT_HANDLED");
  EXPECT_EQ(BugCheckName(0x44), "MULTIPLE_IRP_COMPLETE_REQUESTS");
  EXPECT_EQ(BugCheckName(0x50), "PAGE_FAULT_IN_NONPAGED_AREA");
  EXPECT_EQ(BugCheckName(0x7E), "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED");
  EXPECT_EQ(BugCheckName(0xD1), "DRIVER_IRQL_NOT_LESS_OR_EQUAL");
  EXPECT_EQ(BugCheckName(0xEF), "CRITICAL_PROCESS_DIED");
  EXPECT_EQ(BugCheckName(0x1A), "MEMORY_MANAGEMENT");
  EXPECT_EQ(BugCheckName(0x19), "BAD_POOL_HEADER");
}

TEST(BugCheckNamesTest, NamesCodesOnlyTheSupplementHas) {
  EXPECT_EQ(BugCheckName(0x3B), "SYSTEM_SERVICE_EXCEPTION");
  EXPECT_EQ(BugCheckName(0x9F), "DRIVER_POWER_STATE_FAILURE");
  EXPECT_EQ(BugCheckName(0xC4), "DRIVER_VERIFIER_DETECTED_VIOLATION");
  EXPECT_EQ(BugCheckName(0x101), "CLOCK_WATCHDOG_TIMEOUT");
  EXPECT_EQ(BugCheckName(0x124), "WHEA_UNCORRECTABLE_ERROR");
  EXPECT_EQ(BugCheckName(0x133), "DPC_WATCHDOG_VIOLATION");
  EXPECT_EQ(BugCheckName(0x139), "KERNEL_SECURITY_CHECK_FAILURE");
  EXPECT_EQ(BugCheckName(0x20001), "HYPERVISOR_ERROR");
  EXPECT_EQ(BugCheckName(0xC000021A), "WINLOGON_FATAL_ERROR");
  EXPECT_EQ(BugCheckName(0xDEADDEAD), "MANUALLY_INITIATED_CRASH1");
}

TEST(BugCheckNamesTest, SupplementWinsWhereTheMingwHeaderDisagrees) {
  // bugcodes.h puts IMPERSONATING_WORKER_THREAD at 0xFA; the reference has it at 0xDF and
  // HTTP_DRIVER_CORRUPTED at 0xFA. bugcodes.h spells 0x1D NO_SPINLOCK_AVAILABLE.
  EXPECT_EQ(BugCheckName(0xFA), "HTTP_DRIVER_CORRUPTED");
  EXPECT_EQ(BugCheckName(0xDF), "IMPERSONATING_WORKER_THREAD");
  EXPECT_EQ(BugCheckName(0x1D), "NO_SPIN_LOCK_AVAILABLE");
}

TEST(BugCheckNamesTest, MessageTableStringsAreNotBugChecks) {
  // bugcodes.h also defines banner and message strings: WINDOWS_NT_BANNER 0x4000007E,
  // BUGCHECK_MESSAGE_INTRO 0x8000007F. They are not stop codes.
  EXPECT_EQ(BugCheckName(0x4000007E), "");
  EXPECT_EQ(BugCheckName(0x8000007F), "");
  // ... except THREAD_TERMINATE_HELD_MUTEX, which the reference lists.
  EXPECT_EQ(BugCheckName(0x4000008A), "THREAD_TERMINATE_HELD_MUTEX");
}

TEST(BugCheckNamesTest, NamesTheDocumentedMVariants) {
  EXPECT_EQ(BugCheckName(0x1000007E), "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M");
  EXPECT_EQ(BugCheckName(0x1000007F), "UNEXPECTED_KERNEL_MODE_TRAP_M");
  EXPECT_EQ(BugCheckName(0x1000008E), "KERNEL_MODE_EXCEPTION_NOT_HANDLED_M");
  EXPECT_EQ(BugCheckName(0x100000EA), "THREAD_STUCK_IN_DEVICE_DRIVER_M");
}

TEST(BugCheckNamesTest, DerivesMNamesFromAKnownBaseCode) {
  EXPECT_EQ(BugCheckName(0x1000000A), "IRQL_NOT_LESS_OR_EQUAL_M");
  EXPECT_EQ(BugCheckName(0x100000D1), "DRIVER_IRQL_NOT_LESS_OR_EQUAL_M");
  EXPECT_EQ(BugCheckName(0x10000133), "DPC_WATCHDOG_VIOLATION_M");
}

TEST(BugCheckNamesTest, UnknownCodesHaveNoName) {
  EXPECT_EQ(BugCheckName(0x0000FFFF), "");
  EXPECT_EQ(BugCheckName(0x1000FFFF), "");  // M bit, unknown base
  EXPECT_EQ(BugCheckName(0xFFFFFFFF), "");
}

TEST(BugCheckNamesTest, ParameterMeaningsOf0x7E) {
  // bug-check-0x7e: exception code, address, exception record, context record.
  EXPECT_THAT(BugCheckParameterMeanings(0x7E),
              ElementsAre("exception code", "address of the exception",
                          "exception record address", "context record address"));
  // "Bug check 0x1000007E has the same meaning and parameters as bug check 0x7E."
  EXPECT_EQ(BugCheckParameterMeanings(0x1000007E), BugCheckParameterMeanings(0x7E));
  EXPECT_EQ(BugCheckParameterMeanings(0x1000008E), BugCheckParameterMeanings(0x8E));
}

TEST(BugCheckNamesTest, ParameterMeaningsOfAddressFaults) {
  EXPECT_EQ(BugCheckParameterMeanings(0x0A)[0], "address referenced");
  EXPECT_EQ(BugCheckParameterMeanings(0x0A)[1], "IRQL at the time");
  EXPECT_EQ(BugCheckParameterMeanings(0xD1)[3], "instruction address");
  EXPECT_EQ(BugCheckParameterMeanings(0x44)[0], "IRP address");
  EXPECT_EQ(BugCheckParameterMeanings(0x8E)[2], "trap frame address");
  EXPECT_EQ(BugCheckParameterMeanings(0x101)[3], "index of the hung processor");
}

TEST(BugCheckNamesTest, EveryCommonBugCheckHasParameterMeanings) {
  for (uint32_t code : {0x0Au, 0x19u, 0x1Au, 0x1Eu, 0x3Bu, 0x44u, 0x50u, 0x7Eu, 0x7Fu, 0x8Eu,
                        0x9Fu, 0xA0u, 0xC2u, 0xC4u, 0xD1u, 0xEFu, 0x101u, 0x124u, 0x133u,
                        0x139u, 0x1000007Eu, 0x1000008Eu}) {
    EXPECT_FALSE(BugCheckParameterMeanings(code)[0].empty()) << std::hex << code;
    EXPECT_FALSE(BugCheckName(code).empty()) << std::hex << code;
  }
}

TEST(BugCheckNamesTest, UnknownCodesHaveNoParameterMeanings) {
  EXPECT_THAT(BugCheckParameterMeanings(0x0000FFFF), ElementsAre("", "", "", ""));
  EXPECT_THAT(BugCheckParameterMeanings(0x1000FFFF), ElementsAre("", "", "", ""));
}

TEST(BugCheckNamesTest, TablesAreSortedWithOneRowPerCode) {
  ExpectSortedUnique(MingwBugCheckNames(), "mingw");
  ExpectSortedUnique(SupplementBugCheckNames(), "supplement");
  ExpectSortedUnique(BugCheckParameterTable(), "parameters");
  // The generated table is not empty or truncated (bugcodes.h of mingw-w64 10 has 164).
  EXPECT_GT(MingwBugCheckNames().size(), 150u);
  for (const BugCheckNameEntry& e : MingwBugCheckNames()) {
    EXPECT_EQ(e.code >> 30, 0u) << e.name << ": message strings must be left out";
  }
}

TEST(BugCheckNamesTest, EverySupplementCodeIsNamedAsTheSupplementSays) {
  for (const BugCheckNameEntry& e : SupplementBugCheckNames()) {
    EXPECT_EQ(BugCheckName(e.code), e.name) << std::hex << e.code;
  }
}

TEST(BugCheckNamesTest, EveryParameterRowIsANamedBugCheck) {
  for (const BugCheckParameterEntry& e : BugCheckParameterTable()) {
    EXPECT_FALSE(BugCheckName(e.code).empty()) << std::hex << e.code;
  }
}

TEST(BugCheckNamesTest, NamesAreUniqueAcrossBothTables) {
  std::set<std::string> seen;
  for (uint32_t code = 0; code < 0x1000; ++code) {
    std::string name = BugCheckName(code);
    if (!name.empty()) {
      EXPECT_TRUE(seen.insert(name).second) << name;
    }
  }
}

TEST(NtStatusNamesTest, NamesWellKnownStatuses) {
  EXPECT_EQ(NtStatusName(0x00000000), "STATUS_SUCCESS");  // not its alias STATUS_WAIT_0
  EXPECT_EQ(NtStatusName(0x00000080), "STATUS_ABANDONED");
  EXPECT_EQ(NtStatusName(0x00000102), "STATUS_TIMEOUT");
  EXPECT_EQ(NtStatusName(0x00000103), "STATUS_PENDING");
  EXPECT_EQ(NtStatusName(0x40000000), "STATUS_OBJECT_NAME_EXISTS");
  EXPECT_EQ(NtStatusName(0x40010006), "DBG_PRINTEXCEPTION_C");
  EXPECT_EQ(NtStatusName(0x80000003), "STATUS_BREAKPOINT");
  EXPECT_EQ(NtStatusName(0x80000005), "STATUS_BUFFER_OVERFLOW");
  EXPECT_EQ(NtStatusName(0xC0000005), "STATUS_ACCESS_VIOLATION");
  EXPECT_EQ(NtStatusName(0xC00000FD), "STATUS_STACK_OVERFLOW");
  EXPECT_EQ(NtStatusName(0xC0000374), "STATUS_HEAP_CORRUPTION");
  EXPECT_EQ(NtStatusName(0xC0000409), "STATUS_STACK_BUFFER_OVERRUN");
}

TEST(NtStatusNamesTest, UnknownStatusesHaveNoName) {
  EXPECT_EQ(NtStatusName(0xC0DEC0DE), "");
  EXPECT_EQ(NtStatusName(0x1000007E), "");
}

TEST(NtStatusNamesTest, TableIsSortedWithOneRowPerValue) {
  ExpectSortedUnique(MingwNtStatusNames(), "ntstatus");
  EXPECT_GT(MingwNtStatusNames().size(), 1500u);
}

TEST(NtStatusFieldsTest, AccessViolationIsAnError) {
  NtStatusFields f = DecodeNtStatus(0xC0000005);
  EXPECT_EQ(f.status, 0xC0000005u);
  EXPECT_EQ(f.severity, NtStatusSeverity::kError);
  EXPECT_EQ(NtStatusSeverityName(f.severity), "ERROR");
  EXPECT_FALSE(f.customer);
  EXPECT_FALSE(f.reserved);
  EXPECT_EQ(f.facility, 0);
  EXPECT_EQ(f.code, 5);
  EXPECT_FALSE(f.nt_success);
  EXPECT_FALSE(f.nt_information);
  EXPECT_FALSE(f.nt_warning);
  EXPECT_TRUE(f.nt_error);
}

TEST(NtStatusFieldsTest, SuccessIsNtSuccessOnly) {
  NtStatusFields f = DecodeNtStatus(0);
  EXPECT_EQ(f.severity, NtStatusSeverity::kSuccess);
  EXPECT_EQ(NtStatusSeverityName(f.severity), "SUCCESS");
  EXPECT_TRUE(f.nt_success);
  EXPECT_FALSE(f.nt_information || f.nt_warning || f.nt_error);
}

TEST(NtStatusFieldsTest, InformationalIsAlsoNtSuccess) {
  NtStatusFields f = DecodeNtStatus(0x40000000);  // STATUS_OBJECT_NAME_EXISTS
  EXPECT_EQ(f.severity, NtStatusSeverity::kInformational);
  EXPECT_EQ(NtStatusSeverityName(f.severity), "INFORMATIONAL");
  EXPECT_TRUE(f.nt_success);
  EXPECT_TRUE(f.nt_information);
  EXPECT_FALSE(f.nt_warning || f.nt_error);
}

TEST(NtStatusFieldsTest, BufferOverflowIsAWarning) {
  NtStatusFields f = DecodeNtStatus(0x80000005);
  EXPECT_EQ(f.severity, NtStatusSeverity::kWarning);
  EXPECT_EQ(NtStatusSeverityName(f.severity), "WARNING");
  EXPECT_EQ(f.code, 5);
  EXPECT_FALSE(f.nt_success);  // negative as an int32
  EXPECT_TRUE(f.nt_warning);
  EXPECT_FALSE(f.nt_information || f.nt_error);
}

TEST(NtStatusFieldsTest, SplitsCustomerReservedFacilityAndCode) {
  // NTSTATUS_FROM_WIN32(ERROR_ACCESS_DENIED = 5) = 0xC0070005.
  NtStatusFields win32 = DecodeNtStatus(0xC0070005);
  EXPECT_EQ(win32.facility, 7);
  EXPECT_EQ(NtStatusFacilityName(win32.facility), "FACILITY_NTWIN32");
  EXPECT_EQ(win32.code, 5);
  // Every field at its widest: Sev 3, C, N, facility 0xFFF, code 0xFFFF.
  NtStatusFields all = DecodeNtStatus(0xFFFFFFFF);
  EXPECT_TRUE(all.customer);
  EXPECT_TRUE(all.reserved);
  EXPECT_EQ(all.facility, 0xFFF);
  EXPECT_EQ(all.code, 0xFFFF);
  NtStatusFields customer = DecodeNtStatus(0xE0000001);
  EXPECT_TRUE(customer.customer);
  EXPECT_FALSE(customer.reserved);
  EXPECT_EQ(customer.facility, 0);
  NtStatusFields reserved = DecodeNtStatus(0x1000007E);
  EXPECT_FALSE(reserved.customer);
  EXPECT_TRUE(reserved.reserved);
  EXPECT_EQ(reserved.code, 0x7E);
}

TEST(NtStatusFieldsTest, NamesCommonFacilities) {
  EXPECT_EQ(NtStatusFacilityName(0), "");
  EXPECT_EQ(NtStatusFacilityName(1), "FACILITY_DEBUGGER");  // DBG_PRINTEXCEPTION_C 0x40010006
  EXPECT_EQ(NtStatusFacilityName(0x2), "FACILITY_RPC_RUNTIME");
  EXPECT_EQ(NtStatusFacilityName(0x1E), "FACILITY_GRAPHICS_KERNEL");
  EXPECT_EQ(NtStatusFacilityName(0x35), "FACILITY_HYPERVISOR");
  EXPECT_EQ(NtStatusFacilityName(0xFFF), "");
}

}  // namespace
}  // namespace restack::dump
