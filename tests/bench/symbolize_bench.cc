// symbolize_bench.cc - libsym's symbolization: load (PDB open + index build) and lookups per second
//
// Not a test: Google Benchmark figures. For each input (an image and its PDB):
//   load/pdb_open/NAME     PdbFile::OpenFile (map + parse every stream restack uses)
//   load/index_build/NAME  SymbolIndex::FromPdb on the opened PDB
//   load/total/NAME        everything before the first lookup: OpenImageFile,
//                          RuntimeFunctionTable::Create, PdbFile::OpenFile,
//                          SymbolIndex::FromPdb, ModuleSymbols
//   symbolize/NAME         ModuleSymbols::Symbolize (kCode: .pdata chain root,
//                          index, source line) over the input's RVAs
//   lookup/NAME            SymbolIndex::Lookup alone over the same RVAs
//   line_at/NAME, pdata_resolve/NAME  the other parts of Symbolize, alone
// Lookup benchmarks report items_per_second (one item: one address; CPU time,
// robust on a shared machine: the JSON output has the wall-clock time too).
//
// The RVAs: one per line (hex, 0x optional) from a file, or else 100,000
// drawn uniformly (fixed seed) over the image's executable sections.
//
// Usage: symbolize_bench [--input=NAME,IMAGE,PDB[,RVA_FILE]]... [--dump=NAME,OUT]...
//                        [benchmark flags]
// Without --input: amdppm.sys (../shared/real/symbols, when present) and the
// chunk fixture tests/fixtures/pdb/store-full. --dump=NAME,OUT writes what
// Symbolize answers for every RVA of NAME ("rva<TAB>function<TAB>displacement
// <TAB>origin"; function empty when unnamed) before the benchmarks run.
// tests/bench/symbolize_vs_llvm_symbolizer.py runs this against llvm-symbolizer-19.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "restack/sym/image_locator.h"
#include "restack/sym/module_symbols.h"
#include "restack/sym/pdb_file.h"
#include "restack/sym/symbol_index.h"
#include "restack/unwind/runtime_function_table.h"

namespace {

using restack::sym::ModuleSymbols;
using restack::sym::PdbFile;
using restack::sym::SymbolIndex;
using restack::unwind::PeImage;
using restack::unwind::RuntimeFunctionTable;

constexpr size_t kDefaultAddresses = 100000;
constexpr uint64_t kSeed = 20140612;

struct Input {
  std::string name, image_path, pdb_path, rva_path;
};

// One input, loaded once for the lookup benchmarks.
struct Loaded {
  Input input;
  std::shared_ptr<const PeImage> image;
  std::unique_ptr<PdbFile> pdb;
  std::shared_ptr<const SymbolIndex> index;
  std::shared_ptr<const RuntimeFunctionTable> table;
  std::unique_ptr<ModuleSymbols> symbols;
  std::vector<uint32_t> rvas;
};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "symbolize_bench: %s\n", what.c_str());
  std::exit(2);
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    const size_t next = s.find(sep, pos);
    out.emplace_back(s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) return out;
    pos = next + 1;
  }
}

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

std::vector<uint32_t> ReadRvas(const std::string& path) {
  std::ifstream in(path);
  if (!in) Fail("cannot read " + path);
  std::vector<uint32_t> rvas;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    rvas.push_back(static_cast<uint32_t>(std::stoul(line, nullptr, 16)));
  }
  if (rvas.empty()) Fail(path + ": no addresses");
  return rvas;
}

// kDefaultAddresses RVAs uniform over the bytes of the executable sections.
std::vector<uint32_t> DrawRvas(const PeImage& image) {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  // [va, va + size)
  uint64_t total = 0;
  for (const auto& s : image.sections()) {
    if (s.IsExecutable() && s.MemorySize() != 0) {
      ranges.emplace_back(s.virtual_address, s.MemorySize());
      total += s.MemorySize();
    }
  }
  if (total == 0) Fail("no executable section");
  std::mt19937_64 rng(kSeed);
  std::uniform_int_distribution<uint64_t> dist(0, total - 1);
  std::vector<uint32_t> rvas;
  rvas.reserve(kDefaultAddresses);
  for (size_t i = 0; i < kDefaultAddresses; ++i) {
    uint64_t at = dist(rng);
    for (const auto& [va, size] : ranges) {
      if (at < size) {
        rvas.push_back(static_cast<uint32_t>(va + at));
        break;
      }
      at -= size;
    }
  }
  return rvas;
}

