// Internal: the kernels behind chapter 9.3's reductions (mean, var, max, argmax), linear algebra
// (matmul, bmm, linear), normalised exponentials and losses (softmax, log_softmax,
// cross_entropy) and indexing (index_select, gather, embedding), one CPU and one CUDA definition
// each (the CUDA ones exist only when GNM_HAVE_CUDA).
//
// Kernels trust their arguments: the ops in ops_{reduce,linalg,loss,index}.cpp check shapes,
// dtypes, devices and index ranges first. "Contiguous" below means row-major with offset as given
// (data_ptr() already includes the offset).
#pragma once

#include <cstdint>
#include <vector>

#include "gnm/tensor/tensor.hpp"
#include "kernels.hpp"  // run_on

namespace gnm::kernels {

// ---- Reductions (cpu/reduce.cpp, cuda/reduce.cu) -----------------------------------------------
// `reduced` is a mask over x's dims; `out` has x's shape with the reduced dims set to 1 and is
// contiguous. Floating dtypes only for mean/var.

// out = mean of x over `reduced` (an empty reduction gives NaN, as 0/0).
void mean_cpu(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced);
// out = Σ (x − mean)² / max(0, n − correction), two sweeps per output (no cancellation).
void var_cpu(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced,
             std::int64_t correction);
// values (x's dtype; may be undefined) and indices (i64; may be undefined) = the largest element
// of each block and its row-major position inside the block (the first one on ties). NaN is
// larger than everything, so the first NaN wins, as in PyTorch. Any dtype. Blocks are non-empty.
void max_cpu(const Tensor& values, const Tensor& indices, const Tensor& x,
             const std::vector<bool>& reduced);

// ---- Linear algebra (cpu/linalg.cpp, cuda/linalg.cu) -------------------------------------------

// How a 2-d view (rows × cols, strides rs, cs) can be handed to a row-major GEMM without a copy
// (Note [GEMM operand layouts] in cpu/linalg.cpp): stored row-major with leading dimension `ld`
// (transposed = false), or as the transpose of a row-major cols × rows matrix (transposed = true).
// ok = false when neither fits and the operand must be copied first.
struct GemmLayout {
  bool ok = false;
  bool transposed = false;
  std::int64_t ld = 1;
};

inline GemmLayout gemm_layout(std::int64_t rows, std::int64_t cols, std::int64_t rs,
                              std::int64_t cs) {
  const std::int64_t r1 = rows > 1 ? rows : 1, c1 = cols > 1 ? cols : 1;
  if ((cols <= 1 || cs == 1) && (rows <= 1 || rs >= c1)) return {true, false, rows <= 1 ? c1 : rs};
  if ((rows <= 1 || rs == 1) && (cols <= 1 || cs >= r1)) return {true, true, cols <= 1 ? r1 : cs};
  return {};
}

// c (B, M, N), contiguous = a (B, M, K) · b (B, K, N) + beta · c, where a and b are views with any
// strides (batch stride 0 for a broadcast operand). One floating dtype. beta is 0 or 1; with 0, c
// is not read. CPU: the engine's SGEMM for f32 (transposed layouts go in as transpose flags, not
// copies), dgemm (OpenBLAS) or a loop for f64, f32 SGEMM on converted copies for f16/bf16.
void bmm_cpu(const Tensor& c, const Tensor& a, const Tensor& b, double beta);
// out (N) = Σ_m g[m, n] for a contiguous g (M, N): the bias gradient of linear.
void column_sum_cpu(const Tensor& out, const Tensor& g);

// ---- Softmax family and cross entropy (cpu/softmax.cpp, cuda/softmax.cu) -----------------------
// x, y, g and grad are contiguous and viewed as (outer, size, inner): the op runs along `size`.

struct SoftmaxShape {
  std::int64_t outer = 1, size = 1, inner = 1;
};
// y = softmax(x) or log_softmax(x) along the middle dimension.
void softmax_cpu(const Tensor& y, const Tensor& x, SoftmaxShape s, bool log);
// grad = y·(g − Σ g·y) for softmax, g − exp(y)·Σ g for log_softmax (y = the forward's output).
void softmax_backward_cpu(const Tensor& grad, const Tensor& g, const Tensor& y, SoftmaxShape s,
                          bool log);
// Per row i of logits (N, C) (contiguous) and target (N) (i64, contiguous, each in [0, C)):
// lse[i] = log Σ_j exp(x_ij) and loss[i] = lse − (1−ε)·x[i, t_i] − (ε/C)·Σ_j x_ij. `loss` and
// `lse` are contiguous (N) of the compute dtype (f32, or f64 for f64 logits).
void cross_entropy_cpu(const Tensor& loss, const Tensor& lse, const Tensor& logits,
                       const Tensor& target, double label_smoothing);
// grad (N, C) = g[i]·factor·(exp(x_ij − lse_i) − (1−ε)·[j = t_i] − ε/C), with g a (N) view of the
// output gradient (stride 0 for a reduced loss), factor 1/N for the mean and 1 otherwise.
void cross_entropy_backward_cpu(const Tensor& grad, const Tensor& g, const Tensor& logits,
                                const Tensor& target, const Tensor& lse, double factor,
                                double label_smoothing);

// ---- Indexing (cpu/index.cpp, cuda/index.cu) ---------------------------------------------------

// The row-major position of the first element of the i64 `index` outside [0, size), or -1.
std::int64_t first_out_of_range_cpu(const Tensor& index, std::int64_t size);
// out (outer, n, inner) = x (outer, V, inner)[:, index[k], :]; x, out, index (n) contiguous.
void index_select_cpu(const Tensor& out, const Tensor& x, const Tensor& index, std::int64_t outer,
                      std::int64_t inner);
// grad (outer, V, inner) += g (outer, n, inner) at rows index[k] (duplicates accumulate); grad
// and g contiguous of one dtype, f32 or f64.
void index_add_cpu(const Tensor& grad, const Tensor& g, const Tensor& index, std::int64_t outer,
                   std::int64_t inner);
// out (index's shape, contiguous) = x at `index` along `dim` (torch.gather); x and index any
// strides.
void gather_cpu(const Tensor& out, const Tensor& x, std::int64_t dim, const Tensor& index);
// grad (x's shape, contiguous, f32 or f64) += g (index's shape) scattered along `dim` at index
// (the backward of gather and of max along a dim).
void scatter_add_cpu(const Tensor& grad, std::int64_t dim, const Tensor& index, const Tensor& g);

#if GNM_HAVE_CUDA
void mean_cuda(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced);
void var_cuda(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced,
              std::int64_t correction);
void max_cuda(const Tensor& values, const Tensor& indices, const Tensor& x,
              const std::vector<bool>& reduced);
// cuBLAS: f32 with fp32 compute and TF32 off, f64, f16/bf16 with fp32 accumulation.
void bmm_cuda(const Tensor& c, const Tensor& a, const Tensor& b, double beta);
void softmax_cuda(const Tensor& y, const Tensor& x, SoftmaxShape s, bool log);
void softmax_backward_cuda(const Tensor& grad, const Tensor& g, const Tensor& y, SoftmaxShape s,
                           bool log);
void cross_entropy_cuda(const Tensor& loss, const Tensor& lse, const Tensor& logits,
                        const Tensor& target, double label_smoothing);
void cross_entropy_backward_cuda(const Tensor& grad, const Tensor& g, const Tensor& logits,
                                 const Tensor& target, const Tensor& lse, double factor,
                                 double label_smoothing);
std::int64_t first_out_of_range_cuda(const Tensor& index, std::int64_t size);
void index_select_cuda(const Tensor& out, const Tensor& x, const Tensor& index, std::int64_t outer,
                       std::int64_t inner);
void index_add_cuda(const Tensor& grad, const Tensor& g, const Tensor& index, std::int64_t outer,
                    std::int64_t inner);
void gather_cuda(const Tensor& out, const Tensor& x, std::int64_t dim, const Tensor& index);
void scatter_add_cuda(const Tensor& grad, std::int64_t dim, const Tensor& index, const Tensor& g);
#endif

}  // namespace gnm::kernels

namespace gnm::detail {

// Op-level helpers shared by the op files (defined in ops_index.cpp).

// A tensor of `shape` with g's
// dtype and device, zero except for g (index's shape) added at `index` along `dim` — the backward
// of gather and of max along a dim. 16-bit gradients accumulate in f32 and are rounded once.
Tensor scatter_add_into_zeros(const Shape& shape, std::int64_t dim, const Tensor& index,
                              const Tensor& g);

// Throws gnm::Error naming the first element of the i64 `index` outside [0, size), its position
// and `size`; `what` says whose index it is. One small kernel (and a 8-byte read-back on CUDA).
void check_index_range(const Tensor& index, std::int64_t size, const char* what);

}  // namespace gnm::detail
