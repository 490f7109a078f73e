// Philox fills on the GPU: one grid-stride kernel, three transforms (bits, uniform, normal).
//
// The kernel and its grid are in random_kernels.cuh (no CUDA header there, so that
// tests/emu/test_engine_random_emulated.cpp runs the same text on the CPU and checks it against the
// host fills bit for bit); this file holds the launchers.
#include "gnm/cuda/random.hpp"

#include <cstdint>

#include "gnm/core/check.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cuda/check.hpp"
#include "random_kernels.cuh"

namespace gnm::cuda {
namespace {

namespace rk = random_kernels;

template <class T, class BlockValues>
void launch_fill(T* d_out, std::int64_t n, BlockValues block_values, cudaStream_t stream) {
  GNM_CHECK(n >= 0, "element count must be non-negative", n);
  if (n == 0) return;
  GNM_CHECK(d_out != nullptr, "output pointer is null", n);
  const std::int64_t grid = rk::fill_grid(n);
  rk::philox_fill_kernel<<<static_cast<unsigned>(grid), rk::kThreads, 0, stream>>>(d_out, n,
                                                                          block_values);
  GNM_CUDA_CHECK_LAUNCH();
}

}  // namespace

void fill_uniform_device(float* d_out, std::int64_t n, std::uint64_t seed, float lo, float hi,
                         cudaStream_t stream, std::uint64_t subsequence) {
  gnm::detail::check_uniform_range(lo, hi);
  launch_fill(d_out, n, rk::UniformBlock{PhiloxRng(seed, subsequence), lo, hi}, stream);
}

void fill_normal_device(float* d_out, std::int64_t n, std::uint64_t seed, float mean, float stddev,
                        cudaStream_t stream, std::uint64_t subsequence) {
  gnm::detail::check_normal_params(mean, stddev);
  launch_fill(d_out, n, rk::NormalBlock{PhiloxRng(seed, subsequence), mean, stddev}, stream);
}

void fill_bits_device(std::uint32_t* d_out, std::int64_t n, std::uint64_t seed, cudaStream_t stream,
                      std::uint64_t subsequence) {
  launch_fill(d_out, n, rk::BitsBlock{PhiloxRng(seed, subsequence)}, stream);
}

}  // namespace gnm::cuda
