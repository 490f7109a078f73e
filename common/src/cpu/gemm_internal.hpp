// Internals of the engine's SGEMM (gnm/cpu/gemm.hpp), shared by its source files:
//   gemm_pack.cpp           packing op(A) and op(B) panels into the micro-kernels' layout
//   gemm_kernel.cpp         the 6×16 register micro-kernels (AVX2/FMA and portable)
//   gemm_kernel_avx512.cpp  the 14×32 AVX-512 micro-kernel (its own TU, built with -mavx512f)
//   gemm_select.cpp         which kernel runs: CPU detection, GNM_CPU_KERNEL, set_cpu_kernel
//   gemm_driver.cpp         cache blocking and threading (the five loops around the micro-kernel)
//   gemm_dispatch.cpp       argument checks, special cases and the engine/OpenBLAS switch
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
inline constexpr std::int64_t kMR = 6;   // rows of the AVX2 register tile
inline constexpr std::int64_t kNR = 16;  // columns of the AVX2 register tile (two ymm vectors)

// Note [Micro-kernel shape 14×32]: AVX-512 has 32 zmm registers of 16 floats. A 14×32 tile of C
// takes 14 rows × 2 vectors = 28 accumulators, plus 2 registers for a 32-wide row of B; the 14
// elements of A are broadcast straight from memory into the FMAs ({1to16} operands, no register):
// 30 of 32. Each step does 28 FMAs for 2 + 14 = 16 loads = 0.57 loads per FMA, 1.1 loads per
// cycle at 2 FMAs per cycle — under the 2 (Skylake-X) or 3 (Sapphire Rapids, Zen4) load ports.
// 28 independent accumulators are 3.5× the 8 (4-cycle latency × 2 ports) needed. Alternatives:
// 12×32 (24 accumulators, 0.58 loads per FMA, what BLIS uses) is as good; 8×48 needs 24 + 3 B
// registers and 0.46 loads per FMA but edge tiles of 48 columns waste more on small N; 28×16 has
// one B vector and 28 broadcasts per 28 FMAs, which is load-bound.
inline constexpr std::int64_t kMR512 = 14;
inline constexpr std::int64_t kNR512 = 32;

// Note [Cache blocking]: the loops around the micro-kernel keep each operand in the cache level
// where it is reused most.
// - KC: one packed KC×NR micro-panel of B is reused by every micro-panel of A in the block; KC also
//   sets how often the C tiles are loaded and stored: once per KC-deep pass, i.e. K/KC passes over
//   all of C, which at n = 2048 (16 MiB) come from L3 or DRAM. AVX2 (6×16): KC = 256 keeps the
//   16 KiB B micro-panel + 6 KiB of A in L1 (32 KiB on Zen3, 48 KiB on Intel since Ice Lake).
//   AVX-512 (14×32): KC = 512 makes the B micro-panel 64 KiB, more than L1, so it streams from L2;
//   that is cheap, since a step needs 128 B of B + 56 B of A per 28 FMAs (14 cycles) = 13 B per
//   cycle against L2's ~64 B per cycle, and the kernel prefetches B a few steps ahead. Measured on
//   Sapphire Rapids (n = 1024 and 2048, one core): KC = 192 (B panel in L1) 159–161 GFLOP/s,
//   384 → 165, 512 → 168–176, 640–768 → 166–170: halving the passes over C outweighs L1 residency.
// - MC: the packed MC×KC block of A is re-read from L2 once per NR columns of B. AVX2: 144 × 256
//   × 4 B = 144 KiB, inside the smallest L2 we target (512 KiB). AVX-512 CPUs have ≥ 1 MiB of L2
//   (Skylake-X, Zen4 1 MiB; Sapphire Rapids 2 MiB): 168 × 512 × 4 B = 336 KiB plus the streaming
//   B micro-panels (64 KiB) fit the smallest of them; 112…336 measured within noise.
// - NC: the packed KC×NC panel of B (4 MiB at 256 × 4080 and at 512 × 2048) is shared by all
//   threads in L3, re-read once per MC rows of A.
// The driver shrinks MC so that the row blocks divide evenly among threads.
inline constexpr std::int64_t kMC = 144;
inline constexpr std::int64_t kKC = 256;
inline constexpr std::int64_t kNC = 4080;
inline constexpr std::int64_t kMC512 = 168;
inline constexpr std::int64_t kKC512 = 512;
inline constexpr std::int64_t kNC512 = 2048;
static_assert(kMC % kMR == 0 && kNC % kNR == 0, "cache blocks hold whole register tiles");
static_assert(kMC512 % kMR512 == 0 && kNC512 % kNR512 == 0, "cache blocks hold whole tiles");

// The largest tile of any kernel (for the scratch tile of edge cases).
inline constexpr std::int64_t kMaxTile = kMR512 * kNR512;

// C tile (MR×NR, row stride ldc) = alpha · a · b + beta · C, from packed micro-panels a (kc×MR)
// and b (kc×NR). beta == 0 writes C without reading it. `a` and `b` are 64-byte aligned.
using MicroKernelFn = void (*)(std::int64_t kc, const float* a, const float* b, float* c,
                               std::int64_t ldc, float alpha, float beta);

// One engine kernel: its micro-kernel and the tile and block sizes that go with it.
struct KernelSpec {
  CpuKernel kind = CpuKernel::Portable;
  const char* name = "";
  std::int64_t mr = 0, nr = 0, mc = 0, kc = 0, nc = 0;
  MicroKernelFn micro = nullptr;
};

// The kernel the engine uses now (gemm_select.cpp): resolved from set_cpu_kernel(),
// GNM_CPU_KERNEL or the CPU.
const KernelSpec& active_kernel();

// The spec of kernel `k` (Auto: the best this CPU supports); NotImplemented when unsupported.
const KernelSpec& spec(CpuKernel k);

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

// Packs rows [i0, i0 + mc) × columns [p0, p0 + kc) of op(A) into ceil(mc / mr) micro-panels, each
// kc steps of mr consecutive floats (element (i, p) of a micro-panel at p * mr + i). Rows past mc
// are zero so the micro-kernel can always compute a full tile. mr is kMR or kMR512.
void pack_a(const GemmArgs& g, std::int64_t mr, std::int64_t i0, std::int64_t mc,
            std::int64_t p0, std::int64_t kc, float* dst);

// Packs rows [p0, p0 + kc) × columns [j0, j0 + nc) of op(B) into ceil(nc / nr) micro-panels,
// each kc steps of nr consecutive floats (element (p, j) at p * nr + j). Columns past nc are zero.
// nr is kNR or kNR512.
void pack_b(const GemmArgs& g, std::int64_t nr, std::int64_t p0, std::int64_t kc,
            std::int64_t j0, std::int64_t nc, float* dst);

// The 6×16 micro-kernels (gemm_kernel.cpp). The AVX2 one exists when the build targets AVX2+FMA
// (kHaveAvx2Kernel); the portable one always.
extern const bool kHaveAvx2Kernel;
void micro_kernel_avx2(std::int64_t kc, const float* a, const float* b, float* c,
                       std::int64_t ldc, float alpha, float beta);
void micro_kernel_portable(std::int64_t kc, const float* a, const float* b, float* c,
                           std::int64_t ldc, float alpha, float beta);

// The blocked, threaded product for K > 0 and alpha != 0 with kernel `k` (gemm_driver.cpp).
void gemm_blocked(const GemmArgs& g, const KernelSpec& k, ThreadPool& pool);

}  // namespace gnm::cpu::detail
