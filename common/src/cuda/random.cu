// Philox fills on the GPU: one grid-stride kernel, three transforms (bits, uniform, normal).
//
// Each thread takes one Philox block (four consecutive elements) at a time, so one philox4x32_10
// call feeds four stores, and the same PhiloxRng methods as the host fills compute the values:
// that is what makes the two backends agree bit for bit (see gnm/core/philox.hpp).
//
// Napkin math: ten rounds of two 32×32→64 multiplies plus a few xors/adds is roughly 25 integer
// instructions per element against 4 bytes stored, so on an H100 (~3.35 TB/s of HBM3, ~0.8 G
// floats/ms) the fill sits near the balance point of ALU and memory: cheap enough that a kernel
// can regenerate a dropout mask instead of storing it.
#include "gnm/cuda/random.hpp"

#include <cstdint>

#include "gnm/core/check.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cuda/check.hpp"

namespace gnm::cuda {
namespace {

constexpr int kThreads = 256;
// Enough blocks to fill any current GPU several times over; beyond this the grid-stride loop
// gives each thread more Philox blocks rather than launching more CUDA blocks.
constexpr std::int64_t kMaxGrid = 4096;

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

template <class T, class BlockValues>
void launch_fill(T* d_out, std::int64_t n, BlockValues block_values, cudaStream_t stream) {
  GNM_CHECK(n >= 0, "element count must be non-negative", n);
  if (n == 0) return;
  GNM_CHECK(d_out != nullptr, "output pointer is null", n);
  const std::int64_t num_philox_blocks = (n + PhiloxRng::kBlockSize - 1) / PhiloxRng::kBlockSize;
  std::int64_t grid = (num_philox_blocks + kThreads - 1) / kThreads;
  if (grid > kMaxGrid) grid = kMaxGrid;
  philox_fill_kernel<<<static_cast<unsigned>(grid), kThreads, 0, stream>>>(d_out, n, block_values);
  GNM_CUDA_CHECK_LAUNCH();
}

}  // namespace

void fill_uniform_device(float* d_out, std::int64_t n, std::uint64_t seed, float lo, float hi,
                         cudaStream_t stream, std::uint64_t subsequence) {
  gnm::detail::check_uniform_range(lo, hi);
  launch_fill(d_out, n, UniformBlock{PhiloxRng(seed, subsequence), lo, hi}, stream);
}

void fill_normal_device(float* d_out, std::int64_t n, std::uint64_t seed, float mean, float stddev,
                        cudaStream_t stream, std::uint64_t subsequence) {
  gnm::detail::check_normal_params(mean, stddev);
  launch_fill(d_out, n, NormalBlock{PhiloxRng(seed, subsequence), mean, stddev}, stream);
}

void fill_bits_device(std::uint32_t* d_out, std::int64_t n, std::uint64_t seed, cudaStream_t stream,
                      std::uint64_t subsequence) {
  launch_fill(d_out, n, BitsBlock{PhiloxRng(seed, subsequence)}, stream);
}

}  // namespace gnm::cuda
