// Exercise 0.4b: the SAXPY kernel and its launch (see exercises/ch00/saxpy.hpp).
//
// The kernel is in saxpy_kernels.cuh (no CUDA header there, so that
// tests/ch00/test_saxpy_emulated.cpp runs the same text on the CPU through the host emulator);
// this file holds its launcher.
#include "saxpy.hpp"

#include "gnm/core/check.hpp"
#include "gnm/cuda/check.hpp"
#include "saxpy_kernels.cuh"

namespace gnm::ch00 {

//! [launch]
void saxpy_cuda(float a, const float* d_x, float* d_y, std::int64_t n, int block,
                cudaStream_t stream, std::int64_t max_grid) {
  // BEGIN SOLUTION("ex 0.4", "check the pointers when n > 0, get the grid from saxpy_launch_config, launch saxpy_kernel<<<grid, block, 0, stream>>> unless grid is 0, then GNM_CUDA_CHECK_LAUNCH()")
  const LaunchConfig cfg = saxpy_launch_config(n, block, max_grid);
  if (cfg.grid == 0) return;
  GNM_CHECK(d_x != nullptr && d_y != nullptr, "saxpy_cuda needs device pointers for n > 0", n);
  saxpy_kernel<<<static_cast<unsigned>(cfg.grid), cfg.block, 0, stream>>>(n, a, d_x, d_y);
  GNM_CUDA_CHECK_LAUNCH();
  // END SOLUTION
}
//! [launch]

}  // namespace gnm::ch00
