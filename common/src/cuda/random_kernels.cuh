// Internal: the Philox fill kernel behind gnm/cuda/random.hpp and its launch configuration.
// Included by random.cu (nvcc) and, unchanged, by tests/emu/test_engine_random_emulated.cpp (g++
// with the host emulator), so CI runs this exact text on the CPU and checks that it reproduces
// the host fills of gnm/core/random.hpp bit for bit. Includes no CUDA header.
//
// Each thread takes one Philox block (four consecutive elements) at a time, so one philox4x32_10
// call feeds four stores, and the same PhiloxRng methods as the host fills compute the values:
// that is what makes the two backends agree bit for bit (see gnm/core/philox.hpp).
//
// Napkin math: ten rounds of two 32×32→64 multiplies plus a few xors/adds is roughly 25 integer
// instructions per element against 4 bytes stored, so on an H100 (~3.35 TB/s of HBM3, ~0.8 G
// floats/ms) the fill sits near the balance point of ALU and memory: cheap enough that a kernel
// can regenerate a dropout mask instead of storing it.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "random_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <cstdint>

#include "gnm/core/philox.hpp"

namespace gnm::cuda::random_kernels {
#if defined(GNM_CUDA_HOST_EMULATOR)
// The emulated tests link libgnm too: host copies in their own namespace never merge with nvcc's
// host stubs of the same names (see cuda_host_emulator.hpp).
inline namespace host_emulated {
#endif

constexpr int kThreads = 256;
// Enough blocks to fill any current GPU several times over; beyond this the grid-stride loop
// gives each thread more Philox blocks rather than launching more CUDA blocks.
constexpr std::int64_t kMaxGrid = 4096;

/// Philox blocks (PhiloxRng::kBlockSize elements each) covering n elements; the last may be partial.
inline std::int64_t philox_blocks(std::int64_t n) {
  return (n + PhiloxRng::kBlockSize - 1) / PhiloxRng::kBlockSize;
}

/// The launch's grid for n > 0 elements: one thread per Philox block, at most max_grid blocks of
/// kThreads threads (the grid-stride loop covers the rest).
inline std::int64_t fill_grid(std::int64_t n, std::int64_t max_grid = kMaxGrid) {
  const std::int64_t grid = (philox_blocks(n) + kThreads - 1) / kThreads;
  return grid < max_grid ? grid : max_grid;
}

// d_out[i] for i < n from `block_values(b)`, which returns the four values of Philox block b
// (elements 4b .. 4b + 3) in a struct with a `v[4]` member. The last block may be partial.
template <class T, class BlockValues>
__global__ void philox_fill_kernel(T* __restrict__ d_out, std::int64_t n,
                                   BlockValues block_values) {
  constexpr int kLanes = PhiloxRng::kBlockSize;
  const std::int64_t num_philox_blocks = (n + kLanes - 1) / kLanes;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t pb = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       pb < num_philox_blocks; pb += stride) {
    const auto values = block_values(static_cast<std::uint64_t>(pb));
    const std::int64_t base = pb * kLanes;
#pragma unroll
    for (int lane = 0; lane < kLanes; ++lane) {
      if (base + lane < n) d_out[base + lane] = values.v[lane];
    }
  }
}

struct BitsBlock {
  PhiloxRng rng;
  __device__ U32x4 operator()(std::uint64_t b) const { return rng.block(b); }
};

struct UniformBlock {
  PhiloxRng rng;
  float lo, hi;
  __device__ F32x4 operator()(std::uint64_t b) const { return rng.uniform_block(b, lo, hi); }
};

struct NormalBlock {
  PhiloxRng rng;
  float mean, stddev;
  __device__ F32x4 operator()(std::uint64_t b) const { return rng.normal_block(b, mean, stddev); }
};

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // inline namespace host_emulated
#endif
}  // namespace gnm::cuda::random_kernels
