// llvm_status.h - llvm::Error to absl::Status at libsym's LLVM boundary (internal)
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "llvm/Support/Error.h"

namespace restack::sym::internal {

// Consumes `error` (never dropped) into a DataLoss status prefixed by `context`.
inline absl::Status FromLlvm(llvm::Error error, std::string_view context) {
  std::string message = llvm::toString(std::move(error));
  return absl::DataLossError(absl::StrFormat("%s: %s", context, message));
}

}  // namespace restack::sym::internal
