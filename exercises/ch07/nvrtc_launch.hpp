// Exercise 7.1 — an NVRTC launch: compile a kernel from a string at run time and launch it through
// the driver API (gnm::cuda::rtc and gnm::cuda::driver, chapter 7.2).
//
// Write, in exercises/ch07/nvrtc_launch.cpp:
//   (a) make_axpby_kernel(): the CUDA C++ text of the kernel and the NVRTC options to compile it;
//   (b) axpby_launch_config(): how many blocks cover n elements (a grid-stride kernel);
//   (c) launch_axpby(): the argument array of the launch, each argument of exactly the kernel's
//       parameter type, handed to gnm::cuda::driver::launch_raw.
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch07
// The CPU tests compile your source with NVRTC right here (no GPU needed) and check the PTX; the
// launch tests need a GPU and skip without one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gnm/cuda/driver.hpp"
#include "gnm/cuda/rtc.hpp"

namespace gnm::ch07 {

/// The kernel's name in the compiled module. Declared `extern "C"` in the source, so NVRTC keeps
/// it unmangled and gnm::cuda::driver::Module::function finds it by this name (a C++ name would
/// be mangled, e.g. _Z9gnm_axpbyxfPKffPf, and would need NVRTC's name expressions to look up).
inline constexpr const char* kAxpbyEntry = "gnm_axpby";

/// Largest grid axpby_launch_config asks for: an H100 keeps 132 SMs × 8 blocks of 256 threads
/// resident, so 4096 blocks are about four waves; the grid-stride loop covers larger n.
inline constexpr std::int64_t kAxpbyMaxGrid = 4096;

/// What NVRTC needs to compile the kernel: the program text, its name (for diagnostics and the
/// cache key), the entry point and the options.
struct RtcKernel {
  std::string source;               ///< One translation unit holding the helper and the kernel.
  std::string name;                 ///< The program's name for NVRTC, e.g. "gnm_axpby.cu".
  std::string entry;                ///< kAxpbyEntry.
  gnm::cuda::rtc::Options options;  ///< Target, standard and extra options.
};

/// Ex 7.1a. The program of `y[i] = a * x[i] + b * y[i]` for i < n:
///
///     extern "C" __global__ void __launch_bounds__(GNM_BLOCK)
///     gnm_axpby(long long n, float a, const float* x, float b, float* y)
///
/// a grid-stride loop with 64-bit indices. Each element is computed by a helper
/// `float axpby_one(float a, float x, float b, float y)` written WITHOUT `__device__`: it compiles
/// only because the options carry "-default-device" (NVRTC then treats unannotated functions as
/// device functions). The helper returns fmaf(a, x, b * y): two roundings.
///
/// Options: arch = `arch`, or when `arch` is empty the device's own target,
/// gnm::cuda::driver::device_arch(0, "sm") (a cubin; this needs a driver and throws CudaError
/// without one); extra = {"-default-device", "-DGNM_BLOCK=<block>"} in this order.
/// `block` must be a multiple of 32 in [32, 1024]: gnm::Error naming it otherwise.
RtcKernel make_axpby_kernel(std::string_view arch, int block);

/// Ex 7.1b. The launch configuration for n elements: block = (`block`, 1, 1), grid = (min(ceil(n /
/// block), kAxpbyMaxGrid), 1, 1), no dynamic shared memory, `stream`. n == 0 gives grid.x == 0
/// (nothing to launch). n < 0 throws gnm::ShapeError naming n; a bad block (as above) gnm::Error.
gnm::cuda::driver::LaunchConfig axpby_launch_config(std::int64_t n, int block,
                                                    cudaStream_t stream = nullptr);

/// Ex 7.1c. Launches `f` (the loaded gnm_axpby) over n elements of the device arrays d_x and d_y
/// (// (n,) each) with `config` (from axpby_launch_config). The arguments go to
/// gnm::cuda::driver::launch_raw as an array of pointers, one per kernel parameter, each pointing
/// at a value of exactly the parameter's type: n as long long, a and b as float, the pointers as
/// they are. Returns without touching the driver when n == 0. Throws gnm::ShapeError naming n when
/// n < 0, and gnm::Error when n > 0 and a pointer (f, d_x or d_y) is null or the configuration has
/// an empty grid or block. Asynchronous: does not synchronize.
void launch_axpby(CUfunction f, const gnm::cuda::driver::LaunchConfig& config, std::int64_t n,
                  float a, const float* d_x, float b, float* d_y);

}  // namespace gnm::ch07
