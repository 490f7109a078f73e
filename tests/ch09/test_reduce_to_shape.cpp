// Exercise 9.2: reduce_to_shape against a double reference (every grad element added to the
// target element it decodes to, by division), against the engine's gnm::sum_to and against the
// gradients autograd gives a broadcasting add. Every test calls reduce_to_shape on valid shapes
// first, so each fails on the stub.
//
// Tolerances. The exercise sums K terms in double and rounds once: |got − Σ| ≤ u·|Σ| plus the
// double sum's own error K·2⁻⁵³·Σ|g| (u = 2⁻²⁴). The engine sums in float in some order of its
// own: any order is within K·u·Σ|g| of the exact sum (Higham's worst case), so two float results
// differ by at most that plus the exercise's u·|Σ|.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ch09_testing.hpp"
#include "gnm/core/error.hpp"
#include "gnm/tensor/ops.hpp"
#include "reduce_to_shape.hpp"

namespace {

using gnm::Shape;
using gnm::ch09::reduce_to_shape;
using namespace ch09_testing;

struct Case {
  Shape grad, target;
};

// Odd sizes (1, primes), leading dims that the target lacks, size-1 dims, 0-d and empty shapes.
const std::vector<Case> kCases = {
    {{3, 4}, {3, 1}},     {{3, 4}, {4}},           {{3, 4}, {1, 4}},       {{3, 4}, {1, 1}},
    {{3, 4}, {}},         {{5, 4}, {5, 4}},        {{1}, {1}},             {{7, 11, 13}, {11, 1}},
    {{7, 11, 13}, {13}},  {{2, 3, 5, 7}, {3, 1, 7}}, {{97}, {1}},          {{1, 13}, {13}},
    {{0, 3}, {1, 3}},     {{2, 0}, {2, 1}},        {{4, 1, 3}, {4, 1, 3}},
};

struct Reference {
  std::vector<double> sum;   // exact-ish sums in double
  std::vector<double> mass;  // Σ|g| of each sum's terms
  std::vector<double> terms;  // K: terms per target element
};

Reference reference(const std::vector<float>& g, const Shape& grad, const Shape& target) {
  const std::int64_t n_out = numel(target);
  Reference r{std::vector<double>(static_cast<std::size_t>(n_out), 0.0),
              std::vector<double>(static_cast<std::size_t>(n_out), 0.0),
              std::vector<double>(static_cast<std::size_t>(n_out), 0.0)};
  const std::size_t lead = grad.size() - target.size();
  for (std::int64_t k = 0; k < numel(grad); ++k) {
    const auto idx = unravel(k, grad);
    std::int64_t j = 0;  // row-major index into target, size-1 dims pinned to 0
    for (std::size_t d = 0; d < target.size(); ++d) {
      j = j * target[d] + (target[d] == 1 ? 0 : idx[lead + d]);
    }
    const auto v = static_cast<double>(g[static_cast<std::size_t>(k)]);
    r.sum[static_cast<std::size_t>(j)] += v;
    r.mass[static_cast<std::size_t>(j)] += std::fabs(v);
    r.terms[static_cast<std::size_t>(j)] += 1.0;
  }
  return r;
}

std::string describe(const Case& c) {
  return "grad " + gnm::shape_str(c.grad) + " → target " + gnm::shape_str(c.target);
}

TEST(ReduceToShape, MatchesADoubleReference) {
  std::uint64_t seed = 100;
  for (const Case& c : kCases) {
    const auto g = uniform(static_cast<std::size_t>(numel(c.grad)), ++seed);
    const std::vector<float> got = reduce_to_shape(g, c.grad, c.target);
    const Reference ref = reference(g, c.grad, c.target);
    ASSERT_EQ(got.size(), ref.sum.size()) << describe(c);
    for (std::size_t j = 0; j < got.size(); ++j) {
      const double bound = kU * std::fabs(ref.sum[j]) + ref.terms[j] * 0x1p-53 * ref.mass[j];
      EXPECT_LE(std::fabs(static_cast<double>(got[j]) - ref.sum[j]), bound)
          << describe(c) << ", element " << j << ": got " << got[j] << ", ref " << ref.sum[j];
    }
  }
}

TEST(ReduceToShape, EqualShapesReturnTheGradientUnchanged) {
  const Shape shape = {3, 1, 7};
  const auto g = uniform(21, 7);
  EXPECT_EQ(reduce_to_shape(g, shape, shape), g);
}

TEST(ReduceToShape, AgreesWithTheEnginesSumTo) {
  std::uint64_t seed = 300;
  for (const Case& c : kCases) {
    const auto g = uniform(static_cast<std::size_t>(numel(c.grad)), ++seed);
    const gnm::Tensor tg = gnm::from_vector(std::span<const float>(g), c.grad);
    const std::vector<float> engine = gnm::sum_to(tg, c.target).to_vector<float>();
    const std::vector<float> got = reduce_to_shape(g, c.grad, c.target);
    const Reference ref = reference(g, c.grad, c.target);
    ASSERT_EQ(got.size(), engine.size()) << describe(c);
    for (std::size_t j = 0; j < got.size(); ++j) {
      const double bound = ref.terms[j] * kU * ref.mass[j] + kU * std::fabs(ref.sum[j]);
      EXPECT_LE(std::fabs(static_cast<double>(got[j]) - static_cast<double>(engine[j])), bound)
          << describe(c) << ", element " << j;
    }
  }
}

TEST(ReduceToShape, GivesTheGradientsOfABroadcastingAdd) {
  // c = a + b with a (3, 1) and b (4): dL/da and dL/db are dL/dc reduced to their shapes.
  const Shape a_shape = {3, 1}, b_shape = {4}, c_shape = {3, 4};
  const gnm::Tensor a = gnm::zeros(a_shape, {.requires_grad = true});
  const gnm::Tensor b = gnm::zeros(b_shape, {.requires_grad = true});
  const auto dc = uniform(12, 42);
  (a + b).backward(gnm::from_vector(std::span<const float>(dc), c_shape));
  const std::vector<float> da = reduce_to_shape(dc, c_shape, a_shape);
  const std::vector<float> db = reduce_to_shape(dc, c_shape, b_shape);
  const std::vector<float> want_a = a.grad().to_vector<float>();
  const std::vector<float> want_b = b.grad().to_vector<float>();
  ASSERT_EQ(da.size(), want_a.size());
  ASSERT_EQ(db.size(), want_b.size());
  // 4 or 3 terms of magnitude < 1: the engine's float sum is within 4·u·4 of the exact one.
  for (std::size_t i = 0; i < da.size(); ++i) EXPECT_NEAR(da[i], want_a[i], 32 * kU) << i;
  for (std::size_t i = 0; i < db.size(); ++i) EXPECT_NEAR(db[i], want_b[i], 32 * kU) << i;
}

TEST(ReduceToShape, RejectsShapesThatDoNotBroadcast) {
  const auto g = uniform(12, 5);
  const Shape grad = {3, 4};
  EXPECT_EQ(reduce_to_shape(g, grad, Shape{1, 4}).size(), 4u);  // the stub throws here
  EXPECT_THROW((void)reduce_to_shape(g, grad, Shape{2, 4}), gnm::ShapeError);
  EXPECT_THROW((void)reduce_to_shape(g, grad, Shape{4, 1}), gnm::ShapeError);
  EXPECT_THROW((void)reduce_to_shape(g, grad, Shape{2, 3, 4}), gnm::ShapeError);
  EXPECT_THROW((void)reduce_to_shape(g, Shape{3, 5}, Shape{3, 1}), gnm::ShapeError);  // 12 ≠ 15
}

}  // namespace
