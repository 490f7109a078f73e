// Autocast (gnm/tensor/autocast.hpp, chapter 10.4): the guard's scoping and thread-locality, the
// dtypes each op list produces, and the values and fp32 gradients of linear/matmul/bmm under bf16
// and f16 against a double reference computed on the 16-bit-rounded operands.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <thread>
#include <vector>

#include "gnm/autograd/node.hpp"
#include "gnm/nn/layers.hpp"
#include "gnm/tensor/autocast.hpp"
#include "gnm/tensor/ops.hpp"
#include "tensor_testing.hpp"

namespace {

using gnm::AutocastGuard;
using gnm::DType;
using gnm::Tensor;

// Unit roundoff of a 16-bit format: 2^-p for p significant bits (bf16 8, f16 11).
double unit_roundoff(DType t) { return std::ldexp(1.0, t == DType::bf16 ? -8 : -11); }

// What a 16-bit operand really holds: `t` rounded to `low` and widened to f64 exactly.
Tensor rounded(const Tensor& t, DType low) { return t.detach().to(low).to(DType::f64); }

// Checks got ≈ ref elementwise with the error model of a 16-bit GEMM (fp32 accumulation of
// `terms` products, one rounding of the result to `low`):
//   |got − ref| ≤ u_low·|ref| + 2·terms·u_f32·mass + tiny
// where mass = Σ|products| (Higham's bound γ_K·Σ|a·b| for the accumulation; the factor 2 covers
// the rounding of the accumulated error itself), and `tiny` = half f16's smallest subnormal,
// 2⁻²⁵, for results that land in f16's subnormal range (irrelevant for bf16).
void expect_gemm_close(const Tensor& got, const Tensor& ref, const Tensor& mass, DType low,
                       std::int64_t terms) {
  ASSERT_EQ(got.shape(), ref.shape());
  const auto g = got.contiguous().to_vector<double>();
  const auto r = ref.contiguous().to_vector<double>();
  const auto m = mass.contiguous().to_vector<double>();
  const double u = unit_roundoff(low), u32 = std::ldexp(1.0, -24), tiny = std::ldexp(1.0, -25);
  int bad = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double tol = u * std::fabs(r[i]) + 2.0 * static_cast<double>(terms) * u32 * m[i] + tiny;
    if (!(std::fabs(g[i] - r[i]) <= tol) && bad++ < 5)
      ADD_FAILURE() << "element " << i << ": got " << g[i] << ", reference " << r[i]
                    << ", tolerance " << tol;
  }
  EXPECT_EQ(bad, 0) << "of " << g.size();
}

TEST(Autocast, GuardNestsAndRestores) {
  EXPECT_FALSE(gnm::autocast_dtype().has_value());
  {
    AutocastGuard outer(DType::bf16);
    EXPECT_EQ(gnm::autocast_dtype(), DType::bf16);
    {
      AutocastGuard inner(DType::f16);
      EXPECT_EQ(gnm::autocast_dtype(), DType::f16);
      {
        AutocastGuard off(std::nullopt);
        EXPECT_FALSE(gnm::autocast_dtype().has_value());
      }
      EXPECT_EQ(gnm::autocast_dtype(), DType::f16);
    }
    EXPECT_EQ(gnm::autocast_dtype(), DType::bf16);
  }
  EXPECT_FALSE(gnm::autocast_dtype().has_value());
}

TEST(Autocast, RejectsOtherDtypes) {
  for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::boolean}) {
    EXPECT_THROW(AutocastGuard guard(t), gnm::Error) << gnm::dtype_name(t);
    EXPECT_FALSE(gnm::autocast_dtype().has_value());  // a failed guard changes nothing
  }
}

TEST(Autocast, IsThreadLocal) {
  AutocastGuard guard(DType::bf16);
  std::optional<DType> seen = DType::f32;
  DType other_out = DType::f32;
  std::thread other([&] {
    seen = gnm::autocast_dtype();
    // A guard on the other thread must not leak into this one either.
    AutocastGuard own(DType::f16);
    other_out = gnm::matmul(gnm::rand({2, 3}), gnm::rand({3, 2})).dtype();
  });
  other.join();
  EXPECT_FALSE(seen.has_value());
  EXPECT_EQ(other_out, DType::f16);
  EXPECT_EQ(gnm::autocast_dtype(), DType::bf16);
}

