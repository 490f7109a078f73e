// Exercise 0.4b: the SAXPY kernel and its launch (see exercises/ch00/saxpy.hpp).
//
// Napkin math: each element reads x and y and writes y (12 bytes) for 2 FLOPs, so SAXPY runs at
// memory speed: on an H100 (~3 TB/s copy) 10^8 elements take about 1.2e9 B / 3e12 B/s = 0.4 ms.
#include "saxpy.hpp"

#include "gnm/core/check.hpp"
#include "gnm/cuda/check.hpp"

namespace gnm::ch00 {

//! [kernel]
// One thread per element, looping with a stride of the whole grid, so any grid size is correct:
// neighbouring threads touch neighbouring floats, and each warp's loads coalesce into 128-byte lines.
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
