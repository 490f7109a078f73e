// matmul, bmm and linear (chapter 9.3): values against a double reference with the GEMM error
// bound, torch.matmul's rank rules, transposed/strided operands, empty sizes, f64/f16/bf16, the
// linear backward formulas, errors, and gradcheck. PyTorch's values are replayed from
// tests/fixtures/ch09/nn_linalg.json in test_ops_loss.cpp.
#include <gtest/gtest.h>

#include <cmath>

#if GNM_HAVE_RAPIDCHECK
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#endif

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

// The unit roundoff of each dtype's storage and of its accumulation.
double unit_roundoff(DType t) {
  switch (t) {
    case DType::f64: return std::ldexp(1.0, -53);
    case DType::f16: return std::ldexp(1.0, -11);
    case DType::bf16: return std::ldexp(1.0, -8);
    default: return std::ldexp(1.0, -24);
  }
}

// Checks got (B, M, N) against a (B, M, K)·b (B, K, N) computed in double from the operands'
// stored values. Error model (Higham, Thm 3.1): a K-term dot product accumulated in precision u_acc
// errs by ≤ K·u_acc·Σ|a·b| ("mass"); a 16-bit result adds one rounding, u_out·|ref|. u_acc is f64's
// for f64 and f32's otherwise (16-bit operands accumulate in fp32).
void expect_product(const Tensor& got, const Tensor& a, const Tensor& b) {
  const std::int64_t B = a.size(0), M = a.size(1), K = a.size(2), N = b.size(2);
  ASSERT_EQ(got.shape(), (Shape{B, M, N}));
  const auto av = a.contiguous().to_vector<double>(), bv = b.contiguous().to_vector<double>();
  const auto gv = got.to_vector<double>();
  const double u_acc = got.dtype() == DType::f64 ? unit_roundoff(DType::f64) : unit_roundoff(DType::f32);
  const double u_out = unit_roundoff(got.dtype());
  int bad = 0;
  for (std::int64_t i = 0; i < B; ++i)
    for (std::int64_t m = 0; m < M; ++m)
      for (std::int64_t n = 0; n < N; ++n) {
        double ref = 0.0, mass = 0.0;
        for (std::int64_t k = 0; k < K; ++k) {
          const double p = av[static_cast<std::size_t>((i * M + m) * K + k)] *
                           bv[static_cast<std::size_t>((i * K + k) * N + n)];
          ref += p;
          mass += std::abs(p);
        }
        const double g = gv[static_cast<std::size_t>((i * M + m) * N + n)];
        const double tol = static_cast<double>(K + 1) * u_acc * mass + 2.0 * u_out * std::abs(ref) + 1e-300;
        if (!(std::abs(g - ref) <= tol) && bad++ < 5)
          ADD_FAILURE() << "at (" << i << ", " << m << ", " << n << "): " << g << " vs " << ref;
      }
}

void expect_product2(const Tensor& got, const Tensor& a, const Tensor& b) {
  expect_product(got.unsqueeze(0), a.unsqueeze(0), b.unsqueeze(0));
}

TEST(OpsLinalg, MatmulMatchesReferenceForLayoutsAndDtypes) {
  gnm::manual_seed(21);
  const std::vector<std::array<std::int64_t, 3>> sizes{{1, 1, 1}, {7, 13, 5}, {64, 33, 17},
                                                       {2, 1, 3}, {129, 70, 65}};
  for (DType dt : {DType::f32, DType::f64, DType::bf16, DType::f16}) {
    for (const auto& [M, K, N] : sizes) {
      SCOPED_TRACE(testing::Message() << gnm::dtype_name(dt) << " " << M << "x" << K << "x" << N);
      const gnm::TensorOptions o{.dtype = dt};
      const Tensor a = gnm::rand({M, K}, o, -1.0, 1.0), b = gnm::rand({K, N}, o, -1.0, 1.0);
      expect_product2(gnm::matmul(a, b), a, b);
      // Transposed views go in as transpose flags; stepped slices are copied first.
      const Tensor at = gnm::rand({K, M}, o, -1.0, 1.0).t(), bt = gnm::rand({N, K}, o, -1.0, 1.0).t();
      expect_product2(gnm::matmul(at, bt), at, bt);
      const Tensor as = gnm::rand({M, 2 * K}, o, -1.0, 1.0).slice(1, 0, 2 * K, 2);
      expect_product2(gnm::matmul(as, bt), as, bt);
    }
  }
}

