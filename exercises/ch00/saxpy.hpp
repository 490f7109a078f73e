// Exercise 0.4 — your first GPU program: SAXPY, y <- a * x + y.
//
// Write:
//   (a) in exercises/ch00/saxpy.cpp, saxpy_launch_config(): how many blocks of `block` threads
//       cover n elements;
//   (b) in exercises/ch00/saxpy_kernels.cuh, the body of saxpy_kernel (a grid-stride loop), and in
//       exercises/ch00/saxpy.cu, saxpy_cuda(), which launches it and checks the launch.
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch00 --output-on-failure
// The CPU-side tests of (a) and the emulated kernel tests (SaxpyEmulated: your kernel's text run
// on the CPU by tests/emu/cuda_host_emulator.hpp) run everywhere; the GPU tests of (b) skip
// without a GPU.
#pragma once

#include <cstdint>

#if GNM_HAVE_CUDA
#if defined(GNM_CUDA_HOST_EMULATOR)
// The emulated kernel test includes this header after tests/emu/cuda_host_emulator.hpp, whose
// dim3 stand-in clashes with CUDA's headers. cudaStream_t is, as in driver_types.h, a pointer to
// the opaque CUstream_st, so the declaration below stays the same.
struct CUstream_st;
using cudaStream_t = CUstream_st*;
#else
#include <cuda_runtime_api.h>
#endif
#endif

namespace gnm::ch00 {

/// A 1-D launch configuration: `grid` blocks of `block` threads.
struct LaunchConfig {
  std::int64_t grid = 0;  ///< Number of blocks (0: nothing to launch).
  int block = 0;          ///< Threads per block.
};

/// Largest grid the launcher asks for by default: far more blocks than an H100 keeps resident
/// (132 SMs × 32 blocks), so a grid-stride kernel always fills the GPU, and far below the
/// hardware limit of 2^31 − 1 blocks.
inline constexpr std::int64_t kDefaultMaxGrid = 65536;

/// Ex 0.4a. The launch configuration that covers `n` elements with `block` threads per block:
/// grid = ceil(n / block), but at most `max_grid` (the kernel's grid-stride loop does the rest).
///
/// - n == 0 gives grid 0 (the caller launches nothing).
/// - n < 0 throws gnm::ShapeError naming n.
/// - block must be a multiple of the warp size (32) in [32, 1024]; max_grid must be ≥ 1;
///   otherwise gnm::Error naming the value.
LaunchConfig saxpy_launch_config(std::int64_t n, int block, std::int64_t max_grid = kDefaultMaxGrid);

#if GNM_HAVE_CUDA
/// Ex 0.4b. y <- a * x + y for `n` floats on the GPU: `d_x` and `d_y` are device pointers
/// (// (n,) each). Launches saxpy_kernel with saxpy_launch_config(n, block, max_grid) on `stream`
/// and checks the launch with GNM_CUDA_CHECK_LAUNCH(); does not synchronize. n == 0 launches
/// nothing; a null pointer with n > 0 throws gnm::Error.
void saxpy_cuda(float a, const float* d_x, float* d_y, std::int64_t n, int block = 256,
                cudaStream_t stream = nullptr, std::int64_t max_grid = kDefaultMaxGrid);
#endif

}  // namespace gnm::ch00
