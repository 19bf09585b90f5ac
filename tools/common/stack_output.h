// stack_output.h - walked stacks as WinDbg `kn`-like text and as JSON Lines
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "nlohmann/json.hpp"
#include "restack/unwind/stack_walker.h"

namespace restack::tools {

// Where a stack came from, for headers and JSON.
struct StackOrigin {
  std::string dump;        // dump file name
  uint32_t thread_id = 0;
  uint32_t thread_index = 0;  // position in the thread list
  uint32_t suspend_count = 0;
  uint64_t teb = 0;
  std::string context;     // "exception" or "thread"
};

struct StackOutputOptions {
  bool registers = false;  // JSON: include the known registers' values per frame
};

// "00000000`0022fe28", as WinDbg prints 64-bit addresses.
std::string FormatAddress(uint64_t address);
// "0x1234" for JSON.
std::string Hex(uint64_t value);
// The call site of a frame without symbols: "module+0x1f0a", or the address.
std::string CallSite(const unwind::StackFrame& frame);

// WinDbg `kn`: frame number, Child-SP, RetAddr, Call Site; a trailing
// "[trust: ...]" on frames found by anything but unwind data; warnings after.
void PrintStackText(const StackOrigin& origin, const unwind::StackWalk& walk, std::ostream& out);

// One JSON Lines object (docs/tools.md#restack-walk-json).
nlohmann::json StackToJson(const StackOrigin& origin, const unwind::StackWalk& walk,
                           const StackOutputOptions& options);

}  // namespace restack::tools
