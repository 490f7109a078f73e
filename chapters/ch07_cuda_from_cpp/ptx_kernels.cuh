// 7.5: kernels written with inline PTX (see ptx_kernels.hpp for what each does). Kernels and
// launch arithmetic only, no CUDA header: ptx_kernels.cu compiles them with nvcc, and
// tests/emu/test_ch07_kernels_emulated.cpp runs the same text on the CPU through the host
// emulator (tests/emu/cuda_host_emulator.hpp).
//
// Each asm() statement is one PTX instruction with its operands bound to C++ values by constraint
// letters: "f" a .f32 register, "r" a .b32 register, "l" a 64-bit register (an address),
// "=" written, "+" read and written. Each sits alone in a small __device__ function; under the
// emulator that function's body is instead a host model of the instruction, written from the
// PTX ISA's description of it (ptx_models.hpp), so the kernels' own text runs unchanged.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "ptx_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <cstdint>

#if defined(GNM_CUDA_HOST_EMULATOR)
#include "ptx_models.hpp"
// extern "C" names ignore namespaces: the host copies must not carry them, or they could clash
// with nvcc's host stubs of the real kernels.
#define GNM_CH07_EXTERN_C
#else
// The kernels are extern "C" so that their names in the binary are the names in ptx_kernels.hpp:
// `cuobjdump -sass -fun NAME` finds them without C++ name mangling.
#define GNM_CH07_EXTERN_C extern "C"
#endif

namespace chapter07 {
#if defined(GNM_CUDA_HOST_EMULATOR)
inline namespace host_emulated {  // see cuda_host_emulator.hpp: never merged with nvcc's stubs
#endif

constexpr int kScaleBlock = 256;
constexpr std::int64_t kScaleMaxGrid = 4096;  // a grid-stride loop does the rest
constexpr int kWarpSumBlock = 256;
constexpr std::int64_t kWarpSumMaxGrid = 1024;  // four blocks per SM on an H100, and then some
constexpr int kMmaWarpsPerBlock = 4;

/// Blocks of the scale kernels for n > 0 elements: one per 256, at most kScaleMaxGrid.
inline std::int64_t scale_blocks(std::int64_t n) {
  const std::int64_t per_n = n / kScaleBlock + (n % kScaleBlock != 0 ? 1 : 0);
  return per_n < kScaleMaxGrid ? per_n : kScaleMaxGrid;
}

/// Blocks of the warp sum for n >= 0 elements: one per 256, at least 1, at most kWarpSumMaxGrid.
inline std::int64_t warp_sum_blocks(std::int64_t n) {
  const std::int64_t per_n = n / kWarpSumBlock + (n % kWarpSumBlock != 0 ? 1 : 0);
  return per_n < 1 ? 1 : (per_n < kWarpSumMaxGrid ? per_n : kWarpSumMaxGrid);
}

/// 16×8 tiles of an M×N product (edge tiles padded), one warp each.
inline long long mma_tiles(int M, int N) {
  return static_cast<long long>((M + 15) / 16) * ((N + 7) / 8);
}

/// Blocks of kMmaWarpsPerBlock warps that cover mma_tiles(M, N).
inline long long mma_blocks(int M, int N) {
  return (mma_tiles(M, N) + kMmaWarpsPerBlock - 1) / kMmaWarpsPerBlock;
}

//! [ld_nc]
// ld.global.nc: a load through the non-coherent (read-only, texture) path. Only legal for data
// that no thread writes while the kernel runs: the hardware does not keep that path coherent with
// stores. It is what __ldg() and `const __restrict__` pointers compile to (LDG.E.CONSTANT in SASS).
__device__ __forceinline__ float ld_nc(const float* p) {
#if defined(GNM_CUDA_HOST_EMULATOR)
  return ptx_model::ld_nc(p);
#else
  float v;
  asm("ld.global.nc.f32 %0, [%1];" : "=f"(v) : "l"(p));
  return v;
#endif
}
//! [ld_nc]

//! [shfl_bfly]
// The value of lane (this lane XOR offset). The operands after the lane offset: 0x1f is the clamp
// (the whole warp is one segment) and 0xffffffff the member mask — all 32 lanes must execute it.
__device__ __forceinline__ float shfl_bfly(float v, int offset) {
#if defined(GNM_CUDA_HOST_EMULATOR)
  return ptx_model::shfl_bfly(v, offset);
#else
  float other;
  asm volatile("shfl.sync.bfly.b32 %0, %1, %2, 0x1f, 0xffffffff;"
               : "=f"(other)
               : "f"(v), "r"(offset));
  return other;
#endif
}

// A butterfly reduction over the warp: at step `offset`, lane i adds the value of lane
// i XOR offset, so after offsets 16, 8, 4, 2, 1 every lane holds the sum of all 32.
__device__ __forceinline__ float warp_sum_bfly(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += shfl_bfly(v, offset);
  return v;
}
//! [shfl_bfly]

// P[r][c] of a rows × cols row-major matrix, or 0 outside it (the zero padding of edge tiles).
__device__ __forceinline__ float load_or_zero(const float* __restrict__ p, int rows, int cols,
                                              int r, int c) {
  return (r < rows && c < cols) ? p[static_cast<long long>(r) * cols + c] : 0.0f;
}

__device__ __forceinline__ void store_if(float* __restrict__ p, int rows, int cols, int r, int c,
                                         float v) {
  if (r < rows && c < cols) p[static_cast<long long>(r) * cols + c] = v;
}

GNM_CH07_EXTERN_C __global__ void __launch_bounds__(kScaleBlock)
    gnm_ch07_scale_nc(long long n, float a, const float* x, float* y) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    y[i] = a * ld_nc(x + i);
  }
}

