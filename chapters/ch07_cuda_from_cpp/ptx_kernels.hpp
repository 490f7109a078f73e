// 7.5: kernels written with inline PTX (ptx_kernels.cuh), their launchers and host references.
// The kernels are extern "C" so that their names in the binary are the names below:
// `cuobjdump -sass -fun NAME` finds them without C++ name mangling.
//
//   gnm_ch07_scale_nc     y = a x, x read with ld.global.nc.f32 (the read-only data path)
//   gnm_ch07_scale_plain  the same with an ordinary load, for comparison
//   gnm_ch07_warp_sum     per-warp sums with shfl.sync.bfly.b32 (a butterfly, no shared memory)
//   gnm_ch07_mma_tf32     C = A B with mma.sync.aligned.m16n8k8 (tf32 in, fp32 accumulate):
//                         one warp per 16×8 tile of C
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <span>
#include <vector>

namespace chapter07 {

/// Names of the kernels in the binary (extern "C").
inline constexpr const char* kScaleNcKernel = "gnm_ch07_scale_nc";
inline constexpr const char* kScalePlainKernel = "gnm_ch07_scale_plain";
inline constexpr const char* kWarpSumKernel = "gnm_ch07_warp_sum";
inline constexpr const char* kMmaKernel = "gnm_ch07_mma_tf32";

/// y = a · x for n elements (d_x, d_y: // (n,), not overlapping), x read through the read-only
/// (non-coherent) path with ld.global.nc when `read_only_path`, with a plain load otherwise.
/// n == 0 launches nothing; ShapeError for n < 0, gnm::Error for null pointers when n > 0.
void scale(bool read_only_path, std::int64_t n, float a, const float* d_x, float* d_y,
           cudaStream_t stream = nullptr);

/// Grid of the warp sum: `blocks` blocks of `block` threads (a multiple of 32).
struct WarpSumGrid {
  int blocks = 0;  ///< Blocks.
  int block = 0;   ///< Threads per block.
  /// Threads in the grid; thread t sums x[t], x[t + threads()], ...
  std::int64_t threads() const { return static_cast<std::int64_t>(blocks) * block; }
  /// Warps in the grid: the number of partial sums.
  std::int64_t warps() const { return threads() / 32; }
};

/// The grid warp_sum uses for n elements: 256-thread blocks, at most 1024 blocks (four per SM
/// on an H100 and then some), at least one.
WarpSumGrid warp_sum_grid(std::int64_t n);

/// partials[w] = the sum of the elements that the 32 threads of warp w read (see WarpSumGrid),
/// reduced across the warp with shfl.sync.bfly. d_x: // (n,); d_partials: // (grid.warps(),).
/// ShapeError for n < 0, gnm::Error for a block that is not a multiple of 32 in [32, 1024] or
/// null pointers.
void warp_sum(std::int64_t n, const float* d_x, float* d_partials, WarpSumGrid grid,
              cudaStream_t stream = nullptr);

/// The host reference of warp_sum in double: `ref[w]` the partial sum of warp w and `mass[w]` the
/// sum of the absolute values it adds (the scale of its rounding error).
void warp_sum_reference(std::span<const float> x, WarpSumGrid grid, std::vector<double>& ref,
                        std::vector<double>& mass);

/// C (M×N) = A (M×K) · B (K×N), all row-major and dense, with the tensor cores' tf32 mma.sync:
/// inputs rounded to tf32 (cvt.rna), products accumulated in fp32. Any M, N, K ≥ 0 (edges are
/// zero-padded); 128-thread blocks, one warp per 16×8 tile of C. ShapeError for negative or
/// too-large sizes, gnm::Error for null pointers of a non-empty product.
void mma_tf32_gemm(int M, int N, int K, const float* d_A, const float* d_B, float* d_C,
                   cudaStream_t stream = nullptr);

/// The error bound of mma_tf32_gemm for an element whose Σ_k |a_ik b_kj| is `mass`: rounding each
/// input to tf32 (unit roundoff 2⁻¹¹) perturbs each product by at most 2⁻¹⁰ + 2⁻²², the products
/// of tf32 values are exact in fp32, and each of the K fp32 additions errs by at most 2⁻²² of the
/// magnitudes added (the tensor cores align the addends to the largest exponent and truncate; two
/// fp32 ulps covers it): (2⁻¹⁰ + (K + 2) · 2⁻²²) · mass.
double mma_tf32_bound(int K, double mass);

}  // namespace chapter07
