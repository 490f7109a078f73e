// The 6×16 register micro-kernels of the engine's SGEMM: one 6×16 tile of C from a packed kc×6
// micro-panel of A and a packed kc×16 micro-panel of B (see Note [Micro-kernel shape 6×16]).
// The AVX2/FMA one when the build targets AVX2 (x86-64-v3), and a portable one always (the
// fallback elsewhere, and a reference that GNM_CPU_KERNEL=portable selects). The AVX-512 kernel
// lives in gemm_kernel_avx512.cpp.
//
// The whole tile of C lives in 12 ymm registers for the kc steps; memory is touched only by the
// two sequential panel streams (A from L2, B from L1) and, once at the end, by C. Peak is
// 2 FMA ports × 8 lanes × 2 FLOPs = 32 FLOPs per cycle per core.

#include "gemm_internal.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define GNM_GEMM_AVX2 1
#else
#define GNM_GEMM_AVX2 0
#endif

namespace gnm::cpu::detail {

#if GNM_GEMM_AVX2

extern const bool kHaveAvx2Kernel = true;

namespace {

// Writes one row of the tile: C = alpha · acc + beta · C (beta == 0: C is not read).
inline void store_row(float* c, __m256 acc0, __m256 acc1, __m256 alpha, float beta) {
  acc0 = _mm256_mul_ps(acc0, alpha);
  acc1 = _mm256_mul_ps(acc1, alpha);
  if (beta != 0.0f) {
    const __m256 vb = _mm256_set1_ps(beta);
    acc0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), acc0);
    acc1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), acc1);
  }
  _mm256_storeu_ps(c, acc0);
  _mm256_storeu_ps(c + 8, acc1);
}

}  // namespace

void micro_kernel_avx2(std::int64_t kc, const float* a, const float* b, float* c,
                       std::int64_t ldc, float alpha, float beta) {
  // Touch the C tile now so that its lines arrive while the FMAs run (it is read at the end).
  for (std::int64_t r = 0; r < kMR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 15), _MM_HINT_T0);
  }
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  // One step: a row of 16 from B, six broadcasts from A, twelve independent FMAs.
#pragma GCC unroll 4
  for (std::int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
    __m256 ai = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(ai, b0, c00);
    c01 = _mm256_fmadd_ps(ai, b1, c01);
    ai = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ai, b0, c10);
    c11 = _mm256_fmadd_ps(ai, b1, c11);
    ai = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ai, b0, c20);
    c21 = _mm256_fmadd_ps(ai, b1, c21);
    ai = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ai, b0, c30);
    c31 = _mm256_fmadd_ps(ai, b1, c31);
    ai = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ai, b0, c40);
    c41 = _mm256_fmadd_ps(ai, b1, c41);
    ai = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ai, b0, c50);
    c51 = _mm256_fmadd_ps(ai, b1, c51);
    a += kMR;
    b += kNR;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  store_row(c + 0 * ldc, c00, c01, va, beta);
  store_row(c + 1 * ldc, c10, c11, va, beta);
  store_row(c + 2 * ldc, c20, c21, va, beta);
  store_row(c + 3 * ldc, c30, c31, va, beta);
  store_row(c + 4 * ldc, c40, c41, va, beta);
  store_row(c + 5 * ldc, c50, c51, va, beta);
}

#else

extern const bool kHaveAvx2Kernel = false;

void micro_kernel_avx2(std::int64_t, const float*, const float*, float*, std::int64_t, float,
                       float) {}  // never selected: kHaveAvx2Kernel is false

#endif

// Portable: same packed layout, plain loops the compiler may vectorise.
void micro_kernel_portable(std::int64_t kc, const float* a, const float* b, float* c,
                           std::int64_t ldc, float alpha, float beta) {
  float acc[kMR][kNR] = {};
  for (std::int64_t p = 0; p < kc; ++p) {
    for (std::int64_t i = 0; i < kMR; ++i) {
      const float ai = a[p * kMR + i];
      for (std::int64_t j = 0; j < kNR; ++j) acc[i][j] += ai * b[p * kNR + j];
    }
  }
  for (std::int64_t i = 0; i < kMR; ++i) {
    for (std::int64_t j = 0; j < kNR; ++j) {
      float& cij = c[i * ldc + j];
      cij = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * cij;
    }
  }
}

}  // namespace gnm::cpu::detail
