// The GEMM ladder of chapter 2: the same product written five ways, each faster for a reason that
// the chapter measures (sections 2.3 and "the GEMM ladder").
//
//   v1 sgemm_naive     i-j-k, the textbook triple loop          (given)
//   v2 sgemm_ikj       loops reordered so the inner loop is contiguous   — exercise 2.3
//      sgemm_jki       the worst order, for contrast                    — exercise 2.3
//   v3 sgemm_blocked   cache blocking                                   — exercise 2.3
//   v4 sgemm_packed    packed panels + a 6×16 register micro-kernel     — exercise 2.4
//   v5 sgemm_threaded  v4 with the row blocks split over a ThreadPool    (given, uses your v4 parts)
//
// Every version computes  C += A · B  (accumulates into C, like BLAS with alpha = beta = 1), on
// row-major matrices without transposes:
//   A (M×K, row stride lda ≥ K),  B (K×N, row stride ldb ≥ N),  C (M×N, row stride ldc ≥ N).
// Accumulating keeps every version a plain sum into C (no "first write" special case); to get
// C = A · B, zero C first. Elements of C beyond column N (the ldc padding) must not be touched,
// and A and B are read only inside their M×K and K×N parts.
//
// Each function first checks its arguments (given code): a negative dimension or a leading
// dimension smaller than the row width throws gnm::ShapeError naming the values. M, N or K equal
// to 0 leaves C unchanged.
//
// Exercise 2.3 (loop order and blocking): in exercises/ch02/gemm_ladder.cpp write sgemm_ikj,
//   sgemm_jki and sgemm_blocked.
// Exercise 2.4 (packing and the micro-kernel): write pack_a, pack_b and micro_kernel_6x16; the
//   given sgemm_packed and sgemm_threaded call them. Intrinsics from <immintrin.h> (AVX2 + FMA)
//   are the intended tool; keep a plain C++ version under #else for builds without __AVX2__.
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch02 --output-on-failure
#pragma once

#include <cstdint>

#include "gnm/core/thread_pool.hpp"

namespace gnm::ch02 {

/// v1. C += A · B with the i-j-k loop order: the inner loop walks a column of B (stride ldb),
/// touching a new cache line for every multiply-add once B outgrows the cache.
void sgemm_naive(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda,
                 const float* B, std::int64_t ldb, float* C, std::int64_t ldc);

/// Ex 2.3a. v2: C += A · B with the i-k-j order. For each (i, k), a_ik times row k of B is added
/// to row i of C: the inner loop is contiguous in B and C and the compiler vectorises it.
void sgemm_ikj(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda,
               const float* B, std::int64_t ldb, float* C, std::int64_t ldc);

/// Ex 2.3b. C += A · B with the j-k-i order: the inner loop runs down a column of A and of C,
/// both strided — the slowest order, to measure beside the others.
void sgemm_jki(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda,
               const float* B, std::int64_t ldb, float* C, std::int64_t ldc);

/// Block sizes of sgemm_blocked: a kBlockK × kBlockN block of B is 128 × 512 × 4 B = 256 KiB and
/// stays in L2 while kBlockM rows of A and C pass over it; a row segment of C (2 KiB) and of B
/// (2 KiB) stays in L1 for the inner loop.
inline constexpr std::int64_t kBlockM = 64;
/// Depth (K) of a block of sgemm_blocked (see kBlockM).
inline constexpr std::int64_t kBlockK = 128;
/// Width (N) of a block of sgemm_blocked (see kBlockM).
inline constexpr std::int64_t kBlockN = 512;

/// Ex 2.3c. v3: C += A · B in blocks of kBlockM × kBlockK × kBlockN, i-k-j inside each block, so a
/// block of B is re-read from L2 instead of from memory. Edge blocks are partial (any M, N, K).
void sgemm_blocked(std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
                   std::int64_t lda, const float* B, std::int64_t ldb, float* C, std::int64_t ldc);

/// Rows of the register tile of C in v4 (6 rows × 2 vectors of 8 = 12 of the 16 ymm registers).
inline constexpr std::int64_t kMR = 6;
/// Columns of the register tile of C in v4 (two AVX2 vectors of 8 floats).
inline constexpr std::int64_t kNR = 16;
/// Rows of A packed at once in v4 (a kMC × kKC block is 120 KiB: it lives in L2).
inline constexpr std::int64_t kMC = 120;
/// Depth of the packed panels in v4 (a kKC × kNR panel of B is 16 KiB: it lives in L1).
inline constexpr std::int64_t kKC = 256;
/// Columns of B packed at once in v4 (a kKC × kNC panel is 2 MiB: it lives in L2/L3).
inline constexpr std::int64_t kNC = 2048;

/// Ex 2.4a. Packs the mc × kc block of A at `A` (row stride lda) into micro-panels of kMR rows:
/// micro-panel r (rows r·kMR … r·kMR + kMR − 1) starts at dst + r·kMR·kc and stores, for each
/// p = 0 … kc − 1, the kMR values A[r·kMR + i][p] (i = 0 … kMR − 1) one after the other. Rows
/// past mc in the last micro-panel are written as 0. `dst` holds ceil(mc / kMR)·kMR·kc floats.
void pack_a(std::int64_t mc, std::int64_t kc, const float* A, std::int64_t lda, float* dst);

/// Ex 2.4b. Packs the kc × nc block of B at `B` (row stride ldb) into micro-panels of kNR columns:
/// micro-panel s starts at dst + s·kNR·kc and stores, for each p, the kNR values
/// B[p][s·kNR + j] (j = 0 … kNR − 1). Columns past nc are written as 0. `dst` holds
/// ceil(nc / kNR)·kNR·kc floats and is 32-byte aligned.
void pack_b(std::int64_t kc, std::int64_t nc, const float* B, std::int64_t ldb, float* dst);

/// Ex 2.4c. The micro-kernel: C[0:mr, 0:nr] += a · b, where `a` is one packed micro-panel of A
/// (kc steps of kMR floats) and `b` one packed micro-panel of B (kc steps of kNR floats, 32-byte
/// aligned). The full 6×16 tile is accumulated in registers over the kc steps and added to C
/// once; for an edge tile (mr < kMR or nr < kNR) only the mr × nr part of C is read and written.
void micro_kernel_6x16(std::int64_t kc, const float* a, const float* b, float* C,
                       std::int64_t ldc, std::int64_t mr, std::int64_t nr);

/// v4: C += A · B with packed panels and the register micro-kernel, on one thread: for each kNC
/// columns and kKC depth, pack B; for each kMC rows, pack A; then run micro_kernel_6x16 over the
/// block tile by tile.
void sgemm_packed(std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
                  std::int64_t lda, const float* B, std::int64_t ldb, float* C, std::int64_t ldc);

/// v5: sgemm_packed with the row blocks of each packed B panel shared out over `pool` (each block
/// packs its own A). The blocks hold at most kMC rows and their number is a multiple of
/// pool.size(), so the threads get equal shares. Blocks split rows, never the sum over k, so every
/// element is computed exactly as in v4: the results are bitwise equal.
void sgemm_threaded(std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
                    std::int64_t lda, const float* B, std::int64_t ldb, float* C,
                    std::int64_t ldc, ThreadPool& pool);

}  // namespace gnm::ch02
