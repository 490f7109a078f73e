// Exercise 0.4b's kernel: SAXPY, y <- a * x + y (see exercises/ch00/saxpy.hpp). saxpy.cpp holds
// its launch configuration (0.4a) and saxpy.cu its launcher.
//
// This header includes no CUDA header, so the same text compiles twice: with nvcc, included by
// saxpy.cu, and with g++ in tests/ch00/test_saxpy_emulated.cpp after the host emulator
// (tests/emu/cuda_host_emulator.hpp: one std::thread per CUDA thread). CI thus runs the
// exercise's kernel on the CPU and checks its index math and grid-stride loop without a GPU.
//
// Napkin math: each element reads x and y and writes y (12 bytes) for 2 FLOPs, so SAXPY runs at
// memory speed: on an H100 (~3 TB/s copy) 10^8 elements take about 1.2e9 B / 3e12 B/s = 0.4 ms.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "saxpy_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <cstdint>

namespace gnm::ch00 {
#if defined(GNM_CUDA_HOST_EMULATOR)
// The host copy gets its own symbol: a test that links the real launcher too must never merge the
// emulated kernel with nvcc's host stub of the same name.
inline namespace host_emulated {
#endif

//! [kernel]
// One thread per element, looping with a stride of the whole grid, so any grid size is correct:
// neighbouring threads touch neighbouring floats, and each warp's loads coalesce into 128-byte
// lines.
__global__ void saxpy_kernel(std::int64_t n, float a, const float* __restrict__ x,
                             float* __restrict__ y) {
  // BEGIN SOLUTION DEVICE("ex 0.4", "a grid-stride loop over i = blockIdx.x * blockDim.x + threadIdx.x, stepping by gridDim.x * blockDim.x, computing y[i] = a * x[i] + y[i] (use 64-bit indices)")
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    y[i] = a * x[i] + y[i];
  }
  // END SOLUTION
}
//! [kernel]

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // inline namespace host_emulated
#endif
}  // namespace gnm::ch00
