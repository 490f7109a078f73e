// The chapter's kernels and their grid arithmetic: a strided gather and an offset copy (8.3:
// what coalescing costs), and an element-wise fmaf (8.2: a kernel touching managed or mapped
// memory). Kernels only, no CUDA header: kernels.cu compiles them with nvcc and launches them,
// and tests/emu/test_ch08_kernels_emulated.cpp runs the same text on the CPU through the host
// emulator (tests/emu/cuda_host_emulator.hpp).
//
// Every kernel is a grid-stride loop with four independent elements per thread per iteration:
// four loads in flight per thread before the first store. Little's law wants ~3 TB/s × ~0.6 µs ≈
// 2 MB in flight on an H100; 132 SMs × 2048 threads × 4 loads × 4 B = 4.3 MB is enough.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <cmath>
#include <cstdint>

namespace chapter08::kernels_detail {
#if defined(GNM_CUDA_HOST_EMULATOR)
inline namespace host_emulated {  // see cuda_host_emulator.hpp: never merged with nvcc's stubs
#endif

constexpr int kBlock = 256;
constexpr int kUnroll = 4;
constexpr std::int64_t kMaxGridX = 4096;

inline unsigned grid_for(std::int64_t n) {
  const std::int64_t per_block = std::int64_t{kBlock} * kUnroll;
  const std::int64_t blocks = n / per_block + (n % per_block != 0 ? 1 : 0);
  return static_cast<unsigned>(blocks < kMaxGridX ? (blocks > 0 ? blocks : 1) : kMaxGridX);
}

//! [strided_gather]
// blockIdx.y = q picks the slice; the x dimension strides over r in [0, m). Neighbouring threads
// (neighbouring r) read in[r·stride + q]: `stride` floats apart. The writes stay coalesced.
__global__ void strided_gather_kernel(const float* __restrict__ in, float* __restrict__ out,
                                      std::int64_t m, int stride) {
  const std::int64_t q = blockIdx.y;
  const std::int64_t threads = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       base < m; base += threads * kUnroll) {
    float v[kUnroll];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) {
      const std::int64_t r = base + k * threads;
      v[k] = r < m ? in[r * stride + q] : 0.0f;
    }
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) {
      const std::int64_t r = base + k * threads;
      if (r < m) out[q * m + r] = v[k];
    }
  }
}
//! [strided_gather]

__global__ void offset_copy_kernel(const float* __restrict__ in, float* __restrict__ out,
                                   std::int64_t n, int offset) {
  const std::int64_t threads = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       base < n; base += threads * kUnroll) {
    float v[kUnroll];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) {
      const std::int64_t i = base + k * threads;
      v[k] = i < n ? in[i + offset] : 0.0f;
    }
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) {
      const std::int64_t i = base + k * threads;
      if (i < n) out[i] = v[k];
    }
  }
}

// No __restrict__: in and out may be the same array (each thread reads, then writes, only its
// own elements, so in place is safe).
__global__ void affine_kernel(const float* in, float* out, std::int64_t n, float a, float b) {
  const std::int64_t threads = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       base < n; base += threads * kUnroll) {
    float v[kUnroll];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) {
      const std::int64_t i = base + k * threads;
      v[k] = i < n ? fmaf(in[i], a, b) : 0.0f;
    }
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) {
      const std::int64_t i = base + k * threads;
      if (i < n) out[i] = v[k];
    }
  }
}

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace chapter08::kernels_detail
