// Section 1.1 and 1.3 measurements: their correctness checks, never their speed.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cpu/gemm.hpp"
#include "gnm/cpu/peak.hpp"
#include "limits.hpp"
#include "machine_peak.hpp"

using namespace gnm::ch01;

TEST(MachinePeak, FmaPeakChecksEveryThreadForEveryWidth) {
  using gnm::cpu::CpuKernel;
  for (CpuKernel w : {CpuKernel::Portable, CpuKernel::Avx2, CpuKernel::Avx512}) {
    if (!gnm::cpu::cpu_kernel_supported(w)) {
      // Refused before any thread starts, with the engine's reason.
      EXPECT_THROW(measure_fma_peak(w, 2, 2048, 1), gnm::NotImplemented);
      continue;
    }
    const FmaResult r = measure_fma_peak(w, 2, 2048, 2);
    EXPECT_TRUE(r.exact) << gnm::cpu::cpu_kernel_name(w);
    EXPECT_EQ(r.checksum, gnm::cpu::fma_loop_expected(w, 2048));
    EXPECT_EQ(r.expected, r.checksum);
    EXPECT_EQ(r.width, w);
    EXPECT_GT(r.best_gflops, 0);
  }
  EXPECT_THROW(measure_fma_peak(CpuKernel::Portable, 1, gnm::cpu::kFmaLoopMaxIterations + 1, 1),
               gnm::Error);
  EXPECT_THROW(measure_fma_peak(CpuKernel::Portable, 1, 0, 1), gnm::Error);
  EXPECT_THROW(measure_fma_peak(CpuKernel::Portable, 0, 16, 1), gnm::Error);
  EXPECT_THROW(measure_fma_peak(CpuKernel::Auto, 1, 16, 1), gnm::Error);
}

TEST(MachinePeak, TriadFillsEveryElementOnAnySplit) {
  for (int threads : {1, 2, 3}) {
    const TriadResult r = measure_triad(threads, 10007, 2);  // prime: uneven chunks
    EXPECT_TRUE(r.values_ok) << threads << " threads, first bad index " << r.first_bad;
    EXPECT_GT(r.best_gbps, 0);
  }
  EXPECT_THROW(measure_triad(4, 16, 1), gnm::Error);  // fewer than 8 elements per thread
}

TEST(MachinePeak, RunTimedRunsEveryThreadEveryRep) {
  std::vector<int> runs(3, 0);
  const auto seconds = run_timed(3, 4, [&](int t) { ++runs[static_cast<std::size_t>(t)]; });
  EXPECT_EQ(seconds.size(), 4u);
  EXPECT_EQ(runs, (std::vector<int>{4, 4, 4}));
  EXPECT_THROW(run_timed(0, 1, [](int) {}), gnm::Error);
}

TEST(Limits, AmdahlAndKarpFlatt) {
  EXPECT_DOUBLE_EQ(amdahl_speedup(0, 8), 8);
  EXPECT_DOUBLE_EQ(amdahl_speedup(1, 8), 1);
  EXPECT_NEAR(amdahl_speedup(0.1, 10), 1 / 0.19, 1e-12);
  // Karp-Flatt inverts Amdahl: the speed-up Amdahl predicts gives back its serial fraction.
  for (double f : {0.0, 0.05, 0.5}) {
    EXPECT_NEAR(karp_flatt(amdahl_speedup(f, 4), 4), f, 1e-12);
  }
}

TEST(Limits, CrossoverIsWhereParallelStaysFaster) {
  std::vector<ScalingRow> rows = {
      {256, 1, 50, 5, true},  {1024, 4, 50, 5, true},   {4096, 16, 50, 10, true},
      {16384, 64, 60, 30, true}, {65536, 256, 300, 130, true}, {262144, 1024, 520, 515, true},
  };
  EXPECT_EQ(crossover_n(rows, /*pool=*/true), 4096);
  EXPECT_EQ(crossover_n(rows, /*pool=*/false), 262144);  // 16384 wins once, then loses again
  rows.back().spawn_us = 2000;
  EXPECT_EQ(crossover_n(rows, false), -1);
}

TEST(Limits, PolyKernelAgainstDoubleAndThreadsAgreeBitForBit) {
  std::vector<float> x(1001), y(1001);
  gnm::fill_uniform(x, 5, -1.0f, 1.0f);
  poly_kernel(x.data(), y.data(), 0, 1001);
  // Horner in fp32 with |x| <= 1 and positive coefficients 1/(j+1): each of the 31 steps rounds
  // twice at most, so |error| <= 2 * 31 * 2^-24 * sum(1/(j+1)) (about 4.06 for 32 terms).
  const double sum_c = 4.06;
  const double tol = 2 * kPolyDegree * 0x1p-24 * sum_c;
  for (std::size_t i = 0; i < x.size(); ++i) {
    double ref = 1.0 / (kPolyDegree + 1);
    const auto xi = static_cast<double>(x[i]);
    for (int j = kPolyDegree - 1; j >= 0; --j) ref = ref * xi + 1.0 / (j + 1);
    ASSERT_NEAR(y[i], ref, tol) << "x = " << x[i];
  }
  const auto rows = measure_scaling(2, 1024, 0.001);
  ASSERT_EQ(rows.size(), 2u);  // 256 and 1024
  for (const auto& r : rows) EXPECT_TRUE(r.identical) << r.n;
  EXPECT_THROW(measure_scaling(1, 1024, 0.001), gnm::Error);
}
