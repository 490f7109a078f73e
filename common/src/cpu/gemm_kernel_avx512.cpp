// The AVX-512 register micro-kernel of the engine's SGEMM: one 14×32 tile of C from a packed
// kc×14 micro-panel of A and a packed kc×32 micro-panel of B (Note [Micro-kernel shape 14×32] in
// gemm_internal.hpp). Peak is 2 FMA ports × 16 lanes × 2 FLOPs = 64 FLOPs per cycle per core,
// twice the AVX2 kernel's.
//
// This file alone is compiled with -mavx512f (common/CMakeLists.txt) and runs only after
// gemm_select.cpp has seen AVX-512F in CPUID and the ZMM state enabled by the OS in XCR0. It
// includes nothing but <cstdint>, <immintrin.h> and its own declarations (see gemm_avx512.hpp for
// why), and every helper is in an anonymous namespace so that no AVX-512 code can be merged into
// functions that other files call.
#include "gemm_avx512.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>

namespace gnm::cpu::detail {
namespace {

constexpr std::int64_t kRows = 14;  // kMR512
constexpr std::int64_t kCols = 32;  // kNR512: two zmm vectors

// C row = alpha · acc + beta · C row (beta == 0: C is not read, so NaN there does not survive).
inline void store_row(float* c, __m512 acc0, __m512 acc1, __m512 alpha, float beta) {
  acc0 = _mm512_mul_ps(acc0, alpha);
  acc1 = _mm512_mul_ps(acc1, alpha);
  if (beta != 0.0f) {
    const __m512 vb = _mm512_set1_ps(beta);
    acc0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(c), acc0);
    acc1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + 16), acc1);
  }
  _mm512_storeu_ps(c, acc0);
  _mm512_storeu_ps(c + 16, acc1);
}

}  // namespace

extern const bool kHaveAvx512Kernel = true;

void micro_kernel_avx512(std::int64_t kc, const float* a, const float* b, float* c,
                         std::int64_t ldc, float alpha, float beta) {
  // Touch the C tile now so that its lines arrive while the FMAs run (it is read at the end).
  for (std::int64_t r = 0; r < kRows; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 31), _MM_HINT_T0);
  }
  // 28 accumulators; fully unrolled loops over constant indices keep them in registers.
  __m512 acc0[kRows], acc1[kRows];
#pragma GCC unroll 14
  for (std::int64_t r = 0; r < kRows; ++r) {
    acc0[r] = _mm512_setzero_ps();
    acc1[r] = _mm512_setzero_ps();
  }
  //! [engine_micro_kernel]
  // One step k: a row of 32 from B (two aligned loads), then for each of the 14 rows one element
  // of A broadcast (folded into the FMA as a {1to16} memory operand) and two independent FMAs.
#pragma GCC unroll 2
  for (std::int64_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = _mm512_load_ps(b + 16);
    // Prefetch B's next lines ~4 steps ahead: the panel is in L1 or L2; this hides L2 latency.
    _mm_prefetch(reinterpret_cast<const char*>(b + 4 * kCols), _MM_HINT_T0);
#pragma GCC unroll 14
    for (std::int64_t r = 0; r < kRows; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      acc0[r] = _mm512_fmadd_ps(ar, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(ar, b1, acc1[r]);
    }
    a += kRows;
    b += kCols;
  }
  //! [engine_micro_kernel]
  const __m512 va = _mm512_set1_ps(alpha);
#pragma GCC unroll 14
  for (std::int64_t r = 0; r < kRows; ++r) store_row(c + r * ldc, acc0[r], acc1[r], va, beta);
}

}  // namespace gnm::cpu::detail

#else  // not compiled for AVX-512 (another architecture or compiler): never selected

namespace gnm::cpu::detail {

extern const bool kHaveAvx512Kernel = false;

void micro_kernel_avx512(std::int64_t, const float*, const float*, float*, std::int64_t, float,
                         float) {}

}  // namespace gnm::cpu::detail

#endif