// Without __restrict__ the compiler cannot prove that the stores to y leave x alone, so it must
// use the ordinary (coherent) load: LDG.E without .CONSTANT.
GNM_CH07_EXTERN_C __global__ void __launch_bounds__(kScaleBlock)
    gnm_ch07_scale_plain(long long n, float a, const float* x, float* y) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    y[i] = a * x[i];
  }
}

// Every thread sums its grid-stride share, then the warp combines its 32 partial sums with the
// butterfly and lane 0 writes one value per warp. All threads reach the shuffle (the loop has no
// early exit), as its full member mask requires; the block size is a multiple of 32.
GNM_CH07_EXTERN_C __global__ void gnm_ch07_warp_sum(long long n, const float* __restrict__ x,
                                                    float* __restrict__ partials) {
  const long long threads = static_cast<long long>(gridDim.x) * blockDim.x;
  const long long tid = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  float acc = 0.0f;
  for (long long i = tid; i < n; i += threads) acc += x[i];
  acc = warp_sum_bfly(acc);
  if ((threadIdx.x & 31) == 0) partials[tid >> 5] = acc;
}

//! [mma_kernel]
// Rounds an fp32 value to tf32 (10 mantissa bits, to nearest, ties away from zero): the input
// format of the tf32 mma. The result is a .b32 register holding the rounded value.
__device__ __forceinline__ unsigned to_tf32(float x) {
#if defined(GNM_CUDA_HOST_EMULATOR)
  return ptx_model::cvt_rna_tf32_f32(x);
#else
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r;
#endif
}

// D = A·B + C for one warp's 16×8×8 tile, with C = D: the accumulators are read and written
// ("+f"). Each lane passes its own fragments; the warp's 32 lanes together hold the tiles.
__device__ __forceinline__ void mma_m16n8k8_tf32(float& d0, float& d1, float& d2, float& d3,
                                                 unsigned a0, unsigned a1, unsigned a2,
                                                 unsigned a3, unsigned b0, unsigned b1) {
#if defined(GNM_CUDA_HOST_EMULATOR)
  ptx_model::mma_m16n8k8_tf32(d0, d1, d2, d3, a0, a1, a2, a3, b0, b1);
#else
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
      : "+f"(d0), "+f"(d1), "+f"(d2), "+f"(d3)
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
#endif
}

// One warp computes one 16×8 tile of C, stepping through K eight at a time. The fragment layout
// is fixed by the PTX ISA for m16n8k8 with tf32: with g = lane / 4 and t = lane % 4,
//   A (16×8, row):  a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4]
//   B (8×8, col):   b0 = B[t][g], b1 = B[t+4][g]
//   C (16×8):       c0 = C[g][2t], c1 = C[g][2t+1], c2 = C[g+8][2t], c3 = C[g+8][2t+1]
// Operands are read straight from global memory (no shared-memory staging): this kernel shows the
// instruction, it is not a fast GEMM (the wgmma GEMM later in 7.5 is).
GNM_CH07_EXTERN_C __global__ void __launch_bounds__(kMmaWarpsPerBlock * 32)
    gnm_ch07_mma_tf32(int M, int N, int K, const float* __restrict__ A, const float* __restrict__ B,
                      float* __restrict__ C) {
  const int lane = static_cast<int>(threadIdx.x & 31);
  const long long tile =
      static_cast<long long>(blockIdx.x) * (blockDim.x / 32) + (threadIdx.x >> 5);
  const long long tiles_n = (N + 7) / 8;
  const long long tiles = static_cast<long long>((M + 15) / 16) * tiles_n;
  // `tile` is the same for the 32 lanes of a warp, so a warp leaves whole: mma.sync needs all 32.
  if (tile >= tiles) return;
  const int row0 = static_cast<int>(tile / tiles_n) * 16;
  const int col0 = static_cast<int>(tile % tiles_n) * 8;
  const int g = lane >> 2;
  const int t = lane & 3;
  float d0 = 0.0f, d1 = 0.0f, d2 = 0.0f, d3 = 0.0f;
  for (int k0 = 0; k0 < K; k0 += 8) {
    const unsigned a0 = to_tf32(load_or_zero(A, M, K, row0 + g, k0 + t));
    const unsigned a1 = to_tf32(load_or_zero(A, M, K, row0 + g + 8, k0 + t));
    const unsigned a2 = to_tf32(load_or_zero(A, M, K, row0 + g, k0 + t + 4));
    const unsigned a3 = to_tf32(load_or_zero(A, M, K, row0 + g + 8, k0 + t + 4));
    const unsigned b0 = to_tf32(load_or_zero(B, K, N, k0 + t, col0 + g));
    const unsigned b1 = to_tf32(load_or_zero(B, K, N, k0 + t + 4, col0 + g));
    mma_m16n8k8_tf32(d0, d1, d2, d3, a0, a1, a2, a3, b0, b1);
  }
  store_if(C, M, N, row0 + g, col0 + 2 * t, d0);
  store_if(C, M, N, row0 + g, col0 + 2 * t + 1, d1);
  store_if(C, M, N, row0 + g + 8, col0 + 2 * t, d2);
  store_if(C, M, N, row0 + g + 8, col0 + 2 * t + 1, d3);
}
//! [mma_kernel]

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace chapter07
