// The AVX-512 FMA-throughput loop (gnm/cpu/peak.hpp): 24 independent zmm accumulators. Peak is
// 2 FMA ports × 16 lanes × 2 FLOPs = 64 FLOPs per cycle per core on CPUs with two 512-bit FMA
// units (one port on some Xeon Silver/Bronze parts, which then measure half of that).
//
// Like gemm_kernel_avx512.cpp, this file alone (with that one) is compiled with -mavx512f
// (common/CMakeLists.txt), is called only after the CPUID/XCR0 check of gemm_select.cpp
// (cpu_kernel_supported(CpuKernel::Avx512)), includes nothing but <cstdint>, <immintrin.h> and
// its own declarations, and keeps its helpers in an anonymous namespace.
#include "peak_avx512.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>

namespace gnm::cpu::detail {
namespace {

// Start value of chain c, lane l: distinct multiples of 1/4, all below 2^7.
float start_value(int c, int l) { return static_cast<float>(c * kFma512Lanes + l) * 0.25f; }

}  // namespace

extern const bool kHaveAvx512FmaLoop = true;

// Note [Enough chains, 512 bits]: the latency is still 4 cycles and there are still two ports,
// so 8 chains in flight would do; 24 (of 32 zmm registers, plus the two constants) leaves
// margin for cores with longer latency, as the AVX2 loop's 12 of 16 ymm registers do.
//! [fma_loop_avx512]
[[gnu::noinline]] double fma_loop_avx512(std::int64_t iterations, float a, float b) {
  __m512 acc[kFma512Chains];
  alignas(64) float lanes[kFma512Chains][kFma512Lanes];
  for (int c = 0; c < kFma512Chains; ++c) {
    for (int l = 0; l < kFma512Lanes; ++l) lanes[c][l] = start_value(c, l);
    acc[c] = _mm512_load_ps(lanes[c]);
  }
  const __m512 va = _mm512_set1_ps(a);
  const __m512 vb = _mm512_set1_ps(b);
  for (std::int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 24
    for (int c = 0; c < kFma512Chains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], va, vb);
  }
  for (int c = 0; c < kFma512Chains; ++c) _mm512_store_ps(lanes[c], acc[c]);
  //! [fma_loop_avx512]
  double sum = 0;
  for (int c = 0; c < kFma512Chains; ++c)
    for (int l = 0; l < kFma512Lanes; ++l) sum += static_cast<double>(lanes[c][l]);
  return sum;
}

}  // namespace gnm::cpu::detail

#else  // not compiled for AVX-512 (another architecture or compiler): never called

namespace gnm::cpu::detail {

extern const bool kHaveAvx512FmaLoop = false;

double fma_loop_avx512(std::int64_t, float, float) { return 0.0; }

}  // namespace gnm::cpu::detail

#endif
