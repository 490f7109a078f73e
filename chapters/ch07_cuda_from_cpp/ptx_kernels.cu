// 7.5: launchers of the inline-PTX kernels (see ptx_kernels.hpp). The kernels themselves are in
// ptx_kernels.cuh, which tests/emu/test_ch07_kernels_emulated.cpp also runs on the CPU.
#include <algorithm>
#include <climits>
#include <cmath>

#include "gnm/core/check.hpp"
#include "gnm/cuda/check.hpp"
#include "ptx_kernels.cuh"
#include "ptx_kernels.hpp"

namespace chapter07 {

void scale(bool read_only_path, std::int64_t n, float a, const float* d_x, float* d_y,
           cudaStream_t stream) {
  GNM_CHECK_SHAPE(n >= 0, "the number of elements cannot be negative", n);
  if (n == 0) return;
  GNM_CHECK(d_x != nullptr && d_y != nullptr, "scale needs device pointers for n > 0", n);
  const dim3 grid(static_cast<unsigned>(scale_blocks(n)));
  if (read_only_path) {
    gnm_ch07_scale_nc<<<grid, kScaleBlock, 0, stream>>>(n, a, d_x, d_y);
  } else {
    gnm_ch07_scale_plain<<<grid, kScaleBlock, 0, stream>>>(n, a, d_x, d_y);
  }
  GNM_CUDA_CHECK_LAUNCH();
}

WarpSumGrid warp_sum_grid(std::int64_t n) {
  GNM_CHECK_SHAPE(n >= 0, "the number of elements cannot be negative", n);
  return WarpSumGrid{static_cast<int>(warp_sum_blocks(n)), kWarpSumBlock};
}

void warp_sum(std::int64_t n, const float* d_x, float* d_partials, WarpSumGrid grid,
              cudaStream_t stream) {
  GNM_CHECK_SHAPE(n >= 0, "the number of elements cannot be negative", n);
  GNM_CHECK(grid.block >= 32 && grid.block <= 1024 && grid.block % 32 == 0,
            "threads per block must be a multiple of 32 in [32, 1024]", grid.block);
  GNM_CHECK(grid.blocks >= 1, "the grid needs at least one block", grid.blocks);
  GNM_CHECK(d_partials != nullptr && (n == 0 || d_x != nullptr), "warp_sum needs device pointers",
            n);
  gnm_ch07_warp_sum<<<grid.blocks, grid.block, 0, stream>>>(n, d_x, d_partials);
  GNM_CUDA_CHECK_LAUNCH();
}

void warp_sum_reference(std::span<const float> x, WarpSumGrid grid, std::vector<double>& ref,
                        std::vector<double>& mass) {
  const std::int64_t threads = grid.threads();
  GNM_CHECK(threads >= 32 && threads % 32 == 0, "the grid must hold whole warps", threads);
  ref.assign(static_cast<std::size_t>(grid.warps()), 0.0);
  mass.assign(ref.size(), 0.0);
  const auto n = static_cast<std::int64_t>(x.size());
  for (std::int64_t i = 0; i < n; ++i) {
    // Element i is read by thread i mod threads, which belongs to warp (i mod threads) / 32.
    const auto w = static_cast<std::size_t>((i % threads) / 32);
    ref[w] += x[static_cast<std::size_t>(i)];
    mass[w] += std::abs(static_cast<double>(x[static_cast<std::size_t>(i)]));
  }
}

void mma_tf32_gemm(int M, int N, int K, const float* d_A, const float* d_B, float* d_C,
                   cudaStream_t stream) {
  GNM_CHECK_SHAPE(M >= 0 && N >= 0 && K >= 0, "GEMM sizes cannot be negative", M, N, K);
  // Row and column indices reach M + 15, N + 7, K + 7 in int: keep them from overflowing.
  GNM_CHECK_SHAPE(M <= INT_MAX - 16 && N <= INT_MAX - 8 && K <= INT_MAX - 8,
                  "GEMM sizes too large for int indices", M, N, K);
  if (M == 0 || N == 0) return;
  GNM_CHECK(d_C != nullptr && (K == 0 || (d_A != nullptr && d_B != nullptr)),
            "mma_tf32_gemm needs device pointers for a non-empty product", M, N, K);
  const long long blocks = mma_blocks(M, N);
  GNM_CHECK_SHAPE(blocks <= INT_MAX, "too many tiles for one grid", M, N);
  gnm_ch07_mma_tf32<<<static_cast<unsigned>(blocks), kMmaWarpsPerBlock * 32, 0, stream>>>(
      M, N, K, d_A, d_B, d_C);
  GNM_CUDA_CHECK_LAUNCH();
}

double mma_tf32_bound(int K, double mass) { return (1.0 / 1024.0 + (K + 2.0) * 0x1p-22) * mass; }

}  // namespace chapter07
