// Kernel fusion (chapter 9.4): bias_act and the fused elementwise executor against the unfused
// op chains they replace.
//
// Note [Fused vs unfused tolerance]
// In f32 and f64 on the CPU the fused kernels run the very same scalar functions, in the same
// order and type, as the op-by-op chain, and storing an f32 intermediate to an f32 tensor rounds
// nothing. g++ does contract a·b + c into an FMA inside a function (-ffp-contract=fast is its
// default for C++, -std=c++20 included), but both paths call the same compiled scalar function,
// so they contract alike. So fused == unfused bit for bit, and the tests demand equality.
// In f16/bf16 the chain rounds every intermediate to 16 bits (relative error ≤ 2⁻¹¹ / 2⁻⁸,
// written u₁₆) while the fused pass keeps f32 until the end. An intermediate rounding of
// relative size u₁₆ in the argument t of the next step moves the result by |t·f'(t)|·u₁₆, and
// both results get one final rounding. With each step's |t·f'(t)| ≤ c|y|+|t| for these
// well-conditioned chains (c ≈ 1), the gap is ≤ u₁₆·(2|y| + Σ|t_k|·(1+|t_k|)): the tests use
// 2u₁₆·(|y| + Σ|t_k|(1+|t_k|)) + f16's subnormal spacing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#if GNM_HAVE_RAPIDCHECK
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#endif

#include "gnm/autograd/gradcheck.hpp"
#include "gnm/autograd/node.hpp"
#include "gnm/tensor/fusion.hpp"
#include "gnm/tensor/ops.hpp"