TEST(OpsLinalg, MatmulRankRules) {
  gnm::manual_seed(22);
  struct Case {
    Shape a, b, out;
  };
  const std::vector<Case> cases{
      {{5}, {5}, {}},           {{3, 4}, {4}, {3}},          {{4}, {4, 5}, {5}},
      {{2, 3, 4}, {4, 5}, {2, 3, 5}}, {{3, 4}, {2, 4, 5}, {2, 3, 5}},
      {{2, 1, 3, 4}, {3, 4, 2}, {2, 3, 3, 2}}, {{4}, {2, 4, 3}, {2, 3}},
      {{2, 3, 4}, {4}, {2, 3}},  {{2, 3, 4}, {2, 4, 1}, {2, 3, 1}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(gnm::shape_str(c.a) + " @ " + gnm::shape_str(c.b));
    const Tensor a = gnm::rand(c.a, {}, -1.0, 1.0), b = gnm::rand(c.b, {}, -1.0, 1.0);
    const Tensor out = gnm::matmul(a, b);
    ASSERT_EQ(out.shape(), c.out);
    // Reference: promote and broadcast by hand, then compare batch by batch.
    Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a, b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
    const Shape batch = gnm::broadcast_shapes(Shape(a2.shape().begin(), a2.shape().end() - 2),
                                              Shape(b2.shape().begin(), b2.shape().end() - 2));
    Shape sa = batch, sb = batch;
    sa.insert(sa.end(), {a2.size(-2), a2.size(-1)});
    sb.insert(sb.end(), {b2.size(-2), b2.size(-1)});
    const Tensor a3 = a2.expand(sa).reshape({-1, a2.size(-2), a2.size(-1)});
    const Tensor b3 = b2.expand(sb).reshape({-1, b2.size(-2), b2.size(-1)});
    expect_product(out.reshape({a3.size(0), a3.size(1), b3.size(2)}), a3, b3);
  }
}

TEST(OpsLinalg, EmptySizes) {
  const Tensor z = gnm::matmul(gnm::ones({3, 0}), gnm::ones({0, 4}));  // K = 0: all zeros
  EXPECT_EQ(z.shape(), (Shape{3, 4}));
  for (double v : z.to_vector<double>()) EXPECT_EQ(v, 0.0);
  EXPECT_EQ(gnm::matmul(gnm::ones({0, 5}), gnm::ones({5, 4})).shape(), (Shape{0, 4}));
  EXPECT_EQ(gnm::bmm(gnm::ones({0, 2, 5}), gnm::ones({0, 5, 4})).shape(), (Shape{0, 2, 4}));
  const Tensor lb = gnm::linear(gnm::ones({2, 0}), gnm::ones({3, 0}), gnm::full({3}, 1.5));
  EXPECT_EQ(lb.to_vector<double>(), std::vector<double>(6, 1.5));  // K = 0 leaves the bias
}

TEST(OpsLinalg, ShapeDtypeErrorsNameBothOperands) {
  try {
    (void)gnm::matmul(gnm::ones({2, 3}), gnm::ones({4, 5}));
    FAIL() << "expected ShapeError";
  } catch (const gnm::ShapeError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("[2, 3]"), std::string::npos) << what;
    EXPECT_NE(what.find("[4, 5]"), std::string::npos) << what;
  }
  EXPECT_THROW(gnm::matmul(gnm::scalar_tensor(1.0), gnm::ones({1})), gnm::ShapeError);
  EXPECT_THROW(gnm::matmul(gnm::ones({2, 2}), gnm::ones({2, 2}, {.dtype = DType::f64})), gnm::Error);
  EXPECT_THROW(gnm::matmul(gnm::ones({2, 2}, {.dtype = DType::i64}), gnm::ones({2, 2}, {.dtype = DType::i64})),
               gnm::Error);
  EXPECT_THROW(gnm::matmul(gnm::ones({2, 2, 3}), gnm::ones({3, 3, 2})), gnm::ShapeError);
  EXPECT_THROW(gnm::bmm(gnm::ones({2, 2, 3}), gnm::ones({3, 3, 2})), gnm::ShapeError);
  EXPECT_THROW(gnm::bmm(gnm::ones({2, 3}), gnm::ones({3, 2})), gnm::ShapeError);
  EXPECT_THROW(gnm::linear(gnm::ones({2, 3}), gnm::ones({4, 2})), gnm::ShapeError);
  EXPECT_THROW(gnm::linear(gnm::ones({2, 3}), gnm::ones({4, 3}), gnm::ones({3})), gnm::ShapeError);
  EXPECT_THROW(gnm::linear(gnm::ones({2, 3}), gnm::ones({4, 3}), gnm::ones({4}, {.dtype = DType::f64})),
               gnm::Error);
}

