// The mixed-precision step (gnm/optim/amp.hpp, chapter 10.4): an MLP trained with bf16 and f16
// autocast + GradScaler + Adam ends near the f32 run; a step whose gradients hold inf or NaN is
// skipped with parameters and optimizer state bit-unchanged and the scale backed off; the scale
// grows after growth_interval clean steps; the tensor-op path (strided gradients) agrees with the
// span kernel; and the fp16 underflow that loss scaling exists to prevent.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gnm/autograd/node.hpp"
#include "gnm/nn/layers.hpp"
#include "gnm/optim/amp.hpp"
#include "gnm/tensor/autocast.hpp"
#include "gnm/tensor/ops.hpp"

namespace {

using gnm::DType;
using gnm::Tensor;
namespace optim = gnm::optim;

// A linearly separable 3-class problem: labels are the argmax of x·Wᵀ for a random W.
struct Problem {
  Tensor x, y;
};
Problem separable(std::int64_t n, std::int64_t d, std::int64_t classes) {
  const Tensor x = gnm::rand({n, d}, {}, -1.0, 1.0);
  const Tensor w = gnm::rand({classes, d}, {}, -1.0, 1.0);
  return {x, gnm::argmax(gnm::matmul(x, w.t()), 1)};
}

// Full-batch training of make_mlp({20, 32, 3}) with Adam; `low` selects autocast (with a
// GradScaler at its defaults) or plain f32. Returns the final loss, evaluated in f32.
struct TrainResult {
  double final_loss = 0.0, initial_loss = 0.0;
  std::int64_t skipped = 0;
};
TrainResult train(std::optional<DType> low, int steps) {
  gnm::manual_seed(1234);
  const Problem p = separable(256, 20, 3);
  auto model = gnm::nn::make_mlp({20, 32, 3});
  optim::Adam opt(model->parameters(), {.lr = 1e-2});
  optim::GradScaler scaler(65536.0, 2.0, 0.5, 2000, low.has_value());
  auto f32_loss = [&] {
    const gnm::autograd::NoGradGuard no_grad;
    return gnm::cross_entropy(model->forward(p.x), p.y).item();
  };
  TrainResult run;
  run.initial_loss = f32_loss();
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    Tensor loss;
    {
      const gnm::AutocastGuard autocast(low);
      loss = gnm::cross_entropy(model->forward(p.x), p.y);
    }
    EXPECT_EQ(loss.dtype(), DType::f32);
    optim::scale_loss(loss, scaler).backward();
    optim::amp_step(scaler, opt);
  }
  run.final_loss = f32_loss();
  run.skipped = scaler.skipped_steps();
  return run;
}

TEST(Amp, MlpTrainsLikeF32) {
  const int steps = 150;
  const TrainResult ref = train(std::nullopt, steps);
  const TrainResult bf16 = train(DType::bf16, steps);
  const TrainResult f16 = train(DType::f16, steps);
  // The problem is learnable: the f32 run cuts its loss by more than 10×.
  EXPECT_LT(ref.final_loss, 0.1 * ref.initial_loss);
  // No overflow with S = 2¹⁶: the largest logit gradient is S/N = 256 and hidden ones are of
  // the same order, far below fp16's 65504 (and bf16 has fp32's range).
  EXPECT_EQ(bf16.skipped, 0);
  EXPECT_EQ(f16.skipped, 0);
  // Not a derived bound: the 16-bit runs see each GEMM operand rounded (2⁻⁸ relative in bf16,
  // 2⁻¹¹ in f16), which perturbs each Adam step by about that much, not its direction. Over seeds
  // 1–8 the final losses (~0.005, from ~1.1) stayed within 2.1 % (bf16) and 1.2 % (f16) of the f32
  // run's; 20 % of it is several times that and still far tighter than "it learned something".
  const double tol = 0.2 * ref.final_loss;
  EXPECT_NEAR(bf16.final_loss, ref.final_loss, tol)
      << "initial " << ref.initial_loss << ", f32 " << ref.final_loss << ", bf16 "
      << bf16.final_loss;
  EXPECT_NEAR(f16.final_loss, ref.final_loss, tol)
      << "initial " << ref.initial_loss << ", f32 " << ref.final_loss << ", f16 "
      << f16.final_loss;
}