TEST(Autocast, OpListsDecideTheOutputDtype) {
  gnm::manual_seed(11);
  const Tensor x = gnm::rand({4, 6}, {}, -1.0, 1.0), w = gnm::rand({5, 6}, {}, -1.0, 1.0);
  const Tensor b = gnm::rand({5}, {}, -1.0, 1.0), a3 = gnm::rand({2, 4, 6}, {}, -1.0, 1.0);
  const Tensor b3 = gnm::rand({2, 6, 3}, {}, -1.0, 1.0);
  const Tensor target = gnm::testing::longs({0, 4, 2, 1}, {4});
  for (DType low : {DType::bf16, DType::f16}) {
    SCOPED_TRACE(gnm::dtype_name(low));
    AutocastGuard guard(low);
    // Lower-precision list.
    const Tensor y = gnm::linear(x, w, b);
    EXPECT_EQ(y.dtype(), low);
    EXPECT_EQ(gnm::linear(x, w).dtype(), low);
    EXPECT_EQ(gnm::matmul(x, w.t()).dtype(), low);
    EXPECT_EQ(gnm::matmul(a3, w.t()).dtype(), low);  // batch folded into M
    EXPECT_EQ(gnm::bmm(a3, b3).dtype(), low);
    EXPECT_EQ(gnm::linear(x.to(low), w, b).dtype(), low);  // mixed inputs meet in `low`
    // f64 is never lowered (as PyTorch); integers are not touched (and stay an error).
    EXPECT_EQ(gnm::matmul(x.to(DType::f64), w.t().to(DType::f64)).dtype(), DType::f64);
    EXPECT_THROW(gnm::matmul(x.to(DType::i64), w.t().to(DType::i64)), gnm::Error);
    // fp32 list: 16-bit inputs come back f32.
    EXPECT_EQ(gnm::cross_entropy(y, target).dtype(), DType::f32);
    EXPECT_EQ(gnm::cross_entropy(y, target, gnm::Reduction::none).dtype(), DType::f32);
    EXPECT_EQ(gnm::softmax(y, 1).dtype(), DType::f32);
    EXPECT_EQ(gnm::log_softmax(y, -1).dtype(), DType::f32);
    EXPECT_EQ(gnm::mse_loss(y, gnm::zeros({4, 5})).dtype(), DType::f32);  // low vs f32 inputs
    // Everything else follows its input.
    EXPECT_EQ(gnm::relu(y).dtype(), low);
    EXPECT_EQ(gnm::add(y, y).dtype(), low);
    EXPECT_EQ(gnm::sum(y).dtype(), low);
  }
  // Outside the guard: f32 stays f32, 16-bit losses stay 16-bit, mixed dtypes are an error again.
  EXPECT_EQ(gnm::linear(x, w, b).dtype(), DType::f32);
  EXPECT_EQ(gnm::cross_entropy(x.to(DType::bf16), target).dtype(), DType::bf16);
  EXPECT_THROW(gnm::linear(x.to(DType::bf16), w, b), gnm::Error);
  EXPECT_THROW(gnm::mse_loss(x.to(DType::bf16), x), gnm::Error);
}

TEST(Autocast, FpListValuesEqualTheExplicitF32Op) {
  gnm::manual_seed(5);
  const Tensor logits = gnm::rand({7, 11}, {}, -4.0, 4.0).to(DType::bf16);
  const Tensor target = gnm::testing::longs({0, 10, 3, 3, 7, 1, 5}, {7});
  const Tensor want_ce = gnm::cross_entropy(logits.to(DType::f32), target);
  const Tensor want_sm = gnm::log_softmax(logits.to(DType::f32), 1);
  AutocastGuard guard(DType::bf16);
  // The same f32 kernels on the same (exactly widened) values: bit-identical.
  EXPECT_EQ(gnm::cross_entropy(logits, target).item(), want_ce.item());
  EXPECT_TRUE(gnm::allclose(gnm::log_softmax(logits, 1), want_sm, 0.0, 0.0));
}

