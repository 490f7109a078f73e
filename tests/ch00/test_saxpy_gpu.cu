// Exercise 0.4b: the SAXPY kernel and its launch, against a double-precision CPU reference.
// GPU tests: they skip without a device (and fail under GNM_REQUIRE_GPU=1).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/vector.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gpu_test.hpp"
#include "saxpy.hpp"

namespace {

constexpr float kPoison = -12345.0f;  // written past the end: the kernel must not touch it

// Runs saxpy_cuda on random x, y of length n (+ a poisoned tail) and checks every element.
void check_saxpy(std::int64_t n, int block, std::int64_t max_grid, float a) {
  const std::size_t pad = 64;
  std::vector<float> x(static_cast<std::size_t>(n) + pad), y(x.size());
  gnm::fill_uniform(x, /*seed=*/1000 + static_cast<std::uint64_t>(n), -1.0f, 1.0f);
  gnm::fill_uniform(y, /*seed=*/2000 + static_cast<std::uint64_t>(n), -1.0f, 1.0f);
  for (std::size_t i = static_cast<std::size_t>(n); i < y.size(); ++i) y[i] = kPoison;

  std::vector<double> ref(static_cast<std::size_t>(n));
  gnm::cpu::saxpy_reference(a, std::span(x).first(ref.size()), std::span(y).first(ref.size()), ref);

  gnm::cuda::DeviceBuffer<float> d_x(x.size()), d_y(y.size());
  d_x.copy_from_host(x);
  d_y.copy_from_host(y);
  gnm::ch00::saxpy_cuda(a, d_x.data(), d_y.data(), n, block, nullptr, max_grid);
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<float> out(y.size());
  d_y.copy_to_host(out);

  const auto r = gnm::compare(std::span<const float>(out).first(ref.size()), ref,
                              gnm::cpu::saxpy_tolerance(a));
  EXPECT_TRUE(r.ok) << "n = " << n << ", block = " << block << ", max_grid = " << max_grid << ": "
                    << r.report;
  for (std::size_t i = static_cast<std::size_t>(n); i < out.size(); ++i) {
    ASSERT_EQ(out[i], kPoison) << "element " << i << " past n = " << n << " was written";
  }
}

}  // namespace

TEST(Ch00SaxpyGpu, MatchesCpuReferenceOnOddSizes) {
  GNM_GPU_TEST_OR_SKIP();
  for (std::int64_t n : {1, 31, 32, 33, 255, 257, 4099, 1000003}) {
    check_saxpy(n, 256, gnm::ch00::kDefaultMaxGrid, 2.5f);
  }
}

TEST(Ch00SaxpyGpu, EveryBlockSizeWorks) {
  GNM_GPU_TEST_OR_SKIP();
  for (int block : {32, 64, 128, 512, 1024}) check_saxpy(100003, block, gnm::ch00::kDefaultMaxGrid, -0.75f);
}

TEST(Ch00SaxpyGpu, GridStrideLoopCoversMoreElementsThanThreads) {
  GNM_GPU_TEST_OR_SKIP();
  // 3 blocks of 128 threads must still cover a million elements.
  check_saxpy(1000003, 128, 3, 1.5f);
  check_saxpy(1000, 32, 1, 3.0f);
}

TEST(Ch00SaxpyGpu, EmptyInputLaunchesNothingAndNullPointersAreRejected) {
  GNM_GPU_TEST_OR_SKIP();
  EXPECT_NO_THROW(gnm::ch00::saxpy_cuda(1.0f, nullptr, nullptr, 0));
  gnm::cuda::DeviceBuffer<float> d_y(16);
  EXPECT_THROW(gnm::ch00::saxpy_cuda(1.0f, nullptr, d_y.data(), 16), gnm::Error);
  try {
    gnm::ch00::saxpy_cuda(1.0f, nullptr, d_y.data(), 16);
  } catch (const gnm::NotImplemented&) {
    FAIL() << "exercise not written yet";
  } catch (const gnm::Error&) {
  }
}
