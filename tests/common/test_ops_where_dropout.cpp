// where (broadcast selection) and dropout (Philox mask) with their backward (chapters 9.3, 9.5).
//
// Dropout's mask is pinned to its definition: element i of the op's stream (seed, subsequence) is
// kept when PhiloxRng(seed, subsequence).uniform(i) >= p. The tests recompute it from the
// generator state taken before the call, so they check exactly the mask the GPU must reproduce.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <limits>

#include "gnm/autograd/gradcheck.hpp"
#include "gnm/autograd/node.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/tensor/ops.hpp"

namespace {

using gnm::DType;
using gnm::Tensor;

Tensor bools(const std::vector<std::int64_t>& v, gnm::Shape shape) {
  return gnm::from_vector(std::span<const std::int64_t>(v), std::move(shape), {.dtype = DType::boolean});
}

TEST(OpsWhere, BroadcastsAllThreeOperands) {
  const Tensor cond = bools({1, 0, 1}, {3, 1});
  const std::vector<double> av{1, 2, 3, 4};
  const Tensor a = gnm::from_vector(std::span<const double>(av), {1, 4});
  const Tensor b = gnm::scalar_tensor(-1.0);
  const Tensor y = gnm::where(cond, a, b);
  ASSERT_EQ(y.shape(), (gnm::Shape{3, 4}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, -1, -1, -1, -1, 1, 2, 3, 4}));
  // Any dtype of a/b, including integers and bool; the condition is read through its strides.
  const Tensor ai = gnm::arange(4).view({2, 2});
  const Tensor bi = gnm::full({2, 2}, 9, {.dtype = DType::i64});
  EXPECT_EQ(gnm::where(bools({1, 0, 0, 1}, {2, 2}).t(), ai, bi).to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{0, 9, 9, 3}));
  const Tensor t = gnm::ones({2}, {.dtype = DType::boolean});
  EXPECT_EQ(gnm::where(bools({0, 1}, {2}), t, gnm::zeros({2}, {.dtype = DType::boolean})).dtype(),
            DType::boolean);
  // Empty and 0-d.
  EXPECT_EQ(gnm::where(bools({}, {0}), gnm::zeros({0}), gnm::zeros({0})).numel(), 0);
  EXPECT_EQ(gnm::where(bools({1}, {}), gnm::scalar_tensor(2.0), b).item(), 2.0);
}

TEST(OpsWhere, ErrorsNameTheOffendingValues) {
  const Tensor a = gnm::zeros({2, 3});
  try {
    (void)gnm::where(gnm::zeros({2, 3}), a, a);
    FAIL() << "float condition accepted";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("float32"), std::string::npos) << e.what();
  }
  try {
    (void)gnm::where(bools({1, 0}, {2, 1}), a, gnm::zeros({2, 3}, {.dtype = DType::f64}));
    FAIL() << "mixed dtypes accepted";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("float64"), std::string::npos) << e.what();
  }
  try {
    (void)gnm::where(bools({1, 0}, {2}), a, a);
    FAIL() << "incompatible shapes accepted";
  } catch (const gnm::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[2]"), std::string::npos) << e.what();
  }
}

TEST(OpsWhere, GradientsReduceToEachOperandsShape) {
  gnm::manual_seed(5);
  const Tensor cond = gnm::gt(gnm::rand({3, 1, 5}), gnm::scalar_tensor(0.5));
  Tensor a = gnm::rand({1, 4, 5}, {.dtype = DType::f64}).requires_grad_(true);
  Tensor b = gnm::rand({5}, {.dtype = DType::f64}).requires_grad_(true);
  const auto r = gnm::autograd::gradcheck(
      [&](const auto& in) { return gnm::where(cond, in[0], in[1]); }, {a, b});
  EXPECT_TRUE(r.ok) << r.message;
  Tensor at = gnm::rand({5, 4}, {.dtype = DType::f64}).requires_grad_(true);
  const auto r2 = gnm::autograd::gradcheck(
      [&](const auto& in) {
        return gnm::where(cond, in[0].t(), gnm::scalar_tensor(0.0, {.dtype = DType::f64}));
      },
      {at});
  EXPECT_TRUE(r2.ok) << r2.message;
  EXPECT_EQ(gnm::where(cond, a, b).grad_fn()->name(), "WhereBackward0");
}

