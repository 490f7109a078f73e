// The GEMM ladder, v1 … v5 (task statements in exercises/ch02/gemm_ladder.hpp). Every version
// computes C += A · B on row-major matrices; chapter 2 times them side by side (ch02_bench).
#include "gemm_ladder.hpp"

#include <algorithm>

#include "gnm/core/aligned_buffer.hpp"
#include "gnm/core/check.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace gnm::ch02 {
namespace {

// The shared argument check of every version (given code, not part of the exercises).
void check_args(const char* version, std::int64_t M, std::int64_t N, std::int64_t K,
                std::int64_t lda, std::int64_t ldb, std::int64_t ldc) {
  GNM_CHECK_SHAPE(M >= 0 && N >= 0 && K >= 0, "GEMM dimensions must be non-negative", version, M,
                  N, K);
  GNM_CHECK_SHAPE(lda >= std::max<std::int64_t>(1, K), "lda is smaller than a row of A (M x K)",
                  version, lda, M, K);
  GNM_CHECK_SHAPE(ldb >= std::max<std::int64_t>(1, N), "ldb is smaller than a row of B (K x N)",
                  version, ldb, K, N);
  GNM_CHECK_SHAPE(ldc >= std::max<std::int64_t>(1, N), "ldc is smaller than a row of C (M x N)",
                  version, ldc, M, N);
}

}  // namespace

//! [naive]
void sgemm_naive(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda,
                 const float* B, std::int64_t ldb, float* C, std::int64_t ldc) {
  check_args("sgemm_naive", M, N, K, lda, ldb, ldc);
  for (std::int64_t i = 0; i < M; ++i) {
    for (std::int64_t j = 0; j < N; ++j) {
      float sum = 0.0f;
      for (std::int64_t k = 0; k < K; ++k) sum += A[i * lda + k] * B[k * ldb + j];  // B: stride ldb
      C[i * ldc + j] += sum;
    }
  }
}
//! [naive]

//! [ikj]
void sgemm_ikj(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda,
               const float* B, std::int64_t ldb, float* C, std::int64_t ldc) {
  check_args("sgemm_ikj", M, N, K, lda, ldb, ldc);
  // BEGIN SOLUTION("ex 2.3", "for each row i and each k, add A[i][k] times row k of B to row i of C: the inner j loop is contiguous")
  for (std::int64_t i = 0; i < M; ++i) {
    float* c_row = C + i * ldc;
    for (std::int64_t k = 0; k < K; ++k) {
      const float a = A[i * lda + k];
      const float* b_row = B + k * ldb;
      for (std::int64_t j = 0; j < N; ++j) c_row[j] += a * b_row[j];  // unit stride: 8-wide FMAs
    }
  }
  // END SOLUTION
}
//! [ikj]

//! [jki]
void sgemm_jki(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda,
               const float* B, std::int64_t ldb, float* C, std::int64_t ldc) {
  check_args("sgemm_jki", M, N, K, lda, ldb, ldc);
  // BEGIN SOLUTION("ex 2.3", "for each column j and each k, add B[k][j] times column k of A to column j of C: the inner i loop strides by lda and ldc")
  for (std::int64_t j = 0; j < N; ++j) {
    for (std::int64_t k = 0; k < K; ++k) {
      const float b = B[k * ldb + j];
      for (std::int64_t i = 0; i < M; ++i) C[i * ldc + j] += A[i * lda + k] * b;  // two strides
    }
  }
  // END SOLUTION
}
//! [jki]

//! [blocked]
void sgemm_blocked(std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
                   std::int64_t lda, const float* B, std::int64_t ldb, float* C, std::int64_t ldc) {
  check_args("sgemm_blocked", M, N, K, lda, ldb, ldc);
  // BEGIN SOLUTION("ex 2.3", "loop over blocks (j0 by kBlockN, k0 by kBlockK, i0 by kBlockM), and run the ikj loops inside each block, clipping the last block with std::min")
  for (std::int64_t j0 = 0; j0 < N; j0 += kBlockN) {
    const std::int64_t j1 = std::min(j0 + kBlockN, N);
    for (std::int64_t k0 = 0; k0 < K; k0 += kBlockK) {
      const std::int64_t k1 = std::min(k0 + kBlockK, K);
      // The block B[k0:k1, j0:j1] (256 KiB) now stays in L2 for all M rows.
      for (std::int64_t i0 = 0; i0 < M; i0 += kBlockM) {
        const std::int64_t i1 = std::min(i0 + kBlockM, M);
        for (std::int64_t i = i0; i < i1; ++i) {
          float* c_row = C + i * ldc;
          for (std::int64_t k = k0; k < k1; ++k) {
            const float a = A[i * lda + k];
            const float* b_row = B + k * ldb;
            for (std::int64_t j = j0; j < j1; ++j) c_row[j] += a * b_row[j];
          }
        }
      }
    }
  }
  // END SOLUTION
}
//! [blocked]

