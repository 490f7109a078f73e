// ch04_bench: d = a·x + b·y + c four ways, on the same data, n = 10^3 … 10^7 (section 4.5).
//
//   cmake --build build --target ch04_bench
//   build/chapters/ch04_cpp_numerics/ch04_bench
//   build/chapters/ch04_cpp_numerics/ch04_bench --benchmark_filter='/1000000$'   # one size
//
//   hand    one hand-written loop                           12 bytes per element
//   lazy    the chapter's expression templates (ex 4.4)     12 bytes per element
//   eigen   Eigen's expression templates (Eigen::ArrayXf)   12 bytes per element
//   naive   operators that each return a new vector         36 bytes per element + 4 allocations
//
// Counters: GB/s counts the 12 bytes per element that any of the four must move (so a lower
// figure means wasted traffic, not more work), and allocs/iter the heap allocations of one
// evaluation. At each size the four run one after the other, so they see the same machine state.
#include <benchmark/benchmark.h>

#include "gnm/core/timer.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gnm/core/aligned_buffer.hpp"
#include "gnm/core/random.hpp"
#include "lazy_expr.hpp"

#if GNM_CH04_HAVE_EIGEN
#include <Eigen/Core>
#endif

namespace {

constexpr float kA = 0.5f, kB = -1.25f, kC = 0.125f;

struct Data {
  gnm::AlignedBuffer<float> x, y, d;
  gnm::ch04::NaiveVec nx, ny;
  explicit Data(std::size_t n) : x(n), y(n), d(n) {
    gnm::fill_uniform(x.span(), 1, -1.0f, 1.0f);
    gnm::fill_uniform(y.span(), 2, -1.0f, 1.0f);
    for (float& v : d.span()) v = 0.0f;
    nx = gnm::ch04::NaiveVec(x.span());
    ny = gnm::ch04::NaiveVec(y.span());
  }
};

Data& data(std::size_t n) {
  static std::map<std::size_t, std::unique_ptr<Data>> cache;
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<Data>(n);
  return *slot;
}

// Wall-clock seconds of the timed loop, measured around it, so that GB/s is a plain number over
// real time (Google Benchmark's own rates divide by CPU time, which on a shared machine is not
// the time the work took).
using LoopTimer = gnm::HostTimer;

void set_counters(benchmark::State& state, const LoopTimer& timer, std::size_t n,
                  std::int64_t allocations) {
  const auto iters = static_cast<double>(state.iterations());
  state.counters["GB/s"] = 12.0 * static_cast<double>(n) * iters / (timer.elapsed_ms() * 1e-3) * 1e-9;
  state.counters["allocs/iter"] = static_cast<double>(allocations) / iters;
}

void BM_hand(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Data& v = data(n);
  const LoopTimer timer;
  for (auto _ : state) {
    gnm::ch04::axpbyc_hand(kA, v.x.span(), kB, v.y.span(), kC, v.d.span());
    benchmark::DoNotOptimize(v.d.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, n, 0);
}

void BM_lazy(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Data& v = data(n);
  const LoopTimer timer;
  for (auto _ : state) {
    gnm::ch04::axpbyc_lazy(kA, v.x.span(), kB, v.y.span(), kC, v.d.span());
    benchmark::DoNotOptimize(v.d.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, n, 0);
}

#if GNM_CH04_HAVE_EIGEN
void BM_eigen(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Data& v = data(n);
  const auto len = static_cast<Eigen::Index>(n);
  const Eigen::Map<const Eigen::ArrayXf, Eigen::Aligned64> x(v.x.data(), len), y(v.y.data(), len);
  Eigen::Map<Eigen::ArrayXf, Eigen::Aligned64> d(v.d.data(), len);
  const LoopTimer timer;
  for (auto _ : state) {
    d = kA * x + kB * y + kC;  // Eigen builds the same kind of expression tree
    benchmark::DoNotOptimize(v.d.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, n, 0);
}
#endif

void BM_naive(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Data& v = data(n);
  const std::int64_t before = gnm::ch04::NaiveVec::allocations();
  gnm::ch04::NaiveVec d;
  const LoopTimer timer;
  for (auto _ : state) {
    d = gnm::ch04::axpbyc_naive(kA, v.nx, kB, v.ny, kC);
    benchmark::DoNotOptimize(d[0]);
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, n, gnm::ch04::NaiveVec::allocations() - before);
}

void register_all() {
  for (std::int64_t n : {1000, 10000, 100000, 1000000, 10000000}) {
    benchmark::RegisterBenchmark("hand", BM_hand)->Arg(n)->UseRealTime()->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("lazy", BM_lazy)->Arg(n)->UseRealTime()->Unit(benchmark::kMicrosecond);
#if GNM_CH04_HAVE_EIGEN
    benchmark::RegisterBenchmark("eigen", BM_eigen)->Arg(n)->UseRealTime()->Unit(benchmark::kMicrosecond);
#endif
    benchmark::RegisterBenchmark("naive", BM_naive)->Arg(n)->UseRealTime()->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("expression", "d = a*x + b*y + c (fp32)");
#if GNM_CH04_HAVE_EIGEN
  benchmark::AddCustomContext("eigen", std::to_string(EIGEN_WORLD_VERSION) + "." +
                                           std::to_string(EIGEN_MAJOR_VERSION) + "." +
                                           std::to_string(EIGEN_MINOR_VERSION));
#endif
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
