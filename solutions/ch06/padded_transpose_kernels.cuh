// Exercise 6.4b's kernel: the padded shared-memory transpose (see exercises/ch06/transpose.hpp).
// transpose.cpp holds its launch configuration (6.4a) and transpose.cu its launcher.
//
// This header includes no CUDA header, so the same text compiles twice: with nvcc, included by
// transpose.cu, and with g++ in tests/ch06/test_transpose_emulated.cpp after the host emulator
// (tests/emu/cuda_host_emulator.hpp: one std::thread per CUDA thread, __syncthreads() a real
// barrier). CI thus runs the exercise's kernel on the CPU and checks its index math, edge tiles
// and barrier placement; coalescing and bank conflicts need a GPU.
// (Not to be confused with the engine's common/src/cuda/transpose_kernels.cuh.)
//
// A 32 × 8 block owns a 32 × 32 tile of `in`. Phase 1: each thread reads 4 elements down its
// column of the tile (rows ty, ty + 8, ty + 16, ty + 24): a warp reads 32 neighbouring floats of
// one row, one 128-byte line. Phase 2, after a barrier: each thread writes 4 elements of the
// transposed tile, again 32 neighbours per warp, reading the shared tile down a column. With 33
// floats per tile row, column element (tx, k) lies in bank (33 tx + k) mod 32 = (tx + k) mod 32:
// 32 lanes, 32 different banks, no conflict. A 32-float row would put the whole column in one
// bank and serialize the warp's read 32 times.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "padded_transpose_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <cstdint>

#include "transpose.hpp"  // kTransposeTile, kTransposeBlockRows; no CUDA header under the emulator

namespace gnm::ch06 {
#if defined(GNM_CUDA_HOST_EMULATOR)
// The host copy gets its own symbol: a test that links the real launcher too must never merge the
// emulated kernel with nvcc's host stub of the same name.
inline namespace host_emulated {
#endif

//! [kernel]
// Blocks loop over the row tiles t = blockIdx.y, blockIdx.y + gridDim.y, …: the loop bound
// depends on blockIdx only, so all threads of a block reach the same barriers.
__global__ void transpose_padded_kernel(const float* __restrict__ in, float* __restrict__ out,
                                        std::int64_t rows, std::int64_t cols,
                                        std::int64_t row_tiles) {
  // BEGIN SOLUTION DEVICE("ex 6.4", "declare __shared__ float tile[32][33]; c0 = blockIdx.x * 32; for each row tile t from blockIdx.y step gridDim.y: r0 = 32 t; for j in 0, 8, 16, 24 load tile[ty + j][tx] = in[(r0 + ty + j) * cols + c0 + tx] when that is inside; __syncthreads(); for each j store out[(c0 + ty + j) * rows + r0 + tx] = tile[tx][ty + j] when inside; __syncthreads() before the next tile; 64-bit indices")
  __shared__ float tile[kTransposeTile][kTransposeTile + 1];
  const int tx = static_cast<int>(threadIdx.x);
  const int ty = static_cast<int>(threadIdx.y);
  const std::int64_t c0 = static_cast<std::int64_t>(blockIdx.x) * kTransposeTile;
  for (std::int64_t t = blockIdx.y; t < row_tiles; t += gridDim.y) {
    const std::int64_t r0 = t * kTransposeTile;
#pragma unroll
    for (int j = 0; j < kTransposeTile; j += kTransposeBlockRows) {
      if (r0 + ty + j < rows && c0 + tx < cols) {
        tile[ty + j][tx] = in[(r0 + ty + j) * cols + c0 + tx];
      }
    }
    __syncthreads();
    // Element (c0 + ty + j, r0 + tx) of out was loaded by the thread that handled
    // (r0 + tx, c0 + ty + j) of in: the same bounds, so no unwritten tile element is read.
#pragma unroll
    for (int j = 0; j < kTransposeTile; j += kTransposeBlockRows) {
      if (c0 + ty + j < cols && r0 + tx < rows) {
        out[(c0 + ty + j) * rows + r0 + tx] = tile[tx][ty + j];
      }
    }
    __syncthreads();  // the next trip overwrites the tile
  }
  // END SOLUTION
}
//! [kernel]

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // inline namespace host_emulated
#endif
}  // namespace gnm::ch06
