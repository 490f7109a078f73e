// Section 1.1's GPU kernels: independent FMA chains (the compute ceiling; the result has a closed
// form), an index fill for the copy buffers and an empty kernel (launch overhead). Kernels only,
// no CUDA header: gpu_roofline.cu compiles them with nvcc, and
// tests/emu/test_ch01_roofline_emulated.cpp runs the same text on the CPU through the host
// emulator (tests/emu/cuda_host_emulator.hpp).
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "gpu_roofline_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <math.h>

#include <cstddef>
#include <cstdint>

namespace gnm::ch01::roofline_kernels {
#if defined(GNM_CUDA_HOST_EMULATOR)
inline namespace host_emulated {  // see cuda_host_emulator.hpp: never merged with nvcc's stubs
#endif

// Independent FMA chains per thread. An SM issues one warp instruction per scheduler per cycle
// and keeps many warps resident, so the latency is mostly hidden by other warps; a few chains per
// thread cover the rest (the same argument as Note [Enough chains], with warps instead of ports).
constexpr int kGpuChains = 8;

//! [gpu_fma]
__global__ void fma_kernel(float a, float b, int iterations, float* out) {
  float x[kGpuChains];
#pragma unroll
  for (int c = 0; c < kGpuChains; ++c) x[c] = 0.25f * static_cast<float>(c);
  for (int i = 0; i < iterations; ++i) {
#pragma unroll
    for (int c = 0; c < kGpuChains; ++c) x[c] = fmaf(x[c], a, b);
  }
  float sum = 0;
#pragma unroll
  for (int c = 0; c < kGpuChains; ++c) sum += x[c];
  out[blockIdx.x * blockDim.x + threadIdx.x] = sum;
}
//! [gpu_fma]

// p[i] = low 32 bits of i · 2654435761 (Knuth's multiplicative hash: distinct, position-dependent
// words), grid-stride with 64-bit indices.
__global__ void iota_kernel(std::uint32_t* p, std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n;
       i += std::size_t{gridDim.x} * blockDim.x) {
    p[i] = static_cast<std::uint32_t>(i * 2654435761u);
  }
}

__global__ void empty_kernel() {}

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace gnm::ch01::roofline_kernels