namespace {

using gnm::Activation;
using gnm::DType;
using gnm::Tensor;
namespace fused = gnm::fused;

const std::vector<Activation> kActs = {Activation::none, Activation::relu, Activation::gelu,
                                       Activation::gelu_tanh, Activation::silu, Activation::tanh,
                                       Activation::sigmoid};

Tensor unfused_act(const Tensor& t, Activation act) {
  switch (act) {
    case Activation::none: return t;
    case Activation::relu: return gnm::relu(t);
    case Activation::gelu: return gnm::gelu(t);
    case Activation::gelu_tanh: return gnm::gelu(t, true);
    case Activation::silu: return gnm::silu(t);
    case Activation::tanh: return gnm::tanh(t);
    case Activation::sigmoid: return gnm::sigmoid(t);
  }
  return t;
}

TEST(BiasAct, EqualsTheUnfusedChainBitForBitInF32AndF64) {
  gnm::manual_seed(1);
  for (DType dtype : {DType::f32, DType::f64}) {
    const std::vector<std::pair<Tensor, Tensor>> inputs = {
        {gnm::rand({37, 13}, {.dtype = dtype}, -4, 4), gnm::rand({13}, {.dtype = dtype}, -1, 1)},
        {gnm::rand({1}, {.dtype = dtype}, -4, 4), gnm::rand({1}, {.dtype = dtype})},
        {gnm::rand({2, 3, 257}, {.dtype = dtype}, -4, 4), gnm::rand({257}, {.dtype = dtype})},
        {gnm::rand({11, 7}, {.dtype = dtype}, -4, 4).t(),  // non-contiguous x and bias
         gnm::rand({22}, {.dtype = dtype}).slice(0, 0, 22, 2)},
        {gnm::rand({300, 128}, {.dtype = dtype}, -4, 4), gnm::rand({128}, {.dtype = dtype})},
        {gnm::rand({0, 5}, {.dtype = dtype}), gnm::rand({5}, {.dtype = dtype})},
    };
    for (Activation act : kActs) {
      for (const auto& [x, b] : inputs) {
        const Tensor fused_y = gnm::bias_act(x, b, act);
        const Tensor chain_y = unfused_act(x + b, act);
        ASSERT_EQ(fused_y.shape(), x.shape());
        // Note [Fused vs unfused tolerance]: identical arithmetic.
        EXPECT_EQ(fused_y.to_vector<double>(), chain_y.to_vector<double>())
            << gnm::activation_name(act) << " " << gnm::dtype_name(dtype) << " "
            << gnm::shape_str(x.shape());
      }
    }
  }
}

TEST(BiasAct, BackwardEqualsTheUnfusedChainAndPassesGradcheck) {
  gnm::manual_seed(2);
  for (Activation act : kActs) {
    // f32: same gradient bits as the chain (the node recomputes x + b exactly as the forward did).
    const Tensor x0 = gnm::rand({9, 17}, {}, -3, 3), b0 = gnm::rand({17}, {}, -1, 1);
    const Tensor g = gnm::rand({9, 17}, {}, -1, 1);
    Tensor x1 = x0.detach().requires_grad_(true), b1 = b0.detach().requires_grad_(true);
    Tensor x2 = x0.detach().requires_grad_(true), b2 = b0.detach().requires_grad_(true);
    gnm::bias_act(x1, b1, act).backward(g);
    unfused_act(x2 + b2, act).backward(g);
    EXPECT_EQ(x1.grad().to_vector<float>(), x2.grad().to_vector<float>()) << gnm::activation_name(act);
    EXPECT_EQ(b1.grad().to_vector<float>(), b2.grad().to_vector<float>()) << gnm::activation_name(act);
    // f64 gradcheck, a 3-d x and a non-contiguous one, gradients to x and bias.
    Tensor x = gnm::rand({2, 3, 5}, {.dtype = DType::f64}, -2, 2).requires_grad_(true);
    Tensor b = gnm::rand({5}, {.dtype = DType::f64}, -0.5, 0.5).requires_grad_(true);
    auto r = gnm::autograd::gradcheck(
        [&](const auto& in) { return gnm::bias_act(in[0], in[1], act); }, {x, b});
    EXPECT_TRUE(r.ok) << gnm::activation_name(act) << ": " << r.message;
    Tensor xt = gnm::rand({4, 3}, {.dtype = DType::f64}, -2, 2).requires_grad_(true);
    r = gnm::autograd::gradcheck([&](const auto& in) { return gnm::bias_act(in[0].t(), in[1], act); },
                                 {xt, gnm::rand({4}, {.dtype = DType::f64}).requires_grad_(true)});
    EXPECT_TRUE(r.ok) << gnm::activation_name(act) << " transposed: " << r.message;
  }
  // Only one input needing a gradient.
  Tensor xb = gnm::rand({3, 4}, {.dtype = DType::f64});
  Tensor bb = gnm::rand({4}, {.dtype = DType::f64}).requires_grad_(true);
  Tensor y = gnm::bias_act(xb, bb, Activation::silu);
  EXPECT_EQ(y.grad_fn()->name(), "BiasActBackward0");
  gnm::sum(y).backward();
  EXPECT_EQ(bb.grad().shape(), (gnm::Shape{4}));
  EXPECT_FALSE(xb.grad().defined());
}

TEST(BiasAct, SixteenBitIsWithinTheRoundingModelOfTheChain) {
  gnm::manual_seed(3);
  for (DType dtype : {DType::bf16, DType::f16}) {
    const double u16 = dtype == DType::bf16 ? 0x1p-8 : 0x1p-11;
    const Tensor x = gnm::rand({31, 19}, {.dtype = dtype}, -4, 4);
    const Tensor b = gnm::rand({19}, {.dtype = dtype}, -1, 1);
    for (Activation act : kActs) {
      const auto f = gnm::bias_act(x, b, act).to_vector<double>();
      const auto c = unfused_act(x + b, act).to_vector<double>();
      const auto t = (x.to(DType::f64) + b.to(DType::f64)).to_vector<double>();
      for (std::size_t i = 0; i < f.size(); ++i) {
        // Note [Fused vs unfused tolerance], one intermediate (t = x + b).
        const double tol = 2 * u16 * (std::abs(c[i]) + std::abs(t[i]) * (1 + std::abs(t[i]))) + 0x1p-24;
        ASSERT_LE(std::abs(f[i] - c[i]), tol) << gnm::activation_name(act) << " " << gnm::dtype_name(dtype);
      }
    }
  }
}

TEST(BiasAct, ErrorsNameBothOperands) {
  const Tensor x = gnm::zeros({4, 6});
  try {
    (void)gnm::bias_act(x, gnm::zeros({5}), Activation::relu);
    FAIL() << "bad bias length accepted";
  } catch (const gnm::ShapeError& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("[4, 6]"), std::string::npos) << w;
    EXPECT_NE(w.find("[5]"), std::string::npos) << w;
  }
  EXPECT_THROW(gnm::bias_act(x, gnm::zeros({1, 6}), Activation::relu), gnm::ShapeError);
  EXPECT_THROW(gnm::bias_act(gnm::scalar_tensor(1.0), gnm::zeros({1}), Activation::relu), gnm::ShapeError);
  EXPECT_THROW(gnm::bias_act(x, gnm::zeros({6}, {.dtype = DType::f64}), Activation::gelu), gnm::Error);
  EXPECT_THROW(gnm::bias_act(gnm::zeros({2, 3}, {.dtype = DType::i32}),
                             gnm::zeros({3}, {.dtype = DType::i32}), Activation::none), gnm::Error);
  EXPECT_STREQ(gnm::activation_name(Activation::gelu_tanh), "gelu_tanh");
}

