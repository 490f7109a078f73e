// Reductions of chapter 9.3 (mean, var, max, argmax): values against a double reference on random
// inputs (odd, strided, empty and long shapes), the tie and NaN rules, errors, and gradcheck.
// PyTorch's own values are replayed from tests/fixtures/ch09/nn_reduce.json in test_ops_loss.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "gnm/autograd/gradcheck.hpp"
#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"
#include "tensor_testing.hpp"

namespace {

using gnm::testing::leaf;
using gnm::testing::expect_gradcheck;

using gnm::DType;
using gnm::Shape;
using gnm::Tensor;
namespace ag = gnm::autograd;

// The reference: x (row-major, `shape`) reduced along `dim` by f over each row's values, in double.
std::vector<double> reduce_ref(const std::vector<double>& x, const Shape& shape, std::int64_t dim,
                               const std::function<double(const std::vector<double>&)>& f) {
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(shape.size()); ++i) {
    if (i < dim) outer *= shape[static_cast<std::size_t>(i)];
    if (i > dim) inner *= shape[static_cast<std::size_t>(i)];
  }
  const std::int64_t n = shape[static_cast<std::size_t>(dim)];
  std::vector<double> out;
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < inner; ++i) {
      std::vector<double> row;
      for (std::int64_t k = 0; k < n; ++k) row.push_back(x[static_cast<std::size_t>((o * n + k) * inner + i)]);
      out.push_back(f(row));
    }
  return out;
}

double mean_of(const std::vector<double>& v) {
  double s = 0.0;
  for (double e : v) s += e;
  return s / static_cast<double>(v.size());
}

double var_of(const std::vector<double>& v, std::int64_t correction) {
  const double mu = mean_of(v);
  double s = 0.0;
  for (double e : v) s += (e - mu) * (e - mu);
  return s / static_cast<double>(static_cast<std::int64_t>(v.size()) - correction);
}

// CPU mean/var accumulate in double, so an f32 result is the reference rounded once:
// |error| ≤ 2⁻²⁴·|ref| (half an ulp). Two ulps leave room for the reference's own rounding.
void expect_f32_rounding_of(const Tensor& got, const std::vector<double>& ref) {
  const std::vector<double> g = got.to_vector<double>();
  ASSERT_EQ(g.size(), ref.size());
  for (std::size_t i = 0; i < g.size(); ++i)
    EXPECT_NEAR(g[i], ref[i], std::ldexp(std::abs(ref[i]), -22) + 1e-30) << "at " << i;
}

TEST(OpsReduce, MeanAndVarMatchDoubleReference) {
  gnm::manual_seed(11);
  const Shape shape{3, 7, 5};
  const Tensor x = gnm::rand(shape, {}, -3.0, 3.0);
  const std::vector<double> xv = x.to_vector<double>();
  for (std::int64_t d = 0; d < 3; ++d) {
    expect_f32_rounding_of(gnm::mean(x, {d}), reduce_ref(xv, shape, d, mean_of));
    for (std::int64_t c : {0, 1, 2})
      expect_f32_rounding_of(gnm::var(x, {d}, c),
                             reduce_ref(xv, shape, d, [c](const auto& v) { return var_of(v, c); }));
  }
  // All dims, negative dims and keepdim shapes.
  expect_f32_rounding_of(gnm::mean(x), {mean_of(xv)});
  expect_f32_rounding_of(gnm::var(x, {}, 1), {var_of(xv, 1)});
  EXPECT_EQ(gnm::mean(x, {-1, 0}, true).shape(), (Shape{1, 7, 1}));
  EXPECT_EQ(gnm::var(x, {1}, 1, true).shape(), (Shape{3, 1, 5}));
  EXPECT_EQ(gnm::mean(x).dim(), 0);
  // A strided (transposed) input gives the same numbers as its contiguous copy.
  const Tensor t = x.transpose(0, 2);
  EXPECT_TRUE(gnm::allclose(gnm::mean(t, {1}), gnm::mean(t.contiguous(), {1}), 0.0, 0.0));
  EXPECT_TRUE(gnm::allclose(gnm::var(t, {0, 2}), gnm::var(t.contiguous(), {0, 2}), 0.0, 0.0));
}

