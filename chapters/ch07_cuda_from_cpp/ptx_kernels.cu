// 7.5: inline PTX in CUDA C++ (see ptx_kernels.hpp). Each asm() statement is one PTX instruction
// with its operands bound to C++ values by constraint letters: "f" a .f32 register, "r" a .b32
// register, "l" a 64-bit register (an address), "=" written, "+" read and written.
#include <algorithm>
#include <climits>
#include <cmath>

#include "gnm/core/check.hpp"
#include "gnm/cuda/check.hpp"
#include "ptx_kernels.hpp"

namespace chapter07 {
namespace {

constexpr int kScaleBlock = 256;
constexpr std::int64_t kScaleMaxGrid = 4096;  // a grid-stride loop does the rest
constexpr int kMmaWarpsPerBlock = 4;

//! [ld_nc]
// ld.global.nc: a load through the non-coherent (read-only, texture) path. Only legal for data
// that no thread writes while the kernel runs: the hardware does not keep that path coherent with
// stores. It is what __ldg() and `const __restrict__` pointers compile to (LDG.E.CONSTANT in SASS).
__device__ __forceinline__ float load_read_only(const float* p) {
  float v;
  asm("ld.global.nc.f32 %0, [%1];" : "=f"(v) : "l"(p));
  return v;
}
//! [ld_nc]

//! [shfl_bfly]
// A butterfly reduction over the warp: at step `offset`, lane i adds the value of lane
// i XOR offset, so after offsets 16, 8, 4, 2, 1 every lane holds the sum of all 32. The operands
// after the lane offset: 0x1f is the clamp (the whole warp is one segment) and 0xffffffff the
// member mask — all 32 lanes must execute the instruction.
__device__ __forceinline__ float warp_sum_bfly(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    float other;
    asm volatile("shfl.sync.bfly.b32 %0, %1, %2, 0x1f, 0xffffffff;"
                 : "=f"(other)
                 : "f"(v), "r"(offset));
    v += other;
  }
  return v;
}
//! [shfl_bfly]

//! [mma_tf32]
// Rounds an fp32 value to tf32 (10 mantissa bits, to nearest, ties away from zero): the input
// format of the tf32 mma. The result is a .b32 register holding the rounded value.
__device__ __forceinline__ unsigned to_tf32(float x) {
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r;
}

// P[r][c] of a rows × cols row-major matrix, or 0 outside it (the zero padding of edge tiles).
__device__ __forceinline__ float load_or_zero(const float* __restrict__ p, int rows, int cols,
                                              int r, int c) {
  return (r < rows && c < cols) ? p[static_cast<long long>(r) * cols + c] : 0.0f;
}

__device__ __forceinline__ void store_if(float* __restrict__ p, int rows, int cols, int r, int c,
                                         float v) {
  if (r < rows && c < cols) p[static_cast<long long>(r) * cols + c] = v;
}
//! [mma_tf32]

}  // namespace

extern "C" __global__ void __launch_bounds__(kScaleBlock)
    gnm_ch07_scale_nc(long long n, float a, const float* x, float* y) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    y[i] = a * load_read_only(x + i);
  }
}

// Without __restrict__ the compiler cannot prove that the stores to y leave x alone, so it must
// use the ordinary (coherent) load: LDG.E without .CONSTANT.
extern "C" __global__ void __launch_bounds__(kScaleBlock)
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
extern "C" __global__ void gnm_ch07_warp_sum(long long n, const float* __restrict__ x,
                                             float* __restrict__ partials) {
  const long long threads = static_cast<long long>(gridDim.x) * blockDim.x;
  const long long tid = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  float acc = 0.0f;
  for (long long i = tid; i < n; i += threads) acc += x[i];
  acc = warp_sum_bfly(acc);
  if ((threadIdx.x & 31) == 0) partials[tid >> 5] = acc;
}

//! [mma_kernel]
// One warp computes one 16×8 tile of C, stepping through K eight at a time. The fragment layout
// is fixed by the PTX ISA for m16n8k8 with tf32: with g = lane / 4 and t = lane % 4,
//   A (16×8, row):  a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4]
//   B (8×8, col):   b0 = B[t][g], b1 = B[t+4][g]
//   C (16×8):       c0 = C[g][2t], c1 = C[g][2t+1], c2 = C[g+8][2t], c3 = C[g+8][2t+1]
// Operands are read straight from global memory (no shared-memory staging): this kernel shows the
// instruction, it is not a fast GEMM (the wgmma GEMM later in 7.5 is).
extern "C" __global__ void __launch_bounds__(kMmaWarpsPerBlock * 32)
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
    // D = A·B + C with C = D: the accumulators are read and written ("+f").
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
        : "+f"(d0), "+f"(d1), "+f"(d2), "+f"(d3)
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
  }
  store_if(C, M, N, row0 + g, col0 + 2 * t, d0);
  store_if(C, M, N, row0 + g, col0 + 2 * t + 1, d1);
  store_if(C, M, N, row0 + g + 8, col0 + 2 * t, d2);
  store_if(C, M, N, row0 + g + 8, col0 + 2 * t + 1, d3);
}
//! [mma_kernel]

