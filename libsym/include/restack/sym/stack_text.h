// stack_text.h - stack text as WinDbg and restack print it: model, parser, emitters
//
// Analysts paste stacks from WinDbg (k, kb, kv, kn, kp, kP, kf, kc, kL, !thread,
// !analyze -v's STACK_TEXT) and from restack-walk. ParseStackText() turns such
// text into a sequence of items in input order: stacks, and verbatim lines
// (everything not understood, kept byte for byte). The emitters write a parsed
// text back as the input had it, in WinDbg's kv layout, in restack's kn form,
// or as JSON Lines. docs/stack-text.md describes the line kinds and the JSON.
//
// Parsing never fails and never throws: text it does not understand stays
// verbatim. Work and memory are linear in the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "nlohmann/json_fwd.hpp"

namespace restack::sym {

// `[file @ line]` after a call site (source lines, WinDbg without kL).
struct SourceLine {
  std::string file;
  uint64_t line = 0;
  bool operator==(const SourceLine&) const = default;
};

// A call site, `module!Function+0xOFF`, split. `text` is what is printed (and
// what the emitters write); the other fields are read from it.
struct CallSite {
  std::string text;        // "nt! ?? ::FNODOBFM::`string'+0x2a9ab" (no annotations)
  std::string module;      // "nt"; "" for a bare address or text that is no call site
  std::string function;    // "?? ::FNODOBFM::`string'"; "" for module+0xOFF
  std::string parameters;  // kp/kP: "(int a = 0n1)", parentheses and kP's line breaks kept
  std::optional<uint64_t> offset;   // +0xOFF: from the function, else from the module base
  std::optional<uint64_t> address;  // a bare address: 0x000007fd`03242c5a or fffff880`01e7dcc9
  bool negative_offset = false;     // restack: "-0xOFF", a chunk placed before its function
  bool operator==(const CallSite&) const = default;
};

// Splits `text` (a call site without annotations). Text that is none of the
// known forms keeps empty module, function, offset and address.
CallSite ParseCallSite(std::string_view text);

// The text of a call site from its parts: "0x<address>" when `address` is set,
// else module[!function[parameters]][+0xoffset] ("-0x" for a negative offset).
std::string FormatCallSite(const CallSite& parts);

// What the address columns of a frame row hold.
enum class FrameKind {
  kFull,          // Child-SP (ChildEBP) and RetAddr
  kInline,        // "(Inline Function) --------`--------": an inlined call, no frame of its own
  kCallSiteOnly,  // kc: the call site alone
};

// One frame row. Placeholders: a RetAddr or argument of nullopt is printed as
// "????????`????????" (unknown) in a full row and "--------`--------" in an
// inline row.
struct Frame {
  FrameKind kind = FrameKind::kFull;
  std::optional<uint32_t> number;  // kn: the printed frame number (hex)
  std::optional<uint64_t> memory;  // kf: the "Memory" column (stack bytes of the frame)
  bool wide = true;                // 64-bit columns (x64); false: 8-digit columns (x86)
  std::optional<uint64_t> child_sp;        // kFull only
  std::optional<uint64_t> return_address;  // kFull/kInline; nullopt: placeholder
  std::vector<std::optional<uint64_t>> args;  // "Args to Child" (kb/kv); empty when not shown
  CallSite call_site;

  // Annotations after the call site.
  std::optional<uint64_t> trap_frame;      // (TrapFrame @ fffff880`1ce29b00)
  std::optional<uint64_t> context_record;  // (CONTEXT @ ...)
  std::optional<uint64_t> chunk_start;     // restack: (Chunk @ ...): a separated chunk of the function
  std::optional<std::string> fpo;          // x86 (FPO: [2,0,0]) -> "[2,0,0]"
  std::optional<std::string> conv;         // x86 (CONV: cdecl) -> "cdecl"
  std::vector<std::string> other_annotations;  // other "(Name @ address)", as printed
  std::optional<SourceLine> source;        // [d:\src\file.c @ 123]
  std::optional<std::string> trust;        // restack: [trust: leaf] -> "leaf"
  std::optional<std::string> was;          // restack-sym: [was: old call site], what it replaced

  // The input lines of the row (several for kP); empty for a frame built in code.
  std::vector<std::string> lines;

