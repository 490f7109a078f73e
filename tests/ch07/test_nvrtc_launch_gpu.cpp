// Exercise 7.1 on a GPU: the NVRTC-compiled gnm_axpby, loaded with the driver API (as PTX, which
// the driver JIT-compiles, and as a cubin for the device's own architecture) and launched with
// launch_axpby, against a double-precision CPU reference. Skips without a device (fails instead
// under GNM_REQUIRE_GPU=1).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/driver.hpp"
#include "gnm/cuda/rtc.hpp"
#include "gnm/cuda/stream.hpp"
#include "gpu_test.hpp"
#include "nvrtc_launch.hpp"

namespace {

namespace driver = gnm::cuda::driver;
namespace rtc = gnm::cuda::rtc;

constexpr float kPoison = -12345.0f;  // past the end of y: the kernel must not touch it

// Compiles the exercise's kernel for `arch` ("" = the device's cubin) without a disk cache.
driver::Module load(const std::string& arch, int block) {
  const auto k = gnm::ch07::make_axpby_kernel(arch, block);
  rtc::Compiler compiler{std::filesystem::path()};
  const auto code = compiler.compile(k.source, k.name, k.options);
  return driver::Module::load(code.image);
}

// y = a x + b y on random x, y of length n (plus a poisoned tail), checked element by element.
// Error model: fmaf(a, x, fl(b y)) rounds twice, |err| <= eps/2 (|b y|) + eps/2 |result|, so for
// |x|, |y| <= 1 the bound abs = eps (|a| + |b|), rel = eps holds with room to spare.
void check_axpby(CUfunction f, std::int64_t n, int block, float a, float b,
                 cudaStream_t stream = nullptr) {
  const std::size_t pad = 37;
  std::vector<float> x(static_cast<std::size_t>(n) + pad), y(x.size());
  gnm::fill_uniform(x, 7000 + static_cast<std::uint64_t>(n), -1.0f, 1.0f);
  gnm::fill_uniform(y, 8000 + static_cast<std::uint64_t>(n), -1.0f, 1.0f);
  for (std::size_t i = static_cast<std::size_t>(n); i < y.size(); ++i) y[i] = kPoison;
  std::vector<double> ref(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < ref.size(); ++i) {
    ref[i] = static_cast<double>(a) * static_cast<double>(x[i]) +
             static_cast<double>(b) * static_cast<double>(y[i]);
  }
  gnm::cuda::DeviceBuffer<float> d_x(x.size()), d_y(y.size());
  d_x.copy_from_host(x);
  d_y.copy_from_host(y);
  gnm::ch07::launch_axpby(f, gnm::ch07::axpby_launch_config(n, block, stream), n, a, d_x.data(), b,
                          d_y.data());
  driver::synchronize();
  std::vector<float> out(y.size());
  d_y.copy_to_host(out);
  const gnm::Tolerance tol{gnm::kEpsF32 * static_cast<double>(std::fabs(a) + std::fabs(b)),
                           gnm::kEpsF32};
  const auto r = gnm::compare(std::span<const float>(out).first(ref.size()), ref, tol);
  EXPECT_TRUE(r.ok) << "n = " << n << ", block = " << block << ": " << r.report;
  for (std::size_t i = static_cast<std::size_t>(n); i < out.size(); ++i) {
    ASSERT_EQ(out[i], kPoison) << "element " << i << " past n = " << n << " was written";
  }
}

}  // namespace

TEST(Ch07NvrtcLaunchGpu, CubinForTheDeviceMatchesTheReference) {
  GNM_GPU_TEST_OR_SKIP();
  const auto module = load("", 256);
  const CUfunction f = module.function(gnm::ch07::kAxpbyEntry);
  for (std::int64_t n : {1, 31, 32, 33, 255, 257, 4099, 1000003})
    check_axpby(f, n, 256, 2.5f, -0.5f);
}

TEST(Ch07NvrtcLaunchGpu, PtxIsJitCompiledByTheDriver) {
  GNM_GPU_TEST_OR_SKIP();
  const auto module = load(driver::device_arch(0, "compute"), 128);
  const CUfunction f = module.function(gnm::ch07::kAxpbyEntry);
  for (std::int64_t n : {1, 127, 129, 100003}) check_axpby(f, n, 128, -1.25f, 0.75f);
}

TEST(Ch07NvrtcLaunchGpu, GridStrideLoopCoversMoreThanTheCappedGrid) {
  GNM_GPU_TEST_OR_SKIP();
  // 4096 blocks of 32 threads = 131072 threads for 5 million elements: every thread loops.
  const auto module = load("", 32);
  check_axpby(module.function(gnm::ch07::kAxpbyEntry), 5000011, 32, 1.5f, 1.0f);
}

TEST(Ch07NvrtcLaunchGpu, RunsOnAStream) {
  GNM_GPU_TEST_OR_SKIP();
  const auto module = load("", 512);
  gnm::cuda::Stream stream;
  check_axpby(module.function(gnm::ch07::kAxpbyEntry), 65537, 512, 0.5f, 2.0f, stream.get());
}

TEST(Ch07NvrtcLaunchGpu, EmptyInputLaunchesNothing) {
  GNM_GPU_TEST_OR_SKIP();
  const auto module = load("", 256);
  const CUfunction f = module.function(gnm::ch07::kAxpbyEntry);
  gnm::cuda::DeviceBuffer<float> d_y(4);
  std::vector<float> y{1.0f, 2.0f, 3.0f, 4.0f};
  d_y.copy_from_host(y);
  gnm::ch07::launch_axpby(f, gnm::ch07::axpby_launch_config(0, 256), 0, 3.0f, d_y.data(), 3.0f,
                          d_y.data());
  driver::synchronize();
  std::vector<float> out(4);
  d_y.copy_to_host(out);
  EXPECT_EQ(out, y);
}
