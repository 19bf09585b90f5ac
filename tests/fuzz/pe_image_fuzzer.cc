// pe_image_fuzzer.cc - PeImage::Create in both layouts, then every accessor
#include <cstddef>
#include <cstdint>
#include <memory>

#include "restack/unwind/pe_image.h"
#include "restack/unwind/runtime_function_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace restack::unwind;
  for (PeLayout layout : {PeLayout::kFile, PeLayout::kMapped}) {
    absl::StatusOr<PeImage> image = PeImage::Create({data, size}, layout, "fuzz.sys");
    if (!image.ok()) continue;
    (void)image->StoreKey();
    for (const PeSection& s : image->sections()) {
      (void)image->BytesAt(s.virtual_address, 64);
      (void)image->ReadRva(s.virtual_address, s.MemorySize());
    }
    if (image->codeview()) (void)image->codeview()->StoreKey();
    (void)image->Exports();
    auto shared = std::make_shared<const PeImage>(*image);
    absl::StatusOr<RuntimeFunctionTable> table = RuntimeFunctionTable::Create(shared);
    if (!table.ok()) continue;
    for (const RuntimeFunction& e : table->entries()) {
      (void)table->Resolve(e.begin);
      (void)table->Resolve(e.end - 1);
    }
  }
  return 0;
}