//! [pack]
void pack_a(std::int64_t mc, std::int64_t kc, const float* A, std::int64_t lda, float* dst) {
  // BEGIN SOLUTION("ex 2.4", "for each micro-panel of kMR rows and each p, write the kMR values A[r][p] one after the other; rows past mc are 0")
  for (std::int64_t r0 = 0; r0 < mc; r0 += kMR) {
    float* panel = dst + r0 * kc;  // micro-panel r0 / kMR, kc × kMR floats
    for (std::int64_t p = 0; p < kc; ++p) {
      for (std::int64_t i = 0; i < kMR; ++i) {
        panel[p * kMR + i] = r0 + i < mc ? A[(r0 + i) * lda + p] : 0.0f;
      }
    }
  }
  // END SOLUTION
}

void pack_b(std::int64_t kc, std::int64_t nc, const float* B, std::int64_t ldb, float* dst) {
  // BEGIN SOLUTION("ex 2.4", "for each micro-panel of kNR columns and each p, copy the kNR values of row p; columns past nc are 0")
  for (std::int64_t j0 = 0; j0 < nc; j0 += kNR) {
    float* panel = dst + j0 * kc;  // micro-panel j0 / kNR, kc × kNR floats
    for (std::int64_t p = 0; p < kc; ++p) {
      for (std::int64_t j = 0; j < kNR; ++j) {
        panel[p * kNR + j] = j0 + j < nc ? B[p * ldb + j0 + j] : 0.0f;
      }
    }
  }
  // END SOLUTION
}
//! [pack]

