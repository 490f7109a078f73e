// ch02_bench: the GEMM ladder, the engine's sgemm and OpenBLAS in one run, on the same data.
//
//   cmake --build build --target ch02_bench
//   OPENBLAS_NUM_THREADS=1 taskset -c 0,1 build/chapters/ch02_linear_algebra/ch02_bench
//   build/chapters/ch02_linear_algebra/ch02_bench --benchmark_filter='/1024'   # one size
//
// Square C (n×n) = A (n×n) · B (n×n) for n = 256, 512, 1024, 2048. Counters:
//   GFLOP/s   2·n³ per iteration over wall time
//   %peak     percent of this machine's FMA peak for the threads used, measured at start-up with
//             the engine's FMA loop, the one chapter 1 uses (gnm::cpu::run_fma_loop): the AVX2
//             peak (fma_peak_per_core_gflops in the context) for the ladder and engine_avx2, the
//             AVX-512 peak (fma512_peak_per_core_gflops) for engine_avx512 and, on AVX-512 CPUs,
//             OpenBLAS
// For each size the order is: ladder v1…v5, then for 1 thread and then 2: engine_avx512 (only on
// CPUs with AVX-512), engine_avx2 and OpenBLAS, one after the other, so that all see the same
// state of a noisy machine. All benchmarks use real time. engine_avx512 / engine_avx2 force the
// engine's micro-kernel with gnm::cpu::set_cpu_kernel (GNM_CPU_KERNEL for whole programs).
//
// v1 sgemm_naive and sgemm_jki are skipped above 1024: at 2048 one call takes minutes (their inner
// loops stride through memory, ~0.1–1 GFLOP/s), which says nothing new.
//
// OpenBLAS picks its kernels for the CPU when the library loads (DYNAMIC_ARCH): SkylakeX
// (AVX-512) kernels on AVX-512 machines. It cannot be switched in-process; run the whole benchmark
// again with OPENBLAS_CORETYPE=Haswell to compare engine_avx2 with OpenBLAS's own AVX2 kernels.
#include <benchmark/benchmark.h>

#include "gnm/core/timer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gemm_ladder.hpp"
#include "gnm/core/aligned_buffer.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/thread_pool.hpp"
#include "gnm/cpu/gemm.hpp"
#include "gnm/cpu/peak.hpp"

#if GNM_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace {

using Index = std::int64_t;

// One set of operands per size, shared by every benchmark of that size.
struct Operands {
  gnm::AlignedBuffer<float> a, b, c;
  explicit Operands(Index n)
      : a(static_cast<std::size_t>(n * n)), b(static_cast<std::size_t>(n * n)),
        c(static_cast<std::size_t>(n * n)) {
    gnm::fill_uniform(a.span(), 1, -1.0f, 1.0f);
    gnm::fill_uniform(b.span(), 2, -1.0f, 1.0f);
    std::fill(c.begin(), c.end(), 0.0f);
  }
};

Operands& operands(Index n) {
  static std::map<Index, std::unique_ptr<Operands>> cache;
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<Operands>(n);
  return *slot;
}

gnm::ThreadPool& pool(int threads) {
  static gnm::ThreadPool one(1), two(2);
  return threads == 1 ? one : two;
}

// FLOP/s of one core running the engine's FMA-throughput loop of `width` (gnm/cpu/peak.hpp, the
// same loop chapter 1 draws its roofline with): best of 5 runs of 2^23 iterations (~50 M cycles
// each). 0 when the CPU cannot run that width, or when the loop's checksum is wrong (a broken
// loop measures nothing; the %peak counter is then left out).
double measure_peak_per_core(gnm::cpu::CpuKernel width) {
  if (!gnm::cpu::cpu_kernel_supported(width)) return 0.0;
  double best = 0.0;
  for (int rep = 0; rep < 5; ++rep) {
    const gnm::cpu::FmaRun r = gnm::cpu::run_fma_loop(width, gnm::cpu::kFmaLoopMaxIterations);
    if (!r.checksum_ok) return 0.0;
    best = std::max(best, r.flops / r.seconds);
  }
  return best;
}

// The AVX2 peak (0 without AVX2): the roof of the ladder and of engine_avx2.
double peak_per_core() {
  static const double peak = measure_peak_per_core(gnm::cpu::CpuKernel::Avx2);
  return peak;
}

// The AVX-512 peak; 0 when the CPU has no AVX-512.
double peak512_per_core() {
  static const double peak = measure_peak_per_core(gnm::cpu::CpuKernel::Avx512);
  return peak;
}

// The peak that OpenBLAS's kernels (chosen for this CPU) can reach.
double best_peak_per_core() { return std::max(peak_per_core(), peak512_per_core()); }

// Wall-clock seconds of the timed loop, measured around it (so the counters are plain numbers,
// not Google Benchmark rates, which print as "…/s").
using LoopTimer = gnm::HostTimer;

void set_counters(benchmark::State& state, const LoopTimer& timer, Index n, int threads,
                  double peak = peak_per_core()) {
  const double flops = 2.0 * double(n) * double(n) * double(n) * double(state.iterations());
  const double rate = flops / (timer.elapsed_ms() * 1e-3);
  state.counters["GFLOP/s"] = rate * 1e-9;
  if (peak > 0.0) state.counters["%peak"] = 100.0 * rate / (peak * threads);
}