TEST(FusedExecutor, ChainFromTheHeaderEqualsTheUnfusedOps) {
  gnm::manual_seed(4);
  const auto e = fused::sigmoid(fused::arg(0) * fused::arg(1) + 1.0);
  EXPECT_EQ(fused::to_string(e), "sigmoid(((x0 * x1) + 1))");
  const fused::Program p = fused::compile(e);
  EXPECT_EQ(p.size, 6);  // x0 x1 mul 1 add sigmoid
  EXPECT_EQ(p.num_inputs, 2);
  EXPECT_EQ(p.max_depth, 2);
  for (DType dtype : {DType::f32, DType::f64}) {
    // Broadcast (37, 1) × (1, 300): runs longer than the 256-element block, odd remainders.
    const Tensor a = gnm::rand({37, 1}, {.dtype = dtype}, -2, 2);
    const Tensor b = gnm::rand({1, 300}, {.dtype = dtype}, -2, 2);
    const Tensor got = fused::evaluate(e, {a, b});
    const Tensor want = gnm::sigmoid(a * b + 1.0);
    ASSERT_EQ(got.shape(), (gnm::Shape{37, 300}));
    EXPECT_EQ(got.to_vector<double>(), want.to_vector<double>());  // Note [Fused vs unfused tolerance]
    // Non-contiguous inputs and a prime-sized one.
    const Tensor at = gnm::rand({13, 7}, {.dtype = dtype}).t();
    const Tensor bt = gnm::rand({7, 26}, {.dtype = dtype}).slice(1, 0, 26, 2);
    EXPECT_EQ(fused::evaluate(e, {at, bt}).to_vector<double>(),
              gnm::sigmoid(at * bt + 1.0).to_vector<double>());
  }
}

// Every opcode against its tensor op: one-op programs, and a long mixed chain.
TEST(FusedExecutor, EveryOpcodeEqualsItsTensorOp) {
  gnm::manual_seed(5);
  const Tensor x = gnm::rand({3, 101}, {}, 0.1, 3);  // positive: log and sqrt are defined
  const Tensor y = gnm::rand({101}, {}, -3, 3);
  using UF = std::function<fused::Expr(const fused::Expr&)>;
  using UT = std::function<Tensor(const Tensor&)>;
  const std::vector<std::pair<UF, UT>> unary = {
      {[](const auto& a) { return fused::neg(a); }, [](const auto& a) { return gnm::neg(a); }},
      {[](const auto& a) { return -a; }, [](const auto& a) { return -a; }},
      {[](const auto& a) { return fused::exp(a); }, [](const auto& a) { return gnm::exp(a); }},
      {[](const auto& a) { return fused::log(a); }, [](const auto& a) { return gnm::log(a); }},
      {[](const auto& a) { return fused::sqrt(a); }, [](const auto& a) { return gnm::sqrt(a); }},
      {[](const auto& a) { return fused::abs(a); }, [](const auto& a) { return gnm::abs(a); }},
      {[](const auto& a) { return fused::square(a); }, [](const auto& a) { return gnm::square(a); }},
      {[](const auto& a) { return fused::relu(a); }, [](const auto& a) { return gnm::relu(a); }},
      {[](const auto& a) { return fused::gelu(a); }, [](const auto& a) { return gnm::gelu(a); }},
      {[](const auto& a) { return fused::gelu(a, true); }, [](const auto& a) { return gnm::gelu(a, true); }},
      {[](const auto& a) { return fused::silu(a); }, [](const auto& a) { return gnm::silu(a); }},
      {[](const auto& a) { return fused::tanh(a); }, [](const auto& a) { return gnm::tanh(a); }},
      {[](const auto& a) { return fused::sigmoid(a); }, [](const auto& a) { return gnm::sigmoid(a); }},
  };
  for (std::size_t k = 0; k < unary.size(); ++k) {
    const Tensor in = k < 2 || k >= 7 ? y : x;
    EXPECT_EQ(fused::evaluate(unary[k].first(fused::arg(0)), {in}).to_vector<float>(),
              unary[k].second(in).to_vector<float>()) << "unary " << k;
  }
  const fused::Expr a = fused::arg(0), b = fused::arg(1);
  EXPECT_EQ(fused::evaluate(a + b, {x, y}).to_vector<float>(), (x + y).to_vector<float>());
  EXPECT_EQ(fused::evaluate(a - b, {x, y}).to_vector<float>(), (x - y).to_vector<float>());
  EXPECT_EQ(fused::evaluate(a * b, {x, y}).to_vector<float>(), (x * y).to_vector<float>());
  EXPECT_EQ(fused::evaluate(a / b, {x, y}).to_vector<float>(), (x / y).to_vector<float>());
  EXPECT_EQ(fused::evaluate(fused::maximum(a, b), {x, y}).to_vector<float>(),
            gnm::maximum(x, y).to_vector<float>());
  EXPECT_EQ(fused::evaluate(fused::minimum(a, b), {x, y}).to_vector<float>(),
            gnm::minimum(x, y).to_vector<float>());
  EXPECT_EQ(fused::evaluate(2.0 - a / 4.0, {x}).to_vector<float>(), (2.0 - x / 4.0).to_vector<float>());
  EXPECT_EQ(fused::evaluate(3.0 * a - 1.0, {x}).to_vector<float>(), (3.0 * x - 1.0).to_vector<float>());
  // A longer chain, reusing a subexpression (evaluated twice, same value).
  const fused::Expr s = a * b;
  const fused::Expr chain =
      fused::gelu(s, true) * fused::sigmoid(s) + fused::sqrt(a) / (1.0 + fused::square(b));
  const Tensor st = x * y;
  EXPECT_EQ(fused::evaluate(chain, {x, y}).to_vector<float>(),
            (gnm::gelu(st, true) * gnm::sigmoid(st) + gnm::sqrt(x) / (1.0 + gnm::square(y)))
                .to_vector<float>());
}

