// ch09_bench_linear: what the tensor layer costs on top of the engine's SGEMM, for the shapes of
// chapter 10's MLP and for a square product.
//
//   cmake --build build --target ch09_bench_linear
//   build/chapters/ch09_tensor_ops/ch09_bench_linear --benchmark_out=linear.json
//
// Benchmarks (all f32 on the CPU, real time, the default thread pool):
//   linear_fwd/…       gnm::linear(x, w, b), x (128, 784), w (256, 784): the MLP's first layer
//   linear_fwd_bwd/…   forward + backward of the same (dx, dw, db: three GEMMs and a column sum),
//                      via autograd::grad so nothing accumulates between iterations
//   sgemm_linear/…     the raw gnm::cpu::sgemm calls the two above reduce to (the floor: y = x·wᵀ,
//                      and for fwd+bwd also dx = g·w and dw = gᵀ·x), same data, same pool
//   matmul_512 / sgemm_512   gnm::matmul of two 512×512 tensors, and the raw sgemm
// Counter GFLOP/s counts 2·M·N·K per GEMM. The gap between an op and its sgemm line is the
// tensor layer's overhead: allocation, the bias pass, the autograd node, dispatch.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "gnm/autograd/node.hpp"
#include "gnm/cpu/gemm.hpp"
#include "gnm/tensor/ops.hpp"

namespace {

using gnm::Tensor;
using gnm::cpu::Transpose;

constexpr std::int64_t kBatch = 128, kIn = 784, kOut = 256, kSquare = 512;

struct LinearOperands {
  Tensor x, w, b, g;
  LinearOperands() {
    gnm::manual_seed(9);
    x = gnm::rand({kBatch, kIn}, {}, -1.0, 1.0);
    w = gnm::rand({kOut, kIn}, {.requires_grad = true}, -0.05, 0.05);
    b = gnm::rand({kOut}, {.requires_grad = true}, -0.1, 0.1);
    g = gnm::rand({kBatch, kOut}, {}, -1.0, 1.0);
  }
};

LinearOperands& operands() {
  static LinearOperands ops;
  return ops;
}

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops_per_iteration * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}

constexpr double kLinearFlops = 2.0 * kBatch * kIn * kOut;

void linear_fwd(benchmark::State& state) {
  LinearOperands& o = operands();
  gnm::autograd::NoGradGuard no_grad;
  for (auto _ : state) {
    Tensor y = gnm::linear(o.x, o.w, o.b);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  set_flops(state, kLinearFlops);
}

void linear_fwd_bwd(benchmark::State& state) {
  LinearOperands& o = operands();
  // x also wants a gradient here: in a deeper MLP every layer but the first computes dx.
  Tensor x = o.x.detach().requires_grad_();
  for (auto _ : state) {
    Tensor y = gnm::linear(x, o.w, o.b);
    std::vector<Tensor> grads = gnm::autograd::grad({y}, {x, o.w, o.b}, {o.g});
    benchmark::DoNotOptimize(grads[1].data_ptr());
  }
  set_flops(state, 3.0 * kLinearFlops);
}

void sgemm_linear(benchmark::State& state) {
  const bool backward = state.range(0) != 0;
  LinearOperands& o = operands();
  std::vector<float> y(kBatch * kOut), dx(kBatch * kIn), dw(kOut * kIn);
  const float* x = o.x.data<float>();
  const float* w = o.w.data<float>();
  const float* g = o.g.data<float>();
  for (auto _ : state) {
    gnm::cpu::sgemm(Transpose::No, Transpose::Yes, kBatch, kOut, kIn, 1.0f, x, kIn, w, kIn, 0.0f,
                    y.data(), kOut);
    if (backward) {
      gnm::cpu::sgemm(Transpose::No, Transpose::No, kBatch, kIn, kOut, 1.0f, g, kOut, w, kIn,
                      0.0f, dx.data(), kIn);
      gnm::cpu::sgemm(Transpose::Yes, Transpose::No, kOut, kIn, kBatch, 1.0f, g, kOut, x, kIn,
                      0.0f, dw.data(), kIn);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(dw.data());
  }
  set_flops(state, (backward ? 3.0 : 1.0) * kLinearFlops);
}

void matmul_512(benchmark::State& state) {
  gnm::manual_seed(10);
  const Tensor a = gnm::rand({kSquare, kSquare}, {}, -1.0, 1.0);
  const Tensor b = gnm::rand({kSquare, kSquare}, {}, -1.0, 1.0);
  for (auto _ : state) {
    Tensor c = gnm::matmul(a, b);
    benchmark::DoNotOptimize(c.data_ptr());
  }
  set_flops(state, 2.0 * kSquare * kSquare * kSquare);
}

void sgemm_512(benchmark::State& state) {
  gnm::manual_seed(10);
  const Tensor a = gnm::rand({kSquare, kSquare}, {}, -1.0, 1.0);
  const Tensor b = gnm::rand({kSquare, kSquare}, {}, -1.0, 1.0);
  std::vector<float> c(kSquare * kSquare);
  for (auto _ : state) {
    gnm::cpu::sgemm(Transpose::No, Transpose::No, kSquare, kSquare, kSquare, 1.0f, a.data<float>(),
                    kSquare, b.data<float>(), kSquare, 0.0f, c.data(), kSquare);
    benchmark::DoNotOptimize(c.data());
  }
  set_flops(state, 2.0 * kSquare * kSquare * kSquare);
}

// Each op beside its floor, in that order, so both see the same state of a noisy machine.
BENCHMARK(linear_fwd)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(sgemm_linear)->Arg(0)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(linear_fwd_bwd)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(sgemm_linear)->Arg(1)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(matmul_512)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(sgemm_512)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
