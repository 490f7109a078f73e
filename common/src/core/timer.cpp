#include "gnm/core/timer.hpp"

#include <algorithm>
#include <utility>

#include "gnm/core/check.hpp"

namespace gnm {

TimingStats summarize(std::vector<double> samples_ms) {
  GNM_CHECK(!samples_ms.empty(), "no timing samples to summarise");
  std::sort(samples_ms.begin(), samples_ms.end());
  const std::size_t n = samples_ms.size();
  TimingStats s;
  s.min_ms = samples_ms.front();
  s.max_ms = samples_ms.back();
  s.median_ms = n % 2 ? samples_ms[n / 2] : 0.5 * (samples_ms[n / 2 - 1] + samples_ms[n / 2]);
  s.runs = static_cast<int>(n);
  return s;
}

double median_time_ms(int repeat, const std::function<void()>& fn, int warmup) {
  GNM_CHECK(repeat >= 1 && warmup >= 0, "need at least one timed run", repeat, warmup);
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(repeat));
  for (int i = 0; i < repeat; ++i) {
    HostTimer t;
    fn();
    ms.push_back(t.elapsed_ms());
  }
  return summarize(std::move(ms)).median_ms;
}

}  // namespace gnm