TEST(FusedExecutor, SixteenBitIsMoreAccurateThanTheChain) {
  gnm::manual_seed(6);
  const auto e = fused::sigmoid(fused::arg(0) * fused::arg(1) + 1.0);
  for (DType dtype : {DType::bf16, DType::f16}) {
    const double u16 = dtype == DType::bf16 ? 0x1p-8 : 0x1p-11;
    const Tensor a = gnm::rand({17, 23}, {.dtype = dtype}, -2, 2);
    const Tensor b = gnm::rand({23}, {.dtype = dtype}, -2, 2);
    const auto f = fused::evaluate(e, {a, b}).to_vector<double>();
    const auto c = gnm::sigmoid(a * b + 1.0).to_vector<double>();
    const auto ref = gnm::sigmoid(a.to(DType::f64) * b.to(DType::f64) + 1.0).to_vector<double>();
    const auto t1 = (a.to(DType::f64) * b.to(DType::f64)).to_vector<double>();
    double err_fused = 0, err_chain = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
      // Fused: one final rounding (≤ u16·|y|, plus f32's ~8u on the way). Chain: see the Note.
      EXPECT_LE(std::abs(f[i] - ref[i]), u16 * std::abs(ref[i]) + 1e-6);
      const double t2 = t1[i] + 1;
      const double tol = 2 * u16 * (std::abs(c[i]) + std::abs(t1[i]) * (1 + std::abs(t1[i])) +
                                    std::abs(t2) * (1 + std::abs(t2)));
      EXPECT_LE(std::abs(f[i] - c[i]), tol);
      err_fused += std::abs(f[i] - ref[i]);
      err_chain += std::abs(c[i] - ref[i]);
    }
    EXPECT_LE(err_fused, err_chain) << gnm::dtype_name(dtype);
  }
}

TEST(FusedExecutor, OddShapesConstantsAndNoAutograd) {
  const auto e = fused::exp(fused::arg(0)) + fused::arg(1);
  EXPECT_EQ(fused::evaluate(e, {gnm::zeros({0, 3}), gnm::zeros({3})}).shape(), (gnm::Shape{0, 3}));
  EXPECT_EQ(fused::evaluate(e, {gnm::scalar_tensor(0.0), gnm::scalar_tensor(2.0)}).item(), 3.0);
  // A constant program takes the inputs' broadcast shape.
  const Tensor c = fused::evaluate(fused::constant(2.5), {gnm::zeros({2, 3})});
  EXPECT_EQ(c.to_vector<float>(), std::vector<float>(6, 2.5f));
  // Inputs that require grad give a result that does not (documented: no autograd).
  Tensor x = gnm::rand({4}).requires_grad_(true);
  EXPECT_FALSE(fused::evaluate(fused::tanh(fused::arg(0)), {x}).requires_grad());
  // NaN propagates through maximum and minimum, as in the tensor ops.
  const std::vector<double> v{std::nan(""), 1.0};
  const Tensor n = gnm::from_vector(std::span<const double>(v), {2});
  const auto m = fused::evaluate(fused::maximum(fused::arg(0), fused::constant(0.0)), {n}).to_vector<float>();
  EXPECT_TRUE(std::isnan(m[0]));
  EXPECT_EQ(m[1], 1.0f);
}