using Ladder = void (*)(Index, Index, Index, const float*, Index, const float*, Index, float*,
                        Index);

void BM_ladder(benchmark::State& state, Ladder fn) {
  const Index n = state.range(0);
  Operands& op = operands(n);
  const LoopTimer timer;
  for (auto _ : state) {
    fn(n, n, n, op.a.data(), n, op.b.data(), n, op.c.data(), n);  // C += A·B
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, n, 1);
}

void BM_ladder_threaded(benchmark::State& state) {
  const Index n = state.range(0);
  Operands& op = operands(n);
  const LoopTimer timer;
  for (auto _ : state) {
    gnm::ch02::sgemm_threaded(n, n, n, op.a.data(), n, op.b.data(), n, op.c.data(), n, pool(2));
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, n, 2);
}

void BM_engine(benchmark::State& state, gnm::cpu::CpuKernel kernel, int threads) {
  const Index n = state.range(0);
  Operands& op = operands(n);
  using gnm::cpu::Transpose;
  const gnm::cpu::CpuKernel saved = gnm::cpu::cpu_kernel();
  gnm::cpu::set_cpu_kernel(kernel);
  const LoopTimer timer;
  for (auto _ : state) {
    gnm::cpu::sgemm_engine(Transpose::No, Transpose::No, n, n, n, 1.0f, op.a.data(), n,
                           op.b.data(), n, 0.0f, op.c.data(), n, &pool(threads));
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, n, threads,
               kernel == gnm::cpu::CpuKernel::Avx512 ? peak512_per_core() : peak_per_core());
  gnm::cpu::set_cpu_kernel(saved);
}

#if GNM_HAVE_OPENBLAS
void BM_openblas(benchmark::State& state, int threads) {
  const Index n = state.range(0);
  Operands& op = operands(n);
  openblas_set_num_threads(threads);
  const auto m = static_cast<blasint>(n);
  const LoopTimer timer;
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0f, op.a.data(), m,
                op.b.data(), m, 0.0f, op.c.data(), m);
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, n, threads, best_peak_per_core());
}
#endif

void register_all() {
  for (Index n : {256, 512, 1024, 2048}) {
    auto add = [&](const std::string& name, auto&& fn) {
      benchmark::RegisterBenchmark(name.c_str(), fn)->Arg(n)->UseRealTime()->Unit(
          benchmark::kMillisecond);
    };
    if (n <= 1024) {
      add("ladder_v1_naive", [](benchmark::State& s) { BM_ladder(s, gnm::ch02::sgemm_naive); });
      add("ladder_jki", [](benchmark::State& s) { BM_ladder(s, gnm::ch02::sgemm_jki); });
    }
    add("ladder_v2_ikj", [](benchmark::State& s) { BM_ladder(s, gnm::ch02::sgemm_ikj); });
    add("ladder_v3_blocked", [](benchmark::State& s) { BM_ladder(s, gnm::ch02::sgemm_blocked); });
    add("ladder_v4_packed", [](benchmark::State& s) { BM_ladder(s, gnm::ch02::sgemm_packed); });
    add("ladder_v5_threaded/threads:2", BM_ladder_threaded);
    for (int threads : {1, 2}) {
      const std::string t = "/threads:" + std::to_string(threads);
      for (const auto kernel : {gnm::cpu::CpuKernel::Avx512, gnm::cpu::CpuKernel::Avx2}) {
        if (!gnm::cpu::cpu_kernel_supported(kernel)) continue;
        const std::string name =
            kernel == gnm::cpu::CpuKernel::Avx512 ? "engine_avx512" : "engine_avx2";
        add(name + t, [kernel, threads](benchmark::State& s) { BM_engine(s, kernel, threads); });
      }
#if GNM_HAVE_OPENBLAS
      add("openblas_sgemm" + t, [threads](benchmark::State& s) { BM_openblas(s, threads); });
#endif
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // The kernel the engine picks by itself here (GNM_CPU_KERNEL / CPU), and each kernel's blocking.
  benchmark::AddCustomContext("engine_kernel", gnm::cpu::sgemm_config().kernel);
  for (const auto kernel : {gnm::cpu::CpuKernel::Avx512, gnm::cpu::CpuKernel::Avx2}) {
    if (!gnm::cpu::cpu_kernel_supported(kernel)) continue;
    const auto cfg = gnm::cpu::sgemm_config(kernel);
    benchmark::AddCustomContext(
        std::string("engine_") + cfg.kernel,
        std::to_string(cfg.mr) + "x" + std::to_string(cfg.nr) + " MC=" + std::to_string(cfg.mc) +
            " KC=" + std::to_string(cfg.kc) + " NC=" + std::to_string(cfg.nc));
  }
  benchmark::AddCustomContext("fma_peak_per_core_gflops", std::to_string(peak_per_core() * 1e-9));
  if (peak512_per_core() > 0.0) {
    benchmark::AddCustomContext("fma512_peak_per_core_gflops",
                                std::to_string(peak512_per_core() * 1e-9));
  }
#if GNM_HAVE_OPENBLAS
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
#endif
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