// The bits of every parameter and every optimizer state tensor and scalar.
struct Snapshot {
  std::vector<std::vector<float>> tensors;
  std::map<std::string, double> scalars;
  bool operator==(const Snapshot& o) const {
    if (tensors.size() != o.tensors.size() || scalars != o.scalars) return false;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      if (tensors[i].size() != o.tensors[i].size() ||
          std::memcmp(tensors[i].data(), o.tensors[i].data(), tensors[i].size() * sizeof(float)))
        return false;
    }
    return true;
  }
};
Snapshot snapshot(const optim::Optimizer& opt) {
  Snapshot s;
  for (const Tensor& p : opt.params()) s.tensors.push_back(p.to_vector<float>());
  const optim::OptimizerState st = opt.state_dict();
  for (const auto& [name, t] : st.tensors) s.tensors.push_back(t.to_vector<float>());
  s.scalars = st.scalars;
  return s;
}

// One scaled forward/backward of `model` on (x, y) under bf16 autocast.
void backward_scaled(gnm::nn::Module& model, optim::Optimizer& opt, const optim::GradScaler& s,
                     const Tensor& x, const Tensor& y) {
  opt.zero_grad();
  Tensor loss;
  {
    const gnm::AutocastGuard autocast(DType::bf16);
    loss = gnm::cross_entropy(model.forward(x), y);
  }
  optim::scale_loss(loss, s).backward();
}

void check_skip(float poison) {
  SCOPED_TRACE(poison);
  gnm::manual_seed(77);
  const Problem p = separable(16, 5, 3);
  auto model = gnm::nn::make_mlp({5, 7, 3});
  optim::Adam opt(model->parameters(), {.lr = 1e-2});
  optim::GradScaler scaler(1024.0, 2.0, 0.5, 3);
  // One clean step first, so that Adam has moments and a step count to (not) disturb.
  backward_scaled(*model, opt, scaler, p.x, p.y);
  ASSERT_TRUE(optim::amp_step(scaler, opt));
  ASSERT_EQ(opt.step_count(), 1);

  backward_scaled(*model, opt, scaler, p.x, p.y);
  const Tensor g = opt.params()[2].grad();  // the second layer's weight
  g.data<float>()[4] = poison;
  const Snapshot before = snapshot(opt);
  EXPECT_FALSE(optim::amp_step(scaler, opt));
  EXPECT_TRUE(snapshot(opt) == before) << "a skipped step changed a parameter or the state";
  EXPECT_EQ(opt.step_count(), 1);
  EXPECT_EQ(scaler.scale(), 512.0);
  EXPECT_EQ(scaler.skipped_steps(), 1);
  EXPECT_EQ(scaler.growth_tracker(), 0);

  // The next clean step is taken with the backed-off scale.
  backward_scaled(*model, opt, scaler, p.x, p.y);
  EXPECT_TRUE(optim::amp_step(scaler, opt));
  EXPECT_FALSE(snapshot(opt) == before);
  EXPECT_EQ(opt.step_count(), 2);
  EXPECT_EQ(scaler.scale(), 512.0);
  EXPECT_EQ(scaler.growth_tracker(), 1);
}

TEST(Amp, InfGradientSkipsTheStep) { check_skip(std::numeric_limits<float>::infinity()); }
TEST(Amp, NanGradientSkipsTheStep) { check_skip(std::numeric_limits<float>::quiet_NaN()); }