TEST(OpsWhere, MatchesPyTorchFixture) {
  std::ifstream in(std::string(GNM_FIXTURES_DIR) + "/ch09/unary_where.json");
  ASSERT_TRUE(in) << "missing fixture unary_where.json";
  const nlohmann::json doc = nlohmann::json::parse(in);
  for (const auto& c : doc["cases"]) {
    const Tensor cond = bools(c["cond"].get<std::vector<std::int64_t>>(), c["cond_shape"].get<gnm::Shape>());
    const auto av = c["a"].get<std::vector<double>>();
    const auto bv = c["b"].get<std::vector<double>>();
    const auto gv = c["g"].get<std::vector<double>>();
    const gnm::TensorOptions leaf{.dtype = DType::f64, .requires_grad = true};
    Tensor a = gnm::from_vector(std::span<const double>(av), c["a_shape"].get<gnm::Shape>(), leaf);
    Tensor b = gnm::from_vector(std::span<const double>(bv), c["b_shape"].get<gnm::Shape>(), leaf);
    Tensor y = gnm::where(cond, a, b);
    ASSERT_EQ(y.shape(), c["y_shape"].get<gnm::Shape>());
    // A selection copies values and sums gradients of at most a few terms: exact to ~1 ulp.
    EXPECT_EQ(y.to_vector<double>(), c["y"].get<std::vector<double>>());
    y.backward(gnm::from_vector(std::span<const double>(gv), y.shape(), {.dtype = DType::f64}));
    const auto ga = a.grad().to_vector<double>(), want_a = c["grad_a"].get<std::vector<double>>();
    const auto gb = b.grad().to_vector<double>(), want_b = c["grad_b"].get<std::vector<double>>();
    for (std::size_t i = 0; i < ga.size(); ++i) EXPECT_NEAR(ga[i], want_a[i], 1e-15 * 8);
    for (std::size_t i = 0; i < gb.size(); ++i) EXPECT_NEAR(gb[i], want_b[i], 1e-15 * 16);
  }
}

// The expected dropout output from the definition, given the stream the op will take.
std::vector<double> dropout_reference(const std::vector<double>& x, gnm::GeneratorState s, double p) {
  const gnm::PhiloxRng rng(s.seed, s.subsequence);
  const double scale = p < 1 ? 1 / (1 - p) : 0;
  std::vector<double> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float kept = static_cast<float>(x[i]) * static_cast<float>(scale);  // f32 math
    y[i] = static_cast<double>(rng.uniform(i)) >= p ? static_cast<double>(kept) : 0.0;
  }
  return y;
}

TEST(OpsDropout, MaskIsThePhiloxDefinitionOnAnyLayout) {
  gnm::manual_seed(42);
  for (const double p : {0.0, 0.1, 0.5, 0.9}) {
    for (const Tensor& x : {gnm::rand({1}), gnm::rand({7, 13}), gnm::rand({13, 6}).t(),
                            gnm::rand({4, 9, 5}).slice(1, 2, 9, 2), gnm::rand({50001})}) {
      const gnm::GeneratorState before = gnm::generator_state();
      const Tensor y = gnm::dropout(x, p);
      EXPECT_EQ(gnm::generator_state().subsequence, before.subsequence + 1);
      // Row-major element i of the output uses Philox element i, whatever x's strides.
      EXPECT_EQ(y.to_vector<double>(), dropout_reference(x.to_vector<double>(), before, p)) << p;
    }
  }
}