// linear under autocast: y = r(r(x)·r(w)ᵀ + r(b)) and the f32 gradients of x, w, b, checked
// against double references on the rounded operands (r = rounding to the 16-bit dtype). The
// upstream gradient u reaches the 16-bit output as r(u) (the backward of y.to(f32)).
void check_linear(DType low) {
  SCOPED_TRACE(gnm::dtype_name(low));
  gnm::manual_seed(low == DType::bf16 ? 21 : 22);
  const std::int64_t M = 37, K = 53, N = 29;  // primes: no tile fits evenly
  const Tensor x = gnm::rand({M, K}, {}, -1.0, 1.0).requires_grad_();
  const Tensor w = gnm::rand({N, K}, {}, -1.0, 1.0).requires_grad_();
  const Tensor b = gnm::rand({N}, {}, -1.0, 1.0).requires_grad_();
  const Tensor u = gnm::rand({M, N}, {}, -1.0, 1.0);
  Tensor y;
  {
    AutocastGuard guard(low);
    y = gnm::linear(x, w, b);
  }
  ASSERT_EQ(y.dtype(), low);
  gnm::sum(gnm::mul(y.to(DType::f32), u)).backward();
  ASSERT_EQ(x.grad().dtype(), DType::f32);
  ASSERT_EQ(w.grad().dtype(), DType::f32);
  ASSERT_EQ(b.grad().dtype(), DType::f32);

  const Tensor rx = rounded(x, low), rw = rounded(w, low), rb = rounded(b, low);
  const Tensor ru = rounded(u, low);
  const gnm::autograd::NoGradGuard no_grad;
  // Forward: K products plus the bias, accumulated in f32 (K + 1 terms).
  expect_gemm_close(y, gnm::add(gnm::matmul(rx, rw.t()), rb),
                    gnm::add(gnm::matmul(gnm::abs(rx), gnm::abs(rw).t()), gnm::abs(rb)), low,
                    K + 1);
  // dx = r(u)·r(w): N terms; dw = r(u)ᵀ·r(x): M terms; db = Σ_m r(u) (summed in double, so only
  // the final rounding counts; the mass bound still holds).
  expect_gemm_close(x.grad(), gnm::matmul(ru, rw), gnm::matmul(gnm::abs(ru), gnm::abs(rw)), low, N);
  expect_gemm_close(w.grad(), gnm::matmul(ru.t(), rx), gnm::matmul(gnm::abs(ru).t(), gnm::abs(rx)),
                    low, M);
  expect_gemm_close(b.grad(), gnm::sum(ru, {0}), gnm::sum(gnm::abs(ru), {0}), low, M);
}

TEST(Autocast, LinearBf16ValuesAndF32Gradients) { check_linear(DType::bf16); }
TEST(Autocast, LinearF16ValuesAndF32Gradients) { check_linear(DType::f16); }

TEST(Autocast, MatmulAndBmmGradientsAreF32) {
  gnm::manual_seed(8);
  const std::int64_t B = 3, M = 5, K = 13, N = 7;
  const Tensor a = gnm::rand({B, M, K}, {}, -1.0, 1.0).requires_grad_();
  const Tensor b = gnm::rand({B, K, N}, {}, -1.0, 1.0).requires_grad_();
  const Tensor w = gnm::rand({K, N}, {}, -1.0, 1.0).requires_grad_();
  Tensor yb, ym;
  {
    AutocastGuard guard(DType::bf16);
    yb = gnm::bmm(a, b);
    ym = gnm::matmul(a, w);  // (B, M, K)·(K, N)
  }
  ASSERT_EQ(yb.dtype(), DType::bf16);
  ASSERT_EQ(ym.dtype(), DType::bf16);
  gnm::add(gnm::sum(yb.to(DType::f32)), gnm::sum(ym.to(DType::f32))).backward();
  for (const Tensor* t : {&a, &b, &w}) {
    ASSERT_TRUE(t->grad().defined());
    EXPECT_EQ(t->grad().dtype(), DType::f32);
    EXPECT_EQ(t->grad().shape(), t->shape());
  }
  // Values: bmm against the double product of the rounded operands.
  const gnm::autograd::NoGradGuard no_grad;
  const Tensor ra = rounded(a, DType::bf16), rb = rounded(b, DType::bf16);
  expect_gemm_close(yb, gnm::bmm(ra, rb), gnm::bmm(gnm::abs(ra), gnm::abs(rb)), DType::bf16, K);
  // dw = Σ_batch r(a)ᵀ·1 with an all-ones upstream (exact in bf16): B·M terms.
  const Tensor ones = gnm::ones({B * M, N}, {.dtype = DType::f64});
  const Tensor ra2 = ra.reshape({B * M, K});
  expect_gemm_close(w.grad(), gnm::matmul(ra2.t(), ones), gnm::matmul(gnm::abs(ra2).t(), ones),
                    DType::bf16, B * M);
}

TEST(Autocast, MlpForwardIsLowPrecisionAndGradientsF32) {
  gnm::manual_seed(2);
  auto model = gnm::nn::make_mlp({9, 16, 4});
  const Tensor x = gnm::rand({6, 9}, {}, -1.0, 1.0);
  const Tensor y = gnm::testing::longs({0, 1, 2, 3, 0, 1}, {6});
  Tensor logits, loss;
  {
    AutocastGuard guard(DType::bf16);
    logits = model->forward(x);
    loss = gnm::cross_entropy(logits, y);
  }
  EXPECT_EQ(logits.dtype(), DType::bf16);
  EXPECT_EQ(loss.dtype(), DType::f32);
  loss.backward();
  for (const Tensor& p : model->parameters()) {
    EXPECT_EQ(p.dtype(), DType::f32);
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().dtype(), DType::f32);
  }
}

}  // namespace