std::unique_ptr<Loaded> Load(const Input& input) {
  auto l = std::make_unique<Loaded>();
  l->input = input;
  auto image = restack::sym::OpenImageFile(input.image_path);
  if (!image.ok()) Fail(image.status().ToString());
  l->image = *image;
  auto table = RuntimeFunctionTable::Create(l->image);
  if (!table.ok()) Fail(table.status().ToString());
  l->table = std::make_shared<const RuntimeFunctionTable>(*std::move(table));
  auto pdb = PdbFile::OpenFile(input.pdb_path);
  if (!pdb.ok()) Fail(pdb.status().ToString());
  l->pdb = *std::move(pdb);
  if (l->image->codeview() &&
      !l->pdb->CheckMatches(l->image->codeview()->guid, l->image->codeview()->age).ok()) {
    std::fprintf(stderr, "symbolize_bench: warning: %s does not match %s\n", input.pdb_path.c_str(),
                 input.image_path.c_str());
  }
  l->index = std::make_shared<const SymbolIndex>(SymbolIndex::FromPdb(*l->pdb, l->image->sections()));
  l->symbols = std::make_unique<ModuleSymbols>(l->index, l->table);
  l->rvas = input.rva_path.empty() ? DrawRvas(*l->image) : ReadRvas(input.rva_path);
  return l;
}

void Dump(const Loaded& l, const std::string& out_path) {
  std::FILE* f = std::fopen(out_path.c_str(), "w");
  if (f == nullptr) Fail("cannot write " + out_path);
  for (uint32_t rva : l.rvas) {
    const restack::sym::SymbolizedAddress s = l.symbols->Symbolize(rva);
    std::fprintf(f, "0x%x\t%s\t%lld\t%s\n", rva, s.function.c_str(), static_cast<long long>(s.displacement),
                 s.function.empty() ? "" : std::string(restack::sym::SymbolOriginName(s.origin)).c_str());
  }
  std::fclose(f);
}

