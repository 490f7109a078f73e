// Helpers shared by the chapter 9 exercise tests: seeded random data, row-major index decoding
// (the reference the odometers are checked against) and a tensor's layout as a ch09::Layout.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "gnm/core/random.hpp"
#include "test_basics.hpp"
#include "gnm/tensor/tensor.hpp"
#include "strided.hpp"

namespace ch09_testing {

using gnm::testing::kU;
using gnm::testing::uniform;

/// n quiet NaNs: an output buffer any unwritten element of which shows up.
inline std::vector<float> poisoned(std::size_t n) {
  return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN());
}

/// The multi-index of row-major element k of `shape` (division by the trailing products: an
/// independent way to walk a shape, unlike the odometer under test).
inline std::vector<std::int64_t> unravel(std::int64_t k, std::span<const std::int64_t> shape) {
  std::vector<std::int64_t> idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = k % shape[d];
    k /= shape[d];
  }
  return idx;
}

/// Product of the sizes (1 for a 0-d shape).
inline std::int64_t numel(std::span<const std::int64_t> shape) {
  std::int64_t n = 1;
  for (std::int64_t s : shape) n *= s;
  return n;
}

/// The layout of a gnm::Tensor view: its shape, strides and storage offset.
inline gnm::ch09::Layout layout_of(const gnm::Tensor& t) {
  return {t.shape(), t.strides(), t.offset()};
}

/// The whole storage of an f32 CPU tensor, from element 0 of the buffer (not of the view).
inline std::span<const float> storage_of(const gnm::Tensor& t) {
  const auto* base = static_cast<const float*>(t.storage()->data());
  return {base, t.storage()->nbytes() / sizeof(float)};
}

}  // namespace ch09_testing
