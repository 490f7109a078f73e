// ch07_bench: the Hopper bf16 GEMM of 7.5 (wgmma + TMA) against cuBLAS bf16, M = N = K = 4096
// and 8192, C = A · Bᵀ with A (M, K), B (N, K) row-major bf16 and fp32 accumulation and output.
//
//   cmake --build build --target ch07_bench
//   cd build/chapters/ch07_cuda_from_cpp
//   ./ch07_bench --benchmark_out=wgmma.json --benchmark_out_format=json
//
// Each iteration is timed on the GPU with CUDA events (manual time) after one warm-up call;
// the counter TFLOP/s is 2·M·N·K over that time. The operands (2 × 128 MiB at 8192, 2 × 32 MiB at
// 4096) do not fit in the 50 MB L2 together, so no flush is needed between iterations. Rows are
// skipped with an error without a device, and the wgmma rows on a device that is not sm_90.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/device.hpp"
#include "gnm/cuda/stream.hpp"
#include "wgmma_gemm.hpp"

namespace {

using bf16 = __nv_bfloat16;

bool have_gpu() {
  static const bool have = !gnm::cuda::query_devices().devices.empty();
  return have;
}

// Random bf16 operands and an fp32 C of one size, made once and kept for the process.
struct Operands {
  gnm::cuda::DeviceBuffer<bf16> a, b;
  gnm::cuda::DeviceBuffer<float> c;
  explicit Operands(int n)
      : a(std::size_t(n) * n), b(std::size_t(n) * n), c(std::size_t(n) * n) {
    std::vector<float> f(std::size_t(n) * n);
    std::vector<bf16> h(f.size());
    for (auto* buffer : {&a, &b}) {
      gnm::fill_uniform(f, buffer == &a ? 1 : 2, -1.0f, 1.0f);  // random: zeros run faster
      for (std::size_t i = 0; i < f.size(); ++i) h[i] = __float2bfloat16_rn(f[i]);
      buffer->copy_from_host(h);
    }
  }
};

Operands& operands(int n) {
  static std::map<int, std::unique_ptr<Operands>> cache;
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<Operands>(n);
  return *slot;
}

using GemmFn = void (*)(const bf16*, const bf16*, float*, int, int, int, cudaStream_t);

void run(benchmark::State& state, GemmFn gemm, bool needs_sm90) {
  if (!have_gpu()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  if (needs_sm90 && !gnm::ch07::wgmma_device_supported()) {
    state.SkipWithError("wgmma_gemm_bf16 needs a compute capability 9.0 device");
    return;
  }
  const int n = static_cast<int>(state.range(0));
  Operands& o = operands(n);
  float* c = o.c.data();
  gemm(o.a.data(), o.b.data(), c, n, n, n, nullptr);  // warm-up: first launch, cuBLAS handle
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  gnm::cuda::EventTimer timer;
  for (auto _ : state) {
    timer.start();
    gemm(o.a.data(), o.b.data(), c, n, n, n, nullptr);
    state.SetIterationTime(static_cast<double>(timer.stop()) / 1e3);
  }
  const double flop = 2.0 * static_cast<double>(n) * n * n;
  state.counters["TFLOP/s"] =
      benchmark::Counter(flop / 1e12, benchmark::Counter::kIsIterationInvariantRate);
}

void wgmma(benchmark::State& state) { run(state, gnm::ch07::wgmma_gemm_bf16, true); }
void cublas(benchmark::State& state) { run(state, gnm::ch07::cublas_gemm_bf16, false); }

}  // namespace

// Each size's two rows next to each other, so that they see the same state of the machine.
int main(int argc, char** argv) {
  for (const int n : {4096, 8192}) {
    benchmark::RegisterBenchmark("bf16_gemm/wgmma", wgmma)->Arg(n)->UseManualTime()->Unit(
        benchmark::kMillisecond);
    benchmark::RegisterBenchmark("bf16_gemm/cublas", cublas)->Arg(n)->UseManualTime()->Unit(
        benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