TEST(OpsDropout, KeepRateAndExpectation) {
  gnm::manual_seed(7);
  const std::int64_t n = 200000;
  const double p = 0.3;
  const Tensor y = gnm::dropout(gnm::ones({n}, {.dtype = DType::f64}), p);
  const auto v = y.to_vector<double>();
  std::int64_t kept = 0;
  for (double e : v) {
    if (e != 0) {
      ++kept;
      EXPECT_DOUBLE_EQ(e, 1 / (1 - p));
    }
  }
  // Binomial(n, 0.7): six standard errors (√(n·p·(1−p)) ≈ 205) around the mean.
  const double sd = std::sqrt(static_cast<double>(n) * p * (1 - p));
  EXPECT_NEAR(static_cast<double>(kept), static_cast<double>(n) * (1 - p), 6 * sd);
}

TEST(OpsDropout, EdgeCasesAndErrors) {
  gnm::manual_seed(3);
  const Tensor x = gnm::rand({5, 3});
  // Eval mode: the identity, and the very same tensor (PyTorch returns its input).
  EXPECT_TRUE(gnm::dropout(x, 0.5, false).is_same(x));
  // p = 0: a copy with scale 1.
  const Tensor y0 = gnm::dropout(x, 0.0);
  EXPECT_FALSE(y0.is_same(x));
  EXPECT_EQ(y0.to_vector<float>(), x.to_vector<float>());
  // p = 1: all zeros, even for inf and NaN inputs (dropped elements are selected away).
  const std::vector<double> odd{1.0, std::numeric_limits<double>::infinity(), std::nan("")};
  const Tensor y1 = gnm::dropout(gnm::from_vector(std::span<const double>(odd), {3}), 1.0);
  EXPECT_EQ(y1.to_vector<float>(), (std::vector<float>{0, 0, 0}));
  // Bad p names p.
  for (const double p : {-0.1, 1.5, std::nan("")}) {
    try {
      (void)gnm::dropout(x, p);
      ADD_FAILURE() << "p = " << p << " accepted";
    } catch (const gnm::Error& e) {
      EXPECT_NE(std::string(e.what()).find("p = "), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(gnm::dropout(gnm::arange(4), 0.5), gnm::Error);
  EXPECT_EQ(gnm::dropout(gnm::zeros({0, 4}), 0.5).numel(), 0);
  // f16 and bf16: scale applied in f32, rounded once.
  for (DType t : {DType::f16, DType::bf16, DType::f64}) {
    const Tensor xt = gnm::rand({33}, {.dtype = t});
    const gnm::GeneratorState before = gnm::generator_state();
    const auto got = gnm::dropout(xt, 0.25).to_vector<double>();
    const auto want = dropout_reference(xt.to_vector<double>(), before, 0.25);
    const Tensor want_t = gnm::from_vector(std::span<const double>(want), {33}, {.dtype = t});
    if (t == DType::f64) {
      for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-7 * want[i]);
    } else {
      EXPECT_EQ(got, want_t.to_vector<double>()) << gnm::dtype_name(t);
    }
  }
}

TEST(OpsDropout, BackwardUsesTheForwardMask) {
  gnm::manual_seed(11);
  Tensor x = gnm::rand({6, 7}, {.dtype = DType::f64}).requires_grad_(true);
  const Tensor y = gnm::dropout(x, 0.4);
  EXPECT_EQ(y.grad_fn()->name(), "NativeDropoutBackward0");
  const Tensor g = gnm::rand({6, 7}, {.dtype = DType::f64});
  y.backward(g);
  const auto xv = x.to_vector<double>(), yv = y.to_vector<double>();
  const auto gv = g.to_vector<double>(), gx = x.grad().to_vector<double>();
  for (std::size_t i = 0; i < xv.size(); ++i) {
    const double expect = yv[i] == 0 ? 0.0 : gv[i] / 0.6;  // mask · scale
    EXPECT_NEAR(gx[i], expect, 1e-15 * 4) << i;
  }
  // gradcheck with the generator reset inside f, so every evaluation draws the same mask.
  Tensor xt = gnm::rand({5, 4}, {.dtype = DType::f64}).requires_grad_(true);
  const auto r = gnm::autograd::gradcheck(
      [](const auto& in) {
        gnm::manual_seed(99);
        return gnm::dropout(in[0].t(), 0.3);
      },
      {xt});
  EXPECT_TRUE(r.ok) << r.message;
}

}  // namespace
