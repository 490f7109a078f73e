// Run-time compiled kernels on a real device: NVRTC → PTX or cubin → module → launch,
// checked against the same arithmetic on the host. The kernels run in the primary context, so the
// runtime's DeviceBuffer pointers are passed to them directly.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/driver.hpp"
#include "gnm/cuda/rtc.hpp"
#include "rtc_test_kernels.hpp"
#include "gpu_test.hpp"

namespace {

namespace rtc = gnm::cuda::rtc;
namespace drv = gnm::cuda::driver;

using gnm::test::rtc_options;
constexpr const char* kSaxpy = gnm::test::kRtcSaxpy;

// Runs saxpy from `image` on n random elements and checks every result. NVRTC contracts a*x+y into
// one FMA by default (one rounding, ≤ 2^-24 relative); unfused it is two roundings, each at most
// half an ulp of a value ≤ 2.75 in magnitude here (|a| = 1.75, |x|, |y| ≤ 1):
// ≤ 2 * 2^-24 * 2.75 ≈ 3.3e-7 absolute, inside the 1e-6 * (1 + |ref|) bound used.
void run_saxpy(const std::string& image, int n) {
  drv::Module module = drv::Module::load(image);
  CUfunction f = module.function("saxpy");
  const auto count = static_cast<std::size_t>(n);
  std::vector<float> x(count), y(count);
  gnm::fill_uniform(std::span<float>(x), 11, -1.0f, 1.0f);
  gnm::fill_uniform(std::span<float>(y), 12, -1.0f, 1.0f);
  const float a = 1.75f;
  gnm::cuda::DeviceBuffer<float> dx(x.size()), dy(y.size());
  dx.copy_from_host(x);
  dy.copy_from_host(y);
  const unsigned block = 128;
  const unsigned grid = (static_cast<unsigned>(n) + block - 1) / block;
  const float* px = dx.data();  // the kernel takes a const float*: types must match exactly
  drv::launch(f, {dim3(grid), dim3(block)}, n, a, px, dy.data());
  drv::synchronize();
  std::vector<float> got(y.size(), std::nanf(""));
  dy.copy_to_host(got);
  for (std::size_t i = 0; i < count; ++i) {
    const double ref = static_cast<double>(a) * static_cast<double>(x[i]) +
                       static_cast<double>(y[i]);
    ASSERT_NEAR(static_cast<double>(got[i]), ref, 1e-6 * (1.0 + std::fabs(ref))) << "i = " << i;
  }
}

}  // namespace

TEST(RtcGpu, PtxAndCubinForTheDeviceLaunchAndAgreeWithTheHost) {
  GNM_GPU_TEST_OR_SKIP();
  if (!rtc::nvrtc_available()) GTEST_SKIP() << "libnvrtc is not installed on this machine";
  ASSERT_TRUE(drv::available()) << drv::unavailable_reason();
  rtc::Compiler compiler{std::filesystem::path()};
  const auto cubin = compiler.compile(kSaxpy, "saxpy.cu", rtc::Options{});  // sm_XY of device 0
  EXPECT_EQ(cubin.kind, rtc::CodeKind::cubin);
  EXPECT_EQ(cubin.arch, drv::device_arch(0, "sm"));
  for (const int n : {1, 127, 1000003}) run_saxpy(cubin.image, n);
  const auto ptx = compiler.compile(kSaxpy, "saxpy.cu", rtc_options(drv::device_arch(0, "compute")));
  EXPECT_EQ(ptx.kind, rtc::CodeKind::ptx);
  run_saxpy(ptx.image, 4099);
  EXPECT_GT(drv::version(), 0);
}

TEST(RtcGpu, CachedCubinLaunchesAndMissingKernelIsNamed) {
  GNM_GPU_TEST_OR_SKIP();
  if (!rtc::nvrtc_available()) GTEST_SKIP() << "libnvrtc is not installed on this machine";
  const auto dir = std::filesystem::temp_directory_path() / "gnm_test_rtc_gpu_cache";
  std::filesystem::remove_all(dir);
  rtc::Compiler compiler(dir);
  (void)compiler.compile(kSaxpy, "saxpy.cu", rtc::Options{});
  const auto cached = compiler.compile(kSaxpy, "saxpy.cu", rtc::Options{});
  EXPECT_TRUE(cached.from_cache);
  run_saxpy(cached.image, 513);
  drv::Module module = drv::Module::load(cached.image);
  try {
    (void)module.function("no_such_kernel");
    FAIL() << "expected gnm::CudaError";
  } catch (const gnm::CudaError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_kernel"), std::string::npos) << e.what();
  }
  // A launch with more than 1024 threads per block is rejected at the launch.
  EXPECT_THROW(drv::launch(module.function("saxpy"), {dim3(1), dim3(4096)}, 0, 1.0f,
                           static_cast<const float*>(nullptr), static_cast<float*>(nullptr)),
               gnm::CudaError);
  std::filesystem::remove_all(dir);
}
