// Exercise 6.4b: the padded transpose kernel and its launcher, against the CPU. A transpose
// moves bits, so the comparison is exact; poisoned guard zones around the output catch any write
// outside it. GPU tests: they skip without a device (and fail under GNM_REQUIRE_GPU=1).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gpu_test.hpp"
#include "transpose.hpp"

namespace {

constexpr float kPoison = -12345.0f;
constexpr std::size_t kGuard = 61;  // floats of poison before and after the output

void check_transpose(std::int64_t rows, std::int64_t cols) {
  const auto n = static_cast<std::size_t>(rows * cols);
  std::vector<float> in(n);
  gnm::fill_uniform(in, /*seed=*/static_cast<std::uint64_t>(rows * 131 + cols), -2.0f, 2.0f);
  std::vector<float> out(n + 2 * kGuard, kPoison);
  gnm::cuda::DeviceBuffer<float> d_in(n), d_out(out.size());
  d_in.copy_from_host(in);
  d_out.copy_from_host(out);
  gnm::ch06::transpose_padded(d_in.data(), d_out.data() + kGuard, rows, cols);
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  d_out.copy_to_host(out);
  for (std::size_t i = 0; i < kGuard; ++i) {
    ASSERT_EQ(out[i], kPoison) << rows << " x " << cols << ": wrote before the output (" << i
                               << ")";
    ASSERT_EQ(out[kGuard + n + i], kPoison)
        << rows << " x " << cols << ": wrote element " << n + i << " past the end";
  }
  std::int64_t wrong = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const float got = out[kGuard + static_cast<std::size_t>(c * rows + r)];
      const float want = in[static_cast<std::size_t>(r * cols + c)];
      if (std::memcmp(&got, &want, sizeof got) != 0 && ++wrong <= 5) {
        ADD_FAILURE() << rows << " x " << cols << ": out[" << c << "][" << r << "] = " << got
                      << ", want in[" << r << "][" << c << "] = " << want;
      }
    }
  }
  EXPECT_EQ(wrong, 0) << rows << " x " << cols;
}

}  // namespace

TEST(Ch06TransposeGpu, MatchesCpuOnOddSizes) {
  GNM_GPU_TEST_OR_SKIP();
  const std::int64_t shapes[][2] = {{1, 1},   {1, 33},    {33, 1},    {31, 33},  {32, 32},
                                    {33, 31}, {97, 101},  {8, 1000},  {1000, 8}, {1024, 1024},
                                    {4099, 37}, {37, 4099}, {2, 100003}};
  for (const auto& s : shapes) check_transpose(s[0], s[1]);
}

TEST(Ch06TransposeGpu, MoreRowTilesThanGridY) {
  GNM_GPU_TEST_OR_SKIP();
  check_transpose(65535LL * 32 + 45, 5);  // 65537 row tiles: two blocks loop twice
}

TEST(Ch06TransposeGpu, EmptyLaunchesNothingAndNullPointersAreRejected) {
  GNM_GPU_TEST_OR_SKIP();
  EXPECT_NO_THROW(gnm::ch06::transpose_padded(nullptr, nullptr, 0, 5));
  gnm::cuda::DeviceBuffer<float> d(16);
  try {
    gnm::ch06::transpose_padded(nullptr, d.data(), 4, 4);
    FAIL() << "a null input was accepted";
  } catch (const gnm::NotImplemented& e) {
    FAIL() << "exercise not done yet: " << e.what();
  } catch (const gnm::Error&) {
  }
}
