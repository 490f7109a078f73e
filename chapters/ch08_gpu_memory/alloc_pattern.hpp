// The allocation pattern that 8.6 and ch08_bench time: sizes spread evenly over orders of
// magnitude (log-uniform), as a training step's tensors are — a few-byte scalar next to a
// 100 MB activation.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "gnm/core/check.hpp"
#include "gnm/core/philox.hpp"

namespace chapter08 {

/// `count` sizes, log-uniform in [lo, hi] bytes, from Philox stream (seed, 8).
inline std::vector<std::size_t> mixed_sizes(std::size_t count, std::size_t lo, std::size_t hi,
                                            std::uint64_t seed) {
  GNM_CHECK(lo >= 1 && lo <= hi, "sizes need 1 <= lo <= hi", lo, hi);
  const gnm::PhiloxRng rng(seed, /*subsequence=*/8);
  const double l = std::log2(static_cast<double>(lo));
  const double h = std::log2(static_cast<double>(hi));
  std::vector<std::size_t> sizes(count);
  for (std::size_t i = 0; i < count; ++i) {
    const double e = l + (h - l) * static_cast<double>(rng.uniform(i));
    const auto s = static_cast<std::size_t>(std::exp2(e));
    sizes[i] = s < lo ? lo : (s > hi ? hi : s);
  }
  return sizes;
}

}  // namespace chapter08
