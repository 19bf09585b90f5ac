// sym.cc - restack-sym: parse stack text, find each call site's module and
// address, name it again through libsym, write the text back
#include "sym/sym.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/dump_target.h"
#include "common/exit_code.h"
#include "common/frame_symbols.h"
#include "common/input_file.h"
#include "common/stack_output.h"
#include "common/symbol_setup.h"
#include "nlohmann/json.hpp"
#include "restack/sym/image_locator.h"
#include "restack/sym/stack_text.h"
#include "restack/sym/symbol_resolver.h"

namespace restack::tools {
namespace {

// A module restack-sym can name addresses in.
struct KnownModule {
  unwind::Module module;    // name, image, .pdata; base/size when known
  bool base_known = false;
  std::string base_source;  // "dump", "load", "inferred"
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return out;
}

// Whether `text` (as a call site names a module: "nt", "amdppm", "amdppm.sys")
// is `m`.
bool NamesModule(const unwind::Module& m, std::string_view text) {
  if (text.empty()) return false;
  const std::string t = Lower(text);
  const std::string file = Lower(sym::BaseName(m.name));
  const std::string stem = file.substr(0, file.find_last_of('.'));
  return t == Lower(m.ShortName()) || t == file || t == stem;
}

// Parses "0x1234", "1234" (hex, as WinDbg) or "fffff800`01234567".
std::optional<uint64_t> ParseHex(std::string_view text) {
  std::string digits;
  absl::string_view t(text.data(), text.size());
  absl::ConsumePrefix(&t, "0x");
  absl::ConsumePrefix(&t, "0X");
  for (char c : t) {
    if (c != '`') digits.push_back(c);
  }
  uint64_t value = 0;
  if (digits.empty() || digits.size() > 16 || !absl::SimpleHexAtoi(digits, &value)) {
    return std::nullopt;
  }
  return value;
}

// An inline row shaped as `row`, a full row as printed whose call site starts
// at `at`: the frame number kept (Renumber sets it), kf's Memory blanked,
// Child-SP and RetAddr replaced by "(Inline Function) --------`--------"
// ("(Inline) --------" in 8-digit columns), each argument by dashes; then
// `call_site`.
std::string InlineRowText(std::string_view row, size_t at, const sym::Frame& f,
                          const std::string& call_site) {
  const std::string_view prefix = row.substr(0, at);
  std::string out;
  size_t token = 0;  // non-blank tokens seen
  const size_t columns = (f.number ? 1 : 0) + (f.memory ? 1 : 0);
  for (size_t i = 0; i < prefix.size();) {
    size_t j = i;
    if (absl::ascii_isspace(static_cast<unsigned char>(prefix[i]))) {
      while (j < prefix.size() && absl::ascii_isspace(static_cast<unsigned char>(prefix[j]))) ++j;
      out.append(prefix.substr(i, j - i));
      i = j;
      continue;
    }
    while (j < prefix.size() && !absl::ascii_isspace(static_cast<unsigned char>(prefix[j]))) ++j;
    const std::string_view t = prefix.substr(i, j - i);
    if (f.number && token == 0) {
      out.append(t);
    } else if (f.memory && token == (f.number ? 1 : 0)) {
      out.append(t.size(), ' ');
    } else if (token == columns) {
      out += f.wide ? "(Inline Function)" : "(Inline)";
    } else if (t == ":") {
      out += ':';
    } else {
      for (char c : t) out += c == '`' ? '`' : '-';
    }
    ++token;
    i = j;
  }
  return out + call_site;
}

// Sets a row's frame number, in its text too (the first token, its width kept).
void Renumber(sym::Frame& f, uint32_t number) {
  f.number = number;
  if (f.lines.empty()) return;
  std::string& line = f.lines[0];
  const size_t begin = line.find_first_not_of(" \t");
  if (begin == std::string::npos) return;
  size_t end = line.find_first_of(" \t", begin);
  if (end == std::string::npos) end = line.size();
  line.replace(begin, end - begin,
               absl::StrFormat("%0*x", static_cast<int>(end - begin), number));
}

// What starts a plain line's inline frame: "(Inline Function) module!Inlinee+0xOFF".
constexpr std::string_view kInlineLineMark = "(Inline Function) ";

std::string InlineLineText(const FrameSymbol& in) {
  return std::string(kInlineLineMark) + in.call_site + in.Annotations();
}

// Whether `items` ends with the plain-line inline frames `chain` (a plain line
// answered before: restack-sym's own output), compared without annotations.
bool EndsWithChain(const std::vector<sym::StackTextItem>& items,
                   const std::vector<FrameSymbol>& chain) {
  if (items.size() < chain.size()) return false;
  for (size_t k = 0; k < chain.size(); ++k) {
    const auto* v = std::get_if<sym::VerbatimLine>(&items[items.size() - chain.size() + k]);
    const std::string head = std::string(kInlineLineMark) + chain[k].call_site;
    if (v == nullptr || !absl::StartsWith(v->text, head) ||
        (v->text.size() > head.size() && v->text[head.size()] != ' ')) {
      return false;
    }
  }
  return true;
}

class Resymbolizer {
 public:
  Resymbolizer(sym::SymbolResolver* resolver, const SymToolOptions& options, std::ostream& err)
      : resolver_(resolver),
        symbolizer_(resolver, options.inlines),
        err_(err),
        lines_(options.lines),
        inline_rows_(options.inline_rows) {}