TEST(OpsReduce, VarIsStableForLargeMeans) {
  // x = 1e4 + u: the one-pass Σx² − n·mean² would lose ~8 of f32's 24 bits here; two sweeps
  // keep the full precision.
  gnm::manual_seed(12);
  const Tensor x = gnm::add(gnm::rand({4, 101}, {}, -1.0, 1.0), 1e4);
  expect_f32_rounding_of(gnm::var(x, {1}, 1),
                         reduce_ref(x.to_vector<double>(), {4, 101}, 1,
                                    [](const auto& v) { return var_of(v, 1); }));
}

TEST(OpsReduce, LongReductionsSplitDeterministically) {
  // 100003 (prime) elements: past the parallel grain, summed in fixed pieces.
  gnm::manual_seed(13);
  const Tensor x = gnm::rand({100003}, {}, -1.0, 1.0);
  const std::vector<double> xv = x.to_vector<double>();
  expect_f32_rounding_of(gnm::mean(x), {mean_of(xv)});
  expect_f32_rounding_of(gnm::var(x, {0}, 0), {var_of(xv, 0)});
  const auto best = std::max_element(xv.begin(), xv.end());
  EXPECT_EQ(gnm::max(x).item(), *best);
  EXPECT_EQ(gnm::argmax(x, 0).item(), static_cast<double>(best - xv.begin()));
  EXPECT_EQ(gnm::mean(x).item(), gnm::mean(x).item());
}

TEST(OpsReduce, MeanOfHalfDoesNotOverflowItsSum) {
  // 10⁴ values of 100 sum to 10⁶ > 65504 (f16's max); the mean is computed wider.
  const Tensor x = gnm::full({10000}, 100.0, {.dtype = DType::f16});
  EXPECT_EQ(gnm::mean(x).item(), 100.0);
  EXPECT_EQ(gnm::mean(gnm::full({3, 500}, 2.5, {.dtype = DType::bf16}), {1}).to_vector<double>(),
            (std::vector<double>{2.5, 2.5, 2.5}));
}

TEST(OpsReduce, MaxAndArgmaxRules) {
  const std::vector<double> v{1, 3, 3, 2, 2, 1};
  const Tensor x = gnm::from_vector(std::span<const double>(v), {2, 3});
  EXPECT_EQ(gnm::max(x).item(), 3.0);
  EXPECT_EQ(gnm::max(x, 1).to_vector<double>(), (std::vector<double>{3, 2}));
  EXPECT_EQ(gnm::argmax(x, 1).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 0}));
  EXPECT_EQ(gnm::argmax(x, 0).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 0, 0}));
  EXPECT_EQ(gnm::argmax(x, -1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(gnm::argmax(x, 1).dtype(), DType::i64);
  // NaN counts as the maximum (the first NaN), as in PyTorch.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> w{1, nan, 5, nan};
  const Tensor y = gnm::from_vector(std::span<const double>(w), {1, 4});
  EXPECT_EQ(gnm::argmax(y, 1).item(), 1.0);
  EXPECT_TRUE(std::isnan(gnm::max(y).item()));
  EXPECT_TRUE(std::isnan(gnm::max(y, 1).item()));
  // Integers and 0-d tensors.
  const std::vector<std::int64_t> iv{4, -2, 9, 9};
  const Tensor xi = gnm::from_vector(std::span<const std::int64_t>(iv), {4});
  EXPECT_EQ(gnm::max(xi).item(), 9.0);
  EXPECT_EQ(gnm::argmax(xi, 0).item(), 2.0);
  const Tensor s = gnm::scalar_tensor(7.0);
  EXPECT_EQ(gnm::max(s, 0).item(), 7.0);
  EXPECT_EQ(gnm::argmax(s, -1).item(), 0.0);
  EXPECT_EQ(gnm::mean(s).item(), 7.0);
}

TEST(OpsReduce, MaxGradientRules) {
  // max over everything: ties share the gradient evenly (torch.amax / max()).
  const std::vector<double> v{1, 3, 3, 2, 2, 1};
  Tensor x = gnm::from_vector(std::span<const double>(v), {2, 3}, {.dtype = DType::f64, .requires_grad = true});
  Tensor m = gnm::max(x);
  EXPECT_EQ(m.grad_fn()->name(), "MaxBackward1");
  m.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0.5, 0.5, 0, 0, 0}));
  // max along a dim: the whole gradient goes to the first maximum (the argmax).
  Tensor x2 = gnm::from_vector(std::span<const double>(v), {2, 3}, {.dtype = DType::f64, .requires_grad = true});
  Tensor m2 = gnm::max(x2, 1);
  EXPECT_EQ(m2.grad_fn()->name(), "MaxBackward0");
  gnm::sum(m2 * 3.0).backward();
  EXPECT_EQ(x2.grad().to_vector<double>(), (std::vector<double>{0, 3, 0, 3, 0, 0}));
}

