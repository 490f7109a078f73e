// Exercise 8.1b's work kernel and its grid (given code, no exercise here): pipeline.cu launches
// it on every chunk, and tests/emu/test_ch08_kernels_emulated.cpp runs the same text on the CPU
// through the host emulator (tests/emu/cuda_host_emulator.hpp). No CUDA header.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "pipeline_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <cmath>
#include <cstdint>

namespace gnm::ch08::pipeline_detail {
#if defined(GNM_CUDA_HOST_EMULATOR)
inline namespace host_emulated {  // see cuda_host_emulator.hpp: never merged with nvcc's stubs
#endif

constexpr int kBlock = 256;
// 132 SMs × 8 blocks of 256 threads fill an H100 (2048 threads per SM); more blocks than that
// only add scheduling, and the grid-stride loop covers any count.
constexpr std::int64_t kMaxGrid = 132 * 8;

/// Blocks for `count` elements (count >= 1): one per 256, at most kMaxGrid.
inline unsigned pipeline_grid(std::int64_t count) {
  const std::int64_t blocks = count / kBlock + (count % kBlock != 0 ? 1 : 0);
  return static_cast<unsigned>(blocks < kMaxGrid ? blocks : kMaxGrid);
}

// One thread per element, grid-stride. The FMAs form a dependent chain per element, so the
// warps on an SM hide each other's 4-cycle FMA latency; 64-bit indices for arrays past 2^31.
__global__ void pipeline_work_kernel(float* __restrict__ x, std::int64_t n, float a, float b,
                                     int iters) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    float v = x[i];
    for (int r = 0; r < iters; ++r) v = fmaf(v, a, b);
    x[i] = v;
  }
}

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace gnm::ch08::pipeline_detail
