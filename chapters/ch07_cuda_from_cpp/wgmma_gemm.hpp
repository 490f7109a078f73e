// Chapter 7.5 (second half): a Hopper bf16 tensor-core GEMM written with `wgmma.mma_async` and
// TMA (`cp.async.bulk.tensor` through a CUtensorMap), and the two GEMMs it is checked against:
// cuBLAS bf16 (the anchor) and a naive one-thread-per-output kernel (the plain reference).
//
// Layout ("TN", the layout the tensor cores read without a transpose and the one cuBLAS is
// fastest at): every matrix is row-major and both operands are K-major,
//
//   A  (M, K)  row-major bf16      C (M, N) = A · Bᵀ, row-major fp32
//   B  (N, K)  row-major bf16      (B is the right operand stored transposed: row j is column j)
//
// Products of bf16 values are exact in fp32 and every sum is accumulated in fp32; C is fp32 (no
// output rounding), so the three GEMMs differ only by the order of their fp32 additions.
//
// Requirements of wgmma_gemm_bf16 (checked before any CUDA call, gnm::ShapeError / gnm::Error):
//   - M, N, K >= 0; any M and N (edge tiles are padded with zeros by TMA and masked on store);
//   - K a multiple of 8: TMA needs every row of A and B to start on a 16-byte boundary;
//   - A and B 16-byte aligned (TMA), C 4-byte aligned (it is a float*);
//   - the device is compute capability 9.0 exactly (H100/H200: wgmma and setmaxnreg exist only in
//     the sm_90a instruction set; gnm::NotImplemented elsewhere).
// M = 0 or N = 0 does nothing; K = 0 writes C = 0.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "gnm/core/macros.hpp"
#include "wgmma_config.hpp"

namespace gnm::ch07 {

// Tile sizes, WgmmaLaunch / wgmma_launch_config and WgmmaTile / wgmma_tile_of_block are in
// wgmma_config.hpp (no CUDA header: the emulated test uses them too).

/// Throws (before any CUDA call) unless the arguments meet wgmma_gemm_bf16's requirements (see the
/// file comment): gnm::ShapeError for sizes, gnm::Error for null or misaligned pointers; each
/// message names the values.
void check_wgmma_args(const __nv_bfloat16* A, const __nv_bfloat16* B, const float* C, int M,
                      int N, int K);

/// True when the current device can run wgmma_gemm_bf16 (compute capability 9.0). Throws
/// gnm::CudaError without a usable device.
bool wgmma_device_supported();

/// C (M, N) = A (M, K) · B (N, K)ᵀ with bf16 inputs and fp32 accumulation and output, on the
/// Hopper tensor cores (wgmma + TMA, a 4-stage producer/consumer ring; 128×256×64 tiles). Device
/// pointers; asynchronous on `stream`. Throws as check_wgmma_args, gnm::NotImplemented on a device
/// that is not sm_90, gnm::CudaError for a failed launch.
void wgmma_gemm_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N,
                     int K, cudaStream_t stream = nullptr);

/// The same product through cuBLAS (cublasGemmEx, bf16 inputs, CUBLAS_COMPUTE_32F, fp32 C): the
/// anchor the wgmma GEMM is measured against. Any sizes >= 0 (no multiple-of-8 rule); runs on any
/// CUDA device. Throws gnm::ShapeError for negative sizes, gnm::CudaError when cuBLAS fails.
void cublas_gemm_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N,
                      int K, cudaStream_t stream = nullptr);

/// The same product by one thread per element of C, summing k = 0, 1, … with fmaf in fp32: slow
/// and obviously right, the tests' device reference. Any sizes >= 0; needs the sm_90 device this
/// library is built for (gnm::NotImplemented elsewhere).
void naive_gemm_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N,
                     int K, cudaStream_t stream = nullptr);

/// Worst-case |C_ij − exact| of an fp32-accumulated bf16 GEMM, from the error model: the products
/// are exact in fp32 (8 × 8 significant bits < 24), and each of the K additions of a dot product
/// errs by at most 2^-22 of the magnitudes involved — two fp32 ulps rather than half of one,
/// because the tensor cores add each block of 16 products after aligning them to the largest
/// exponent and truncating (up to one ulp per term), not with IEEE round-to-nearest. So
/// |err| <= K · 2^-22 · Σ_k |a_ik||b_jk|, and by Cauchy–Schwarz Σ_k |a_ik||b_jk| <= ‖a_i‖₂ ‖b_j‖₂;
/// `max_norm_a` and `max_norm_b` are the largest row norms of A and B. A worst case: with random
/// signs the actual error is ~√K times smaller. Two GPU results each within this bound differ by
/// at most twice it.
double gemm_bf16_error_bound(int K, double max_norm_a, double max_norm_b);

/// The largest Euclidean norm of the `rows` rows of the row-major (rows, K) bf16 matrix `m` (host
/// memory), for gemm_bf16_error_bound.
double max_row_norm(const __nv_bfloat16* m, int rows, int K);

}  // namespace gnm::ch07
