// stack_text_fuzzer.cc - libFuzzer target: ParseStackText, every emitter, and the round trips
//
// Traps (so that the fuzzer reports codec bugs, not only crashes) when:
//   - the kOriginal text differs from the input by a single byte;
//   - for kKv and kRestackKn, Canonical(Parse(Emit(p))) != Canonical(p), or
//     emitting the re-parsed text does not give the same bytes again;
//   - a JSON line does not parse back, or there is not one per stack.
// Each input is read twice: with the default limits and with small ones, so
// that long lines, frame splits and the !thread/kP limits are reached (the
// JSON only with the default ones: it is the slowest part).
//
// Seeds: tests/fuzz/corpus/stack_text/ (the analysts' samples, restack-walk
// output and handwritten k variants; see tests/sym/stack_text_test.cc).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "restack/sym/stack_text.h"

namespace {

using restack::sym::StackText;
using restack::sym::StackTextOptions;
using restack::sym::TextFormat;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void RoundTrip(std::string_view input, const StackTextOptions& options, bool json) {
  const StackText parsed = restack::sym::ParseStackText(input, options);
  Check(restack::sym::EmitStackText(parsed, TextFormat::kOriginal) == input);
  for (TextFormat format : {TextFormat::kKv, TextFormat::kRestackKn}) {
    const std::string emitted = restack::sym::EmitStackText(parsed, format);
    const StackText again = restack::sym::ParseStackText(emitted, options);
    Check(restack::sym::Canonical(again, format) == restack::sym::Canonical(parsed, format));
    Check(restack::sym::EmitStackText(again, format) == emitted);
  }
  if (!json) return;
  const std::string lines = restack::sym::EmitJsonLines(parsed);
  size_t count = 0, begin = 0;
  while (begin < lines.size()) {
    const size_t nl = lines.find('\n', begin);
    Check(nl != std::string::npos);
    Check(!nlohmann::json::parse(lines.substr(begin, nl - begin), nullptr, false).is_discarded());
    ++count;
    begin = nl + 1;
  }
  Check(count == restack::sym::StacksOf(parsed).size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  RoundTrip(input, StackTextOptions{}, true);
  StackTextOptions small;
  small.max_line_length = 256;
  small.max_frames = 3;
  small.max_thread_lines = 2;
  small.max_parameter_lines = 2;
  RoundTrip(input, small, false);
  return 0;
}