  std::vector<KnownModule>& modules() { return modules_; }
  bool partial() const { return partial_; }

  // Re-resolves every frame of `stack`; with inline_rows, inserts the inline
  // rows of frames in inlined code.
  void Stack(sym::Stack& stack);
  // A plain line: "module+0xRVA", "module!Function+0xOFF" or an address.
  // nullopt when the line is none of those.
  std::optional<FrameSymbol> PlainLine(std::string_view text, std::string* module_text);

  void Flush() {
    for (const std::string& m : symbolizer_.TakeMessages()) Warn(m);
  }

 private:
  void Warn(const std::string& what) { err_ << "restack-sym: warning: " << what << "\n"; }
  // Once per module text: why its call sites stay as they are.
  void Unresolved(const std::string& module_text, const std::string& why) {
    if (unresolved_.insert(Lower(module_text)).second) {
      Warn(absl::StrFormat("module '%s': %s; its call sites are left as they are", module_text, why));
      partial_ = true;
    }
  }
  KnownModule* ByName(std::string_view text) {
    for (KnownModule& k : modules_) {
      if (NamesModule(k.module, text)) return &k;
    }
    return nullptr;
  }
  KnownModule* ByAddress(uint64_t va) {
    for (KnownModule& k : modules_) {
      if (k.base_known && k.module.Contains(va)) return &k;
    }
    return nullptr;
  }
  // The RVA a call site's function and offset ("-0x" counts back) name in
  // `k`, when the name is unique there.
  std::optional<uint32_t> RvaOfName(KnownModule& k, const sym::CallSite& cs) {
    if (resolver_ == nullptr || k.module.image == nullptr) return std::nullopt;
    const sym::LoadedSymbols& loaded = resolver_->Load(k.module.image, "", k.module.unwind);
    if (loaded.symbols->index() == nullptr) return std::nullopt;
    std::vector<uint32_t> rvas = loaded.symbols->index()->FindName(cs.function);
    if (rvas.size() != 1) return std::nullopt;
    const uint64_t offset = cs.offset.value_or(0);
    if (offset > UINT32_MAX) return std::nullopt;
    const int64_t rva = cs.negative_offset ? int64_t{rvas[0]} - int64_t(offset) : int64_t{rvas[0]} + int64_t(offset);
    if (rva < 0 || rva > UINT32_MAX) return std::nullopt;
    return static_cast<uint32_t>(rva);
  }
  // Infers bases of modules named in `stack` from frames whose address is
  // known (RetAddr of the row above, or a bare address) and whose call site
  // is module+0xOFF or a unique module!Function+0xOFF.
  void InferBases(const sym::Stack& stack, const std::vector<std::optional<uint64_t>>& addresses);

