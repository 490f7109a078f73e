// 6.1's divergence kernel: each element takes one of 32 paths, each path a __noinline__ chain of
// dependent FMAs. Kernels only, no CUDA header: sec_threads.cu compiles them with nvcc, and
// tests/emu/test_ch06_kernels_emulated.cpp runs the same text on the CPU through the host
// emulator (tests/emu/cuda_host_emulator.hpp).
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "threads_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <cmath>
#include <utility>

namespace chapter06::threads_kernels {
#if defined(GNM_CUDA_HOST_EMULATOR)
inline namespace host_emulated {  // see cuda_host_emulator.hpp: never merged with nvcc's stubs
#endif

constexpr int kPaths = 32;
constexpr int kBlock = 256;

// Path p computes x <- x * a_p + b_p, `iters` times: |a_p| < 1 keeps x bounded.
__host__ __device__ constexpr float path_a(int p) {
  return 1.0f - static_cast<float>(p + 1) * 0x1p-12f;
}
__host__ __device__ constexpr float path_b(int p) { return static_cast<float>(p + 1) * 0x1p-10f; }

//! [divergence kernel]
template <int P>
__device__ __noinline__ float path_work(float x, int iters) {
  for (int i = 0; i < iters; ++i) x = fmaf(x, path_a(P), path_b(P));
  return x;
}

// One `if (path == P)` per path: a warp whose lanes hold k different paths takes k of them.
template <int... P>
__device__ inline float run_path(int path, float x, int iters, std::integer_sequence<int, P...>) {
  float result = x;
  ((path == P ? void(result = path_work<P>(x, iters)) : void()), ...);
  return result;
}

// by_warp = false: lane l takes path l % paths (paths = 1, 2, 4, … 32 within every warp);
// by_warp = true:  warp w takes path w % 32 (32 paths per block, none within a warp).
__global__ void divergence_kernel(const float* __restrict__ in, float* __restrict__ out, int n,
                                  int paths, bool by_warp, int iters) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= n) return;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int path = by_warp ? (i / 32) % kPaths : lane % paths;
  out[i] = run_path(path, in[i], iters, std::make_integer_sequence<int, kPaths>{});
}
//! [divergence kernel]

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace chapter06::threads_kernels
