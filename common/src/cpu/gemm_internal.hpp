// Internals of the engine's SGEMM (gnm/cpu/gemm.hpp), shared by its four source files:
//   gemm_pack.cpp      packing op(A) and op(B) panels into the micro-kernel's layout
//   gemm_kernel.cpp    the 6×16 register micro-kernel (AVX2/FMA, portable fallback)
//   gemm_driver.cpp    cache blocking and threading (the five loops around the micro-kernel)
//   gemm_dispatch.cpp  argument checks, special cases and the engine/OpenBLAS switch
#pragma once

#include <cstdint>

#include "gnm/cpu/gemm.hpp"

namespace gnm::cpu::detail {

// Note [Micro-kernel shape 6×16]: AVX2 has 16 ymm registers of 8 floats. A 6×16 tile of C takes
// 6 rows × 2 vectors = 12 accumulators, plus 2 registers for a 16-wide row of B and 1 for a
// broadcast element of A: 15 of 16. Each step k does 12 FMAs for 2 vector loads + 6 broadcast
// loads = 0.67 loads per FMA; at 2 FMAs per cycle that is 1.3 loads per cycle, under the 2–3 load
// ports of Haswell…Zen3…Sapphire Rapids. FMA latency 4 × 2 FMA ports = 8 independent
// accumulators needed to keep both ports busy; 12 hide it with room to spare. The alternatives
// are worse: 8×8 has only 8 accumulators and 9 loads per 8 FMAs (load-bound); 4×24 needs
// 12 + 3 + 1 = 16 registers and spills under register pressure.
inline constexpr std::int64_t kMR = 6;   // rows of the register tile
inline constexpr std::int64_t kNR = 16;  // columns of the register tile (two ymm vectors)

// Note [Cache blocking]: the loops around the micro-kernel keep each operand in the cache level
// where it is reused most.
// - KC = 256: one packed KC×NR micro-panel of B is 256 × 16 × 4 B = 16 KiB and is reused by every
//   micro-panel of A in the block, so it must stay in L1 (32 KiB on Zen3, 48 KiB on Intel since
//   Ice Lake) beside the 6 KiB A micro-panel streaming through. KC also amortises the C tile's
//   load and store: 6×16 C elements per 2·6·16·256 FLOPs.
// - MC = 144: the packed MC×KC block of A is 144 × 256 × 4 B = 144 KiB, re-read from L2 once per
//   NR columns of B; it fits in the smallest L2 we target (512 KiB) with room for B panels and C.
// - NC = 4080 (a multiple of NR): the packed KC×NC panel of B is 4 MiB and is shared by all
//   threads in L3, re-read once per MC rows of A.
// The driver shrinks MC so that the row blocks divide evenly among threads.
inline constexpr std::int64_t kMC = 144;
inline constexpr std::int64_t kKC = 256;
inline constexpr std::int64_t kNC = 4080;
static_assert(kMC % kMR == 0 && kNC % kNR == 0, "cache blocks hold whole register tiles");

// All operands, already validated by gemm_dispatch.cpp.
struct GemmArgs {
  Transpose ta = Transpose::No;
  Transpose tb = Transpose::No;
  std::int64_t M = 0, N = 0, K = 0;
  float alpha = 1.0f;
  const float* A = nullptr;
  std::int64_t lda = 0;
  const float* B = nullptr;
  std::int64_t ldb = 0;
  float beta = 0.0f;
  float* C = nullptr;
  std::int64_t ldc = 0;
};

// Packs rows [i0, i0 + mc) × columns [p0, p0 + kc) of op(A) into ceil(mc / MR) micro-panels, each
// kc steps of MR consecutive floats (element (i, p) of a micro-panel at p * MR + i). Rows past mc
// are zero so the micro-kernel can always compute a full tile.
void pack_a(const GemmArgs& g, std::int64_t i0, std::int64_t mc, std::int64_t p0, std::int64_t kc,
            float* dst);

// Packs rows [p0, p0 + kc) × columns [j0, j0 + nc) of op(B) into ceil(nc / NR) micro-panels,
// each kc steps of NR consecutive floats (element (p, j) at p * NR + j). Columns past nc are zero.
void pack_b(const GemmArgs& g, std::int64_t p0, std::int64_t kc, std::int64_t j0, std::int64_t nc,
            float* dst);

// C tile (MR×NR, row stride ldc) = alpha · a · b + beta · C, from packed micro-panels a (kc×MR)
// and b (kc×NR). beta == 0 writes C without reading it. `a` and `b` are 32-byte aligned.
void micro_kernel(std::int64_t kc, const float* a, const float* b, float* c, std::int64_t ldc,
                  float alpha, float beta);

// As micro_kernel for a partial tile of mr ≤ MR rows and nr ≤ NR columns at the edge of C.
void micro_kernel_edge(std::int64_t kc, const float* a, const float* b, float* c,
                       std::int64_t ldc, std::int64_t mr, std::int64_t nr, float alpha,
                       float beta);

// "avx2-fma" or "portable": which micro-kernel this build compiled.
const char* micro_kernel_name();

// The blocked, threaded product for K > 0 and alpha != 0 (gemm_driver.cpp).
void gemm_blocked(const GemmArgs& g, ThreadPool& pool);

}  // namespace gnm::cpu::detail
