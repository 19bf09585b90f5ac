// scenario_truth.cc - ScenarioTruth <-> JSON (see scenario_truth.h, docs/scenarios.md)
#include "tests/support/scenario_truth.h"

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "tests/support/file_read.h"

namespace restack::test {
namespace {

using ordered_json = nlohmann::ordered_json;

std::string Hex(uint64_t v) { return absl::StrFormat("0x%x", v); }

uint64_t FromHex(const ordered_json& v) {
  return std::stoull(v.get<std::string>(), nullptr, 16);
}

ordered_json Registers(const TruthRegisters& regs) {
  ordered_json out = ordered_json::object();
  for (const auto& [name, value] : regs) out[name] = Hex(value);
  return out;
}

TruthRegisters RegistersFrom(const ordered_json& j) {
  TruthRegisters out;
  for (auto it = j.begin(); it != j.end(); ++it) out.emplace_back(it.key(), FromHex(it.value()));
  return out;
}

}  // namespace

std::string_view TruthHowName(TruthHow how) {
  switch (how) {
    case TruthHow::kContext: return "context";
    case TruthHow::kCall: return "call";
    case TruthHow::kTrap: return "trap";
    case TruthHow::kStackSwitch: return "stack_switch";
  }
  return "?";
}

std::optional<TruthHow> TruthHowFromName(std::string_view name) {
  for (TruthHow h : {TruthHow::kContext, TruthHow::kCall, TruthHow::kTrap, TruthHow::kStackSwitch}) {
    if (TruthHowName(h) == name) return h;
  }
  return std::nullopt;
}

const TruthStack* ScenarioTruth::Stack(std::string_view name) const {
  for (const TruthStack& s : stacks) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const TruthModule* ScenarioTruth::Module(std::string_view name) const {
  for (const TruthModule& m : modules) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string TruthToJson(const ScenarioTruth& t) {
  ordered_json j;
  j["scenario"] = t.scenario;
  j["description"] = t.description;
  j["bugcheck"] = {{"code", Hex(t.bugcheck_code)},
                   {"parameters", {Hex(t.bugcheck_parameters[0]), Hex(t.bugcheck_parameters[1]),
                                   Hex(t.bugcheck_parameters[2]), Hex(t.bugcheck_parameters[3])}}};
  j["processors"] = t.processors;
  j["bugcheck_processor"] = t.bugcheck_processor;
  j["dumps"] = ordered_json::object();
  for (const auto& [kind, file] : t.dumps) j["dumps"][kind] = file;
  j["modules"] = ordered_json::array();
  for (const TruthModule& m : t.modules) {
    j["modules"].push_back({{"name", m.name}, {"base", Hex(m.base)}, {"size", Hex(m.size)},
                            {"timestamp", Hex(m.timestamp)}, {"user", m.user}});
  }
  j["stacks"] = ordered_json::array();
  for (const TruthStack& s : t.stacks) {
    j["stacks"].push_back(
        {{"name", s.name}, {"limit", Hex(s.limit)}, {"base", Hex(s.base)}, {"user", s.user}});
  }
  j["context"] = Registers(t.context);
  j["frames"] = ordered_json::array();
  for (size_t i = 0; i < t.frames.size(); ++i) {
    const TruthFrame& f = t.frames[i];
    ordered_json o;
    o["index"] = i;
    o["rip"] = Hex(f.rip);
    o["rsp"] = Hex(f.rsp);
    o["how"] = std::string(TruthHowName(f.how));
    o["stack"] = f.stack;
    o["module"] = f.module;
    o["function"] = f.function;
    if (!f.chunk_of.empty()) o["chunk_of"] = f.chunk_of;
    if (f.call_site != 0) o["call_site"] = Hex(f.call_site);
    if (f.trap_frame) o["trap_frame"] = Hex(*f.trap_frame);
    if (f.machine_frame) o["machine_frame"] = Hex(*f.machine_frame);
    if (f.saved_rsp_slot) o["saved_rsp_slot"] = Hex(*f.saved_rsp_slot);
    if (!f.regs.empty()) o["regs"] = Registers(f.regs);
    j["frames"].push_back(std::move(o));
  }
  j["events"] = ordered_json::array();
  for (const TruthEvent& e : t.events) {
    j["events"].push_back({{"kind", e.kind}, {"at", Hex(e.at)}, {"from_rsp", Hex(e.from_rsp)},
                           {"to_rsp", Hex(e.to_rsp)}, {"from_stack", e.from_stack},
                           {"to_stack", e.to_stack}, {"convention", e.convention},
                           {"evidence", Hex(e.evidence)}});
  }
  j["decoys"] = ordered_json::array();
  for (const TruthDecoy& d : t.decoys) {
    j["decoys"].push_back({{"slot", Hex(d.slot)}, {"value", Hex(d.value)}, {"stack", d.stack},
                           {"after_call", d.after_call}});
  }
  j["instructions"] = t.instructions;
  return j.dump(2) + "\n";
}

absl::StatusOr<ScenarioTruth> TruthFromJson(std::string_view text) {
  ScenarioTruth t;
  try {
    const ordered_json j = ordered_json::parse(text);
    t.scenario = j.at("scenario");
    t.description = j.at("description");
    t.bugcheck_code = static_cast<uint32_t>(FromHex(j.at("bugcheck").at("code")));
    for (size_t i = 0; i < 4; ++i) {
      t.bugcheck_parameters[i] = FromHex(j.at("bugcheck").at("parameters").at(i));
    }
    t.processors = j.at("processors");
    t.bugcheck_processor = j.at("bugcheck_processor");
    for (auto it = j.at("dumps").begin(); it != j.at("dumps").end(); ++it) {
      t.dumps[it.key()] = it.value();
    }
    for (const ordered_json& m : j.at("modules")) {
      t.modules.push_back({m.at("name"), FromHex(m.at("base")),
                           static_cast<uint32_t>(FromHex(m.at("size"))),
                           static_cast<uint32_t>(FromHex(m.at("timestamp"))), m.at("user")});
    }
    for (const ordered_json& s : j.at("stacks")) {
      t.stacks.push_back({s.at("name"), FromHex(s.at("limit")), FromHex(s.at("base")), s.at("user")});
    }
    t.context = RegistersFrom(j.at("context"));
    for (const ordered_json& o : j.at("frames")) {
      TruthFrame f;
      f.rip = FromHex(o.at("rip"));
      f.rsp = FromHex(o.at("rsp"));
      std::optional<TruthHow> how = TruthHowFromName(o.at("how").get<std::string>());
      if (!how) return absl::InvalidArgumentError("unknown frame 'how': " + o.at("how").dump());
      f.how = *how;
      f.stack = o.at("stack");
      f.module = o.at("module");
      f.function = o.at("function");
      if (o.contains("chunk_of")) f.chunk_of = o["chunk_of"];
      if (o.contains("call_site")) f.call_site = FromHex(o["call_site"]);
      if (o.contains("trap_frame")) f.trap_frame = FromHex(o["trap_frame"]);
      if (o.contains("machine_frame")) f.machine_frame = FromHex(o["machine_frame"]);
      if (o.contains("saved_rsp_slot")) f.saved_rsp_slot = FromHex(o["saved_rsp_slot"]);
      if (o.contains("regs")) f.regs = RegistersFrom(o["regs"]);
      t.frames.push_back(std::move(f));
    }
    for (const ordered_json& e : j.at("events")) {
      t.events.push_back({e.at("kind"), FromHex(e.at("at")), FromHex(e.at("from_rsp")),
                          FromHex(e.at("to_rsp")), e.at("from_stack"), e.at("to_stack"),
                          e.at("convention"), FromHex(e.at("evidence"))});
    }
    for (const ordered_json& d : j.at("decoys")) {
      t.decoys.push_back({FromHex(d.at("slot")), FromHex(d.at("value")), d.at("stack"),
                          d.at("after_call")});
    }
    t.instructions = j.at("instructions");
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(std::string("truth JSON: ") + e.what());
  }
  return t;
}

absl::StatusOr<ScenarioTruth> ReadTruthFile(const std::string& path) {
  return ParseTextFile<ScenarioTruth>(path, TruthFromJson);
}

}  // namespace restack::test
