// Philox fills on a real device equal the CPU stream: bits and uniforms bit for bit, normals
// within a few ulps (logf/sinf/cosf differ between CUDA's libdevice and glibc).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/random.hpp"
#include "gpu_test.hpp"

namespace {

using gnm::PhiloxRng;

// Odd sizes: a single partial Philox block, a partial block of three, and a large size that ends
// in a partial block and needs several grid-stride iterations per thread.
constexpr std::int64_t kSizes[] = {1, 3, 1000003};

// A seed and subsequence with both 32-bit halves non-zero, so key and counter words all matter.
constexpr std::uint64_t kSeed = 0x0123456789abcdefull;
constexpr std::uint64_t kSubsequence = 0xfedcba9800000007ull;

// Distance in units in the last place between two finite floats (0 when equal, 1 for
// neighbours), across zero too: floats map to integers in the order of their values.
std::int64_t ulp_distance(float a, float b) {
  auto ordered = [](float f) {
    std::int32_t i = 0;
    std::memcpy(&i, &f, sizeof i);
    return i < 0 ? std::int64_t{std::numeric_limits<std::int32_t>::min()} - i : std::int64_t{i};
  };
  return std::llabs(ordered(a) - ordered(b));
}

TEST(PhiloxGpu, FillBitsEqualsCpuStream) {
  GNM_GPU_TEST_OR_SKIP();
  for (const std::int64_t n : kSizes) {
    const auto count = static_cast<std::size_t>(n);
    gnm::cuda::DeviceBuffer<std::uint32_t> d_bits(count);
    gnm::cuda::fill_bits_device(d_bits.data(), n, kSeed, /*stream=*/nullptr, kSubsequence);
    std::vector<std::uint32_t> h_bits(count);
    d_bits.copy_to_host(h_bits);
    const PhiloxRng rng(kSeed, kSubsequence);
    for (std::size_t i = 0; i < count; ++i) {
      ASSERT_EQ(h_bits[i], rng.bits(i)) << "n = " << n << ", i = " << i;
    }
  }
}

TEST(PhiloxGpu, FillUniformEqualsCpuFillBitForBit) {
  GNM_GPU_TEST_OR_SKIP();
  for (const std::int64_t n : kSizes) {
    const auto count = static_cast<std::size_t>(n);
    gnm::cuda::DeviceBuffer<float> d_u(count);
    gnm::cuda::fill_uniform_device(d_u.data(), n, kSeed, -0.3f, 1.7f, nullptr, kSubsequence);
    std::vector<float> h_u(count);
    d_u.copy_to_host(h_u);
    std::vector<float> ref(count);
    gnm::fill_uniform(ref, kSeed, -0.3f, 1.7f, kSubsequence);
    for (std::size_t i = 0; i < count; ++i) {
      // Compare the bit patterns: equal floats are not enough to prove the same computation.
      std::uint32_t got = 0, want = 0;
      std::memcpy(&got, &h_u[i], sizeof got);
      std::memcpy(&want, &ref[i], sizeof want);
      ASSERT_EQ(got, want) << "n = " << n << ", i = " << i << ": " << h_u[i] << " vs " << ref[i];
    }
  }
}

TEST(PhiloxGpu, FillUniformUnitRangeEqualsElementwiseUniform) {
  GNM_GPU_TEST_OR_SKIP();
  const std::int64_t n = 4099;
  gnm::cuda::DeviceBuffer<float> d_u(static_cast<std::size_t>(n));
  gnm::cuda::fill_uniform_device(d_u.data(), n, /*seed=*/5, 0.0f, 1.0f);
  std::vector<float> h_u(static_cast<std::size_t>(n));
  d_u.copy_to_host(h_u);
  const PhiloxRng rng(5);
  for (std::size_t i = 0; i < h_u.size(); ++i) ASSERT_EQ(h_u[i], rng.uniform(i)) << i;
}

TEST(PhiloxGpu, FillNormalWithinAFewUlpsOfCpu) {
  GNM_GPU_TEST_OR_SKIP();
  // CUDA documents logf at 1 ulp and sinf/cosf at 2 ulps, glibc's are within 1 ulp: the radius
  // sqrt(-2 log u1) inherits about half of log's relative error and the product adds one
  // rounding, so a standard normal draw may differ by about 5 ulps; allow 8.
  constexpr std::int64_t kMaxUlps = 8;
  for (const std::int64_t n : kSizes) {
    const auto count = static_cast<std::size_t>(n);
    gnm::cuda::DeviceBuffer<float> d_z(count);
    gnm::cuda::fill_normal_device(d_z.data(), n, kSeed, 0.0f, 1.0f, nullptr, kSubsequence);
    std::vector<float> h_z(count);
    d_z.copy_to_host(h_z);
    std::vector<float> ref(count);
    gnm::fill_normal(ref, kSeed, 0.0f, 1.0f, kSubsequence);
    std::int64_t worst = 0;
    std::size_t worst_i = 0;
    for (std::size_t i = 0; i < count; ++i) {
      ASSERT_TRUE(std::isfinite(h_z[i])) << i;
      const std::int64_t d = ulp_distance(h_z[i], ref[i]);
      if (d > worst) worst = d, worst_i = i;
    }
    EXPECT_LE(worst, kMaxUlps) << "n = " << n << ": worst at i = " << worst_i << ", "
                               << h_z[worst_i] << " vs " << ref[worst_i];
  }
}

TEST(PhiloxGpu, FillNormalWithMeanAndStddevMatchesCpu) {
  GNM_GPU_TEST_OR_SKIP();
  // fma(stddev, z, mean) can cancel, so compare in absolute terms: the error of z (8 ulps of z)
  // scaled by stddev, plus one rounding of the result.
  const float mean = 2.0f, stddev = 0.75f;
  const std::int64_t n = 100003;
  gnm::cuda::DeviceBuffer<float> d_z(static_cast<std::size_t>(n));
  gnm::cuda::fill_normal_device(d_z.data(), n, /*seed=*/11, mean, stddev);
  std::vector<float> h_z(static_cast<std::size_t>(n));
  d_z.copy_to_host(h_z);
  const PhiloxRng rng(11);
  const float eps = std::numeric_limits<float>::epsilon();
  for (std::size_t i = 0; i < h_z.size(); ++i) {
    const float ref = rng.normal(i, mean, stddev);
    const float tol = stddev * std::fabs(rng.normal(i)) * 8 * eps + std::fabs(ref) * eps;
    ASSERT_NEAR(h_z[i], ref, tol) << "i = " << i;
  }
}

TEST(PhiloxGpu, EmptyFillMakesNoCudaCall) {
  // No GNM_GPU_TEST_OR_SKIP: n = 0 must work on a machine without a driver too.
  gnm::cuda::fill_uniform_device(nullptr, 0, 1, 0.0f, 1.0f);
  gnm::cuda::fill_normal_device(nullptr, 0, 1, 0.0f, 1.0f);
  gnm::cuda::fill_bits_device(nullptr, 0, 1);
}

TEST(PhiloxGpu, BadArgumentsThrowBeforeAnyCudaCall) {
  // No GNM_GPU_TEST_OR_SKIP: arguments are checked on the host before the launch, so this runs
  // (and must pass) without a device as well.
  float* const d_none = nullptr;
  EXPECT_THROW(gnm::cuda::fill_uniform_device(d_none, 8, 1, 1.0f, 0.0f), gnm::Error);
  EXPECT_THROW(gnm::cuda::fill_uniform_device(d_none, 8, 1, 0.0f, INFINITY), gnm::Error);
  EXPECT_THROW(gnm::cuda::fill_normal_device(d_none, 8, 1, 0.0f, -1.0f), gnm::Error);
  EXPECT_THROW(gnm::cuda::fill_normal_device(d_none, 8, 1, NAN, 1.0f), gnm::Error);
  EXPECT_THROW(gnm::cuda::fill_uniform_device(d_none, -1, 1, 0.0f, 1.0f), gnm::Error);
  EXPECT_THROW(gnm::cuda::fill_bits_device(nullptr, -5, 1), gnm::Error);
  EXPECT_THROW(gnm::cuda::fill_bits_device(nullptr, 5, 1), gnm::Error);  // null with n > 0
}

}  // namespace
