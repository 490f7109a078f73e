// 6.5's kernels: three whose resources span the occupancy limiters (registers, static shared
// memory; the chapter queries them with cudaFuncGetAttributes and the occupancy API, it does not
// launch them) and the memory-bound stream kernel of the bandwidth-vs-occupancy sweep. Kernels
// only, no CUDA header: sec_occupancy_gpu.cu compiles them with nvcc, and
// tests/emu/test_ch06_probes_emulated.cpp runs the same text on the CPU through the host
// emulator (tests/emu/cuda_host_emulator.hpp).
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "occupancy_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <cstdint>

namespace chapter06::occupancy_kernels {
#if defined(GNM_CUDA_HOST_EMULATOR)
inline namespace host_emulated {  // see cuda_host_emulator.hpp: never merged with nvcc's stubs
#endif

// y = 2x + 1 (one light thread per element).
__global__ void occ_light_kernel(const float* __restrict__ x, float* __restrict__ y, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) y[i] = 2.0f * x[i] + 1.0f;
}

// Many live accumulators that the unrolled loops keep in registers. Needs n >= 1; writes one
// output per thread of the grid (y holds gridDim.x * blockDim.x values).
template <int kAcc>
__global__ void __launch_bounds__(256) occ_heavy_kernel(const float* __restrict__ x,
                                                        float* __restrict__ y, int n) {
  float acc[kAcc];
#pragma unroll
  for (int j = 0; j < kAcc; ++j) acc[j] = x[(static_cast<int>(threadIdx.x) + j) % n];
  for (int it = 0; it < n; ++it) {
#pragma unroll
    for (int j = 0; j < kAcc; ++j) acc[j] = acc[j] * acc[(j + 1) % kAcc] + x[(it + j) % n];
  }
  float s = 0.0f;
#pragma unroll
  for (int j = 0; j < kAcc; ++j) s += acc[j];
  y[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

// 16 KiB of static shared memory. Every thread fills the slots k ≡ threadIdx.x (mod blockDim.x)
// with its own element (0 past the end), then reads slot (17·threadIdx.x) mod 4096.
__global__ void occ_smem_kernel(const float* __restrict__ x, float* __restrict__ y, int n) {
  __shared__ float buf[4096];
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  for (int k = static_cast<int>(threadIdx.x); k < 4096; k += static_cast<int>(blockDim.x)) {
    buf[k] = i < n ? x[i] : 0.0f;
  }
  __syncthreads();
  if (i < n) y[i] = buf[(threadIdx.x * 17) % 4096];
}

//! [stream kernel]
// Memory-bound: out = 2 * in, float4 at a time, grid-stride. Launched with one wave of
// blocks_per_sm × SMs blocks, so the occupancy is exactly what the dynamic shared memory allows.
__global__ void occ_stream_kernel(const float4* __restrict__ in, float4* __restrict__ out,
                                  std::int64_t n4) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n4;
       i += stride) {
    const float4 v = in[i];
    out[i] = make_float4(2.0f * v.x, 2.0f * v.y, 2.0f * v.z, 2.0f * v.w);
  }
}
//! [stream kernel]

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace chapter06::occupancy_kernels