TEST(OpsLinalg, LinearForwardAndBackwardFormulas) {
  // The MLP's first layer at batch 128: exercises the threaded SGEMM paths of all three GEMMs.
  gnm::manual_seed(23);
  const std::int64_t B = 128, in = 784, out = 256;
  Tensor x = gnm::rand({B, in}, {.requires_grad = true}, -1.0, 1.0);
  Tensor w = gnm::rand({out, in}, {.requires_grad = true}, -0.05, 0.05);
  Tensor b = gnm::rand({out}, {.requires_grad = true}, -0.1, 0.1);
  Tensor y = gnm::linear(x, w, b);
  EXPECT_EQ(y.grad_fn()->name(), "LinearBackward0");
  {
    // Forward: the bias is one more term of each dot product, [x, 1]·[w, b]ᵀ.
    const Tensor x1 = gnm::cat({x.detach(), gnm::ones({B, 1})}, 1);
    const Tensor w1 = gnm::cat({w.detach(), b.detach().unsqueeze(1)}, 1);
    expect_product2(y.detach(), x1, w1.t());
  }
  const Tensor g = gnm::rand({B, out}, {}, -1.0, 1.0);
  y.backward(g);
  expect_product2(x.grad(), g, w.detach());        // dx = g·w
  expect_product2(w.grad(), g.t(), x.detach());    // dw = gᵀ·x
  const auto gv = g.to_vector<double>();
  const auto db = b.grad().to_vector<double>();
  for (std::int64_t n = 0; n < out; ++n) {  // db = Σ_rows g, accumulated in double
    double s = 0.0;
    for (std::int64_t m = 0; m < B; ++m) s += gv[static_cast<std::size_t>(m * out + n)];
    EXPECT_NEAR(db[static_cast<std::size_t>(n)], s, std::ldexp(std::abs(s), -23) + 1e-30);
  }
}

TEST(OpsLinalg, LinearAcceptsAnyLeadingShape) {
  gnm::manual_seed(24);
  const Tensor w = gnm::rand({4, 6}, {}, -1.0, 1.0), b = gnm::rand({4}, {}, -1.0, 1.0);
  const Tensor x3 = gnm::rand({2, 3, 6}, {}, -1.0, 1.0);
  const Tensor y3 = gnm::linear(x3, w, b);
  EXPECT_EQ(y3.shape(), (Shape{2, 3, 4}));
  EXPECT_TRUE(gnm::allclose(y3, gnm::add(gnm::matmul(x3, w.t()), b), 1e-6, 1e-6));
  const Tensor x1 = gnm::rand({6}, {}, -1.0, 1.0);
  EXPECT_EQ(gnm::linear(x1, w).shape(), (Shape{4}));
  EXPECT_TRUE(gnm::allclose(gnm::linear(x1, w), gnm::matmul(w, x1), 1e-6, 1e-6));
}

TEST(OpsLinalg, Gradcheck) {
  gnm::manual_seed(25);
  auto mm = [](const auto& in) { return gnm::matmul(in[0], in[1]); };
  expect_gradcheck(mm, {leaf({3, 4}), leaf({4, 5})});
  expect_gradcheck(mm, {leaf({4, 3}).t(), leaf({5, 4}).t()});  // transposed operands
  expect_gradcheck(mm, {leaf({5}), leaf({5})});
  expect_gradcheck(mm, {leaf({3, 4}), leaf({4})});
  expect_gradcheck(mm, {leaf({4}), leaf({4, 2})});
  expect_gradcheck(mm, {leaf({2, 3, 4}), leaf({4, 2})});
  expect_gradcheck(mm, {leaf({3, 4}), leaf({2, 4, 2})});
  expect_gradcheck(mm, {leaf({2, 1, 3, 4}), leaf({3, 4, 2})});  // broadcast batch
  expect_gradcheck(mm, {leaf({4}), leaf({2, 4, 3})});
  expect_gradcheck(mm, {leaf({2, 3, 4}), leaf({4})});
  expect_gradcheck([](const auto& in) { return gnm::bmm(in[0], in[1]); },
                   {leaf({2, 3, 4}), leaf({2, 4, 5})});
  auto lin = [](const auto& in) { return gnm::linear(in[0], in[1], in[2]); };
  expect_gradcheck(lin, {leaf({5, 3}), leaf({4, 3}), leaf({4})});
  expect_gradcheck(lin, {leaf({3, 5}).t(), leaf({3, 4}).t(), leaf({4})});
  expect_gradcheck(lin, {leaf({2, 3, 3}), leaf({1, 3}), leaf({1})});
  expect_gradcheck([](const auto& in) { return gnm::linear(in[0], in[1]); },
                   {leaf({1, 7}), leaf({2, 7})});
}

