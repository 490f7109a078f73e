// gnm::Tensor core (chapter 9.1, 9.2, 9.6): factories, metadata, views sharing storage,
// conversions, printing, broadcasting arithmetic against a double reference.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>

#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"
#include "tensor_testing.hpp"

namespace {

using gnm::testing::seq;

using gnm::DType;
using gnm::Tensor;

TEST(TensorCore, FactoriesAndMetadata) {
  const Tensor z = gnm::zeros({2, 3});
  EXPECT_EQ(z.shape(), (gnm::Shape{2, 3}));
  EXPECT_EQ(z.strides(), (gnm::Shape{3, 1}));
  EXPECT_EQ(z.numel(), 6);
  EXPECT_EQ(z.dtype(), DType::f32);
  EXPECT_TRUE(z.is_contiguous());
  for (float v : z.to_vector<float>()) EXPECT_EQ(v, 0.0f);
  const Tensor f = gnm::full({4}, 2.5, {.dtype = DType::bf16});
  for (double v : f.to_vector<double>()) EXPECT_EQ(v, 2.5);
  const Tensor s = gnm::scalar_tensor(3.0);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item(), 3.0);
  const Tensor e = gnm::zeros({0, 5});
  EXPECT_EQ(e.numel(), 0);
  EXPECT_TRUE(gnm::zeros({3, 0, 2}).transpose(0, 2).is_contiguous());
  // A zero size makes a shape empty however large the other sizes are (as in PyTorch).
  EXPECT_EQ(gnm::zeros({std::int64_t{1} << 40, std::int64_t{1} << 40, 0}).numel(), 0);
  EXPECT_EQ(gnm::arange(5).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(gnm::arange(5).dtype(), DType::i64);
}

TEST(TensorCore, BadShapesAreShapeErrors) {
  EXPECT_THROW(gnm::zeros({2, -1}), gnm::ShapeError);
  EXPECT_THROW(gnm::zeros({1, 1, 1, 1, 1, 1, 1, 1, 1}), gnm::ShapeError);
  const std::vector<double> v{1, 2, 3};
  try {
    (void)gnm::from_vector(std::span<const double>(v), {2, 2});
    FAIL() << "expected ShapeError";
  } catch (const gnm::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 2]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(gnm::zeros({2}).item(), gnm::Error);
  EXPECT_THROW(Tensor().shape(), gnm::Error);
}

TEST(TensorCore, ConversionsRoundTrip) {
  const Tensor x = seq({3, 4});
  EXPECT_EQ(x.to(DType::f64).to_vector<double>(), x.to_vector<double>());
  EXPECT_EQ(x.to(DType::i32).to_vector<std::int32_t>()[11], 11);
  // bf16 keeps 8 significant bits: 11 is exact, 257 rounds to 256 (ties to even).
  const std::vector<double> v{257.0, -1.5, 1e-3};
  const Tensor b = gnm::from_vector(std::span<const double>(v), {3}).to(DType::bf16);
  const auto back = b.to_vector<double>();
  EXPECT_EQ(back[0], 256.0);
  EXPECT_EQ(back[1], -1.5);
  EXPECT_NEAR(back[2], 1e-3, 1e-3 * std::ldexp(1.0, -8));
  const Tensor m = gnm::from_vector(std::span<const double>(v), {3}).to(DType::boolean);
  EXPECT_EQ(m.to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{1, 1, 1}));
#if !GNM_HAVE_CUDA
  EXPECT_THROW(x.to(gnm::Device::cuda()), gnm::Error);
#endif
}

