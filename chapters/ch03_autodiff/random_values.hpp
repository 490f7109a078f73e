// Random test data for chapter 3's double-precision matrices: the one way the chapter's demos
// make their inputs and parameters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gnm/core/philox.hpp"
#include "mat.hpp"

namespace chapter3 {

/// n values bound·(2u − 1), u uniform in [0, 1) from the Philox stream `seed`: uniform in
/// [−bound, bound). 2u − 1 is exact in double (u has 24 bits), so each value is rounded once.
inline std::vector<double> symmetric_uniform(std::size_t n, std::uint64_t seed, double bound) {
  std::vector<double> v(n);
  const gnm::PhiloxRng rng(seed);
  for (std::size_t i = 0; i < n; ++i) v[i] = bound * (2.0 * static_cast<double>(rng.uniform(i)) - 1.0);
  return v;
}

/// A rows×cols matrix of symmetric_uniform() values.
inline gnm::ch03::Matrix symmetric_uniform(std::int64_t rows, std::int64_t cols, std::uint64_t seed,
                                           double bound) {
  return {rows, cols, symmetric_uniform(static_cast<std::size_t>(rows * cols), seed, bound)};
}

}  // namespace chapter3