TEST(OpsLinalg, GradientsOnlyForInputsThatNeedThem) {
  gnm::manual_seed(26);
  Tensor x = gnm::rand({3, 4});  // data: no gradient wanted
  Tensor w = gnm::rand({2, 4}, {.requires_grad = true});
  gnm::sum(gnm::linear(x, w)).backward();
  EXPECT_FALSE(x.grad().defined());
  EXPECT_EQ(w.grad().shape(), (Shape{2, 4}));
  Tensor a = gnm::rand({2, 3}, {.requires_grad = true});
  Tensor y = gnm::matmul(a, gnm::rand({3, 2}));
  EXPECT_EQ(y.grad_fn()->name(), "MmBackward0");
  gnm::sum(y).backward();
  EXPECT_EQ(a.grad().shape(), (Shape{2, 3}));
  EXPECT_EQ(gnm::bmm(gnm::rand({1, 2, 2}, {.requires_grad = true}), gnm::rand({1, 2, 2})).grad_fn()->name(),
            "BmmBackward0");
}

#if GNM_HAVE_RAPIDCHECK
// Random ranks (1–4), batch shapes that broadcast (each batch size kept or set to 1 per operand),
// M, K, N in [0, 4] and operands stored transposed or not: torch.matmul's rules checked against
// loops over the broadcast index, in f64 (K ≤ 4 terms: exact to a few ulps).
RC_GTEST_PROP(OpsLinalgProperties, MatmulMatchesLoopsForRandomRanksAndBroadcasts, ()) {
  const int ra = *rc::gen::inRange(1, 5), rb = *rc::gen::inRange(1, 5);
  const std::int64_t M = *rc::gen::inRange<std::int64_t>(0, 5), K = *rc::gen::inRange<std::int64_t>(0, 5),
                     N = *rc::gen::inRange<std::int64_t>(0, 5);
  const int nbatch = std::max(ra, rb) - 2 > 0 ? std::max(ra, rb) - 2 : 0;
  const Shape batch = *rc::gen::container<Shape>(static_cast<std::size_t>(nbatch),
                                                 rc::gen::inRange<std::int64_t>(1, 4));
  // An operand's batch: the last (rank − 2) dims of `batch`, each possibly broadcast (size 1).
  auto operand_batch = [&](int rank) {
    Shape out;
    for (int d = nbatch - std::max(rank - 2, 0); d < nbatch; ++d)
      out.push_back(*rc::gen::arbitrary<bool>() ? 1 : batch[static_cast<std::size_t>(d)]);
    return out;
  };
  const Shape ba = operand_batch(ra), bb = operand_batch(rb);
  auto make = [&](Shape shape) {  // random values, stored transposed half of the time
    if (shape.size() >= 2 && *rc::gen::arbitrary<bool>()) {
      std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
      return gnm::rand(shape, {.dtype = DType::f64}, -1.0, 1.0).transpose(-1, -2);
    }
    return gnm::rand(shape, {.dtype = DType::f64}, -1.0, 1.0);
  };
  Shape sa = ba, sb = bb;
  if (ra == 1) sa = {K}; else sa.insert(sa.end(), {M, K});
  if (rb == 1) sb = {K}; else sb.insert(sb.end(), {K, N});
  const Tensor a = make(sa), b = make(sb);
  const Tensor out = gnm::matmul(a, b);
  const Shape ob = gnm::broadcast_shapes(ba, bb);
  Shape want = ob;
  if (ra > 1) want.push_back(M);
  if (rb > 1) want.push_back(N);
  RC_ASSERT(out.shape() == want);
  const auto av = a.contiguous().to_vector<double>(), bv = b.contiguous().to_vector<double>();
  const auto ov = out.to_vector<double>();
  const std::int64_t Mo = ra > 1 ? M : 1, No = rb > 1 ? N : 1;
  // Row-major offset into an operand's batch for broadcast index `bi` (over ob).
  auto batch_offset = [&](const Shape& own, const Shape& bi) {
    std::int64_t off = 0;
    const std::size_t lead = ob.size() - own.size();
    for (std::size_t d = 0; d < own.size(); ++d) off = off * own[d] + (own[d] == 1 ? 0 : bi[lead + d]);
    return off;
  };
  Shape bi(ob.size(), 0);
  for (std::int64_t flat = 0; flat < gnm::shape_numel(ob); ++flat) {
    std::int64_t rest = flat;
    for (std::size_t d = ob.size(); d-- > 0;) {
      bi[d] = rest % ob[d];
      rest /= ob[d];
    }
    const std::int64_t oa = batch_offset(ba, bi) * Mo * K, obb = batch_offset(bb, bi) * K * No;
    for (std::int64_t m = 0; m < Mo; ++m)
      for (std::int64_t n = 0; n < No; ++n) {
        double ref = 0.0;
        for (std::int64_t k = 0; k < K; ++k)
          ref += av[static_cast<std::size_t>(oa + m * K + k)] * bv[static_cast<std::size_t>(obb + k * No + n)];
        const double got = ov[static_cast<std::size_t>((flat * Mo + m) * No + n)];
        RC_ASSERT(std::abs(got - ref) <= 1e-14);
      }
  }
}
#endif

}  // namespace