  sym::SymbolResolver* resolver_;
  FrameSymbolizer symbolizer_;
  std::ostream& err_;
  std::vector<KnownModule> modules_;
  std::set<std::string> unresolved_;
  bool lines_ = false;
  bool inline_rows_ = false;
  bool partial_ = false;
};

void Resymbolizer::InferBases(const sym::Stack& stack,
                              const std::vector<std::optional<uint64_t>>& addresses) {
  std::map<KnownModule*, std::map<uint64_t, int>> votes;
  for (size_t i = 0; i < stack.frames.size(); ++i) {
    const sym::CallSite& cs = stack.frames[i].call_site;
    if (!addresses[i] || cs.module.empty()) continue;
    KnownModule* k = ByName(cs.module);
    if (k == nullptr || k->base_known || k->module.image == nullptr) continue;
    std::optional<uint64_t> rva;
    if (cs.function.empty()) {
      if (cs.offset) rva = *cs.offset;
    } else if (std::optional<uint32_t> r = RvaOfName(*k, cs)) {
      rva = *r;
    }
    if (!rva || *rva > *addresses[i]) continue;
    const uint64_t base = *addresses[i] - *rva;
    if ((base & 0xFFF) != 0) continue;  // images are loaded at page boundaries
    ++votes[k][base];
  }
  for (auto& [k, bases] : votes) {
    auto best = std::max_element(bases.begin(), bases.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    k->module.base = best->first;
    k->base_known = true;
    k->base_source = "inferred";
    if (bases.size() > 1) {
      std::string all;
      for (const auto& [base, n] : bases) absl::StrAppendFormat(&all, " %s (%d)", FormatAddress(base), n);
      Warn(absl::StrFormat("module '%s': frames disagree on its base:%s; using %s",
                           k->module.ShortName(), all, FormatAddress(best->first)));
      partial_ = true;
    }
  }
}

void Resymbolizer::Stack(sym::Stack& stack) {
  const size_t n = stack.frames.size();
  // Each frame's address, when the text gives it, and whether it is a return
  // address (a caller's row, not the first and not right after a trap frame).
  // Inline rows between are skipped: the row above them gives the address of
  // the frame they were inlined into, and they name no address of their own
  // (their offsets count from the inline site).
  std::vector<std::optional<uint64_t>> addresses(n);
  std::vector<bool> is_return(n, false);
  std::optional<size_t> above;  // the last row before i that is not an inline row
  for (size_t i = 0; i < n; ++i) {
    const sym::Frame& f = stack.frames[i];
    if (f.kind == sym::FrameKind::kInline) continue;
    if (f.call_site.address) {
      addresses[i] = f.call_site.address;
    } else if (above && stack.frames[*above].kind == sym::FrameKind::kFull &&
               stack.frames[*above].return_address) {
      addresses[i] = stack.frames[*above].return_address;
    }
    is_return[i] = above && !stack.frames[*above].trap_frame;
    above = i;
  }
  InferBases(stack, addresses);

  // --inline_rows: the rows to insert before frame i.
  std::map<size_t, std::vector<sym::Frame>> inserted;
  for (size_t i = 0; i < n; ++i) {
    sym::Frame& f = stack.frames[i];
    if (f.kind == sym::FrameKind::kInline) continue;  // inline rows name no address of their own
    const sym::CallSite& cs = f.call_site;
    KnownModule* k = addresses[i] ? ByAddress(*addresses[i]) : nullptr;
    std::optional<uint32_t> rva;
    if (k != nullptr) {
      rva = static_cast<uint32_t>(*addresses[i] - k->module.base);
    } else if (!cs.module.empty()) {
      k = ByName(cs.module);
      if (k == nullptr) {
        Unresolved(cs.module, "no image (give --image FILE, or --dump with --images/--sympath)");
        continue;
      }
      if (k->module.image == nullptr) {
        Unresolved(cs.module, k->module.image_problem.empty() ? "no image" : k->module.image_problem);
        continue;
      }
      if (cs.function.empty()) {
        if (cs.offset && *cs.offset <= UINT32_MAX) rva = static_cast<uint32_t>(*cs.offset);
      } else {
        rva = RvaOfName(*k, cs);
      }
    }
    if (k == nullptr || !rva || k->module.image == nullptr) continue;
    FrameSymbol s = symbolizer_.SymbolizeRva(k->module, *rva, is_return[i]);
    if (k->base_known && s.chunk_rva) s.chunk = k->module.base + *s.chunk_rva;
    // Keep the module as the text named it ("nt", "amdppm").
    const std::string module_text = cs.module.empty() ? k->module.ShortName() : cs.module;
    const std::string text = FormatCallSite(module_text, s.function, s.function.empty() ? *rva : s.displacement);
    // Inline rows only where the text has address columns (a kc row of an
    // inline frame could not be told from a physical one) and shows none.
    if (inline_rows_ && f.kind == sym::FrameKind::kFull && !s.inlines.empty() &&
        !(i > 0 && stack.frames[i - 1].kind == sym::FrameKind::kInline)) {
      const size_t at = f.lines.empty() ? std::string::npos : f.lines[0].rfind(cs.text);
      for (const FrameSymbol& in : s.inlines) {
        sym::Frame row;
        row.kind = sym::FrameKind::kInline;
        row.number = f.number;
        row.wide = f.wide;
        row.args.assign(f.args.size(), std::nullopt);
        row.call_site = sym::ParseCallSite(FormatCallSite(module_text, in.function, in.displacement));
        std::string annotations;
        if ((lines_ || f.source) && !in.source_file.empty()) {
          row.source = sym::SourceLine{in.source_file, in.source_line};
          annotations = absl::StrFormat(" [%s @ %u]", in.source_file, in.source_line);
        }
        if (at != std::string::npos) {
          row.lines = {InlineRowText(f.lines[0], at, f, row.call_site.text + annotations)};
        }
        inserted[i].push_back(std::move(row));
      }
    }
    std::string added;
    if (s.chunk && !f.chunk_start) added += absl::StrFormat(" (Chunk @ %s)", FormatAddress(*s.chunk));
    if (lines_ && !s.source_file.empty() && !f.source) {
      added += absl::StrFormat(" [%s @ %u]", s.source_file, s.source_line);
    }
    if (text == cs.text && added.empty()) continue;
    // Edit the row as it was printed: the call site, then what was added,
    // then "[was: old]" at the end.
    // A row changed before keeps its first [was: ...].
    if (!f.lines.empty()) {
      std::string& line = f.lines[0];
      const size_t at = line.rfind(cs.text);
      if (at == std::string::npos) continue;
      line.replace(at, cs.text.size(), text + added);
      if (!f.was) line += "    [was: " + cs.text + "]";
    }
    if (!f.was) f.was = cs.text;
    f.call_site = sym::ParseCallSite(text);
    if (s.chunk) f.chunk_start = s.chunk;
  }
  Flush();
  if (inserted.empty()) return;
  // Insert, renumber the numbered rows (kn counts inline rows) and keep the
  // notes before the rows they were before.
  std::vector<sym::Frame> frames;
  std::vector<size_t> shift_at(n + 1, 0);  // rows inserted before frame i
  size_t shift = 0;
  for (size_t i = 0; i < n; ++i) {
    shift_at[i] = shift;
    sym::Frame& f = stack.frames[i];
    const std::optional<uint32_t> number = f.number;
    if (auto it = inserted.find(i); it != inserted.end()) {
      for (sym::Frame& row : it->second) {
        if (number) Renumber(row, *number + static_cast<uint32_t>(shift));
        ++shift;
        frames.push_back(std::move(row));
      }
    }
    if (number && shift > 0) Renumber(f, *number + static_cast<uint32_t>(shift));
    frames.push_back(std::move(f));
  }
  shift_at[n] = shift;
  for (sym::Note& note : stack.notes) note.before_frame += shift_at[std::min(note.before_frame, n)];
  stack.frames = std::move(frames);
}

std::optional<FrameSymbol> Resymbolizer::PlainLine(std::string_view text, std::string* module_text) {
  const absl::string_view stripped = absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size()));
  const std::string_view t(stripped.data(), stripped.size());
  if (t.empty() || t.find_first_of(" \t") != std::string_view::npos) return std::nullopt;
  sym::CallSite cs = sym::ParseCallSite(t);
  std::optional<uint64_t> address = cs.address;
  if (!address && cs.module.empty()) address = ParseHex(t);
  if (!address && (cs.module.empty() || (!cs.offset && cs.function.empty()))) return std::nullopt;
  KnownModule* k = nullptr;
  std::optional<uint32_t> rva;
  if (address) {
    k = ByAddress(*address);
    if (k == nullptr) return std::nullopt;
    rva = static_cast<uint32_t>(*address - k->module.base);
  } else {
    k = ByName(cs.module);
    if (k == nullptr || k->module.image == nullptr) {
      Unresolved(cs.module, "no image (give --image FILE, or --dump with --images/--sympath)");
      return std::nullopt;
    }
    if (cs.function.empty()) {
      if (*cs.offset <= UINT32_MAX) rva = static_cast<uint32_t>(*cs.offset);
    } else {
      rva = RvaOfName(*k, cs);
    }
  }
  if (!rva || k->module.image == nullptr) return std::nullopt;
  // As llvm-symbolizer: the address itself, not the call before it.
  FrameSymbol s = symbolizer_.SymbolizeRva(k->module, *rva, false);
  if (k->base_known && s.chunk_rva) s.chunk = k->module.base + *s.chunk_rva;
  if (!lines_) s.source_file.clear();
  *module_text = cs.module.empty() ? k->module.ShortName() : cs.module;
  s.call_site = FormatCallSite(*module_text, s.function, s.function.empty() ? *rva : s.displacement);
  for (FrameSymbol& in : s.inlines) {
    if (!lines_) in.source_file.clear();
    in.call_site = FormatCallSite(*module_text, in.function, in.displacement);
  }
  Flush();
  return s;
}

// Adds --image files, then applies --load bases (to those or to a dump's modules).
bool AddImagesAndLoads(const SymToolOptions& options, std::vector<KnownModule>& modules,
                       std::ostream& err) {
  for (const std::string& path : options.image_files) {
    absl::StatusOr<std::shared_ptr<const unwind::PeImage>> image = sym::OpenImageFile(path);
    if (!image.ok()) {
      err << "restack-sym: --image: " << image.status().message() << "\n";
      return false;
    }
    KnownModule k;
    k.module.name = std::string(sym::BaseName(path));
    k.module.size = (*image)->size_of_image();
    if (absl::Status s = k.module.AttachImage(*image); !s.ok()) {
      err << "restack-sym: --image: " << path << ": " << s.message() << "\n";
      return false;
    }
    modules.push_back(std::move(k));
  }
  for (const std::string& load : options.loads) {
    const size_t eq = load.find('=');
    std::optional<uint64_t> base = eq == std::string::npos ? std::nullopt : ParseHex(load.substr(eq + 1));
    if (!base) {
      err << "restack-sym: --load: expected NAME=BASE (hex), got '" << load << "'\n";
      return false;
    }
    const std::string name = load.substr(0, eq);
    auto it = std::find_if(modules.begin(), modules.end(),
                           [&](const KnownModule& k) { return NamesModule(k.module, name); });
    if (it == modules.end()) {
      // A base for a module without an image: its call sites stay as they are.
      KnownModule k;
      k.module.name = name;
      k.module.image_problem = "no image (give --image FILE)";
      modules.push_back(std::move(k));
      it = std::prev(modules.end());
    }
    it->module.base = *base;
    it->base_known = true;
    it->base_source = "load";
  }
  return true;
}

nlohmann::json PlainJson(size_t line, std::string_view input, const std::string& module,
                         const FrameSymbol& s) {
  nlohmann::json j = {{"line", line},
                      {"input", std::string(input)},
                      {"call_site", s.call_site},
                      {"module", module}};
  j["function"] = s.function.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.function);
  j["displacement"] = s.function.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.displacement);
  j["chunk_start"] = s.chunk ? nlohmann::json(Hex(*s.chunk)) : nlohmann::json(nullptr);
  j["chunk_start_rva"] = s.chunk_rva ? nlohmann::json(Hex(*s.chunk_rva)) : nlohmann::json(nullptr);
  if (!s.source_file.empty()) {
    j["source"] = {{"file", s.source_file}, {"line", s.source_line}};
  } else {
    j["source"] = nullptr;
  }
  // The inline frames at the address, innermost first.
  nlohmann::json inlines = nlohmann::json::array();
  for (const FrameSymbol& in : s.inlines) {
    nlohmann::json i = {{"call_site", in.call_site},
                        {"function", in.function},
                        {"displacement", in.displacement}};
    i["source"] = in.source_file.empty()
                      ? nlohmann::json(nullptr)
                      : nlohmann::json{{"file", in.source_file}, {"line", in.source_line}};
    inlines.push_back(std::move(i));
  }
  j["inlines"] = std::move(inlines);
  return j;
}

}  // namespace

