// Exercise 3.2: each backward rule against central differences of its forward kernel, in double
// precision, on odd shapes (1×1, primes, a single row or column, empty), with gradients that
// already hold a contribution (rules accumulate) and with null gradient views (skipped). Every
// test calls at least one exercise rule, so each fails on the generated stubs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "gnm/core/philox.hpp"
#include "ops.hpp"

namespace {

using gnm::ch03::ConstMat;
using gnm::ch03::Mat;
using gnm::ch03::Matrix;
using gnm::ch03::Op;
using gnm::ch03::Shape2;

constexpr double kEps = std::numeric_limits<double>::epsilon();

enum class Domain { symmetric, positive };

Matrix sample(Shape2 s, std::uint64_t seed, Domain d = Domain::symmetric) {
  Matrix m(s.rows, s.cols);
  const gnm::PhiloxRng rng(seed);
  for (std::size_t i = 0; i < m.values().size(); ++i) {
    const double u = static_cast<double>(rng.uniform(i));
    m.values()[i] = d == Domain::positive ? 0.5 + 1.5 * u : 2.0 * u - 1.0;
  }
  return m;
}

using Rule = std::function<void(const std::vector<Matrix>& in, ConstMat out, ConstMat g,
                                std::vector<Mat> grads)>;

// Note [Central-difference tolerance] (chapters/ch03_autodiff/gradcheck.cpp): with h = 1e-5 the
// error of (L(x+h) − L(x−h)) / 2h is h²·M3/6 (truncation; M3 = 100 bounds |L'''| for these
// ops on these domains) plus 64·eps·S/h (rounding; S is the size of the terms L adds up).
//
// Checks `rule` for op: L(in) = Σ op(in) ⊙ G; the rule, called with ȳ = G on gradients that
// start at G0 (random), must leave G0 + ∂L/∂in.
void check_rule(Op op, std::vector<Matrix> in, const Rule& rule) {
  const Shape2 out_shape = gnm::ch03::infer_shape(op, in[0].shape(), in.size() > 1 ? in[1].shape() : Shape2{});
  const Matrix g = sample(out_shape, 77);
  auto loss = [&](const std::vector<Matrix>& x, Matrix* out_value) {
    Matrix y(out_shape.rows, out_shape.cols, std::numeric_limits<double>::quiet_NaN());
    gnm::ch03::forward_op(op, x[0].view(), x.size() > 1 ? x[1].view() : ConstMat{}, {}, y.view(), {});
    double l = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < y.values().size(); ++i) {
      l += y.values()[i] * g.values()[i];
      scale += std::fabs(y.values()[i] * g.values()[i]);
    }
    if (out_value) *out_value = y;
    return std::pair{l, scale};
  };
  Matrix y;
  const double scale = loss(in, &y).second;
  std::vector<Matrix> before, grads;
  std::vector<Mat> views;
  for (std::size_t k = 0; k < in.size(); ++k) {
    before.push_back(sample(in[k].shape(), 90 + k));
    grads.push_back(before.back());
    views.push_back(grads.back().view());
  }
  rule(in, y.view(), g.view(), views);

  double input_scale = 0.0;
  for (const Matrix& m : in) {
    for (double v : m.values()) input_scale += std::fabs(v);
  }
  const double h = 1e-5;
  const double tol = h * h * 100.0 / 6.0 + 64.0 * kEps * std::max(1.0, scale + input_scale) / h;
  for (std::size_t k = 0; k < in.size(); ++k) {
    for (std::size_t i = 0; i < in[k].values().size(); ++i) {
      std::vector<Matrix> x = in;
      x[k].values()[i] += h;
      const double up = loss(x, nullptr).first;
      x[k].values()[i] = in[k].values()[i] - h;
      const double down = loss(x, nullptr).first;
      const double cd = (up - down) / (2 * h);
      const double got = grads[k].values()[i] - before[k].values()[i];
      EXPECT_NEAR(got, cd, tol) << gnm::ch03::op_name(op) << " input " << k << " element " << i
                                << " of " << gnm::ch03::shape_string(in[k].shape());
    }
  }
}

const std::vector<Shape2> kShapes = {{1, 1}, {3, 5}, {7, 1}, {1, 7}, {0, 3}};

TEST(Ch03BackwardMul, CentralDifferences) {
  for (Shape2 s : kShapes) {
    check_rule(Op::mul, {sample(s, 1), sample(s, 2)}, [](auto& in, ConstMat, ConstMat g, auto grads) {
      gnm::ch03::mul_backward(in[0].view(), in[1].view(), g, grads[0], grads[1]);
    });
  }
}

TEST(Ch03BackwardMul, SameOperandTwiceAccumulates) {
  // y = x ⊙ x: one buffer receives both contributions, x̄ = 2·x·ȳ.
  const Matrix x = sample({2, 3}, 3), g = sample({2, 3}, 4);
  Matrix grad(2, 3, 0.0);
  gnm::ch03::mul_backward(x.view(), x.view(), g.view(), grad.view(), grad.view());
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_DOUBLE_EQ(grad.values()[i], 2 * x.values()[i] * g.values()[i]);
  }
}

