// The kernels of the transpose ladder and the copy kernel, with their constants and launch
// arithmetic. Included by transpose.cu (nvcc) and, unchanged, by tests/emu (g++ with the host
// emulator tests/emu/cuda_host_emulator.hpp, which runs every CUDA thread as a std::thread), so
// the index math, edge tiles and barrier placement of this exact text are checked in CI on the CPU.
// This header includes no CUDA header: nvcc provides dim3/float4/threadIdx itself, the emulator
// provides host stand-ins.
//
// Note [Tile loop]: blockIdx.x walks the column tiles (gridDim.x may be up to 2^31 − 1) and
// blockIdx.y the row tiles, but gridDim.y is capped at 65535, so each block loops over the row
// tiles t = blockIdx.y, blockIdx.y + gridDim.y, … . The trip count depends on blockIdx only:
// every thread of a block reaches the same __syncthreads() calls, as the barrier requires.
//
// Note [Edge tiles]: a thread loads tile[ty][tx] only when (r0 + ty, c0 + tx) is inside the
// matrix, and later reads tile[tx][ty] only when (c0 + ty, r0 + tx) is inside the transpose —
// the same condition with the roles swapped — so it never reads a tile element that no thread
// wrote, and never writes outside out's rows × cols elements.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "transpose_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <algorithm>
#include <cstdint>

namespace gnm::cuda::transpose_detail {
#if defined(GNM_CUDA_HOST_EMULATOR)
// The host copies get their own symbols: the emulated tests also link libgnm, whose transpose.cu
// holds nvcc's host stubs under the same names (template instances are weak symbols, so the
// linker would silently keep one of the two).
inline namespace host_emulated {
#endif

constexpr int kTile = 32;         // tile side: one warp spans one tile row
constexpr int kBlockRows = 8;     // thread rows of the 32 × 8 blocks
constexpr int kMaxGridY = 65535;  // hardware limit of gridDim.y
constexpr int kCopyBlock = 256;
constexpr std::int64_t kMaxCopyBlocks = std::int64_t{1} << 20;  // grid-stride loop beyond this

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return a / b + (a % b != 0 ? 1 : 0);
}

//! [transpose naive]
// One element per thread: a warp reads 32 consecutive floats of row r (one 128-byte line) and
// writes them to 32 different rows of out, 4·rows bytes apart.
__global__ void transpose_naive_kernel(const float* __restrict__ in, float* __restrict__ out,
                                       std::int64_t rows, std::int64_t cols,
                                       std::int64_t row_tiles) {
  const std::int64_t c = static_cast<std::int64_t>(blockIdx.x) * kTile + threadIdx.x;
  if (c >= cols) return;  // no barrier in this kernel, so threads may leave early
  for (std::int64_t t = blockIdx.y; t < row_tiles; t += gridDim.y) {
    const std::int64_t r = t * kBlockRows + threadIdx.y;
    if (r < rows) out[c * rows + r] = in[r * cols + c];
  }
}
//! [transpose naive]

//! [transpose tiled]
// 32 × 32 threads, one element each, through a shared tile (kPad = 0: 32-way bank conflicts on
// the column reads; kPad = 1: none). See Note [Tile loop] and Note [Edge tiles].
template <int kPad>
__global__ void transpose_tiled_kernel(const float* __restrict__ in, float* __restrict__ out,
                                       std::int64_t rows, std::int64_t cols,
                                       std::int64_t row_tiles) {
  __shared__ float tile[kTile][kTile + kPad];
  const int tx = static_cast<int>(threadIdx.x);
  const int ty = static_cast<int>(threadIdx.y);
  const std::int64_t c0 = static_cast<std::int64_t>(blockIdx.x) * kTile;
  for (std::int64_t t = blockIdx.y; t < row_tiles; t += gridDim.y) {
    const std::int64_t r0 = t * kTile;
    if (r0 + ty < rows && c0 + tx < cols) tile[ty][tx] = in[(r0 + ty) * cols + c0 + tx];
    __syncthreads();
    // Thread (tx, ty) writes row c0 + ty of out, column r0 + tx: a warp writes 32 neighbours,
    // reading them down column ty of the tile (bank (tx * (32 + kPad) + ty) mod 32).
    if (c0 + ty < cols && r0 + tx < rows) out[(c0 + ty) * rows + r0 + tx] = tile[tx][ty];
    __syncthreads();  // the next trip overwrites the tile
  }
}
//! [transpose tiled]

//! [transpose ilp]
// The padded tile with 32 × 8 threads: each thread moves rows ty, ty + 8, ty + 16, ty + 24, so
// four independent loads are in flight per thread before the barrier.
__global__ void transpose_padded_ilp_kernel(const float* __restrict__ in, float* __restrict__ out,
                                            std::int64_t rows, std::int64_t cols,
                                            std::int64_t row_tiles) {
  __shared__ float tile[kTile][kTile + 1];
  const int tx = static_cast<int>(threadIdx.x);
  const int ty = static_cast<int>(threadIdx.y);
  const std::int64_t c0 = static_cast<std::int64_t>(blockIdx.x) * kTile;
  for (std::int64_t t = blockIdx.y; t < row_tiles; t += gridDim.y) {
    const std::int64_t r0 = t * kTile;
#pragma unroll
    for (int j = 0; j < kTile; j += kBlockRows) {
      if (r0 + ty + j < rows && c0 + tx < cols) {
        tile[ty + j][tx] = in[(r0 + ty + j) * cols + c0 + tx];
      }
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < kTile; j += kBlockRows) {
      if (c0 + ty + j < cols && r0 + tx < rows) {
        out[(c0 + ty + j) * rows + r0 + tx] = tile[tx][ty + j];
      }
    }
    __syncthreads();
  }
}
//! [transpose ilp]

//! [copy kernel]
// Grid-stride float4 copy; the first `tail` threads of the grid also copy the 0–3 floats after
// the last whole float4.
__global__ void copy_vec4_kernel(const float4* __restrict__ in, float4* __restrict__ out,
                                 std::int64_t n4, const float* __restrict__ in_tail,
                                 float* __restrict__ out_tail, int tail) {
  const std::int64_t start = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = start; i < n4; i += stride) out[i] = in[i];
  if (start < tail) out_tail[start] = in_tail[start];
}
//! [copy kernel]

__global__ void copy_scalar_kernel(const float* __restrict__ in, float* __restrict__ out,
                                   std::int64_t n) {
  const std::int64_t start = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = start; i < n; i += stride) out[i] = in[i];
}

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace gnm::cuda::transpose_detail
