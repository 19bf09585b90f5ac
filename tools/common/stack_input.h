// stack_input.h - stacks read from WinDbg stack text or restack-walk's JSON Lines,
// each labelled by where it came from
//
// restack-diff and restack-blame take stacks as analysts have them: pasted
// WinDbg text (any k variant, !analyze's STACK_TEXT, !thread), restack-walk
// text, or restack-walk / restack-sym JSON Lines. The text is read by the
// stack-text codec (restack/sym/stack_text.h); JSON is recognised by its
// first non-blank character. Bad input never stops the others: each problem
// is a message naming the input and line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/frame_key.h"

namespace restack::tools {

// One frame of an input stack.
struct InputFrame {
  FrameKey key;
  bool inline_frame = false;            // an "(Inline Function)" row
  std::optional<uint64_t> address;      // the frame's code address, when the input shows it
  std::optional<uint64_t> child_sp;
  std::vector<std::optional<uint64_t>> args;  // kv's Args to Child (empty when not shown)
  std::string image;  // the image's file name ("Hamdrv.sys") when the input names it
};

// One stack and where it came from.
struct InputStack {
  std::string source;  // the input's name as given ("seed.txt", "<stdin>", a dump path)
  size_t index = 0;    // position among the input's stacks (0-based)
  std::string label;   // source, or "source#k" (k 1-based) when the input holds several
  std::string title;   // "7: kd> kv", restack's stack title, "STACK_TEXT", "bugcheck"
  size_t line = 0;     // 1-based line of the input where the stack starts (0: unknown)
  std::vector<InputFrame> frames;
  // The bugcheck (kernel) or exception (user) code the input states, and where
  // it was read ("BugCheck line 3", "KeBugCheckEx argument 1", "dump header").
  std::optional<uint32_t> failure_code;
  bool failure_is_exception = false;  // an exception code (user mode), not a bugcheck
  std::string failure_source;
  bool kernel = false;  // kernel-mode addresses (Child-SP or code in the upper half)
};

// The stacks of one input and what was wrong with it. A problem names the
// input and, where there is one, the line: "a.txt: line 4: ...".
struct StackInput {
  std::vector<InputStack> stacks;
  std::vector<std::string> problems;  // what is wrong: the input was not read whole
  std::vector<std::string> warnings;  // worth saying, but the input was read whole
};

// Bad lines of one input reported one by one; the rest are counted.
inline constexpr size_t kMaxLineProblems = 5;

// Reads `content` (stack text, JSON Lines, or one JSON document holding a
// stack object or an array of them) of the input called `name`. Empty stacks
// are left out with a problem; so are JSON lines that are not a stack (after
// kMaxLineProblems of them, one summary), and text lines that look like frame
// rows but are not. An input with no stack at all gives one problem saying so.
StackInput ParseStackInput(std::string_view name, std::string_view content);

// Reads the file at `path` ("-": standard input, named "<stdin>") and parses it.
StackInput ReadStackInput(const std::string& path);

// Reads every input in order (none: standard input) into one list.
StackInput ReadStackInputs(const std::vector<std::string>& paths);

// Whether `content` starts as a dump file does ("MDMP", "PAGEDU64").
bool LooksLikeDump(std::string_view content);

// The bugcheck code stated by a line of WinDbg output: "BugCheck 44, {...}",
// "BUGCHECK_CODE:  44", "BUGCHECK_STR:  0x44", "Bugcheck code 00000044", or an
// !analyze title "MULTIPLE_IRP_COMPLETE_REQUESTS (44)" whose name is the code's.
std::optional<uint32_t> BugCheckCodeInLine(std::string_view line);

// "a.txt#2" for the second of several stacks of an input, "a.txt" for the only one.
void LabelStacks(std::vector<InputStack>& stacks);

}  // namespace restack::tools