TEST(Ch03BackwardMul, NullGradientIsSkipped) {
  const Matrix a = sample({3, 2}, 5), b = sample({3, 2}, 6), g = sample({3, 2}, 7);
  Matrix ga(3, 2, 0.0);
  gnm::ch03::mul_backward(a.view(), b.view(), g.view(), ga.view(), Mat{nullptr, 3, 2});
  for (std::size_t i = 0; i < 6; ++i) EXPECT_DOUBLE_EQ(ga.values()[i], g.values()[i] * b.values()[i]);
  Matrix gb(3, 2, 0.0);
  gnm::ch03::mul_backward(a.view(), b.view(), g.view(), Mat{nullptr, 3, 2}, gb.view());
  for (std::size_t i = 0; i < 6; ++i) EXPECT_DOUBLE_EQ(gb.values()[i], g.values()[i] * a.values()[i]);
}

TEST(Ch03BackwardDiv, CentralDifferences) {
  for (Shape2 s : kShapes) {
    check_rule(Op::div, {sample(s, 8), sample(s, 9, Domain::positive)},
               [](auto& in, ConstMat, ConstMat g, auto grads) {
                 gnm::ch03::div_backward(in[0].view(), in[1].view(), g, grads[0], grads[1]);
               });
  }
  const Matrix a = sample({2, 2}, 10), b = sample({2, 2}, 11, Domain::positive), g = sample({2, 2}, 12);
  Matrix gb(2, 2, 0.0);
  gnm::ch03::div_backward(a.view(), b.view(), g.view(), Mat{nullptr, 2, 2}, gb.view());
  for (std::size_t i = 0; i < 4; ++i) {
    const double bi = b.values()[i];
    EXPECT_NEAR(gb.values()[i], -g.values()[i] * a.values()[i] / (bi * bi), 8 * kEps * 16);
  }
}

TEST(Ch03BackwardExp, CentralDifferencesFromTheSavedOutput) {
  for (Shape2 s : kShapes) {
    check_rule(Op::exp, {sample(s, 13)}, [](auto&, ConstMat out, ConstMat g, auto grads) {
      gnm::ch03::exp_backward(out, g, grads[0]);  // only the output: exp is not recomputed
    });
  }
}

TEST(Ch03BackwardLog, CentralDifferences) {
  for (Shape2 s : kShapes) {
    check_rule(Op::log, {sample(s, 14, Domain::positive)}, [](auto& in, ConstMat, ConstMat g, auto grads) {
      gnm::ch03::log_backward(in[0].view(), g, grads[0]);
    });
  }
}

TEST(Ch03BackwardTanh, CentralDifferencesFromTheSavedOutput) {
  for (Shape2 s : kShapes) {
    check_rule(Op::tanh, {sample(s, 15)}, [](auto&, ConstMat out, ConstMat g, auto grads) {
      gnm::ch03::tanh_backward(out, g, grads[0]);
    });
  }
}

TEST(Ch03BackwardUnary, NullGradientIsSkipped) {
  const Matrix x = sample({2, 2}, 16, Domain::positive), g = sample({2, 2}, 17);
  // Would crash or write through nullptr if the rules ignored the null view.
  gnm::ch03::exp_backward(x.view(), g.view(), Mat{nullptr, 2, 2});
  gnm::ch03::log_backward(x.view(), g.view(), Mat{nullptr, 2, 2});
  gnm::ch03::tanh_backward(x.view(), g.view(), Mat{nullptr, 2, 2});
  Matrix gx(2, 2, 1.0);
  gnm::ch03::tanh_backward(x.view(), g.view(), gx.view());
  for (std::size_t i = 0; i < 4; ++i) {
    const double y = x.values()[i];
    EXPECT_DOUBLE_EQ(gx.values()[i], 1.0 + g.values()[i] * (1 - y * y));
  }
}

TEST(Ch03BackwardMatmul, CentralDifferencesOnOddShapes) {
  const std::vector<std::pair<Shape2, Shape2>> cases = {
      {{1, 1}, {1, 1}}, {{3, 4}, {4, 5}}, {{5, 1}, {1, 3}}, {{2, 7}, {7, 1}}, {{1, 6}, {6, 2}},
      {{3, 0}, {0, 2}}};
  for (const auto& [sa, sb] : cases) {
    check_rule(Op::matmul, {sample(sa, 18), sample(sb, 19)}, [](auto& in, ConstMat, ConstMat g, auto grads) {
      gnm::ch03::matmul_backward(in[0].view(), in[1].view(), g, grads[0], grads[1]);
    });
  }
}

TEST(Ch03BackwardMatmul, TransposedProductsExactly) {
  // Small integers: every product and sum is exact, so the rule must match bit for bit.
  const Matrix a(2, 3, {1, 2, 3, 4, 5, 6}), b(3, 2, {1, -1, 2, 0, -2, 3}), g(2, 2, {1, 2, -1, 1});
  Matrix ga(2, 3, 0.0), gb(3, 2, 0.0);
  gnm::ch03::matmul_backward(a.view(), b.view(), g.view(), ga.view(), gb.view());
  EXPECT_EQ(ga.values(), (std::vector<double>{-1, 2, 4, -2, -2, 5}));  // g · bᵀ
  EXPECT_EQ(gb.values(), (std::vector<double>{-3, 6, -3, 9, -3, 12}));  // aᵀ · g
  Matrix only_b(3, 2, 0.0);
  gnm::ch03::matmul_backward(a.view(), b.view(), g.view(), Mat{nullptr, 2, 3}, only_b.view());
  EXPECT_EQ(only_b.values(), gb.values());
}

}  // namespace