TEST(FusedExecutor, ErrorsAreTypedAndNamed) {
  EXPECT_THROW(fused::arg(-1), gnm::Error);
  EXPECT_THROW(fused::arg(fused::kMaxInputs), gnm::Error);
  const Tensor x = gnm::zeros({3});
  // More inputs referenced than given.
  try {
    (void)fused::evaluate(fused::arg(0) + fused::arg(2), {x, x});
    FAIL() << "missing input accepted";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("num_inputs = 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(fused::evaluate(fused::arg(0), {}), gnm::Error);
  const Tensor x64 = gnm::zeros({3}, {.dtype = DType::f64});
  EXPECT_THROW(fused::evaluate(fused::arg(0) + fused::arg(1), {x, x64}), gnm::Error);
  EXPECT_THROW(fused::evaluate(fused::arg(0) + fused::arg(1), {x, gnm::zeros({4})}), gnm::ShapeError);
  EXPECT_THROW(fused::evaluate(fused::arg(0), {gnm::arange(3)}), gnm::Error);
  // Too long: 70 instructions.
  fused::Expr longer = fused::arg(0);
  for (int i = 0; i < 69; ++i) longer = fused::exp(longer);
  EXPECT_THROW(fused::compile(longer), gnm::Error);
  // Too deep a stack: x0 + (x0 + (x0 + …)) needs one slot per level.
  fused::Expr deep = fused::arg(0);
  for (int i = 0; i < fused::kMaxStack; ++i) deep = fused::arg(0) + deep;
  EXPECT_THROW(fused::compile(deep), gnm::Error);
  // A hand-made program that would underflow the stack is refused, not run.
  fused::Program bad;
  bad.size = 1;
  bad.max_depth = 1;
  bad.code[0].op = fused::OpCode::add;
  EXPECT_THROW(fused::evaluate(bad, {x}), gnm::Error);
  bad.code[0].op = fused::OpCode::arg;
  bad.code[0].index = 5;
  EXPECT_THROW(fused::evaluate(bad, {x}), gnm::Error);
  bad.code[0].index = 0;
  EXPECT_EQ(fused::evaluate(bad, {x}).numel(), 3);
}

#if GNM_HAVE_RAPIDCHECK
// Property: over random shapes (rank 1–4), broadcasts (each dimension of each input kept or set to
// 1) and a permuted (non-contiguous) view of the first input, the fused executor equals the
// unfused chain bit for bit in f32, as Note [Fused vs unfused tolerance] says it must.
RC_GTEST_PROP(FusedExecutorProperties, EqualsTheChainOnRandomLayouts, ()) {
  const auto rank = *rc::gen::inRange(1, 5);
  const auto shape = *rc::gen::container<gnm::Shape>(static_cast<std::size_t>(rank),
                                                     rc::gen::inRange<std::int64_t>(1, 9));
  const auto keep_a = *rc::gen::container<std::vector<bool>>(shape.size(), rc::gen::arbitrary<bool>());
  const auto keep_b = *rc::gen::container<std::vector<bool>>(shape.size(), rc::gen::arbitrary<bool>());
  gnm::Shape sa = shape, sb = shape;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (!keep_a[d]) sa[d] = 1;
    if (!keep_b[d]) sb[d] = 1;
  }
  // a is made in a permuted order and permuted back: same shape, scrambled strides.
  std::vector<std::int64_t> perm(shape.size());
  std::iota(perm.begin(), perm.end(), 0);
  const auto order = *rc::gen::unique<std::vector<int>>(perm.size(), rc::gen::inRange<int>(0, rank));
  for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = order[i];
  gnm::Shape made(shape.size()), inverse(shape.size());
  for (std::size_t i = 0; i < perm.size(); ++i) {
    made[i] = sa[static_cast<std::size_t>(perm[i])];
    inverse[static_cast<std::size_t>(perm[i])] = static_cast<std::int64_t>(i);
  }
  gnm::manual_seed(*rc::gen::inRange<std::uint64_t>(0, 1000));
  const Tensor a = gnm::rand(made, {}, -2, 2).permute(inverse);
  const Tensor b = gnm::rand(sb, {}, -2, 2);
  RC_ASSERT(a.shape() == sa);
  const auto e = fused::silu(fused::arg(0) * fused::arg(1) - 0.5) + fused::arg(1);
  const Tensor got = fused::evaluate(e, {a, b});
  const Tensor want = gnm::silu(a * b - 0.5) + b;
  RC_ASSERT(got.shape() == want.shape());
  RC_ASSERT(got.to_vector<float>() == want.to_vector<float>());
}
#endif

}  // namespace