TEST(TensorCore, ViewsShareStorage) {
  const Tensor x = seq({2, 3, 4});
  const Tensor t = x.transpose(0, 2);  // (4, 3, 2)
  EXPECT_EQ(t.shape(), (gnm::Shape{4, 3, 2}));
  EXPECT_EQ(t.strides(), (gnm::Shape{1, 4, 12}));
  EXPECT_EQ(t.storage(), x.storage());
  EXPECT_FALSE(t.is_contiguous());
  const Tensor c = t.contiguous();
  EXPECT_NE(c.storage(), x.storage());
  // c[i][j][k] == x[k][j][i]
  const auto cv = c.to_vector<float>();
  EXPECT_EQ(cv[static_cast<std::size_t>(1 * 6 + 2 * 2 + 1)], static_cast<float>(1 * 12 + 2 * 4 + 1));
  const Tensor s = x.slice(2, 1, 4, 2);  // last dim picks 1 and 3
  EXPECT_EQ(s.shape(), (gnm::Shape{2, 3, 2}));
  EXPECT_EQ(s.to_vector<float>()[0], 1.0f);
  EXPECT_EQ(s.to_vector<float>()[1], 3.0f);
  const Tensor sel = x.select(1, -1);  // (2, 4) rows x[:, 2, :]
  EXPECT_EQ(sel.to_vector<float>()[0], 8.0f);
  EXPECT_EQ(x.narrow(0, 1, 1).to_vector<float>()[0], 12.0f);
  const Tensor e = gnm::from_vector(std::span<const double>(std::vector<double>{1, 2, 3}), {3, 1}).expand({3, 4});
  EXPECT_EQ(e.strides()[1], 0);
  EXPECT_EQ(e.to_vector<float>()[7], 2.0f);
  EXPECT_EQ(x.unsqueeze(0).shape(), (gnm::Shape{1, 2, 3, 4}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), (gnm::Shape{2, 3, 4, 1}));
  EXPECT_EQ(x.unsqueeze(0).squeeze().shape(), x.shape());
  EXPECT_EQ(x.flatten(1).shape(), (gnm::Shape{2, 12}));
  // Writing through a view changes the base.
  {
    Tensor w = x.select(0, 1);
    w.fill_(-1.0);
  }
  EXPECT_EQ(x.to_vector<float>()[12], -1.0f);
  EXPECT_EQ(x.to_vector<float>()[11], 11.0f);
}

TEST(TensorCore, ViewVersusReshape) {
  const Tensor x = seq({4, 6});
  EXPECT_EQ(x.view({2, -1, 3}).shape(), (gnm::Shape{2, 4, 3}));
  EXPECT_EQ(x.view({2, -1, 3}).storage(), x.storage());
  const Tensor t = x.t();  // (6, 4), not contiguous
  EXPECT_THROW(t.view({24}), gnm::ShapeError);
  const Tensor r = t.reshape({24});
  EXPECT_NE(r.storage(), x.storage());
  EXPECT_EQ(r.to_vector<float>()[1], 6.0f);  // t[0][1] = x[1][0]
  // Splitting a transposed dim is still a view.
  EXPECT_EQ(t.view({2, 3, 4}).storage(), x.storage());
  EXPECT_THROW(x.view({5, 5}), gnm::ShapeError);
  EXPECT_THROW(x.view({-1, -1}), gnm::ShapeError);
  EXPECT_THROW(x.permute({0, 0}), gnm::ShapeError);
  EXPECT_THROW(x.expand({3, 6}), gnm::ShapeError);
  EXPECT_THROW(x.transpose(0, 2), gnm::ShapeError);
}

TEST(TensorCore, CopyBroadcastsAndConverts) {
  Tensor dst = gnm::zeros({3, 4}, {.dtype = DType::f64});
  const Tensor row = seq({4});
  dst.copy_(row);
  EXPECT_EQ(dst.to_vector<double>()[9], 1.0);
  Tensor col = dst.t();  // (4, 3), write through the transposed view
  col.copy_(seq({4, 3}));
  EXPECT_EQ(dst.to_vector<double>()[1 * 4 + 2], 7.0);  // dst[1][2] = col[2][1]
  EXPECT_THROW(dst.copy_(seq({5})), gnm::ShapeError);
}

TEST(TensorCore, BroadcastingArithmeticMatchesDoubleReference) {
  gnm::manual_seed(7);
  const Tensor a = gnm::rand({5, 1, 7}, {}, -2.0, 2.0);
  const Tensor b = gnm::rand({3, 1}, {}, 0.5, 2.0);
  const Tensor sum = a + b, prod = a * b, quo = a / b, diff = a - b;
  ASSERT_EQ(sum.shape(), (gnm::Shape{5, 3, 7}));
  const auto av = a.to_vector<double>(), bv = b.to_vector<double>();
  const auto s = sum.to_vector<double>(), p = prod.to_vector<double>(), q = quo.to_vector<double>(),
             d = diff.to_vector<double>();
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 7; ++k) {
        const double x = av[static_cast<std::size_t>(i * 7 + k)], y = bv[static_cast<std::size_t>(j)];
        const auto o = static_cast<std::size_t>((i * 3 + j) * 7 + k);
        // One f32 rounding of the exact result: |err| ≤ 2⁻²⁴·|r|.
        EXPECT_NEAR(s[o], x + y, std::abs(x + y) * 6e-8);
        EXPECT_NEAR(p[o], x * y, std::abs(x * y) * 6e-8);
        EXPECT_NEAR(q[o], x / y, std::abs(x / y) * 6e-8);
        EXPECT_NEAR(d[o], x - y, std::abs(x - y) * 6e-8);
      }
  try {
    (void)(gnm::zeros({2, 3}) + gnm::zeros({4}));
    FAIL();
  } catch (const gnm::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[4]"), std::string::npos);
  }
  EXPECT_THROW((void)(gnm::zeros({2}) + gnm::zeros({2}, {.dtype = DType::f64})), gnm::Error);
}