void Register(const Loaded* l) {
  const std::string& name = l->input.name;
  const Input input = l->input;

  benchmark::RegisterBenchmark(("load/pdb_open/" + name).c_str(), [input](benchmark::State& state) {
    for (auto _ : state) {
      auto pdb = PdbFile::OpenFile(input.pdb_path);
      if (!pdb.ok()) state.SkipWithError(pdb.status().ToString().c_str());
      benchmark::DoNotOptimize(pdb);
    }
  })->Unit(benchmark::kMillisecond)->UseRealTime();

  benchmark::RegisterBenchmark(("load/index_build/" + name).c_str(), [l](benchmark::State& state) {
    size_t symbols = 0, entries = 0;
    for (auto _ : state) {
      SymbolIndex index = SymbolIndex::FromPdb(*l->pdb, l->image->sections());
      symbols = index.named();
      entries = index.size();
      benchmark::DoNotOptimize(index);
    }
    state.counters["symbols"] = static_cast<double>(symbols);
    state.counters["entries"] = static_cast<double>(entries);
  })->Unit(benchmark::kMillisecond)->UseRealTime();

  benchmark::RegisterBenchmark(("load/total/" + name).c_str(), [input](benchmark::State& state) {
    size_t symbols = 0, entries = 0, procedures = 0, publics = 0, lines = 0, pdata = 0;
    for (auto _ : state) {
      auto image = restack::sym::OpenImageFile(input.image_path);
      auto pdb = PdbFile::OpenFile(input.pdb_path);
      if (!image.ok() || !pdb.ok()) {
        state.SkipWithError("open failed");
        break;
      }
      auto table = RuntimeFunctionTable::Create(*image);
      if (!table.ok()) {
        state.SkipWithError(table.status().ToString().c_str());
        break;
      }
      pdata = table->size();
      auto index = std::make_shared<const SymbolIndex>(SymbolIndex::FromPdb(**pdb, (*image)->sections()));
      ModuleSymbols module(index, std::make_shared<const RuntimeFunctionTable>(*std::move(table)));
      benchmark::DoNotOptimize(module);
      symbols = index->named();
      entries = index->size();
      procedures = (*pdb)->procedures().size();
      publics = (*pdb)->publics().size();
      lines = (*pdb)->lines().size();
    }
    state.counters["symbols"] = static_cast<double>(symbols);
    state.counters["entries"] = static_cast<double>(entries);
    state.counters["procedures"] = static_cast<double>(procedures);
    state.counters["publics"] = static_cast<double>(publics);
    state.counters["lines"] = static_cast<double>(lines);
    state.counters["pdata"] = static_cast<double>(pdata);
  })->Unit(benchmark::kMillisecond)->UseRealTime();

  auto per_address = [l](benchmark::State& state, auto&& one) {
    for (auto _ : state) {
      for (uint32_t rva : l->rvas) one(rva);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * l->rvas.size()));
    state.counters["addresses"] = static_cast<double>(l->rvas.size());
    state.counters["symbols"] = static_cast<double>(l->index->named());
  };
  benchmark::RegisterBenchmark(("symbolize/" + name).c_str(), [l, per_address](benchmark::State& state) {
    per_address(state, [l](uint32_t rva) { benchmark::DoNotOptimize(l->symbols->Symbolize(rva)); });
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(("lookup/" + name).c_str(), [l, per_address](benchmark::State& state) {
    per_address(state, [l](uint32_t rva) { benchmark::DoNotOptimize(l->index->Lookup(rva)); });
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(("line_at/" + name).c_str(), [l, per_address](benchmark::State& state) {
    per_address(state, [l](uint32_t rva) { benchmark::DoNotOptimize(l->index->LineAt(rva)); });
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(("pdata_resolve/" + name).c_str(), [l, per_address](benchmark::State& state) {
    per_address(state, [l](uint32_t rva) { benchmark::DoNotOptimize(l->table->Resolve(rva)); });
  })->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Input> inputs;
  std::vector<std::pair<std::string, std::string>> dumps;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--input=")) {
      std::vector<std::string> f = Split(arg.substr(8), ',');
      if (f.size() < 3 || f.size() > 4) Fail("--input=NAME,IMAGE,PDB[,RVA_FILE]");
      inputs.push_back({f[0], f[1], f[2], f.size() == 4 ? f[3] : ""});
    } else if (arg.starts_with("--dump=")) {
      std::vector<std::string> f = Split(arg.substr(7), ',');
      if (f.size() != 2) Fail("--dump=NAME,OUT");
      dumps.emplace_back(f[0], f[1]);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (inputs.empty()) {
    const std::string src = RESTACK_SOURCE_DIR;
    const std::string amd = src + "/../shared/real/symbols/";
    const Input real = {"amdppm", amd + "amdppm.sys/c9c030003b000/amdppm.sys",
                        amd + "amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb", ""};
    if (Exists(real.image_path) && Exists(real.pdb_path)) inputs.push_back(real);
    const std::string fx = src + "/tests/fixtures/pdb/store-full/";
    inputs.push_back({"restack_chunks", fx + "restack_chunks.dll/8E7D24127000/restack_chunks.dll",
                      fx + "restack_chunks.pdb/05E38BAE925816984C4C44205044422E1/restack_chunks.pdb", ""});
  }

  std::vector<std::unique_ptr<Loaded>> loaded;
  for (const Input& input : inputs) loaded.push_back(Load(input));
  for (const auto& [name, out] : dumps) {
    bool found = false;
    for (const auto& l : loaded) {
      if (l->input.name == name) {
        Dump(*l, out);
        found = true;
      }
    }
    if (!found) Fail("--dump: no input named " + name);
  }
  for (const auto& l : loaded) Register(l.get());

  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
