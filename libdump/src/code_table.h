// code_table.h - lookups in constant tables sorted by code, one row per code (internal)
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

namespace restack::dump {

// Whether `table` is sorted by `code` with one row per code, as FindByCode
// requires (checked with static_assert where a table is defined).
template <typename Entry, size_t N>
constexpr bool SortedUnique(const Entry (&table)[N]) {
  for (size_t i = 1; i < N; ++i) {
    if (table[i - 1].code >= table[i].code) return false;
  }
  return true;
}

// The row of `table` whose code is `code`, or nullptr (binary search).
template <typename Entry, typename Code>
const Entry* FindByCode(std::span<const Entry> table, Code code) {
  auto it = std::lower_bound(table.begin(), table.end(), code,
                             [](const Entry& e, Code c) { return e.code < c; });
  return it != table.end() && it->code == code ? &*it : nullptr;
}

}  // namespace restack::dump
