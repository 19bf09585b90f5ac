// dump_batch_impl.h - RunInOrder's template body (included by dump_batch.h)
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"

namespace restack::tools {

template <typename Result>
void RunInOrder(size_t count, int jobs, const std::function<Result(size_t)>& work,
                const std::function<void(size_t, Result&)>& emit, std::ostream* progress,
                const std::function<std::string(size_t)>& label) {
  auto show = [&](size_t done, size_t i) {
    if (progress == nullptr) return;
    *progress << absl::StrFormat("\rrestack: [%u/%u] %s\x1b[K", done, count,
                                 label ? label(i) : std::string());
    progress->flush();
  };
  if (jobs <= 1 || count <= 1) {
    for (size_t i = 0; i < count; ++i) {
      Result r = work(i);
      show(i + 1, i);
      emit(i, r);
    }
    if (progress != nullptr && count > 0) *progress << "\n";
    return;
  }
  std::vector<std::optional<Result>> results(count);
  std::mutex mu;
  std::condition_variable ready;
  std::atomic<size_t> next{0};
  size_t done = 0;
  std::vector<std::thread> threads;
  const size_t n = std::min<size_t>(static_cast<size_t>(jobs), count);
  for (size_t t = 0; t < n; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < count; i = next++) {
        Result r = work(i);
        std::lock_guard<std::mutex> lock(mu);
        results[i].emplace(std::move(r));
        ++done;
        ready.notify_one();
      }
    });
  }
  for (size_t i = 0; i < count; ++i) {
    std::unique_lock<std::mutex> lock(mu);
    ready.wait(lock, [&] { return results[i].has_value(); });
    Result r = std::move(*results[i]);
    results[i].reset();
    const size_t finished = done;
    lock.unlock();
    show(finished, i);
    emit(i, r);
  }
  for (std::thread& t : threads) t.join();
  if (progress != nullptr && count > 0) *progress << "\n";
}

}  // namespace restack::tools
