// culprit.h - one stack's probable culprit, as !analyze finds and names it
//
// From the top frame down, each frame's owner is looked up in the triage
// rules: `ignore` passes over the frame, a definite owner ends the search,
// and maybe_ / last_ owners stand only until a stronger owner turns up lower
// on the stack (docs/triage-rules.md). The frame found is then named in
// !analyze's terms: MODULE_NAME, IMAGE_NAME, SYMBOL_NAME, FAILURE_BUCKET_ID.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "blame/triage_rules.h"
#include "common/stack_input.h"

namespace restack::tools {

// The rule one frame matched (null: no rule, or a frame outside any module).
struct FrameOwner {
  const TriageRule* rule = nullptr;
};

// !analyze's names for a frame (docs/tools.md#restack-blame has the grammar).
struct AnalyzeNames {
  std::string module;     // MODULE_NAME: "Hamdrv"
  std::string image;      // IMAGE_NAME: "Hamdrv.sys"
  std::string symbol;     // SYMBOL_NAME: "Hamdrv+1f0a", "nt!KiPageFault+469"
  std::string bucket;     // FAILURE_BUCKET_ID: "0x44_Hamdrv+1f0a" ("Hamdrv+1f0a" without a code)
  std::string call_site;  // the frame as printed: "Hamdrv+0x1f0a"
};

// The blamed frame of one stack.
struct Culprit {
  size_t frame = 0;  // index in the stack
  const TriageRule* rule = nullptr;
  AnalyzeNames names;
};

struct StackBlame {
  std::vector<FrameOwner> owners;  // one per frame
  std::optional<Culprit> culprit;  // none when no frame has an owner
};

// The stack's probable culprit under `rules`. The rules must outlive the result.
StackBlame BlameStack(const InputStack& stack, const TriageRules& rules);

// The image file name of a frame's module: the input's own ("rsnt.exe" from
// restack-walk), else WinDbg's for the kernel ("ntkrnlmp.exe") and the HAL
// ("hal.dll"), else module + ".sys" on a kernel stack and + ".dll" otherwise.
std::string ImageNameOf(const InputStack& stack, const InputFrame& frame);

// SYMBOL_NAME of a frame: module!Function+off or module+rva, offsets in hex
// without "0x" as !analyze prints them.
std::string SymbolNameOf(const FrameKey& key);

// FAILURE_BUCKET_ID: "0x44_" + symbol for a bugcheck, "C0000005_" + symbol
// for an exception code, the symbol alone without a code.
std::string BucketIdOf(const std::string& symbol, std::optional<uint32_t> code,
                       bool exception_code);

// All of a frame's names.
AnalyzeNames NamesOf(const InputStack& stack, size_t frame);

}  // namespace restack::tools
