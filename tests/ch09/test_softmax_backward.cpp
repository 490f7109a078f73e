// Exercise 9.3: softmax_backward against a double reference, against the engine's autograd
// (gnm::softmax then backward) and against the identity Σ_j dx_j = 0 of every row. Outputs start
// as NaN, so an element left unwritten fails. Every test calls softmax_backward on valid sizes
// first, so each fails on the stub.
//
// Note [Softmax backward tolerance]. With s computed in double (error C·2⁻⁵³·Σ|dy_j y_j|, far
// below the rest) and rounded once to float, each dx_i = y_i·(dy_i − s) has three roundings: s to
// float (u·|s|), the subtraction (u·|dy_i − s|) and the product (u·|dx_i|), u = 2⁻²⁴. Together
// they stay below 4u·|y_i|·(|dy_i| + 2|s|). The engine may sum s in float: add its worst case
// C·u·Σ_j|dy_j y_j| times |y_i| when comparing with it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ch09_testing.hpp"
#include "gnm/core/error.hpp"
#include "gnm/tensor/ops.hpp"
#include "softmax_backward.hpp"

namespace {

using gnm::ch09::softmax_backward;
using namespace ch09_testing;

struct Problem {
  std::int64_t rows = 0, cols = 0;
  std::vector<float> y, dy;
  std::vector<double> s, mass;  // per row: Σ dy·y in double and Σ|dy·y|
};

// y = softmax of logits in [−4, 4) (computed in double, rounded to float), dy in [−1, 1).
Problem make_problem(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
  const auto x = uniform(static_cast<std::size_t>(rows * cols), seed, -4.0f, 4.0f);
  Problem p{rows, cols, x, uniform(x.size(), seed + 1), {}, {}};  // y overwritten below
  const auto c = static_cast<std::size_t>(cols);
  for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r) {
    double mx = -INFINITY, z = 0.0, s = 0.0, mass = 0.0;
    for (std::size_t j = 0; j < c; ++j) mx = std::max(mx, static_cast<double>(x[r * c + j]));
    for (std::size_t j = 0; j < c; ++j) z += std::exp(static_cast<double>(x[r * c + j]) - mx);
    for (std::size_t j = 0; j < c; ++j) {
      const std::size_t i = r * c + j;
      p.y[i] = static_cast<float>(std::exp(static_cast<double>(x[i]) - mx) / z);
      s += static_cast<double>(p.dy[i]) * static_cast<double>(p.y[i]);
      mass += std::fabs(static_cast<double>(p.dy[i]) * static_cast<double>(p.y[i]));
    }
    p.s.push_back(s);
    p.mass.push_back(mass);
  }
  return p;
}

TEST(SoftmaxBackward, MatchesADoubleReference) {
  std::uint64_t seed = 10;
  for (std::int64_t rows : {1, 3, 7}) {
    for (std::int64_t cols : {1, 2, 13, 97, 1000}) {
      const Problem p = make_problem(rows, cols, seed += 2);
      auto dx = poisoned(p.y.size());
      softmax_backward(p.y, p.dy, rows, cols, dx);
      for (std::size_t i = 0; i < dx.size(); ++i) {
        const std::size_t r = i / static_cast<std::size_t>(cols);
        const double y = p.y[i], dy = p.dy[i];
        const double ref = y * (dy - p.s[r]);
        const double bound =
            4 * kU * std::fabs(y) * (std::fabs(dy) + 2 * std::fabs(p.s[r])) + 1e-37;
        ASSERT_LE(std::fabs(static_cast<double>(dx[i]) - ref), bound)
            << rows << " x " << cols << ", element " << i << ": got " << dx[i] << ", ref " << ref;
      }
    }
  }
}

TEST(SoftmaxBackward, EveryRowOfTheGradientSumsToZero) {
  // Σ_i y_i (dy_i − s) = s − s·Σ_i y_i = 0 when Σ y = 1: a gradient along the constraint surface.
  const Problem p = make_problem(5, 31, 77);
  auto dx = poisoned(p.y.size());
  softmax_backward(p.y, p.dy, 5, 31, dx);
  for (std::size_t r = 0; r < 5; ++r) {
    double sum = 0, mass = 0;
    for (std::size_t j = 0; j < 31; ++j) {
      sum += static_cast<double>(dx[r * 31 + j]);
      mass += std::fabs(static_cast<double>(p.y[r * 31 + j])) * (1.0 + std::fabs(p.s[r]));
    }
    // Σy differs from 1 by ≤ 31·u (y rounded to float), and each dx_i carries ~3u|y_i|(…).
    EXPECT_LE(std::fabs(sum), 40 * kU * mass) << "row " << r;
  }
}

TEST(SoftmaxBackward, AgreesWithTheEnginesAutograd) {
  for (const auto& [rows, cols] :
       {std::pair{1, 1}, std::pair{4, 7}, std::pair{16, 10}, std::pair{3, 257}}) {
    const auto x = uniform(static_cast<std::size_t>(rows * cols),
                           500 + static_cast<std::uint64_t>(cols), -4.0f, 4.0f);
    const auto dy = uniform(x.size(), 600 + static_cast<std::uint64_t>(cols));
    const gnm::Shape shape = {rows, cols};
    gnm::Tensor tx = gnm::from_vector(std::span<const float>(x), shape);
    tx.requires_grad_(true);
    const gnm::Tensor ty = gnm::softmax(tx, 1);
    ty.backward(gnm::from_vector(std::span<const float>(dy), shape));
    const std::vector<float> y = ty.detach().to_vector<float>();
    const std::vector<float> want = tx.grad().to_vector<float>();
    auto dx = poisoned(y.size());
    softmax_backward(y, dy, rows, cols, dx);
    for (std::size_t i = 0; i < dx.size(); ++i) {
      const std::size_t r0 = (i / static_cast<std::size_t>(cols)) * static_cast<std::size_t>(cols);
      double s = 0, mass = 0;
      for (std::size_t j = r0; j < r0 + static_cast<std::size_t>(cols); ++j) {
        s += static_cast<double>(dy[j]) * static_cast<double>(y[j]);
        mass += std::fabs(static_cast<double>(dy[j]) * static_cast<double>(y[j]));
      }
      const double yi = std::fabs(static_cast<double>(y[i]));
      const double bound =
          8 * kU * yi * (std::fabs(static_cast<double>(dy[i])) + 2 * std::fabs(s)) +
          static_cast<double>(cols) * kU * mass * yi + 1e-37;
      EXPECT_LE(std::fabs(static_cast<double>(dx[i]) - static_cast<double>(want[i])), bound)
          << rows << " x " << cols << ", element " << i;
    }
  }
}

TEST(SoftmaxBackward, EmptyAndBadSizes) {
  const Problem p = make_problem(2, 3, 5);
  auto dx = poisoned(6);
  softmax_backward(p.y, p.dy, 2, 3, dx);  // the stub throws here
  EXPECT_TRUE(std::all_of(dx.begin(), dx.end(), [](float v) { return std::isfinite(v); }));
  std::vector<float> none;
  EXPECT_NO_THROW(softmax_backward(none, none, 0, 5, none));
  EXPECT_NO_THROW(softmax_backward(none, none, 4, 0, none));
  EXPECT_THROW(softmax_backward(p.y, p.dy, 3, 3, dx), gnm::ShapeError);
  EXPECT_THROW(softmax_backward(p.y, p.dy, -2, -3, dx), gnm::ShapeError);
  std::vector<float> short_dx(5);
  EXPECT_THROW(softmax_backward(p.y, p.dy, 2, 3, short_dx), gnm::ShapeError);
}

}  // namespace
