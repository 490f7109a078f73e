// Helpers shared by the tensor-engine tests: random f64 leaves, gradcheck as a GoogleTest
// expectation, and small deterministic tensors.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <numeric>
#include <span>
#include <vector>

#include "gnm/autograd/gradcheck.hpp"
#include "gnm/tensor/ops.hpp"

namespace gnm::testing {

// A float64 leaf that requires grad, uniform in [lo, hi) from the default generator.
inline Tensor leaf(Shape shape, double lo = -1.0, double hi = 1.0) {
  return rand(std::move(shape), {.dtype = DType::f64}, lo, hi).requires_grad_();
}

// gradcheck(f, inputs) must pass; the first failing entry is printed.
inline void expect_gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                             const std::vector<Tensor>& inputs) {
  const autograd::GradcheckResult r = autograd::gradcheck(f, inputs);
  EXPECT_TRUE(r.ok) << r.message;
}

// An int64 tensor of `shape` holding `v` (indices, labels).
inline Tensor longs(std::vector<std::int64_t> v, Shape shape) {
  return from_vector(std::span<const std::int64_t>(v), std::move(shape));
}

// 0, 1, 2, … in `shape` (distinct values make misplaced elements visible).
inline Tensor seq(Shape shape, DType dtype = DType::f32) {
  std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
  std::iota(v.begin(), v.end(), 0.0);
  return from_vector(std::span<const double>(v), std::move(shape), {.dtype = dtype});
}

}  // namespace gnm::testing
