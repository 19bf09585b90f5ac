// unwind_info_fuzzer.cc - DecodeUnwindInfo and chain resolution over arbitrary bytes
//
// The input is used as a mapped image's body: a fixed valid header is put in
// front so that the fuzzer spends its time in UNWIND_INFO, not in PE headers.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz_image.h"
#include "restack/unwind/pe_image.h"
#include "restack/unwind/runtime_function_table.h"
#include "restack/unwind/unwind_info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace restack::unwind;
  std::vector<uint8_t> bytes = restack::fuzz::WrapInImage(data, size, 2);
  absl::StatusOr<PeImage> image = PeImage::Create(bytes, PeLayout::kMapped, "fuzz.sys");
  if (!image.ok()) return 0;
  auto shared = std::make_shared<const PeImage>(*std::move(image));
  absl::StatusOr<RuntimeFunctionTable> table = RuntimeFunctionTable::Create(shared);
  if (!table.ok()) return 0;
  for (const RuntimeFunction& e : table->entries()) {
    if (!e.IsIndirect()) (void)DecodeUnwindInfo(*shared, e.unwind_data);
    (void)table->Resolve(e.begin);
  }
  // Also every 4-aligned RVA of the body as an UNWIND_INFO.
  for (uint32_t rva = 0x1000; rva < shared->size_of_image(); rva += 4) {
    (void)DecodeUnwindInfo(*shared, rva);
  }
  return 0;
}