TEST(OpsReduce, EmptyAndBadInputs) {
  const Tensor e = gnm::zeros({0, 3});
  const std::vector<double> mean0 = gnm::mean(e, {0}).to_vector<double>();
  ASSERT_EQ(mean0.size(), 3u);
  for (double m : mean0) EXPECT_TRUE(std::isnan(m));  // 0/0, as PyTorch
  EXPECT_EQ(gnm::mean(e, {1}).shape(), (Shape{0}));
  EXPECT_EQ(gnm::max(e, 1).shape(), (Shape{0}));
  EXPECT_THROW(gnm::max(e), gnm::Error);
  EXPECT_THROW(gnm::max(e, 0), gnm::Error);
  EXPECT_THROW(gnm::argmax(e, 0), gnm::Error);
  const Tensor x = gnm::ones({2, 3});
  EXPECT_THROW(gnm::mean(x, {1, -1}), gnm::ShapeError);
  EXPECT_THROW(gnm::mean(x, {2}), gnm::ShapeError);
  EXPECT_THROW(gnm::argmax(x, 5), gnm::ShapeError);
  EXPECT_THROW(gnm::mean(gnm::ones({3}, {.dtype = DType::i64})), gnm::Error);
  EXPECT_THROW(gnm::var(x, {1}, -1), gnm::Error);
  // n − correction ≤ 0: a single element's unbiased variance is 0/0 = NaN, as torch.var.
  EXPECT_TRUE(std::isnan(gnm::var(gnm::ones({1}), {0}, 1).item()));
}

TEST(OpsReduce, Gradcheck) {
  gnm::manual_seed(14);
  const Tensor x = leaf({2, 3, 5});
  const Tensor t = leaf({5, 3}).t();  // non-contiguous
  expect_gradcheck([](const auto& in) { return gnm::mean(in[0]); }, {x});
  expect_gradcheck([](const auto& in) { return gnm::mean(in[0], {0, 2}, true); }, {x});
  expect_gradcheck([](const auto& in) { return gnm::mean(in[0], {1}); }, {t});
  expect_gradcheck([](const auto& in) { return gnm::var(in[0], {1}); }, {x});
  expect_gradcheck([](const auto& in) { return gnm::var(in[0], {0, 2}, 0, true); }, {x});
  expect_gradcheck([](const auto& in) { return gnm::var(in[0], {}, 2); }, {t});
  expect_gradcheck([](const auto& in) { return gnm::max(in[0]); }, {x});
  expect_gradcheck([](const auto& in) { return gnm::max(in[0], 1); }, {x});
  expect_gradcheck([](const auto& in) { return gnm::max(in[0], -1, true); }, {t});
  expect_gradcheck([](const auto& in) { return gnm::max(in[0], 0); }, {leaf({1})});
  expect_gradcheck([](const auto& in) { return gnm::mean(in[0], {0}); }, {leaf({1})});
}

}  // namespace
