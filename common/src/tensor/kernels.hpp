// Internal: the core kernels of the tensor layer, one CPU and one CUDA definition each (the
// CUDA ones exist only when GNM_HAVE_CUDA). Callers have already checked shapes, dtypes and
// devices; kernels trust their arguments.
#pragma once

#include "gnm/tensor/tensor.hpp"

#if GNM_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "gnm/cuda/check.hpp"
#endif

namespace gnm::kernels {

// Runs `cuda()` (after selecting t's device) when t lives on a GPU, else `cpu()`.
template <class Cpu, class Cuda>
void run_on([[maybe_unused]] const Tensor& t, Cpu&& cpu, [[maybe_unused]] Cuda&& cuda) {
#if GNM_HAVE_CUDA
  if (t.is_cuda()) {
    GNM_CUDA_CHECK(cudaSetDevice(t.device().index));
    cuda();
    return;
  }
#endif
  cpu();
}

// dst[i] = convert(src[i]) for every index; same shape, same device, any strides and dtypes.
void copy_cpu(const Tensor& dst, const Tensor& src);
// dst[i] = value converted to dst's dtype.
void fill_cpu(const Tensor& dst, double value);

// The elementwise binary ops. Arithmetic ops need a, b and out of one dtype; comparisons write a
// bool `out` from a and b of one dtype.
enum class BinaryOp { add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge };
// out = op(a, b) with a and b already expanded to out's shape (stride 0 where broadcast); for add
// and sub the second operand is scaled by `alpha` (a + alpha·b).
void binary_cpu(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b, double alpha);

// out (x's shape with `reduced` dims set to 1, contiguous) = sum of x over `reduced`
// (a mask over x's dims). Accumulates in double for f32/f64, in float for f16/bf16 inputs.
void sum_cpu(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced);

#if GNM_HAVE_CUDA
void copy_cuda(const Tensor& dst, const Tensor& src);
void fill_cuda(const Tensor& dst, double value);
void binary_cuda(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b, double alpha);
void sum_cuda(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced);
#endif

}  // namespace gnm::kernels