void scale(bool read_only_path, std::int64_t n, float a, const float* d_x, float* d_y,
           cudaStream_t stream) {
  GNM_CHECK_SHAPE(n >= 0, "the number of elements cannot be negative", n);
  if (n == 0) return;
  GNM_CHECK(d_x != nullptr && d_y != nullptr, "scale needs device pointers for n > 0", n);
  const std::int64_t blocks =
      std::min(n / kScaleBlock + (n % kScaleBlock != 0 ? 1 : 0), kScaleMaxGrid);
  const dim3 grid(static_cast<unsigned>(blocks));
  if (read_only_path) {
    gnm_ch07_scale_nc<<<grid, kScaleBlock, 0, stream>>>(n, a, d_x, d_y);
  } else {
    gnm_ch07_scale_plain<<<grid, kScaleBlock, 0, stream>>>(n, a, d_x, d_y);
  }
  GNM_CUDA_CHECK_LAUNCH();
}

WarpSumGrid warp_sum_grid(std::int64_t n) {
  GNM_CHECK_SHAPE(n >= 0, "the number of elements cannot be negative", n);
  constexpr int kBlock = 256;
  const std::int64_t blocks =
      std::clamp<std::int64_t>(n / kBlock + (n % kBlock != 0 ? 1 : 0), 1, 1024);
  return WarpSumGrid{static_cast<int>(blocks), kBlock};
}

void warp_sum(std::int64_t n, const float* d_x, float* d_partials, WarpSumGrid grid,
              cudaStream_t stream) {
  GNM_CHECK_SHAPE(n >= 0, "the number of elements cannot be negative", n);
  GNM_CHECK(grid.block >= 32 && grid.block <= 1024 && grid.block % 32 == 0,
            "threads per block must be a multiple of 32 in [32, 1024]", grid.block);
  GNM_CHECK(grid.blocks >= 1, "the grid needs at least one block", grid.blocks);
  GNM_CHECK(d_partials != nullptr && (n == 0 || d_x != nullptr), "warp_sum needs device pointers",
            n);
  gnm_ch07_warp_sum<<<grid.blocks, grid.block, 0, stream>>>(n, d_x, d_partials);
  GNM_CUDA_CHECK_LAUNCH();
}

void warp_sum_reference(std::span<const float> x, WarpSumGrid grid, std::vector<double>& ref,
                        std::vector<double>& mass) {
  const std::int64_t threads = grid.threads();
  GNM_CHECK(threads >= 32 && threads % 32 == 0, "the grid must hold whole warps", threads);
  ref.assign(static_cast<std::size_t>(grid.warps()), 0.0);
  mass.assign(ref.size(), 0.0);
  const auto n = static_cast<std::int64_t>(x.size());
  for (std::int64_t i = 0; i < n; ++i) {
    // Element i is read by thread i mod threads, which belongs to warp (i mod threads) / 32.
    const auto w = static_cast<std::size_t>((i % threads) / 32);
    ref[w] += x[static_cast<std::size_t>(i)];
    mass[w] += std::abs(static_cast<double>(x[static_cast<std::size_t>(i)]));
  }
}

void mma_tf32_gemm(int M, int N, int K, const float* d_A, const float* d_B, float* d_C,
                   cudaStream_t stream) {
  GNM_CHECK_SHAPE(M >= 0 && N >= 0 && K >= 0, "GEMM sizes cannot be negative", M, N, K);
  // Row and column indices reach M + 15, N + 7, K + 7 in int: keep them from overflowing.
  GNM_CHECK_SHAPE(M <= INT_MAX - 16 && N <= INT_MAX - 8 && K <= INT_MAX - 8,
                  "GEMM sizes too large for int indices", M, N, K);
  if (M == 0 || N == 0) return;
  GNM_CHECK(d_C != nullptr && (K == 0 || (d_A != nullptr && d_B != nullptr)),
            "mma_tf32_gemm needs device pointers for a non-empty product", M, N, K);
  const long long tiles = static_cast<long long>((M + 15) / 16) * ((N + 7) / 8);
  const long long blocks = (tiles + kMmaWarpsPerBlock - 1) / kMmaWarpsPerBlock;
  GNM_CHECK_SHAPE(blocks <= INT_MAX, "too many tiles for one grid", M, N);
  gnm_ch07_mma_tf32<<<static_cast<unsigned>(blocks), kMmaWarpsPerBlock * 32, 0, stream>>>(
      M, N, K, d_A, d_B, d_C);
  GNM_CUDA_CHECK_LAUNCH();
}

double mma_tf32_bound(int K, double mass) { return (1.0 / 1024.0 + (K + 2.0) * 0x1p-22) * mass; }

}  // namespace chapter07
