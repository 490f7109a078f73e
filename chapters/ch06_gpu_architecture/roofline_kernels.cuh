// 6.6's compute-ceiling kernel: independent FMA chains whose result has a closed form. Kernel
// only, no CUDA header: sec_roofline_gpu.cu compiles it with nvcc, and
// tests/emu/test_ch06_probes_emulated.cpp runs the same text on the CPU through the host
// emulator (tests/emu/cuda_host_emulator.hpp).
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "roofline_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <math.h>

namespace chapter06::roofline_kernels {
#if defined(GNM_CUDA_HOST_EMULATOR)
inline namespace host_emulated {  // see cuda_host_emulator.hpp: never merged with nvcc's stubs
#endif

// Independent chains per thread: with 2048 resident threads per SM the FMA latency (4 cycles)
// is hidden by other warps; a few chains per thread cover the rest.
constexpr int kChains = 8;

//! [fma peak]
// x_c <- x_c * a + b with a = 1, b = 2^-10: every step is exact in fp32, so each thread's
// result has a closed form, 0.25 c + iterations * 2^-10, and the kernel checks itself.
__global__ void fma_peak_kernel(float a, float b, int iterations, float* __restrict__ out) {
  float x[kChains];
#pragma unroll
  for (int c = 0; c < kChains; ++c) x[c] = 0.25f * static_cast<float>(c);
  for (int i = 0; i < iterations; ++i) {
#pragma unroll
    for (int c = 0; c < kChains; ++c) x[c] = fmaf(x[c], a, b);
  }
  float sum = 0.0f;
#pragma unroll
  for (int c = 0; c < kChains; ++c) sum += x[c];
  out[blockIdx.x * blockDim.x + threadIdx.x] = sum;
}
//! [fma peak]

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace chapter06::roofline_kernels