int RunSym(const SymToolOptions& options, std::ostream& out, std::ostream& err) {
  // Without a symbol path: PDBs next to the images only, else exports.
  std::optional<SymbolSetup> setup = MakeSymbolSetup(
      "restack-sym", options.sympath, options.image_paths, options.raw_names, true, err);
  if (!setup) return kExitUsage;
  const std::vector<std::string>& image_roots = setup->image_roots;
  Resymbolizer resymbolizer(&*setup->resolver, options, err);
  std::vector<KnownModule>& modules = resymbolizer.modules();
  int rc = kExitOk;

  // A dump's module list: bases, sizes and images.
  std::unique_ptr<DumpTarget> target;
  std::optional<InputFile> dump_input;
  if (!options.dump.empty()) {
    absl::StatusOr<InputFile> input = OpenInput(options.dump);
    if (!input.ok()) {
      err << "restack-sym: --dump: " << input.status().message() << "\n";
      return kExitError;
    }
    dump_input = *std::move(input);
    absl::StatusOr<std::unique_ptr<DumpTarget>> opened = OpenDumpTarget(
        dump_input->bytes, dump_input->owner, dump_input->name, sym::ImageLocator(image_roots));
    if (!opened.ok()) {
      err << "restack-sym: --dump: " << opened.status().message() << "\n";
      return kExitError;
    }
    target = *std::move(opened);
    for (const unwind::Module& m : target->modules.modules()) {
      modules.push_back({m, true, "dump"});
    }
  }
  if (!AddImagesAndLoads(options, modules, err)) return kExitUsage;

  std::vector<std::string> inputs = options.inputs;
  if (inputs.empty()) inputs.push_back("-");
  for (const std::string& path : inputs) {
    absl::StatusOr<InputFile> input = OpenInput(path);
    if (!input.ok()) {
      err << "restack-sym: " << input.status().message() << "\n";
      rc = kExitError;
      continue;
    }
    const std::string_view text(reinterpret_cast<const char*>(input->bytes.data()), input->bytes.size());
    sym::StackText parsed = sym::ParseStackText(text);
    for (const sym::TextWarning& w : parsed.warnings) {
      err << absl::StrFormat("restack-sym: warning: %s:%u: %s\n", input->name, w.line, w.what);
    }
    size_t stack_index = 0;
    std::vector<sym::StackTextItem> items;  // the output's, plain lines' inline frames added
    items.reserve(parsed.items.size());
    for (sym::StackTextItem& item : parsed.items) {
      if (sym::Stack* stack = std::get_if<sym::Stack>(&item)) {
        resymbolizer.Stack(*stack);
        if (options.json) {
          nlohmann::json j = sym::StackToJson(*stack, stack_index);
          j["input"] = input->name;
          out << JsonLine(j) << "\n";
        }
        ++stack_index;
        items.push_back(std::move(item));
        continue;
      }
      sym::VerbatimLine& line = std::get<sym::VerbatimLine>(item);
      std::string module_text;
      std::optional<FrameSymbol> s = resymbolizer.PlainLine(line.text, &module_text);
      if (options.json) {
        if (s) out << JsonLine(PlainJson(line.line, line.text, module_text, *s)) << "\n";
        continue;
      }
      if (s) {
        // The inline frames above the answer, innermost first, unless they are
        // there already (restack-sym's own output).
        if (!EndsWithChain(items, s->inlines)) {
          for (const FrameSymbol& in : s->inlines) {
            items.push_back(sym::VerbatimLine{line.line, InlineLineText(in)});
          }
        }
        line.text = s->call_site + s->Annotations();
      }
      items.push_back(std::move(line));
    }
    parsed.items = std::move(items);
    if (!options.json) out << sym::EmitStackText(parsed, sym::TextFormat::kOriginal);
  }
  if (resymbolizer.partial() && rc == kExitOk) rc = kExitPartial;
  return rc;
}

}  // namespace restack::tools
