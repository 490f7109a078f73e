// The FMA-throughput loop (gnm/cpu/peak.hpp): its closed-form checksum for every width this CPU
// supports, its refusals. Never its speed.
#include <gtest/gtest.h>

#include <cstdint>

#include "gnm/core/error.hpp"
#include "gnm/cpu/gemm.hpp"
#include "gnm/cpu/peak.hpp"

using gnm::cpu::CpuKernel;

namespace {

constexpr CpuKernel kWidths[] = {CpuKernel::Portable, CpuKernel::Avx2, CpuKernel::Avx512};

}  // namespace

TEST(FmaLoop, ChecksumIsExactForEverySupportedWidth) {
  int ran = 0;
  for (CpuKernel w : kWidths) {
    if (!gnm::cpu::cpu_kernel_supported(w)) continue;
    ++ran;
    const gnm::cpu::FmaLoopShape s = gnm::cpu::fma_loop_shape(w);
    // Odd counts, and the largest for which the closed form holds (lanes reach just below 2^14).
    for (std::int64_t n : {std::int64_t{1}, std::int64_t{7}, std::int64_t{1001},
                           gnm::cpu::kFmaLoopMaxIterations}) {
      const gnm::cpu::FmaRun r = gnm::cpu::run_fma_loop(w, n);
      EXPECT_TRUE(r.checksum_ok) << gnm::cpu::cpu_kernel_name(w) << " n = " << n;
      EXPECT_EQ(r.checksum, gnm::cpu::fma_loop_expected(w, n));
      EXPECT_EQ(r.expected, gnm::cpu::fma_loop_expected(w, n));
      // Not vacuous: one step more or less changes every lane by 2^-10.
      if (n > 1) {
        EXPECT_NE(r.checksum, gnm::cpu::fma_loop_expected(w, n - 1));
      }
      EXPECT_EQ(r.flops, static_cast<double>(n) * s.chains * s.lanes * 2.0);
      EXPECT_GE(r.seconds, 0.0);
    }
  }
  EXPECT_GE(ran, 1);  // Portable runs everywhere
}

TEST(FmaLoop, ShapesAndClosedForm) {
  EXPECT_EQ(gnm::cpu::fma_loop_shape(CpuKernel::Avx2).chains, 12);
  EXPECT_EQ(gnm::cpu::fma_loop_shape(CpuKernel::Avx2).lanes, 8);
  EXPECT_EQ(gnm::cpu::fma_loop_shape(CpuKernel::Avx512).chains, 24);
  EXPECT_EQ(gnm::cpu::fma_loop_shape(CpuKernel::Avx512).lanes, 16);
  // AVX2: start values 0, 0.25, ..., 23.75 sum to 0.25 · (95 · 96 / 2) = 1140; each of the 96
  // lanes then gains 1024 · 2^-10 = 1.
  EXPECT_EQ(gnm::cpu::fma_loop_expected(CpuKernel::Avx2, 1024), 1140.0 + 96.0);
  // AVX-512: 384 lanes starting at 0.25 · (383 · 384 / 2) = 18384 in all.
  EXPECT_EQ(gnm::cpu::fma_loop_expected(CpuKernel::Avx512, 1024), 18384.0 + 384.0);
}

TEST(FmaLoop, UnsupportedWidthIsNotImplemented) {
  int refused = 0;
  for (CpuKernel w : kWidths) {
    if (gnm::cpu::cpu_kernel_supported(w)) continue;
    ++refused;
    EXPECT_THROW(gnm::cpu::run_fma_loop(w, 16), gnm::NotImplemented)
        << gnm::cpu::cpu_kernel_name(w);
    // The closed form does not need the CPU.
    EXPECT_GT(gnm::cpu::fma_loop_expected(w, 16), 0.0);
  }
  if (refused == 0) GTEST_SKIP() << "this CPU supports every width";
}

TEST(FmaLoop, BadArgumentsAreErrors) {
  EXPECT_THROW(gnm::cpu::run_fma_loop(CpuKernel::Portable, 0), gnm::Error);
  EXPECT_THROW(gnm::cpu::run_fma_loop(CpuKernel::Portable, -5), gnm::Error);
  EXPECT_THROW(gnm::cpu::run_fma_loop(CpuKernel::Portable, gnm::cpu::kFmaLoopMaxIterations + 1),
               gnm::Error);
  EXPECT_THROW(gnm::cpu::run_fma_loop(CpuKernel::Auto, 16), gnm::Error);
  EXPECT_THROW(gnm::cpu::fma_loop_shape(CpuKernel::Auto), gnm::Error);
  EXPECT_THROW(gnm::cpu::fma_loop_expected(CpuKernel::Avx2, 0), gnm::Error);
}
