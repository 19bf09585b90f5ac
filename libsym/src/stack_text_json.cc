// stack_text_json.cc - JSON Lines for parsed stacks (schema: docs/stack-text.md)
//
// Field names follow restack-walk's JSON (docs/tools.md) where they mean the
// same thing; 64-bit values are hex strings ("0x..."), absent ones null.
#include <string>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "stack_text_internal.h"

namespace restack::sym {
namespace {

using nlohmann::json;
using stack_text::Trim;

std::string Hex(uint64_t value) { return absl::StrFormat("0x%x", value); }

json HexOrNull(const std::optional<uint64_t>& value) {
  return value ? json(Hex(*value)) : json(nullptr);
}

template <typename T>
json ValueOrNull(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json StringOrNull(const std::string& value) { return value.empty() ? json(nullptr) : json(value); }

std::string WithoutCr(const std::string& s) {
  return !s.empty() && s.back() == '\r' ? s.substr(0, s.size() - 1) : s;
}

std::string_view FrameKindName(FrameKind kind) {
  switch (kind) {
    case FrameKind::kFull:
      return "full";
    case FrameKind::kInline:
      return "inline";
    case FrameKind::kCallSiteOnly:
      return "call_site";
    default:
      return "unknown";
  }
}

json FrameJson(const Frame& f, size_t index) {
  json args = json::array();
  for (const std::optional<uint64_t>& a : f.args) args.push_back(HexOrNull(a));
  const CallSite& cs = f.call_site;
  json j = {
      {"index", index},
      {"number", ValueOrNull(f.number)},
      {"kind", std::string(FrameKindName(f.kind))},
      {"inline", f.kind == FrameKind::kInline},
      {"child_sp", HexOrNull(f.child_sp)},
      {"return_address", HexOrNull(f.return_address)},
      {"args", args},
      {"memory", HexOrNull(f.memory)},
      {"call_site", cs.text.empty() ? FormatCallSite(cs) : cs.text},
      {"module", StringOrNull(cs.module)},
      {"function", StringOrNull(cs.function)},
      {"parameters", StringOrNull(cs.parameters)},
      {"offset", cs.offset && cs.negative_offset ? json("-" + Hex(*cs.offset)) : HexOrNull(cs.offset)},
      {"address", HexOrNull(cs.address)},
      {"trap_frame", HexOrNull(f.trap_frame)},
      {"context_record", HexOrNull(f.context_record)},
      {"chunk_start", HexOrNull(f.chunk_start)},
      {"fpo", ValueOrNull(f.fpo)},
      {"conv", ValueOrNull(f.conv)},
      {"annotations", f.other_annotations},
      {"source", f.source ? json{{"file", f.source->file}, {"line", f.source->line}} : json(nullptr)},
      {"trust", ValueOrNull(f.trust)},
      {"was", ValueOrNull(f.was)},
  };
  return j;
}

json ThreadJson(const ThreadInfo& t) {
  json irps = json::array();
  for (const ThreadIrp& irp : t.irps) irps.push_back({{"irp", Hex(irp.irp)}, {"detail", irp.detail}});
  return {
      {"thread", Hex(t.thread)},
      {"process_id", ValueOrNull(t.process_id)},
      {"thread_id", ValueOrNull(t.thread_id)},
      {"teb", HexOrNull(t.teb)},
      {"win32_thread", HexOrNull(t.win32_thread)},
      {"state", t.state},
      {"processor", ValueOrNull(t.processor)},
      {"irps", irps},
      {"impersonating", ValueOrNull(t.impersonating)},
      {"device_map", HexOrNull(t.device_map)},
      {"owning_process", HexOrNull(t.owning_process)},
      {"image", StringOrNull(t.image)},
      {"attached_process", HexOrNull(t.attached_process)},
      {"attached_image", StringOrNull(t.attached_image)},
      {"wait_start_tick", ValueOrNull(t.wait_start_tick)},
      {"ticks", StringOrNull(t.ticks)},
      {"context_switch_count", ValueOrNull(t.context_switch_count)},
      {"ideal_processor", ValueOrNull(t.ideal_processor)},
      {"user_time", StringOrNull(t.user_time)},
      {"kernel_time", StringOrNull(t.kernel_time)},
      {"win32_start_address", StringOrNull(t.win32_start_address)},
      {"start_address", StringOrNull(t.start_address)},
      {"stack_init", HexOrNull(t.stack_init)},
      {"stack_current", HexOrNull(t.stack_current)},
      {"stack_base", HexOrNull(t.stack_base)},
      {"stack_limit", HexOrNull(t.stack_limit)},
      {"priority", ValueOrNull(t.priority)},
      {"base_priority", ValueOrNull(t.base_priority)},
  };
}

// The text after "WARNING:" of a warning line, or nullopt.
std::optional<std::string> WarningText(const std::string& line) {
  const std::string text = WithoutCr(line);
  const std::string_view t = Trim(text);
  if (t.substr(0, 8) != "WARNING:") return std::nullopt;
  return std::string(Trim(t.substr(8)));
}

}  // namespace

nlohmann::json StackToJson(const Stack& stack, size_t index) {
  json header = json::array();
  json warnings = json::array();
  for (const HeaderLine& h : stack.header) {
    header.push_back(WithoutCr(h.text));
    if (h.kind == HeaderLineKind::kNote) {
      if (auto w = WarningText(h.text)) warnings.push_back(*w);
    }
  }
  json notes = json::array();
  for (const Note& n : stack.notes) {
    notes.push_back({{"before_frame", n.before_frame}, {"text", WithoutCr(n.text)}});
    if (auto w = WarningText(n.text)) warnings.push_back(*w);
  }
  json frames = json::array();
  for (size_t i = 0; i < stack.frames.size(); ++i) frames.push_back(FrameJson(stack.frames[i], i));

  json columns = nullptr;
  if (stack.column_header) {
    const ColumnHeader& h = *stack.column_header;
    columns = {{"number", h.number},
               {"memory", h.memory},
               {"addresses", h.addresses},
               {"args", h.args},
               {"call_site", h.call_site}};
  }
  json complete = nullptr;
  if (stack.end) {
    complete = false;
  } else if (!stack.frames.empty() && stack.frames.back().kind == FrameKind::kFull &&
             stack.frames.back().return_address == 0u) {
    complete = true;
  }

  json j = {
      {"index", index},
      {"line", stack.first_line == 0 ? json(nullptr) : json(stack.first_line)},
      {"prompt", stack.prompt ? json(stack.prompt->prompt) : json(nullptr)},
      {"command", stack.prompt ? json(stack.prompt->command) : json(nullptr)},
      {"analyze_stack_text", stack.stack_text_label},
      {"header", header},
      {"context", stack.title && !stack.title->context.empty() ? json(stack.title->context)
                                                              : json(nullptr)},
      {"thread", stack.thread ? ThreadJson(*stack.thread) : json(nullptr)},
      {"columns", columns},
      {"frames", frames},
      {"notes", notes},
      {"warnings", warnings},
      {"end", stack.end ? json(stack.end->reason) : json(nullptr)},
      {"end_detail", stack.end ? json(stack.end->detail) : json(nullptr)},
      {"complete", complete},
  };
  if (stack.title) {
    const StackTitle& t = *stack.title;
    json title = {{"marker", std::string(1, t.marker)}};
    if (t.thread_index) title["thread_index"] = *t.thread_index;
    if (t.process_id) title["process_id"] = *t.process_id;
    if (t.thread_id) title["thread_id"] = *t.thread_id;
    if (t.suspend_count) title["suspend_count"] = *t.suspend_count;
    if (t.teb) title["teb"] = Hex(*t.teb);
    if (!t.rest.empty()) title["rest"] = t.rest;
    if (t.processor) title["processor"] = *t.processor;
    if (t.prcb) title["prcb"] = Hex(*t.prcb);
    if (t.kernel_thread) title["kernel_thread"] = Hex(*t.kernel_thread);
    if (!t.context_source.empty()) title["context_source"] = t.context_source;
    if (t.cxr) title["cxr"] = Hex(*t.cxr);
    // restack-walk puts these at the top level; so does this.
    for (const char* key : {"thread_index", "thread_id", "processor", "prcb", "kernel_thread",
                            "context_source", "cxr"}) {
      if (title.contains(key)) j[key] = title[key];
    }
    j["title"] = title;
  } else {
    j["title"] = nullptr;
  }
  return j;
}

std::string EmitJsonLines(const StackText& text) {
  std::string out;
  size_t index = 0;
  for (const StackTextItem& item : text.items) {
    if (const Stack* s = std::get_if<Stack>(&item)) {
      out += StackToJson(*s, index++).dump(-1, ' ', false, json::error_handler_t::replace);
      out += '\n';
    }
  }
  return out;
}

}  // namespace restack::sym
