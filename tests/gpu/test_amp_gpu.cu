// Mixed precision on CUDA (chapter 10.4): a bf16-autocast Linear + cross-entropy step gives the
// same bf16 output, f32 loss and f32 parameter gradients on the CPU and the GPU; unscale_grads
// on CUDA gradients (the tensor-op path) matches the CPU's span kernel and detects inf and NaN;
// and amp_step skips a poisoned CUDA step without touching the parameters.
//
// Tolerances: both backends round the same operands to bf16 and accumulate in fp32 in different
// orders (CPU blocks vs cuBLAS tiles); the results then round to bf16 once on each side, so they
// can differ by one bf16 rounding each: 2·2⁻⁸ relative, plus K·2⁻²⁴·mass from the two fp32 orders
// (K ≤ 64 terms of O(1): < 1e-5) — rtol 2·2⁻⁸, atol 1e-3 for values near 0.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gnm/autograd/node.hpp"
#include "gnm/nn/layers.hpp"
#include "gnm/optim/amp.hpp"
#include "gnm/tensor/autocast.hpp"
#include "gnm/tensor/ops.hpp"
#include "gpu_test.hpp"

namespace {

using gnm::DType;
using gnm::Tensor;
namespace optim = gnm::optim;

constexpr double kRtol = 2.0 / 256.0;
constexpr double kAtol = 1e-3;

bool close(const Tensor& gpu, const Tensor& cpu) {
  return gnm::allclose(gpu.cpu().to(DType::f64), cpu.to(DType::f64), kRtol, kAtol);
}

TEST(AmpGpu, AutocastLinearMatchesCpu) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::manual_seed(31);
  const std::int64_t M = 33, K = 64, N = 10;
  const Tensor x = gnm::rand({M, K}, {}, -1.0, 1.0);
  const Tensor w0 = gnm::rand({N, K}, {}, -1.0, 1.0), b0 = gnm::rand({N}, {}, -1.0, 1.0);
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < M; ++i) labels.push_back((i * 7) % N);
  const Tensor y = gnm::from_vector(std::span<const std::int64_t>(labels), {M});

  struct Out {
    Tensor logits, loss, gw, gb;
  };
  auto run = [&](gnm::Device dev) {
    const Tensor w = w0.to(dev).detach().requires_grad_();
    const Tensor b = b0.to(dev).detach().requires_grad_();
    Out o;
    {
      const gnm::AutocastGuard autocast(DType::bf16);
      o.logits = gnm::linear(x.to(dev), w, b);
      o.loss = gnm::cross_entropy(o.logits, y.to(dev));
    }
    o.loss.backward();
    o.gw = w.grad();
    o.gb = b.grad();
    return o;
  };
  const Out cpu = run(gnm::Device::cpu()), gpu = run(gnm::Device::cuda());
  ASSERT_TRUE(gpu.logits.is_cuda());
  EXPECT_EQ(gpu.logits.dtype(), DType::bf16);
  EXPECT_EQ(gpu.loss.dtype(), DType::f32);
  EXPECT_EQ(gpu.gw.dtype(), DType::f32);
  EXPECT_EQ(gpu.gb.dtype(), DType::f32);
  EXPECT_TRUE(close(gpu.logits, cpu.logits));
  EXPECT_NEAR(gpu.loss.item(), cpu.loss.item(), kRtol * std::fabs(cpu.loss.item()) + kAtol);
  EXPECT_TRUE(close(gpu.gw, cpu.gw)) << "CUDA\n" << gpu.gw.cpu() << "\nCPU\n" << cpu.gw;
  EXPECT_TRUE(close(gpu.gb, cpu.gb)) << "CUDA\n" << gpu.gb.cpu() << "\nCPU\n" << cpu.gb;
}

TEST(AmpGpu, UnscaleMatchesCpuAndDetectsNonFinite) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::manual_seed(32);
  for (float poison : {0.25f, std::numeric_limits<float>::infinity(),
                       std::numeric_limits<float>::quiet_NaN()}) {
    SCOPED_TRACE(poison);
    const Tensor g = gnm::rand({7, 5}, {}, -50.0, 50.0);
    g.data<float>()[11] = poison;
    Tensor pc = gnm::zeros({7, 5}).requires_grad_();
    Tensor pg = gnm::zeros({7, 5}, {.device = gnm::Device::cuda()}).requires_grad_();
    pc.set_grad(g.clone());
    pg.set_grad(g.to(gnm::Device::cuda()));
    const optim::GradScaler scaler(1024.0);
    const bool bad = !std::isfinite(poison);
    EXPECT_EQ(optim::unscale_grads(scaler, {pc}), bad);
    EXPECT_EQ(optim::unscale_grads(scaler, {pg}), bad);
    // Multiplying by 2⁻¹⁰ is exact on both: the same bits (NaN compared as NaN).
    EXPECT_TRUE(gnm::allclose(pg.grad().cpu(), pc.grad(), 0.0, 0.0, /*equal_nan=*/true));
  }
}

TEST(AmpGpu, PoisonedStepIsSkipped) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::manual_seed(33);
  auto model = gnm::nn::make_mlp({6, 8, 3});
  model->to(gnm::Device::cuda());
  optim::Adam opt(model->parameters(), {.lr = 1e-2});
  optim::GradScaler scaler(2048.0, 2.0, 0.5, 100);
  const Tensor x = gnm::rand({10, 6}, {.device = gnm::Device::cuda()}, -1.0, 1.0);
  const Tensor y = gnm::zeros({10}, {.dtype = DType::i64, .device = gnm::Device::cuda()});
  auto backward = [&] {
    opt.zero_grad();
    Tensor loss;
    {
      const gnm::AutocastGuard autocast(DType::bf16);
      loss = gnm::cross_entropy(model->forward(x), y);
    }
    optim::scale_loss(loss, scaler).backward();
  };
  backward();
  ASSERT_TRUE(optim::amp_step(scaler, opt));
  backward();
  // Poison one element of the first weight's gradient through a host round trip.
  const Tensor& p0 = opt.params()[0];
  Tensor host = p0.grad().cpu();
  host.data<float>()[3] = std::numeric_limits<float>::infinity();
  {
    const gnm::autograd::NoGradGuard no_grad;
    p0.grad().copy_(host.to(gnm::Device::cuda()));
  }
  std::vector<std::vector<float>> before;
  for (const Tensor& p : opt.params()) before.push_back(p.to_vector<float>());
  EXPECT_FALSE(optim::amp_step(scaler, opt));
  for (std::size_t i = 0; i < before.size(); ++i) {
    const auto now = opt.params()[i].to_vector<float>();
    EXPECT_EQ(std::memcmp(now.data(), before[i].data(), now.size() * sizeof(float)), 0)
        << "parameter " << i;
  }
  EXPECT_EQ(opt.step_count(), 1);
  EXPECT_EQ(scaler.scale(), 1024.0);
  EXPECT_EQ(scaler.skipped_steps(), 1);
  backward();
  EXPECT_TRUE(optim::amp_step(scaler, opt));
  EXPECT_EQ(opt.step_count(), 2);
}

}  // namespace