TEST(Amp, ScaleGrowsAfterGrowthInterval) {
  gnm::manual_seed(78);
  const Problem p = separable(16, 5, 3);
  auto model = gnm::nn::make_mlp({5, 7, 3});
  optim::SGD opt(model->parameters(), {.lr = 1e-2});
  optim::GradScaler scaler(1024.0, 2.0, 0.5, 3);
  for (int i = 1; i <= 7; ++i) {
    backward_scaled(*model, opt, scaler, p.x, p.y);
    EXPECT_TRUE(optim::amp_step(scaler, opt));
    // Steps 3 and 6 complete an interval of 3 clean steps: ×2 each time.
    EXPECT_EQ(scaler.scale(), 1024.0 * (i >= 6 ? 4.0 : i >= 3 ? 2.0 : 1.0)) << "step " << i;
    EXPECT_EQ(scaler.growth_tracker(), i % 3);
  }
  EXPECT_EQ(scaler.skipped_steps(), 0);
  EXPECT_EQ(opt.step_count(), 7);
}

// Unscaling is exact for a power-of-two scale, and the true gradient is what the step sees: a
// scaled backward then unscale_grads gives the unscaled backward's gradients to the bit (f32).
TEST(Amp, UnscaledGradientsEqualUnscaledBackward) {
  gnm::manual_seed(79);
  const Problem p = separable(12, 6, 3);
  auto model = gnm::nn::make_mlp({6, 5, 3});
  const auto params = model->parameters();
  gnm::cross_entropy(model->forward(p.x), p.y).backward();
  std::vector<std::vector<float>> want;
  for (const Tensor& t : params) want.push_back(t.grad().to_vector<float>());
  for (const Tensor& t : params) t.impl().grad.reset();
  const optim::GradScaler scaler(4096.0);
  optim::scale_loss(gnm::cross_entropy(model->forward(p.x), p.y), scaler).backward();
  EXPECT_FALSE(optim::unscale_grads(scaler, params));
  for (std::size_t i = 0; i < params.size(); ++i)
    EXPECT_EQ(params[i].grad().to_vector<float>(), want[i]) << "parameter " << i;
}

// Strided gradients take the tensor-op path (the one CUDA uses): same values as the span kernel,
// the same inf/NaN detection, and the .grad keeps its identity (unscaled in place).
TEST(Amp, StridedGradientsUseTensorOps) {
  gnm::manual_seed(80);
  for (float poison : {0.5f, std::numeric_limits<float>::infinity(),
                       -std::numeric_limits<float>::infinity(),
                       std::numeric_limits<float>::quiet_NaN()}) {
    SCOPED_TRACE(poison);
    Tensor a = gnm::zeros({5, 3}).requires_grad_();
    Tensor b = gnm::zeros({5, 3}).requires_grad_();
    const Tensor g = gnm::rand({5, 3}, {}, -100.0, 100.0);
    g.data<float>()[7] = poison;
    a.set_grad(g.clone());
    b.set_grad(g.t().contiguous().t());  // same values, transposed strides
    ASSERT_FALSE(b.grad().is_contiguous());
    const Tensor b_grad = b.grad();
    const optim::GradScaler scaler(256.0);
    const bool bad = !std::isfinite(poison);
    EXPECT_EQ(optim::unscale_grads(scaler, {a}), bad);
    EXPECT_EQ(optim::unscale_grads(scaler, {b}), bad);
    EXPECT_TRUE(b.grad().is_same(b_grad));
    const auto va = a.grad().to_vector<float>(), vb = b.grad().to_vector<float>();
    ASSERT_EQ(va.size(), vb.size());
    EXPECT_EQ(std::memcmp(va.data(), vb.data(), va.size() * sizeof(float)), 0);
    EXPECT_EQ(va[0], g.to_vector<float>()[0] / 256.0f);  // power of two: exact
  }
}