  bool operator==(const Frame&) const = default;
};

// The column header line ("Child-SP          RetAddr           : Args to Child ...").
struct ColumnHeader {
  bool number = false;     // " # "
  bool memory = false;     // kf "Memory"
  bool addresses = false;  // "Child-SP RetAddr" or "ChildEBP RetAddr"
  bool args = false;       // "Args to Child"
  bool call_site = false;  // "Call Site"
  std::string text;        // the input line; "" for a header built in code
  bool operator==(const ColumnHeader&) const = default;
};

// Lines before the frames of a stack.
enum class HeaderLineKind {
  kPrompt,          // "7: kd> kv", "0:000> kn"
  kTitle,           // restack's stack title, WinDbg's "~" thread title
  kThread,          // !thread: "THREAD fffffa800c716900  Cid 1c40.1da0 ..."
  kThreadDetail,    // the !thread lines after it (IRP List, Stack Init, Base, Priority, ...)
  kStackTextLabel,  // !analyze -v: "STACK_TEXT:"
  kNote,            // "WARNING: ...", "*** ...", "ERROR: ..." before the frames
};
struct HeaderLine {
  HeaderLineKind kind = HeaderLineKind::kNote;
  std::string text;  // as in the input
  bool operator==(const HeaderLine&) const = default;
};

// A debugger prompt: "7: kd> kv" -> {"7: kd>", "kv"}.
struct Prompt {
  std::string prompt;
  std::string command;
  bool operator==(const Prompt&) const = default;
};

// A title line: restack's (StackTitle in tools/common/stack_output.cc) or WinDbg's
// "~" thread line (".  0  Id: 1a30.1b00 Suspend: 1 Teb: 000000d8`2ae0d000 Unfrozen").
struct StackTitle {
  // restack-walk's JSON "context": "exception", "thread", "bugcheck", "processor",
  // "header", "cxr"; "" for a WinDbg thread line.
  std::string context;
  char marker = ' ';  // '#' (restack: the exception thread or bugcheck processor), '.', ' '
  std::optional<uint32_t> thread_index;
  std::optional<uint64_t> process_id;  // WinDbg's "Id: pid.tid"
  std::optional<uint64_t> thread_id;
  std::optional<uint32_t> suspend_count;
  std::optional<uint64_t> teb;
  std::string rest;  // after Teb: "(exception context)", "Unfrozen \"name\""
  std::optional<uint32_t> processor;
  std::optional<uint64_t> prcb;
  std::optional<uint64_t> kernel_thread;
  std::string context_source;  // "prcb-context", ...
  std::optional<uint64_t> cxr;
  bool operator==(const StackTitle&) const = default;
};

// An IRP of !thread's IRP List.
struct ThreadIrp {
  uint64_t irp = 0;
  std::string detail;  // "(0006,0118) Flags: 00060000  Mdl: 00000000"
  bool operator==(const ThreadIrp&) const = default;
};

// The facts of a !thread block. Absent fields were not printed (or not read).
struct ThreadInfo {
  uint64_t thread = 0;  // the ETHREAD
  std::optional<uint64_t> process_id;
  std::optional<uint64_t> thread_id;
  std::optional<uint64_t> teb;
  std::optional<uint64_t> win32_thread;
  std::string state;  // "RUNNING on processor 1", "WAIT: (Executive) KernelMode Non-Alertable"
  std::optional<uint32_t> processor;  // "RUNNING on processor N", "READY on processor N"
  std::vector<ThreadIrp> irps;
  std::optional<bool> impersonating;  // "Not impersonating" -> false
  std::optional<uint64_t> device_map;
  std::optional<uint64_t> owning_process;
  std::string image;
  std::optional<uint64_t> attached_process;  // nullopt for N/A
  std::string attached_image;
  std::optional<uint64_t> wait_start_tick;
  std::string ticks;  // "0", "172 (0:00:00:02.683)"
  std::optional<uint64_t> context_switch_count;
  std::optional<uint32_t> ideal_processor;
  std::string user_time;
  std::string kernel_time;
  std::string win32_start_address;  // "0x000007fd00a44aa0", "nt!ExpWorkerThread (0x...)"
  std::string start_address;
  std::optional<uint64_t> stack_init;
  std::optional<uint64_t> stack_current;
  std::optional<uint64_t> stack_base;
  std::optional<uint64_t> stack_limit;
  std::optional<uint32_t> priority;
  std::optional<uint32_t> base_priority;
  bool operator==(const ThreadInfo&) const = default;
};

// A line among or after the frames ("WARNING: ...", "*** ERROR: ..."), placed
// before frames[before_frame] (== frames.size(): after the last frame).
struct Note {
  size_t before_frame = 0;
  std::string text;  // as in the input
  bool operator==(const Note&) const = default;
};

// restack's "WARNING: stack ended early (image_missing): no image for ...".
struct StackEnd {
  std::string reason;  // restack-walk's JSON "end"
  std::string detail;  // its "end_detail"
  bool operator==(const StackEnd&) const = default;
};

struct Stack {
  size_t first_line = 0;  // 1-based input line of its first line; 0 when built in code
  std::vector<HeaderLine> header;
  std::optional<ColumnHeader> column_header;
  std::vector<Frame> frames;
  std::vector<Note> notes;

