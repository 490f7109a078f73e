// gnm::cuda::transpose (every rung of the ladder) and gnm::cuda::copy against the CPU, on odd
// sizes, with poisoned guard zones before and after the output. A transpose and a copy move bits,
// so the comparison is exact. The argument checks run before any CUDA call and are tested on any
// machine; the kernels need a device.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/transpose.hpp"
#include "gpu_test.hpp"

namespace {

using gnm::cuda::TransposeKernel;

constexpr float kPoison = -7777.0f;
constexpr std::size_t kGuard = 67;  // floats of poison before and after the output

const TransposeKernel kKernels[] = {TransposeKernel::naive, TransposeKernel::tiled,
                                    TransposeKernel::tiled_padded,
                                    TransposeKernel::tiled_padded_ilp};

// Transposes a random rows × cols matrix with `kernel` and checks every element and both guards.
void check_transpose(std::int64_t rows, std::int64_t cols, TransposeKernel kernel) {
  const auto n = static_cast<std::size_t>(rows * cols);
  std::vector<float> in(n);
  gnm::fill_uniform(in, /*seed=*/static_cast<std::uint64_t>(rows * 7919 + cols), -1.0f, 1.0f);
  std::vector<float> out(n + 2 * kGuard, kPoison);
  gnm::cuda::DeviceBuffer<float> d_in(n), d_out(out.size());
  d_in.copy_from_host(in);
  d_out.copy_from_host(out);
  gnm::cuda::transpose(d_in.data(), d_out.data() + kGuard, rows, cols, kernel);
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  d_out.copy_to_host(out);

  const std::string what = std::string(gnm::cuda::transpose_kernel_name(kernel)) + " " +
                           std::to_string(rows) + " x " + std::to_string(cols);
  for (std::size_t i = 0; i < kGuard; ++i) {
    ASSERT_EQ(out[i], kPoison) << what << ": guard before the output written at " << i;
    ASSERT_EQ(out[kGuard + n + i], kPoison) << what << ": element " << n + i << " past the end";
  }
  std::int64_t wrong = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const float got = out[kGuard + static_cast<std::size_t>(c * rows + r)];
      const float want = in[static_cast<std::size_t>(r * cols + c)];
      if (std::memcmp(&got, &want, sizeof got) != 0 && ++wrong <= 5) {
        ADD_FAILURE() << what << ": out[" << c << "][" << r << "] = " << got << ", want " << want;
      }
    }
  }
  EXPECT_EQ(wrong, 0) << what;
}

void check_copy(std::int64_t n, std::size_t offset) {
  std::vector<float> in(static_cast<std::size_t>(n) + offset);
  gnm::fill_uniform(in, /*seed=*/static_cast<std::uint64_t>(n) + 17, -3.0f, 3.0f);
  std::vector<float> out(static_cast<std::size_t>(n) + offset + 2 * kGuard, kPoison);
  gnm::cuda::DeviceBuffer<float> d_in(in.size()), d_out(out.size());
  d_in.copy_from_host(in);
  d_out.copy_from_host(out);
  // `offset` floats past a 256-byte aligned allocation: offset 1 makes both pointers unaligned
  // for float4, offset 0 keeps both aligned (kGuard is odd, so add one more for alignment).
  const std::size_t out_start = kGuard + 1 + offset;
  gnm::cuda::copy(d_in.data() + offset, d_out.data() + out_start, n);
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  d_out.copy_to_host(out);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool inside = i >= out_start && i < out_start + static_cast<std::size_t>(n);
    const float want = inside ? in[offset + (i - out_start)] : kPoison;
    ASSERT_EQ(std::memcmp(&out[i], &want, sizeof want), 0)
        << "n = " << n << ", offset = " << offset << ", index " << i
        << (inside ? " inside" : " outside") << ": " << out[i] << " vs " << want;
  }
}

