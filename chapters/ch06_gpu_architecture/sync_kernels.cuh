// 6.4's reduction kernels: a shared-memory tree and a warp-shuffle version of a block's sum, and
// the launch arithmetic both use. Kernels only, no CUDA header: sec_sync.cu compiles them with
// nvcc, and tests/emu/test_ch06_kernels_emulated.cpp runs the same text on the CPU through the
// host emulator (tests/emu/cuda_host_emulator.hpp).
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "sync_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <algorithm>
#include <cstdint>

namespace chapter06::sync_kernels {
#if defined(GNM_CUDA_HOST_EMULATOR)
inline namespace host_emulated {  // see cuda_host_emulator.hpp: never merged with nvcc's stubs
#endif

constexpr int kReduceBlock = 256;
constexpr int kWarps = kReduceBlock / 32;

/// Blocks of the first pass: one per 256 elements, at most 8 per SM (the grid-stride loop in
/// thread_sum covers the rest). At least 1, so that n = 0 still writes a zero.
inline int reduce_blocks(std::int64_t n, int sm_count) {
  const std::int64_t per_n = (n + kReduceBlock - 1) / kReduceBlock;
  return static_cast<int>(std::max<std::int64_t>(
      1, std::min<std::int64_t>(per_n, static_cast<std::int64_t>(sm_count) * 8)));
}

/// Error bound of the two-pass sum of n floats (Note [Tolerances]): the result is a sum tree of
/// depth at most d = ceil(n / threads) (a thread's loop) + 8 (the block) + ceil(blocks / 256)
/// + 8 (pass 2), so |error| <= d · u · Σ|x| with u = 2^-24; `eps_f32` = 2^-23 leaves a factor 2.
inline double reduce_error_bound(std::int64_t n, int blocks, double abs_sum, double eps_f32) {
  const std::int64_t threads = static_cast<std::int64_t>(blocks) * kReduceBlock;
  const double depth = static_cast<double>((n + threads - 1) / threads + 8 +
                                           (blocks + kReduceBlock - 1) / kReduceBlock + 8);
  return depth * eps_f32 * abs_sum;
}

// Each thread's grid-stride sum of its elements (fp32, in order).
__device__ inline float thread_sum(const float* __restrict__ in, std::int64_t n) {
  float sum = 0.0f;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * kReduceBlock;
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kReduceBlock + threadIdx.x;
  for (std::int64_t i = first; i < n; i += stride) sum += in[i];
  return sum;
}

//! [reduce tree]
// out[blockIdx.x] = the block's sum: a tree in shared memory, one barrier per level.
__global__ void __launch_bounds__(kReduceBlock)
    reduce_tree_kernel(const float* __restrict__ in, float* __restrict__ out, std::int64_t n) {
  __shared__ float partial[kReduceBlock];
  const int tid = static_cast<int>(threadIdx.x);
  partial[tid] = thread_sum(in, n);
  __syncthreads();
  for (int half = kReduceBlock / 2; half > 0; half /= 2) {
    if (tid < half) partial[tid] += partial[tid + half];
    __syncthreads();  // the next level reads what this one wrote
  }
  if (tid == 0) out[blockIdx.x] = partial[0];
}
//! [reduce tree]

//! [reduce shuffle]
// Sums a value over the 32 lanes of a warp: lane 0 ends with the total. Registers only; the
// _sync variant names the lanes taking part (all 32), as Volta's independent threads require.
__device__ inline float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

__global__ void __launch_bounds__(kReduceBlock)
    reduce_shuffle_kernel(const float* __restrict__ in, float* __restrict__ out, std::int64_t n) {
  __shared__ float warp_sums[kWarps];
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const float v = warp_sum(thread_sum(in, n));
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();  // the only barrier: warp 0 reads the other warps' sums
  if (warp == 0) {
    const float total = warp_sum(lane < kWarps ? warp_sums[lane] : 0.0f);
    if (lane == 0) out[blockIdx.x] = total;
  }
}
//! [reduce shuffle]

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace chapter06::sync_kernels