  // Read by the parser from `header` and `notes` (the emitters write those).
  std::optional<Prompt> prompt;
  std::optional<StackTitle> title;
  std::optional<ThreadInfo> thread;
  bool stack_text_label = false;  // under !analyze -v's STACK_TEXT:
  std::optional<StackEnd> end;

  bool operator==(const Stack&) const = default;
};

// A line kept as it was.
struct VerbatimLine {
  size_t line = 0;   // 1-based; 0 when built in code
  std::string text;  // without its "\n" (a "\r" before it is kept)
  bool operator==(const VerbatimLine&) const = default;
};

using StackTextItem = std::variant<VerbatimLine, Stack>;

// Something the parser wants a reader to know (text is never rejected).
struct TextWarning {
  size_t line = 0;
  std::string what;
  bool operator==(const TextWarning&) const = default;
};

struct StackText {
  std::vector<StackTextItem> items;
  bool final_newline = true;  // the last line ended with "\n"
  std::vector<TextWarning> warnings;
  bool operator==(const StackText&) const = default;
};

struct StackTextOptions {
  // Longer lines are kept verbatim (values below 256 count as 256). A frame is
  // read only when its kv and kn forms fit too, so emitted text reads back alike.
  size_t max_line_length = 64 * 1024;
  size_t max_frames = 65536;        // per stack; the next frame line starts a new stack
  size_t max_thread_lines = 128;    // !thread lines between THREAD and the frames
  size_t max_parameter_lines = 64;  // kP continuation lines of one frame
};

StackText ParseStackText(std::string_view text, const StackTextOptions& options = {});

// Stacks of a parsed text, in order.
std::vector<const Stack*> StacksOf(const StackText& text);

// The parts of single lines (the parser's own readers).
std::optional<Prompt> ParsePrompt(std::string_view line);
// Whether a prompt's command prints a stack: k and its variants, !thread.
bool IsStackCommand(std::string_view command);
std::optional<StackTitle> ParseStackTitle(std::string_view line);
std::optional<ColumnHeader> ParseColumnHeader(std::string_view line);
std::optional<StackEnd> ParseStackEnd(std::string_view line);

enum class TextFormat {
  // The input's own text: every line as it was read; stacks and frames built
  // in code as in kKv.
  kOriginal,
  // WinDbg's layout: kv/kb columns for frames with arguments, k columns for
  // frames without, kc for call-site rows, "NN " frame numbers when present,
  // annotations where WinDbg puts them. The kf "Memory" column is dropped.
  kKv,
  // restack-walk's text (tools/common/stack_output.cc): " # Child-SP ... Call Site"
  // and "NN child-sp retaddr     call-site    [trust: x]"; no arguments.
  kRestackKn,
};

// The whole text; verbatim lines, header lines and notes as they were.
std::string EmitStackText(const StackText& text, TextFormat format);
// One stack's lines, each ending with "\n".
std::string EmitStack(const Stack& stack, TextFormat format);
// One frame row (kP rows span lines), without the final "\n". `index` is the
// frame's position, the number kRestackKn prints when the frame has none.
std::string EmitFrame(const Frame& frame, TextFormat format, size_t index = 0);

// The JSON object of a stack (docs/stack-text.md); `index` is its position
// among the stacks of its text.
nlohmann::json StackToJson(const Stack& stack, size_t index);
// One JSON object per stack, each on a line of its own.
std::string EmitJsonLines(const StackText& text);

// What `format` carries of a parsed text: the input lines, line numbers and
// warnings dropped, and what the format does not print (kKv: the Memory column;
// kRestackKn: arguments and Memory, frame numbers made explicit). For any text
// x and format F, Canonical(Parse(Emit(Parse(x), F)), F) == Canonical(Parse(x), F).
StackText Canonical(const StackText& text, TextFormat format);

}  // namespace restack::sym