// The exception must be the typed argument error, never "not implemented" or a CUDA error.
template <class E, class F>
void expect_argument_error(F&& f, const char* what) {
  try {
    f();
    ADD_FAILURE() << what << ": no exception";
  } catch (const gnm::CudaError& e) {
    ADD_FAILURE() << what << ": a CUDA call was made before the check: " << e.what();
  } catch (const E&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": wrong exception: " << e.what();
  }
}

}  // namespace

TEST(TransposeArgs, BadArgumentsAreTypedErrorsBeforeAnyCudaCall) {
  float host[64] = {};  // never dereferenced: every call below throws before launching
  expect_argument_error<gnm::ShapeError>(
      [&] { gnm::cuda::transpose(host, host + 32, -1, 4); }, "negative rows");
  expect_argument_error<gnm::ShapeError>(
      [&] { gnm::cuda::transpose(host, host + 32, 4, -3); }, "negative cols");
  expect_argument_error<gnm::ShapeError>(
      [&] { gnm::cuda::transpose(host, host + 32, std::int64_t{1} << 40, std::int64_t{1} << 40); },
      "overflowing size");
  expect_argument_error<gnm::Error>([&] { gnm::cuda::transpose(nullptr, host, 2, 2); },
                                    "null input");
  expect_argument_error<gnm::Error>([&] { gnm::cuda::transpose(host, host + 3, 2, 2); },
                                    "overlapping output");
  expect_argument_error<gnm::ShapeError>([&] { gnm::cuda::copy(host, host + 32, -1); },
                                         "negative copy");
  expect_argument_error<gnm::Error>([&] { gnm::cuda::copy(host, nullptr, 5); }, "null copy");
  expect_argument_error<gnm::Error>([&] { gnm::cuda::copy(host, host + 4, 8); },
                                    "overlapping copy");
  try {
    gnm::cuda::transpose(host, host + 32, -5, 4);
  } catch (const gnm::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("rows = -5"), std::string::npos) << e.what();
  }
}

TEST(TransposeArgs, EmptyMatricesLaunchNothing) {
  // No CUDA call is made, so this holds on a machine without a driver too.
  EXPECT_NO_THROW(gnm::cuda::transpose(nullptr, nullptr, 0, 100));
  EXPECT_NO_THROW(gnm::cuda::transpose(nullptr, nullptr, 100, 0));
  EXPECT_NO_THROW(gnm::cuda::copy(nullptr, nullptr, 0));
}

TEST(TransposeGpu, EveryKernelOnOddSizes) {
  GNM_GPU_TEST_OR_SKIP();
  const std::int64_t shapes[][2] = {{1, 1},    {1, 37},   {37, 1},    {31, 33},  {32, 32},
                                    {33, 31},  {97, 101}, {128, 64},  {64, 128}, {1000, 1030},
                                    {4099, 37}, {37, 4099}, {2, 100003}, {257, 255}};
  for (TransposeKernel k : kKernels) {
    for (const auto& s : shapes) check_transpose(s[0], s[1], k);
  }
}

TEST(TransposeGpu, TallMatrixLoopsOverMoreRowTilesThanGridY) {
  GNM_GPU_TEST_OR_SKIP();
  // 2,097,153 rows: more than 65535 row tiles of 32 (and of 8 for the naive kernel), so every
  // kernel's row-tile loop takes several trips, the last one partial.
  for (TransposeKernel k : kKernels) check_transpose(2'097'153, 3, k);
}

TEST(TransposeGpu, SquareMatrixEveryKernel) {
  GNM_GPU_TEST_OR_SKIP();
  for (TransposeKernel k : kKernels) check_transpose(1024, 1024, k);
}

TEST(CopyGpu, AlignedAndUnalignedOddSizes) {
  GNM_GPU_TEST_OR_SKIP();
  for (std::int64_t n : {1, 2, 3, 4, 5, 7, 8, 1023, 4097, 1000003}) {
    check_copy(n, 0);
    check_copy(n, 1);
  }
}
