#include "gnm/core/timer.hpp"

#include <algorithm>

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

}  // namespace gnm
