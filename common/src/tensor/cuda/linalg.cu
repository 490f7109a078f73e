// CUDA batched GEMM on strided tensors through cuBLAS (cublasGemmStridedBatchedEx).
//
// cuBLAS is column-major; our tensors are row-major. A row-major M×N matrix C is, byte for byte,
// the column-major N×M matrix Cᵀ, and C = A·B ⇔ Cᵀ = Bᵀ·Aᵀ: so cuBLAS is called with the operands
// swapped (B first) and m = N, n = M. Each operand's layout (Note [GEMM operand layouts] in
// cpu/linalg.cpp) becomes cuBLAS's op: a row-major stored operand is CUBLAS_OP_N in this swapped
// call, a transposed view is CUBLAS_OP_T — again no copies for the transposes of backward rules.
//
// Precision: f32 computes in fp32 with the default math mode (TF32 tensor cores off: results
// comparable with the CPU's SGEMM at fp32 accuracy); f64 in fp64; f16/bf16 operands with fp32
// accumulation and one rounding of the result.
//
// Handles: gnm::cuda::cublas_handle(), one per device for the life of the process.
#include <cublas_v2.h>

#include <climits>

#include "../kernels_nn.hpp"
#include "gnm/core/check.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/cublas.hpp"

namespace gnm::kernels {

namespace {

struct Operand {
  Tensor t;  // (B, rows, cols)
  GemmLayout layout;
};

Operand prepare(const Tensor& m) {
  const GemmLayout l = gemm_layout(m.size(1), m.size(2), m.stride(1), m.stride(2));
  if (l.ok) return {m, l};
  Tensor c = m.contiguous();
  return {c, gemm_layout(c.size(1), c.size(2), c.stride(1), c.stride(2))};
}

int as_int(std::int64_t v, const char* what) {
  GNM_CHECK(v <= INT_MAX, "GEMM dimension too large for cuBLAS's int arguments", what, v);
  return static_cast<int>(v);
}

cudaDataType_t data_type(DType t) {
  switch (t) {
    case DType::f32: return CUDA_R_32F;
    case DType::f64: return CUDA_R_64F;
    case DType::f16: return CUDA_R_16F;
    case DType::bf16: return CUDA_R_16BF;
    default: GNM_CHECK(false, "matmul needs a floating dtype", dtype_name(t));
  }
  return CUDA_R_32F;
}

}  // namespace

void bmm_cuda(const Tensor& c, const Tensor& a_in, const Tensor& b_in, double beta) {
  if (c.numel() == 0) return;
  const std::int64_t B = c.size(0), M = c.size(1), N = c.size(2), K = a_in.size(2);
  if (K == 0) {  // an empty sum: c = beta · c
    if (beta == 0.0)
      GNM_CUDA_CHECK(cudaMemsetAsync(c.data_ptr(), 0, static_cast<std::size_t>(c.numel()) * c.element_size()));
    return;
  }
  const Operand a = prepare(a_in), b = prepare(b_in);
  const cudaDataType_t type = data_type(c.dtype());
  cublasHandle_t h = gnm::cuda::cublas_handle();
  // Swapped call: Cᵀ (N×M) = op(B) · op(A) in column-major terms.
  const cublasOperation_t op_b = b.layout.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = a.layout.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const long long stride_a = B > 1 ? a.t.stride(0) : 0;
  const long long stride_b = B > 1 ? b.t.stride(0) : 0;
  const long long stride_c = M * N;
  const int m = as_int(N, "N"), n = as_int(M, "M"), k = as_int(K, "K");
  const int lda = as_int(b.layout.ld, "ld(b)"), ldb = as_int(a.layout.ld, "ld(a)");
  const int batch = as_int(B, "batch");
  if (c.dtype() == DType::f64) {
    const double alpha = 1.0;
    GNM_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
        h, op_b, op_a, m, n, k, &alpha, b.t.data_ptr(), type, lda, stride_b, a.t.data_ptr(), type,
        ldb, stride_a, &beta, c.data_ptr(), type, m, stride_c, batch, CUBLAS_COMPUTE_64F,
        CUBLAS_GEMM_DEFAULT));
  } else {
    const float alpha = 1.0f, beta_f = static_cast<float>(beta);
    GNM_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
        h, op_b, op_a, m, n, k, &alpha, b.t.data_ptr(), type, lda, stride_b, a.t.data_ptr(), type,
        ldb, stride_a, &beta_f, c.data_ptr(), type, m, stride_c, batch, CUBLAS_COMPUTE_32F,
        CUBLAS_GEMM_DEFAULT));
  }
}

}  // namespace gnm::kernels
