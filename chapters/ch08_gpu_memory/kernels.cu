// Launchers of the chapter's kernels (kernels.hpp): argument checks, grid sizes, launch-error
// checks. The kernels themselves are in kernels.cuh, which the host emulator tests run on the CPU.
#include "gnm/core/check.hpp"
#include "gnm/cuda/check.hpp"
#include "kernels.cuh"
#include "kernels.hpp"

namespace chapter08 {

using kernels_detail::affine_kernel;
using kernels_detail::grid_for;
using kernels_detail::kBlock;
using kernels_detail::offset_copy_kernel;
using kernels_detail::strided_gather_kernel;

void strided_gather(const float* d_in, float* d_out, std::int64_t n, int stride,
                    cudaStream_t stream) {
  GNM_CHECK(stride >= 1 && stride <= 1024, "the stride must be in [1, 1024]", stride);
  GNM_CHECK(n >= 0 && n % stride == 0, "n must be a non-negative multiple of the stride", n,
            stride);
  if (n == 0) return;
  GNM_CHECK(d_in != nullptr && d_out != nullptr, "strided_gather needs device pointers", n);
  const std::int64_t m = n / stride;
  const dim3 grid(grid_for(m), static_cast<unsigned>(stride));
  strided_gather_kernel<<<grid, kBlock, 0, stream>>>(d_in, d_out, m, stride);
  GNM_CUDA_CHECK_LAUNCH();
}

void offset_copy(const float* d_in, float* d_out, std::int64_t n, int offset,
                 cudaStream_t stream) {
  GNM_CHECK(offset >= 0 && offset <= 1024, "the offset must be in [0, 1024]", offset);
  GNM_CHECK(n >= 0, "the element count cannot be negative", n);
  if (n == 0) return;
  GNM_CHECK(d_in != nullptr && d_out != nullptr, "offset_copy needs device pointers", n);
  offset_copy_kernel<<<grid_for(n), kBlock, 0, stream>>>(d_in, d_out, n, offset);
  GNM_CUDA_CHECK_LAUNCH();
}

void affine(const float* d_in, float* d_out, std::int64_t n, float a, float b,
            cudaStream_t stream) {
  GNM_CHECK(n >= 0, "the element count cannot be negative", n);
  if (n == 0) return;
  GNM_CHECK(d_in != nullptr && d_out != nullptr, "affine needs device pointers", n);
  affine_kernel<<<grid_for(n), kBlock, 0, stream>>>(d_in, d_out, n, a, b);
  GNM_CUDA_CHECK_LAUNCH();
}

}  // namespace chapter08