TEST(Amp, DisabledScalerAndMissingGradients) {
  gnm::manual_seed(81);
  const Tensor used = gnm::rand({4}, {}, -1.0, 1.0).requires_grad_();
  const Tensor unused = gnm::rand({4}, {}, -1.0, 1.0).requires_grad_();
  optim::SGD opt({used, unused}, {.lr = 0.5});
  optim::GradScaler off(65536.0, 2.0, 0.5, 2000, /*enabled=*/false);
  const Tensor loss = gnm::sum(gnm::square(used));
  EXPECT_TRUE(optim::scale_loss(loss, off).is_same(loss));
  optim::scale_loss(loss, off).backward();
  const auto grad = used.grad().to_vector<float>();
  const auto before = unused.to_vector<float>();
  EXPECT_TRUE(optim::amp_step(off, opt));
  EXPECT_EQ(used.grad().to_vector<float>(), grad);  // not divided by anything
  EXPECT_EQ(unused.to_vector<float>(), before);     // no .grad: skipped, as Optimizer::step does
  EXPECT_FALSE(unused.grad().defined());
  EXPECT_EQ(off.scale(), 1.0);
  EXPECT_EQ(off.skipped_steps(), 0);
}

TEST(Amp, ScaleLossRejectsBadLosses) {
  const optim::GradScaler scaler;
  EXPECT_THROW(optim::scale_loss(Tensor(), scaler), gnm::Error);
  EXPECT_THROW(optim::scale_loss(gnm::zeros({}, {.dtype = DType::i64}), scaler), gnm::Error);
  const Tensor loss = gnm::full({}, 0.75);
  EXPECT_EQ(optim::scale_loss(loss, scaler).item(), 0.75 * 65536.0);
}

// Why loss scaling exists. Under f16 autocast a loss of 10⁻⁸·Σy sends the gradient 10⁻⁸ to each
// element of the f16 product y = x·wᵀ; 10⁻⁸ is below half of f16's smallest subnormal
// (2⁻²⁵ ≈ 3·10⁻⁸), so it rounds to 0 and w learns nothing. Scaled by 2¹⁶ it is 6.6·10⁻⁴, a normal
// f16 number, and the unscaled f32 gradient is the true one: dw[n][k] = 10⁻⁸·Σ_m x[m][k].
// Tolerance: r(10⁻⁸·S) and r(x) are each off by ≤ 2⁻¹¹ relative, the f16 product adds one more
// rounding (positive terms: no cancellation), fp32 accumulation is negligible: 4·2⁻¹¹ relative.
TEST(Amp, F16GradientsUnderflowWithoutScaling) {
  gnm::manual_seed(82);
  const std::int64_t M = 8, K = 6, N = 3;
  const Tensor x = gnm::rand({M, K}, {}, 0.5, 1.0);
  const Tensor w = gnm::rand({N, K}, {}, -1.0, 1.0).requires_grad_();
  auto backward = [&](double scale) {
    w.impl().grad.reset();
    Tensor loss;
    {
      const gnm::AutocastGuard autocast(DType::f16);
      loss = gnm::mul(gnm::sum(gnm::linear(x, w).to(DType::f32)), 1e-8);
    }
    gnm::mul(loss, scale).backward();
  };
  backward(1.0);
  for (float v : w.grad().to_vector<float>()) EXPECT_EQ(v, 0.0f);  // everything underflowed

  optim::GradScaler scaler;  // 2¹⁶
  backward(scaler.scale());
  EXPECT_FALSE(optim::unscale_grads(scaler, {w}));
  const auto got = w.grad().to_vector<double>();
  const auto xv = x.to_vector<double>();
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t k = 0; k < K; ++k) {
      double want = 0.0;
      for (std::int64_t m = 0; m < M; ++m) want += 1e-8 * xv[static_cast<std::size_t>(m * K + k)];
      EXPECT_NEAR(got[static_cast<std::size_t>(n * K + k)], want, 4.0 * std::ldexp(want, -11))
          << "dw[" << n << "][" << k << "]";
    }
}

}  // namespace