TEST(TensorCore, ComparisonsGiveBool) {
  const Tensor a = seq({4});
  const Tensor c = gnm::gt(a, gnm::scalar_tensor(1.5));
  EXPECT_EQ(c.dtype(), DType::boolean);
  EXPECT_EQ(c.to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ(gnm::eq(a, a).to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{1, 1, 1, 1}));
}

TEST(TensorCore, SumOverDims) {
  const Tensor x = seq({2, 3, 4}, DType::f64);
  EXPECT_EQ(gnm::sum(x).item(), 276.0);
  const Tensor s1 = gnm::sum(x, {1});
  EXPECT_EQ(s1.shape(), (gnm::Shape{2, 4}));
  EXPECT_EQ(s1.to_vector<double>()[0], 0.0 + 4 + 8);
  const Tensor s2 = gnm::sum(x, {0, -1}, true);
  EXPECT_EQ(s2.shape(), (gnm::Shape{1, 3, 1}));
  EXPECT_EQ(s2.to_vector<double>()[0], (0 + 1 + 2 + 3) + (12 + 13 + 14 + 15));
  EXPECT_EQ(gnm::sum(x.transpose(0, 2), {0}).to_vector<double>(), gnm::sum(x, {2}).t().contiguous().to_vector<double>());
  EXPECT_EQ(gnm::sum(gnm::zeros({0, 3})).item(), 0.0);
  EXPECT_EQ(gnm::sum(gnm::ones({5}, {.dtype = DType::boolean})).dtype(), DType::i64);
  EXPECT_THROW(gnm::sum(x, {1, 1}), gnm::ShapeError);
  // A long reduction takes the blocked parallel path; the result must not depend on it.
  const Tensor big = gnm::ones({200001}, {.dtype = DType::f32});
  EXPECT_EQ(gnm::sum(big).item(), 200001.0);
}

TEST(TensorCore, PrintsLikePyTorch) {
  EXPECT_EQ(seq({2, 2}).str(), "tensor([[0., 1.],\n        [2., 3.]])");
  const std::vector<double> v{1.5, -0.25};
  EXPECT_EQ(gnm::from_vector(std::span<const double>(v), {2}).str(), "tensor([ 1.5000, -0.2500])");
  EXPECT_EQ(gnm::arange(3).str(), "tensor([0, 1, 2])");
  EXPECT_EQ(gnm::zeros({2}, {.requires_grad = true}).str(), "tensor([0., 0.], requires_grad=True)");
  EXPECT_EQ(gnm::scalar_tensor(2.0, {.dtype = DType::f64}).str(), "tensor(2., dtype=float64)");
  EXPECT_EQ(gnm::zeros({0, 3}).str(), "tensor([], size=[0, 3])");
  const std::string big = gnm::zeros({2000}).str();
  EXPECT_NE(big.find("..."), std::string::npos);
  EXPECT_LT(big.size(), 100u);
}

TEST(TensorCore, RandomIsSeededAndReproducible) {
  gnm::manual_seed(42);
  const Tensor a = gnm::rand({100});
  const Tensor b = gnm::rand({100});
  gnm::manual_seed(42);
  const Tensor c = gnm::rand({100});
  EXPECT_EQ(a.to_vector<float>(), c.to_vector<float>());
  EXPECT_NE(a.to_vector<float>(), b.to_vector<float>());
  const auto state = gnm::generator_state();
  const Tensor d = gnm::randn({10});
  gnm::set_generator_state(state);
  EXPECT_EQ(gnm::randn({10}).to_vector<float>(), d.to_vector<float>());
  for (float v : a.to_vector<float>()) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LT(v, 1.0f);
  }
}

}  // namespace