//! [micro_kernel]
void micro_kernel_6x16(std::int64_t kc, const float* a, const float* b, float* C,
                       std::int64_t ldc, std::int64_t mr, std::int64_t nr) {
  // BEGIN SOLUTION("ex 2.4", "keep the 6x16 tile in 12 __m256 accumulators; per p: load two vectors of b, broadcast each of the 6 values of a, 12 FMAs; then add the tile to C (only mr x nr of it at an edge)")
  alignas(32) float tile[kMR * kNR];
#if defined(__AVX2__) && defined(__FMA__)
  // 12 accumulators + 2 vectors of B + 1 broadcast of A = 15 of the 16 ymm registers.
  // Every loop over i is fully unrolled (the pragma), so the compiler can keep acc[i][*] in
  // registers; a loop it left rolled would force the array into memory.
  __m256 acc[kMR][2];
#pragma GCC unroll 6
  for (std::int64_t i = 0; i < kMR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (std::int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b + p * kNR);
    const __m256 b1 = _mm256_load_ps(b + p * kNR + 8);
#pragma GCC unroll 6
    for (std::int64_t i = 0; i < kMR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + p * kMR + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  if (mr == kMR && nr == kNR) {  // a full tile: add straight into C
#pragma GCC unroll 6
    for (std::int64_t i = 0; i < kMR; ++i) {
      float* c = C + i * ldc;
      _mm256_storeu_ps(c, _mm256_add_ps(_mm256_loadu_ps(c), acc[i][0]));
      _mm256_storeu_ps(c + 8, _mm256_add_ps(_mm256_loadu_ps(c + 8), acc[i][1]));
    }
    return;
  }
#pragma GCC unroll 6
  for (std::int64_t i = 0; i < kMR; ++i) {
    _mm256_store_ps(tile + i * kNR, acc[i][0]);
    _mm256_store_ps(tile + i * kNR + 8, acc[i][1]);
  }
#else
  // Portable version: the same arithmetic in plain loops.
  std::fill(tile, tile + kMR * kNR, 0.0f);
  for (std::int64_t p = 0; p < kc; ++p) {
    for (std::int64_t i = 0; i < kMR; ++i) {
      for (std::int64_t j = 0; j < kNR; ++j) tile[i * kNR + j] += a[p * kMR + i] * b[p * kNR + j];
    }
  }
#endif
  // Edge tile (or portable build): only the mr × nr part belongs to C.
  for (std::int64_t i = 0; i < mr; ++i) {
    for (std::int64_t j = 0; j < nr; ++j) C[i * ldc + j] += tile[i * kNR + j];
  }
  // END SOLUTION
}
//! [micro_kernel]

namespace {

// C[0:mc, 0:nc] += packed A block (mc × kc) · packed B panel (kc × nc), tile by tile.
void macro_kernel(std::int64_t mc, std::int64_t nc, std::int64_t kc, const float* packed_a,
                  const float* packed_b, float* C, std::int64_t ldc) {
  for (std::int64_t j = 0; j < nc; j += kNR) {  // the B micro-panel stays in L1 …
    for (std::int64_t i = 0; i < mc; i += kMR) {  // … while the A micro-panels stream from L2
      micro_kernel_6x16(kc, packed_a + i * kc, packed_b + j * kc, C + i * ldc + j, ldc,
                        std::min(kMR, mc - i), std::min(kNR, nc - j));
    }
  }
}

std::int64_t round_up(std::int64_t x, std::int64_t m) { return (x + m - 1) / m * m; }

}  // namespace

//! [packed]
void sgemm_packed(std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
                  std::int64_t lda, const float* B, std::int64_t ldb, float* C, std::int64_t ldc) {
  check_args("sgemm_packed", M, N, K, lda, ldb, ldc);
  if (M == 0 || N == 0 || K == 0) return;
  AlignedBuffer<float> packed_a(static_cast<std::size_t>(round_up(std::min(kMC, M), kMR) * kKC));
  AlignedBuffer<float> packed_b(static_cast<std::size_t>(kKC * round_up(std::min(kNC, N), kNR)));
  for (std::int64_t j0 = 0; j0 < N; j0 += kNC) {
    const std::int64_t nc = std::min(kNC, N - j0);
    for (std::int64_t p0 = 0; p0 < K; p0 += kKC) {
      const std::int64_t kc = std::min(kKC, K - p0);
      pack_b(kc, nc, B + p0 * ldb + j0, ldb, packed_b.data());
      for (std::int64_t i0 = 0; i0 < M; i0 += kMC) {
        const std::int64_t mc = std::min(kMC, M - i0);
        pack_a(mc, kc, A + i0 * lda + p0, lda, packed_a.data());
        macro_kernel(mc, nc, kc, packed_a.data(), packed_b.data(), C + i0 * ldc + j0, ldc);
      }
    }
  }
}
//! [packed]

//! [threaded]
void sgemm_threaded(std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
                    std::int64_t lda, const float* B, std::int64_t ldb, float* C,
                    std::int64_t ldc, ThreadPool& pool) {
  check_args("sgemm_threaded", M, N, K, lda, ldb, ldc);
  if (M == 0 || N == 0 || K == 0) return;
  AlignedBuffer<float> packed_b(static_cast<std::size_t>(kKC * round_up(std::min(kNC, N), kNR)));
  // Row blocks of at most kMC rows, as many as a multiple of the thread count, so that every
  // thread gets the same share (5 blocks of 120 rows on 2 threads would idle one thread 1/3 of
  // the time).
  const std::int64_t threads = pool.size();
  const std::int64_t rounds = (M + kMC * threads - 1) / (kMC * threads);
  const std::int64_t mc_max = round_up((M + rounds * threads - 1) / (rounds * threads), kMR);
  const std::int64_t row_blocks = (M + mc_max - 1) / mc_max;
  for (std::int64_t j0 = 0; j0 < N; j0 += kNC) {
    const std::int64_t nc = std::min(kNC, N - j0);
    for (std::int64_t p0 = 0; p0 < K; p0 += kKC) {
      const std::int64_t kc = std::min(kKC, K - p0);
      pack_b(kc, nc, B + p0 * ldb + j0, ldb, packed_b.data());  // shared by all threads
      // Row blocks write disjoint rows of C: no locks. parallel_for returns when all are done,
      // so the next pack_b cannot overwrite the panel while a thread still reads it.
      pool.parallel_for(0, row_blocks, 1, [&](std::int64_t first, std::int64_t last) {
        AlignedBuffer<float> packed_a(static_cast<std::size_t>(mc_max * kc));  // one per chunk
        for (std::int64_t b = first; b < last; ++b) {
          const std::int64_t i0 = b * mc_max;
          const std::int64_t mc = std::min(mc_max, M - i0);
          pack_a(mc, kc, A + i0 * lda + p0, lda, packed_a.data());
          macro_kernel(mc, nc, kc, packed_a.data(), packed_b.data(), C + i0 * ldc + j0, ldc);
        }
      });
    }
  }
}
//! [threaded]

}  // namespace gnm::ch02
