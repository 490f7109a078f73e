// CUDA host-side behaviour that must hold on any machine, with or without a GPU or driver:
// the device query never crashes, errors are typed and descriptive, and RAII types are move-only.
#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "gnm/core/error.hpp"
#include "gnm/cuda/device.hpp"

#if GNM_HAVE_CUDA
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"

static_assert(!std::is_copy_constructible_v<gnm::cuda::DeviceBuffer<float>>);
static_assert(!std::is_copy_assignable_v<gnm::cuda::DeviceBuffer<float>>);
static_assert(std::is_nothrow_move_constructible_v<gnm::cuda::DeviceBuffer<float>>);
static_assert(!std::is_copy_constructible_v<gnm::cuda::PinnedBuffer<float>>);
static_assert(std::is_nothrow_move_constructible_v<gnm::cuda::PinnedBuffer<float>>);
static_assert(!std::is_copy_constructible_v<gnm::cuda::Stream>);
static_assert(std::is_nothrow_move_constructible_v<gnm::cuda::Stream>);
static_assert(!std::is_copy_constructible_v<gnm::cuda::Event>);
static_assert(std::is_nothrow_move_constructible_v<gnm::cuda::Event>);
#endif

TEST(DeviceQuery, NeverThrowsAndExplainsAnEmptyList) {
  gnm::cuda::DeviceReport r;
  ASSERT_NO_THROW(r = gnm::cuda::query_devices());
  EXPECT_FALSE(r.status.empty());
  if (r.devices.empty()) {
    EXPECT_EQ(r.status.rfind("0 devices: ", 0), 0u) << r.status;
  } else {
    EXPECT_EQ(r.error_code, 0);
    for (const auto& d : r.devices) {
      EXPECT_FALSE(d.name.empty());
      EXPECT_GT(d.sm_count, 0);
      EXPECT_GT(d.total_memory, 0u);
    }
  }
#if GNM_HAVE_CUDA
  EXPECT_TRUE(r.compiled_with_cuda);
  EXPECT_GE(r.toolkit_version, 12000);
  if (r.error_code == 35) {  // cudaErrorInsufficientDriver: this machine has no driver
    EXPECT_TRUE(r.devices.empty());
    EXPECT_EQ(r.driver_version, 0);
    EXPECT_NE(r.status.find("no CUDA driver"), std::string::npos) << r.status;
  }
#else
  EXPECT_FALSE(r.compiled_with_cuda);
  EXPECT_NE(r.status.find("no CUDA"), std::string::npos) << r.status;
#endif
}

TEST(DeviceQuery, FormatsVersions) {
  EXPECT_EQ(gnm::cuda::format_cuda_version(13000), "13.0");
  EXPECT_EQ(gnm::cuda::format_cuda_version(12040), "12.4");
  EXPECT_EQ(gnm::cuda::format_cuda_version(0), "none");
}

#if GNM_HAVE_CUDA
TEST(CudaCheck, ThrowsCudaErrorWithCallTextCodeAndSite) {
  // An invalid device ordinal fails everywhere: with a GPU (invalid device) and without a driver.
  try {
    GNM_CUDA_CHECK(cudaSetDevice(-1));
    FAIL() << "expected gnm::CudaError";
  } catch (const gnm::CudaError& e) {
    const std::string what = e.what();
    EXPECT_NE(e.code(), 0);
    EXPECT_NE(what.find("cudaSetDevice(-1)"), std::string::npos) << what;
    EXPECT_NE(what.find("CUDA error " + std::to_string(e.code())), std::string::npos) << what;
    EXPECT_NE(what.find("test_cuda_host.cpp:"), std::string::npos) << what;
  }
  // With a device the error was cleared, so the next check does not report it again. (Without a
  // driver the runtime's failed initialisation is reported by every call, cudaGetLastError too.)
  if (!gnm::cuda::query_devices().devices.empty()) {
    EXPECT_NO_THROW(GNM_CUDA_CHECK(cudaGetLastError()));
  }
}

TEST(CudaCheck, SuccessDoesNotThrow) { EXPECT_NO_THROW(GNM_CUDA_CHECK(cudaSuccess)); }

TEST(CudaCheck, ExplainsTheCommonFailures) {
  EXPECT_NE(std::string(gnm::cuda::explain(cudaErrorInsufficientDriver)).find("driver"),
            std::string::npos);
  EXPECT_NE(std::string(gnm::cuda::explain(cudaErrorMemoryAllocation)).find("memory"),
            std::string::npos);
}

TEST(DeviceBuffer, EmptyBufferNeedsNoDevice) {
  gnm::cuda::DeviceBuffer<float> b(0);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.data(), nullptr);
  std::vector<float> none;
  EXPECT_NO_THROW(b.copy_from_host(none));
  std::vector<float> three(3);
  EXPECT_THROW(b.copy_from_host(three), gnm::ShapeError);
  gnm::cuda::PinnedBuffer<float> p(0);
  EXPECT_TRUE(p.span().empty());
}

TEST(DeviceBuffer, AllocationWithoutADeviceIsACudaErrorNamingTheSize) {
  if (!gnm::cuda::query_devices().devices.empty()) GTEST_SKIP() << "a device is present";
  try {
    gnm::cuda::DeviceBuffer<float> b(1000);
    FAIL() << "expected gnm::CudaError";
  } catch (const gnm::CudaError& e) {
    EXPECT_NE(std::string(e.what()).find("4000 bytes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(gnm::cuda::Stream{}, gnm::CudaError);
}
#endif
