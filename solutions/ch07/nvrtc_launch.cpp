// Exercise 7.1: a kernel compiled at run time with NVRTC and launched through the driver API
// (see exercises/ch07/nvrtc_launch.hpp). Host code only: the kernel is a string.
//
// Napkin math for the kernel: 12 bytes per element (read x, read y, write y) for 3 FLOP, so it
// runs at memory speed: 10^8 elements on an H100 (~3 TB/s copy) take about 0.4 ms.
#include "nvrtc_launch.hpp"

#include <algorithm>

#include "gnm/core/check.hpp"

namespace gnm::ch07 {
namespace {

// The block sizes the kernel may be compiled for: whole warps, within the hardware's 1024.
void check_block(int block) {
  GNM_CHECK(block >= 32 && block <= 1024 && block % 32 == 0,
            "threads per block must be a multiple of the warp size (32) in [32, 1024]", block);
}

}  // namespace

//! [make_axpby_kernel]
RtcKernel make_axpby_kernel(std::string_view arch, int block) {
  // BEGIN SOLUTION("ex 7.1", "check block (a multiple of 32 in [32, 1024]), fill source (an extern \"C\" kernel gnm_axpby with a grid-stride loop and a helper axpby_one without __device__), name, entry, options.arch (arch, or gnm::cuda::driver::device_arch(0, \"sm\") when empty) and options.extra = {\"-default-device\", \"-DGNM_BLOCK=<block>\"}")
  check_block(block);
  RtcKernel k;
  //! [axpby_source]
  // The kernel as NVRTC sees it. GNM_BLOCK comes from the options (-DGNM_BLOCK=256), so one text
  // serves every block size and the cache keeps one entry per size. axpby_one has no __device__:
  // -default-device makes unannotated functions device functions, the way a kernel library that
  // is compiled only by NVRTC can drop the annotation everywhere.
  k.source = R"cuda(
float axpby_one(float a, float x, float b, float y) { return fmaf(a, x, b * y); }

extern "C" __global__ void __launch_bounds__(GNM_BLOCK)
gnm_axpby(long long n, float a, const float* __restrict__ x, float b, float* __restrict__ y) {
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    y[i] = axpby_one(a, x[i], b, y[i]);
  }
}
)cuda";
  //! [axpby_source]
  k.name = "gnm_axpby.cu";
  k.entry = kAxpbyEntry;
  // An empty arch means "this machine's GPU": a cubin for exactly its compute capability, which
  // loads without a JIT step. Asking the driver needs one, so this throws CudaError without it.
  k.options.arch = arch.empty() ? gnm::cuda::driver::device_arch(0, "sm") : std::string(arch);
  k.options.extra = {"-default-device", "-DGNM_BLOCK=" + std::to_string(block)};
  return k;
  // END SOLUTION
}
//! [make_axpby_kernel]

gnm::cuda::driver::LaunchConfig axpby_launch_config(std::int64_t n, int block,
                                                    cudaStream_t stream) {
  // BEGIN SOLUTION("ex 7.1", "check n (ShapeError when negative) and block, then grid = min(ceil(n / block), kAxpbyMaxGrid) without overflow, block = (block, 1, 1), the given stream")
  GNM_CHECK_SHAPE(n >= 0, "the number of elements cannot be negative", n);
  check_block(block);
  // Ceil-divide without forming n + block - 1, which could wrap for n near INT64_MAX.
  const std::int64_t blocks = std::min(n / block + (n % block != 0 ? 1 : 0), kAxpbyMaxGrid);
  gnm::cuda::driver::LaunchConfig config;
  config.grid = dim3(static_cast<unsigned>(blocks), 1, 1);
  config.block = dim3(static_cast<unsigned>(block), 1, 1);
  config.shared_bytes = 0;
  config.stream = stream;
  return config;
  // END SOLUTION
}

//! [launch_axpby]
void launch_axpby(CUfunction f, const gnm::cuda::driver::LaunchConfig& config, std::int64_t n,
                  float a, const float* d_x, float b, float* d_y) {
  // BEGIN SOLUTION("ex 7.1", "check n (ShapeError when negative), return when n == 0, check f, d_x, d_y and the grid/block sizes, then put n (as long long), a, d_x, b, d_y in local variables of the parameters' exact types and pass an array of their addresses to gnm::cuda::driver::launch_raw")
  GNM_CHECK_SHAPE(n >= 0, "the number of elements cannot be negative", n);
  if (n == 0) return;
  GNM_CHECK(f != nullptr && d_x != nullptr && d_y != nullptr,
            "launch_axpby needs a function and device pointers for n > 0", n);
  GNM_CHECK(config.grid.x >= 1 && config.block.x >= 1,
            "the launch configuration is empty: use axpby_launch_config(n, block)", config.grid.x,
            config.block.x);
  // cuLaunchKernel copies each parameter from the address given, as many bytes as the kernel's
  // parameter has: an int where the kernel expects long long would read 4 bytes of garbage.
  // Nothing checks this at run time, so the locals have exactly the kernel's types.
  long long count = n;
  float alpha = a;
  const float* x = d_x;
  float beta = b;
  float* y = d_y;
  void* args[] = {&count, &alpha, &x, &beta, &y};
  gnm::cuda::driver::launch_raw(f, config, args);
  // END SOLUTION
}
//! [launch_axpby]

}  // namespace gnm::ch07
