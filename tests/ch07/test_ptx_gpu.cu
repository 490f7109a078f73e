// 7.5's inline-PTX kernels (chapters/ch07_cuda_from_cpp/ptx_kernels.cu) against double references
// at sizes that are not multiples of the warp, the block, the grid or the 16×8 tile, with poisoned
// outputs (nothing past the end may be written). GPU tests: skip without a device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cpu/gemm.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gpu_test.hpp"
#include "ptx_kernels.hpp"

namespace {

using namespace chapter07;

constexpr float kPoison = -777.0f;
const float kNaN = std::numeric_limits<float>::quiet_NaN();

void check_scale(bool nc, std::int64_t n) {
  std::vector<float> x(static_cast<std::size_t>(n));
  gnm::fill_uniform(x, 900 + static_cast<std::uint64_t>(n), -1.0f, 1.0f);
  std::vector<float> y(x.size() + 8, kNaN);
  for (std::size_t i = x.size(); i < y.size(); ++i) y[i] = kPoison;
  gnm::cuda::DeviceBuffer<float> d_x(x.size()), d_y(y.size());
  d_x.copy_from_host(x);
  d_y.copy_from_host(y);
  scale(nc, n, -3.0f, d_x.data(), d_y.data());
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  d_y.copy_to_host(y);
  for (std::size_t i = 0; i < x.size(); ++i) {
    // One rounding of the product: within u = 2^-24 relative.
    const double ref = -3.0 * static_cast<double>(x[i]);
    ASSERT_LE(std::fabs(static_cast<double>(y[i]) - ref), std::fabs(ref) * 0x1p-24)
        << (nc ? "nc" : "plain") << " n = " << n << " i = " << i;
  }
  for (std::size_t i = x.size(); i < y.size(); ++i) ASSERT_EQ(y[i], kPoison) << "i = " << i;
}

void check_warp_sum(std::int64_t n, WarpSumGrid grid) {
  std::vector<float> x(static_cast<std::size_t>(n));
  gnm::fill_uniform(x, 910 + static_cast<std::uint64_t>(n), -1.0f, 1.0f);
  std::vector<double> ref, mass;
  warp_sum_reference(x, grid, ref, mass);
  std::vector<float> partials(ref.size() + 4, kNaN);
  for (std::size_t i = ref.size(); i < partials.size(); ++i) partials[i] = kPoison;
  gnm::cuda::DeviceBuffer<float> d_x(std::max<std::size_t>(x.size(), 1)), d_p(partials.size());
  if (!x.empty()) d_x.copy_from_host(x);
  d_p.copy_from_host(partials);
  warp_sum(n, d_x.data(), d_p.data(), grid);
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  d_p.copy_to_host(partials);
  // m terms per thread summed in order, then 5 butterfly levels: (m + 5) u mass; checked at 2u.
  const double m = std::ceil(static_cast<double>(n) / static_cast<double>(grid.threads()));
  for (std::size_t w = 0; w < ref.size(); ++w) {
    const double bound = (m + 5.0) * 0x1p-23 * mass[w];
    ASSERT_LE(std::fabs(static_cast<double>(partials[w]) - ref[w]), bound)
        << "n = " << n << " warp " << w << " of " << ref.size();
  }
  for (std::size_t i = ref.size(); i < partials.size(); ++i) ASSERT_EQ(partials[i], kPoison);
}

void check_mma(int M, int N, int K) {
  std::vector<float> A(static_cast<std::size_t>(M) * K), B(static_cast<std::size_t>(K) * N);
  gnm::fill_uniform(A, 920 + static_cast<std::uint64_t>(M), -1.0f, 1.0f);
  gnm::fill_uniform(B, 930 + static_cast<std::uint64_t>(N), -1.0f, 1.0f);
  std::vector<double> ref(static_cast<std::size_t>(M) * N), mass(ref.size());
  gnm::cpu::sgemm_reference(M, N, K, A.data(), std::max(K, 1), B.data(), N, ref, mass);
  std::vector<float> C(ref.size() + 16, kNaN);
  for (std::size_t i = ref.size(); i < C.size(); ++i) C[i] = kPoison;
  gnm::cuda::DeviceBuffer<float> d_a(std::max<std::size_t>(A.size(), 1));
  gnm::cuda::DeviceBuffer<float> d_b(std::max<std::size_t>(B.size(), 1));
  gnm::cuda::DeviceBuffer<float> d_c(C.size());
  if (!A.empty()) d_a.copy_from_host(A);
  if (!B.empty()) d_b.copy_from_host(B);
  d_c.copy_from_host(C);
  mma_tf32_gemm(M, N, K, d_a.data(), d_b.data(), d_c.data());
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  d_c.copy_to_host(C);
  for (std::size_t i = 0; i < ref.size(); ++i) {
    ASSERT_LE(std::fabs(static_cast<double>(C[i]) - ref[i]), mma_tf32_bound(K, mass[i]) + 1e-30)
        << M << "x" << N << "x" << K << ": C[" << i / static_cast<std::size_t>(N) << "]["
        << i % static_cast<std::size_t>(N) << "] = " << C[i] << ", want " << ref[i];
  }
  for (std::size_t i = ref.size(); i < C.size(); ++i) ASSERT_EQ(C[i], kPoison) << "i = " << i;
}

}  // namespace

TEST(Ch07PtxGpu, ReadOnlyAndPlainLoadsScale) {
  GNM_GPU_TEST_OR_SKIP();
  for (const bool nc : {true, false}) {
    for (std::int64_t n : {1, 31, 257, 1000003, 1048576 + 13}) check_scale(nc, n);
  }
  EXPECT_NO_THROW(scale(true, 0, 1.0f, nullptr, nullptr));
  EXPECT_THROW(scale(true, 5, 1.0f, nullptr, nullptr), gnm::Error);
  EXPECT_THROW(scale(true, -1, 1.0f, nullptr, nullptr), gnm::ShapeError);
}

TEST(Ch07PtxGpu, ButterflyWarpSumsMatchPerWarpReferences) {
  GNM_GPU_TEST_OR_SKIP();
  for (std::int64_t n : {0, 1, 31, 33, 255, 257, 100003, 4000037}) {
    check_warp_sum(n, warp_sum_grid(n));
  }
  // Explicit grids: one warp, odd block counts.
  check_warp_sum(1000, WarpSumGrid{1, 32});
  check_warp_sum(99991, WarpSumGrid{7, 96});
  EXPECT_THROW(warp_sum(10, nullptr, nullptr, WarpSumGrid{1, 48}), gnm::Error);
}

TEST(Ch07PtxGpu, MmaTf32TilesMatchTheReference) {
  GNM_GPU_TEST_OR_SKIP();
  const int cases[][3] = {{16, 8, 8},    {1, 1, 1},       {17, 9, 13},    {15, 7, 9},
                          {33, 65, 100}, {128, 128, 128}, {257, 131, 67}, {5, 300, 3},
                          {64, 8, 1024}, {16, 8, 0}};
  for (const auto& c : cases) check_mma(c[0], c[1], c[2]);
  EXPECT_NO_THROW(mma_tf32_gemm(0, 5, 5, nullptr, nullptr, nullptr));
  EXPECT_THROW(mma_tf32_gemm(-1, 5, 5, nullptr, nullptr, nullptr), gnm::ShapeError);
  EXPECT_THROW(mma_tf32_gemm(4, 4, 4, nullptr, nullptr, nullptr), gnm::Error);
}
