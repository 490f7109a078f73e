// The FMA-throughput loop of gnm/cpu/peak.hpp: the AVX2 and portable loops, the closed form, and
// the dispatch (the AVX-512 loop is in peak_avx512.cpp, the one file built with -mavx512f).
#include "gnm/cpu/peak.hpp"

#include <chrono>
#include <cmath>
#include <string>

#include "gnm/core/check.hpp"
#include "gnm/core/error.hpp"
#include "peak_avx512.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define GNM_PEAK_AVX2 1
#else
#define GNM_PEAK_AVX2 0
#endif

namespace gnm::cpu {
namespace {

constexpr int kChains = 12;  // AVX2 and portable loops
constexpr int kLanes = 8;    // one ymm register of floats

// Start value of lane l of chain c for a loop with `lanes` lanes per chain: distinct multiples
// of 1/4 (exact), below 2^7 for both shapes.
float start_value(int c, int l, int lanes) { return static_cast<float>(c * lanes + l) * 0.25f; }

// Note [Enough chains]
// An FMA takes 4 cycles (Intel since Skylake, AMD Zen 3/4; 5 on Haswell) before its result can
// feed the next FMA, and a core starts up to 2 FMAs per cycle (two FMA ports). To keep both
// ports busy every cycle, 2 × 4 = 8 independent FMAs must be in flight (10 on Haswell). One
// accumulator would run at 1/8 of the peak: the loop would measure latency, not throughput. So the
// loop keeps 12 independent accumulators, each a 256-bit ymm register of 8 floats: enough for
// 2 ports × 6 cycles, and with the two constants 14 of the 16 ymm registers, so nothing spills
// to memory. Peak = 2 ports × 8 lanes × 2 FLOP (multiply and add) = 32 FLOP per cycle per core.
//
// Note [A checkable FMA loop]
// With a = 1 and b = 2^-10, each step x <- x * a + b adds exactly 2^-10: every value stays a
// multiple of 2^-10 below 2^14, which fp32 (24-bit significand) represents exactly, so after n
// steps every lane holds x0 + n * 2^-10 with no rounding at all. The checksum must equal that
// closed form bit for bit, which proves that the loop ran, ran n times, and was not folded away.
// The FMA units' throughput does not depend on the operand values (no denormals occur).
//! [fma_loop]
[[gnu::noinline]] double fma_loop_avx2(std::int64_t iterations, float a, float b) {
#if GNM_PEAK_AVX2
  alignas(32) float lanes[kChains][kLanes];
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) {
    for (int l = 0; l < kLanes; ++l) lanes[c][l] = start_value(c, l, kLanes);
    acc[c] = _mm256_load_ps(lanes[c]);
  }
  const __m256 va = _mm256_set1_ps(a);
  const __m256 vb = _mm256_set1_ps(b);
  for (std::int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], va, vb);
  }
  for (int c = 0; c < kChains; ++c) _mm256_store_ps(lanes[c], acc[c]);
  //! [fma_loop]
  double sum = 0;
  for (int c = 0; c < kChains; ++c)
    for (int l = 0; l < kLanes; ++l) sum += static_cast<double>(lanes[c][l]);
  return sum;
#else
  (void)iterations, (void)a, (void)b;
  return 0.0;  // never called: cpu_kernel_supported(Avx2) is false in builds without AVX2+FMA
#endif
}

// The same arithmetic in plain C++ (the compiler vectorises it as far as the target allows).
[[gnu::noinline]] double fma_loop_portable(std::int64_t iterations, float a, float b) {
  float lanes[kChains][kLanes];
  for (int c = 0; c < kChains; ++c)
    for (int l = 0; l < kLanes; ++l) lanes[c][l] = start_value(c, l, kLanes);
  for (std::int64_t i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c)
      for (int l = 0; l < kLanes; ++l) lanes[c][l] = std::fma(lanes[c][l], a, b);
  double sum = 0;
  for (int c = 0; c < kChains; ++c)
    for (int l = 0; l < kLanes; ++l) sum += static_cast<double>(lanes[c][l]);
  return sum;
}

void check_width(CpuKernel width) {
  GNM_CHECK(width != CpuKernel::Auto,
            "the FMA loop needs a width (Portable, Avx2 or Avx512), not CpuKernel::Auto");
}

void check_iterations(std::int64_t iterations) {
  GNM_CHECK(iterations >= 1 && iterations <= kFmaLoopMaxIterations,
            "FMA loop iterations must be in [1, 2^23] for the closed-form check", iterations);
}

}  // namespace

FmaLoopShape fma_loop_shape(CpuKernel width) {
  check_width(width);
  if (width == CpuKernel::Avx512) return {detail::kFma512Chains, detail::kFma512Lanes};
  return {kChains, kLanes};
}

double fma_loop_expected(CpuKernel width, std::int64_t iterations) {
  check_iterations(iterations);
  const FmaLoopShape s = fma_loop_shape(width);
  double sum = 0;
  for (int c = 0; c < s.chains; ++c)
    for (int l = 0; l < s.lanes; ++l)
      sum += static_cast<double>(start_value(c, l, s.lanes)) +
             static_cast<double>(iterations) * 0x1p-10;
  return sum;
}

FmaRun run_fma_loop(CpuKernel width, std::int64_t iterations) {
  const double expected = fma_loop_expected(width, iterations);  // checks width and iterations
  if (width == CpuKernel::Avx512 && !detail::kHaveAvx512FmaLoop) {
    throw NotImplemented("the avx512 FMA loop cannot run here: this build did not compile it",
                         __FILE__, __LINE__);
  }
  if (!cpu_kernel_supported(width)) {
    // sgemm_config() names what is missing (CPUID, XCR0 or the build); reuse its reason.
    std::string why = "(unknown)";
    try {
      (void)sgemm_config(width);
    } catch (const NotImplemented& e) {
      why = e.what();
    }
    throw NotImplemented(std::string("the ") + cpu_kernel_name(width) +
                             " FMA loop cannot run here: " + why,
                         __FILE__, __LINE__);
  }
  // Read through volatile so the compiler cannot see a = 1 and turn the FMA into an add.
  volatile float a_in = 1.0f;
  volatile float b_in = 0x1p-10f;
  const float a = a_in;
  const float b = b_in;
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  double sum = 0;
  switch (width) {
    case CpuKernel::Avx512: sum = detail::fma_loop_avx512(iterations, a, b); break;
    case CpuKernel::Avx2: sum = fma_loop_avx2(iterations, a, b); break;
    default: sum = fma_loop_portable(iterations, a, b); break;
  }
  const auto t1 = Clock::now();
  const FmaLoopShape s = fma_loop_shape(width);
  FmaRun r;
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  r.flops = static_cast<double>(iterations) * s.chains * s.lanes * 2.0;
  r.checksum = sum;
  r.expected = expected;
  r.checksum_ok = sum == expected;
  return r;
}

}  // namespace gnm::cpu
