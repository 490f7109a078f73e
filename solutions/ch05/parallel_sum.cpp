// Exercise 5.1: a parallel sum whose result does not depend on the thread count (task statement
// in exercises/ch05/parallel_sum.hpp).
#include "parallel_sum.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gnm/core/check.hpp"
#include "gnm/core/verify.hpp"

namespace gnm::ch05 {

//! [block_sum]
float block_sum(std::span<const float> x, std::size_t offset) {
  float lanes[kSumLanes] = {};
  const std::size_t n = x.size();
  std::size_t i = 0;
  // Lane l adds x[l], x[l + 16], x[l + 32], … : 16 independent chains, which GCC turns into two
  // 8-wide vector adds per step. The order inside each lane is fixed, so no -ffast-math is needed.
  for (; i + kSumLanes <= n; i += kSumLanes) {
    for (std::size_t l = 0; l < kSumLanes; ++l) lanes[l] += x[i + l];
  }
  for (std::size_t l = 0; i + l < n; ++l) lanes[l] += x[i + l];
  for (std::size_t width = kSumLanes / 2; width >= 1; width /= 2) {  // 16 → 8 → 4 → 2 → 1
    for (std::size_t l = 0; l < width; ++l) lanes[l] += lanes[l + width];
  }
  const float s = lanes[0];
  if (!std::isfinite(s)) [[unlikely]] {
    // Checking the sum rather than every element keeps the loop above a pure stream of adds;
    // a NaN or infinity anywhere in the block makes the sum non-finite, so the scan is rare.
    const auto bad = std::find_if(x.begin(), x.end(), [](float v) { return !std::isfinite(v); });
    const std::size_t index = offset + static_cast<std::size_t>(bad - x.begin());
    GNM_CHECK(bad == x.end(), "parallel_sum: the input holds a NaN or an infinity", index);
    GNM_CHECK(std::isfinite(s), "parallel_sum: the sum of a block overflows fp32", offset, n);
  }
  return s;
}
//! [block_sum]

float pairwise_combine(std::span<const float> partials) {
  if (partials.empty()) return 0.0f;
  if (partials.size() == 1) return partials[0];
  const std::size_t half = partials.size() / 2;
  return pairwise_combine(partials.first(half)) + pairwise_combine(partials.subspan(half));
}

//! [parallel_sum]
float parallel_sum(std::span<const float> x, ThreadPool& pool) {
  const std::size_t n = x.size();
  const std::size_t blocks = (n + kSumBlock - 1) / kSumBlock;
  std::vector<float> partials(blocks);  // one slot per block: no sharing, no lock
  // BEGIN SOLUTION("ex 5.1", "pool.parallel_for(0, blocks, 1, ...): for each block b in [lo, hi) write block_sum(x.subspan(b * kSumBlock, its length), b * kSumBlock) into partials[b]; then return pairwise_combine(partials)")
  pool.parallel_for(0, static_cast<std::int64_t>(blocks), 1, [&](std::int64_t lo, std::int64_t hi) {
    for (auto b = static_cast<std::size_t>(lo); b < static_cast<std::size_t>(hi); ++b) {
      const std::size_t start = b * kSumBlock;
      partials[b] = block_sum(x.subspan(start, std::min(kSumBlock, n - start)), start);
    }
  });
  // parallel_for has returned: every partial is written, and its end synchronises with the
  // workers, so reading them here is race-free. The tree below depends on `blocks` alone.
  return pairwise_combine(partials);
  // END SOLUTION
}
//! [parallel_sum]

double parallel_sum_error_bound(std::size_t n, double abs_sum) {
  const std::size_t blocks = (n + kSumBlock - 1) / kSumBlock;
  const auto ceil_log2 = [](std::size_t v) {
    int d = 0;
    while ((std::size_t{1} << d) < v) ++d;
    return d;
  };
  const double chain = static_cast<double>(kSumBlock / kSumLanes) +
                       static_cast<double>(ceil_log2(kSumLanes)) +
                       static_cast<double>(ceil_log2(std::max<std::size_t>(blocks, 1)));
  constexpr double kUnitRoundoff = 0.5 * kEpsF32;  // u = 2^-24, half of fp32's epsilon
  return chain * kUnitRoundoff * abs_sum;
}

}  // namespace gnm::ch05
