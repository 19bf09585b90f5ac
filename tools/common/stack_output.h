// stack_output.h - walked stacks as WinDbg `kn`-like text and as JSON Lines
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "nlohmann/json.hpp"
#include "common/frame_symbols.h"
#include "restack/unwind/stack_walker.h"

namespace restack::tools {

// Where a stack came from, for headers and JSON.
struct StackOrigin {
  std::string dump;  // dump file name
  // "exception" or "thread" (user minidumps); "bugcheck" (the bugchecking
  // processor's KPRCB context), "processor" (another KPRCB's), "header"
  // (DUMP_HEADER64.ContextRecord) or "cxr" (a CONTEXT record in memory) for
  // kernel dumps.
  std::string context;
  // User minidumps.
  uint32_t thread_id = 0;
  uint32_t thread_index = 0;  // position in the thread list
  uint32_t suspend_count = 0;
  uint64_t teb = 0;
  // Kernel dumps.
  std::optional<uint32_t> processor;
  uint64_t prcb = 0;
  uint64_t kernel_thread = 0;
  std::string context_source;  // "prcb-context", "prcb-processor-state"
  uint64_t cxr = 0;            // address of the CONTEXT record for "cxr"
};

struct StackOutputOptions {
  bool registers = false;  // JSON: include the known registers' values per frame
};

// The line above a stack: the thread, processor or CONTEXT it starts from.
std::string StackTitle(const StackOrigin& origin);

// "00000000`0022fe28", as WinDbg prints 64-bit addresses.
std::string FormatAddress(uint64_t address);
// "0x1234" for JSON.
std::string Hex(uint64_t value);
// The call site of a frame without symbols: "module+0x1f0a", or the address.
std::string CallSite(const unwind::StackFrame& frame);

// WinDbg `kn`: frame number, Child-SP, RetAddr, Call Site; a trailing
// "[trust: ...]" on frames found by anything but unwind data; warnings after.
// `symbols` (one per frame, or null) names the frames; else module+0xRVA.
// Their inline frames come before each frame as WinDbg's
// "NN (Inline Function) --------`--------     module!Inlinee+0xOFF" rows,
// numbered with the others.
void PrintStackText(const StackOrigin& origin, const unwind::StackWalk& walk, std::ostream& out,
                    const std::vector<FrameSymbol>* symbols = nullptr);

// The text forms of restack-walk (--format), after WinDbg's k variants.
enum class StackFormat {
  kKn,  // " # Child-SP RetAddr Call Site", numbered (restack's default)
  kKv,  // WinDbg's kv: Child-SP, RetAddr, Args to Child, Call Site (TrapFrame @ ...)
  kKc,  // WinDbg's kc: the call sites alone
};
// "kn", "kv", "kc" -> the format; nullopt for anything else.
std::optional<StackFormat> ParseStackFormat(std::string_view name);

// The four home slots of frame i, WinDbg's "Args to Child": the quadwords
// just above the frame's return address (its caller's Child-SP and up).
// nullopt where memory lacks them or the return address slot is unknown (a
// frame unwound through a machine frame, a walk cut after frame i).
std::vector<std::optional<uint64_t>> HomeSlots(const unwind::StackWalk& walk, size_t i,
                                               const unwind::MemoryReader& memory);

// `walk` in `format`: kKn is PrintStackText; kKv and kKc are written by the
// stack-text codec (restack/sym/stack_text.h) in WinDbg's layout, so that
// restack-sym and WinDbg users read them back. `memory` gives kKv's
// arguments (null: unknown, "????????`????????"). The warnings follow as in kKn.
void PrintStack(const StackOrigin& origin, const unwind::StackWalk& walk, StackFormat format,
                const unwind::MemoryReader* memory, std::ostream& out,
                const std::vector<FrameSymbol>* symbols = nullptr);

// One line of JSON. Strings that are not valid UTF-8 (names from dumps and
// images are untrusted) are written with U+FFFD replacements, never thrown on.
std::string JsonLine(const nlohmann::json& value);

// One JSON Lines object (docs/tools.md#restack-walk-json). Inline frames are
// frames of their own ("inline": true) before their physical frame; "index"
// is the frame's number in the text.
nlohmann::json StackToJson(const StackOrigin& origin, const unwind::StackWalk& walk,
                           const StackOutputOptions& options,
                           const std::vector<FrameSymbol>* symbols = nullptr);

}  // namespace restack::tools
