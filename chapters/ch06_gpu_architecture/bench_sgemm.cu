// ch06_bench: the SGEMM ladder of chapter 6.2 against cuBLAS (FP32, TF32 off), in one process, on
// the same device buffers.
//
//   cmake --build build --target ch06_bench
//   build/chapters/ch06_gpu_architecture/ch06_bench --benchmark_filter=/4096
//
// Rows sgemm/<kernel>/<n>: C (n × n) = A · B for kernel = cublas, 1_naive … 9_warptile and
// n = 1000, 1024, 2048, 4096, 4097, 8192 (1000 and 4097 are no multiple of any tile; 4097 also
// sends rungs 6–9 down their scalar path, as K and N are not multiples of 4). Size-major order,
// cuBLAS first, so the rows of one size run back to back on the same data.
// Time: CUDA events around each call (manual time) after one untimed warm-up call. The L2 is not
// flushed: GEMM is compute-bound at these sizes and every kernel sees the same cache state.
// Counter GFLOP/s = 2 · n³ / time. The kernels are verified by the chapter program (section 6.2)
// and the tests, not here. Without a CUDA device every row is skipped with the reason.
#include <benchmark/benchmark.h>

#include <cuda_runtime_api.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/device.hpp"
#include "gnm/cuda/random.hpp"
#include "gnm/cuda/stream.hpp"
#include "sgemm_ladder.hpp"

namespace {

namespace ladder = gnm::ch06;

constexpr std::int64_t kSizes[] = {1000, 1024, 2048, 4096, 4097, 8192};

// Why the GPU rows cannot run, or empty when a device is there.
const std::string& no_gpu_reason() {
  static const std::string reason = [] {
    const gnm::cuda::DeviceReport r = gnm::cuda::query_devices();
    return r.devices.empty() ? "no CUDA device: " + r.status : std::string();
  }();
  return reason;
}

// Random A, B and a C for one n; the previous size's buffers are freed first (8192: 768 MiB).
struct Operands {
  std::int64_t n;
  gnm::cuda::DeviceBuffer<float> A, B, C;
  explicit Operands(std::int64_t size)
      : n(size), A(static_cast<std::size_t>(size * size)), B(A.size()), C(A.size()) {
    gnm::cuda::fill_uniform_device(A.data(), size * size, /*seed=*/61, -1.0f, 1.0f);
    gnm::cuda::fill_uniform_device(B.data(), size * size, /*seed=*/62, -1.0f, 1.0f);
    GNM_CUDA_CHECK(cudaMemset(C.data(), 0, C.bytes()));
    GNM_CUDA_CHECK(cudaDeviceSynchronize());
  }
};

// Released by main() before exit: freeing device memory or a cuBLAS handle from a static
// destructor would race with the CUDA runtime's own teardown.
std::unique_ptr<Operands> g_operands;
std::unique_ptr<ladder::CublasSgemm> g_cublas;

Operands& operands(std::int64_t n) {
  if (!g_operands || g_operands->n != n) {
    g_operands.reset();
    g_operands = std::make_unique<Operands>(n);
  }
  return *g_operands;
}

const ladder::CublasSgemm& cublas() {
  if (!g_cublas) g_cublas = std::make_unique<ladder::CublasSgemm>();
  return *g_cublas;
}

//! [bench]
// rung 0 = cuBLAS, 1 … 9 = the ladder.
void bench_sgemm(benchmark::State& state, int rung, std::int64_t n) {
  if (!no_gpu_reason().empty()) {
    state.SkipWithError(no_gpu_reason().c_str());
    return;
  }
  try {
    Operands& o = operands(n);
    gnm::cuda::Stream stream;
    auto call = [&] {
      if (rung == 0) {
        cublas().run(n, n, n, 1.0f, o.A.data(), o.B.data(), 0.0f, o.C.data(), stream.get());
      } else {
        ladder::ladder()[static_cast<std::size_t>(rung - 1)].launch(
            n, n, n, 1.0f, o.A.data(), o.B.data(), 0.0f, o.C.data(), stream.get());
      }
    };
    call();  // warm-up: module load, clocks, cuBLAS heuristics
    stream.synchronize();
    gnm::cuda::EventTimer timer(stream.get());
    for (auto _ : state) {
      timer.start();
      call();
      state.SetIterationTime(static_cast<double>(timer.stop()) / 1e3);
    }
    const double gflop = 2.0 * static_cast<double>(n) * static_cast<double>(n) *
                         static_cast<double>(n) / 1e9;
    state.counters["GFLOP/s"] =
        benchmark::Counter(gflop, benchmark::Counter::kIsIterationInvariantRate);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}
//! [bench]

void register_all() {
  for (const std::int64_t n : kSizes) {
    auto add = [n](const std::string& kernel, int rung) {
      benchmark::RegisterBenchmark(("sgemm/" + kernel + "/" + std::to_string(n)).c_str(),
                                   [rung, n](benchmark::State& s) { bench_sgemm(s, rung, n); })
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    };
    add("cublas", 0);
    for (const ladder::Rung& r : ladder::ladder()) {
      add(std::to_string(r.number) + "_" + r.name, r.number);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  g_operands.reset();
  g_cublas.reset();
  benchmark::Shutdown();
  return 0;
}
