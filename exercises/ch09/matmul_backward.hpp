// Exercise 9.4 — the backward of matrix multiplication (section 9.5 of the book).
//
// C = A·B with A (M, K), B (K, N), C (M, N): C_ij = Σ_k A_ik B_kj. For a loss L with gradient
// dC = dL/dC, the chain rule gives
//
//     dA_ik = Σ_j dC_ij · B_kj     →  dA = dC · Bᵀ   (M, N)·(N, K) = (M, K)
//     dB_kj = Σ_i A_ik · dC_ij     →  dB = Aᵀ · dC   (K, M)·(M, N) = (K, N)
//
// The backward of one GEMM is two GEMMs of the same size: a training step costs three times the
// forward's FLOPs. No transposed copy is needed: a GEMM reads Bᵀ by swapping its strides, which is
// what gnm::cpu::sgemm's Transpose::Yes does (and cuBLAS's CUBLAS_OP_T).
//
// Write, in exercises/ch09/matmul_backward.cpp:
//   9.4  matmul_backward()  dA and dB from A, B and dC
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch09/exercise/MatmulBackward
#pragma once

#include <cstdint>
#include <span>

namespace gnm::ch09 {

/// Ex 9.4. For row-major A (M, K), B (K, N) and dC (M, N), writes dA = dC·Bᵀ (M, K) into `da`
/// and dB = Aᵀ·dC (K, N) into `db`, overwriting whatever they held. Either with two calls of
/// gnm::cpu::sgemm (gnm/cpu/gemm.hpp; pick Transpose::Yes for the operand read transposed and
/// the right leading dimensions) or with plain loops; the tests accept either, within the error
/// bound of a float dot product, N terms for dA and M terms for dB.
///
/// Throws gnm::ShapeError naming the sizes when M, K or N is negative or a span does not hold
/// its matrix. Any of M, K, N may be 0: then dA or dB is empty or all zero (a sum of no terms).
void matmul_backward(std::span<const float> a, std::span<const float> b,
                     std::span<const float> dc, std::int64_t M, std::int64_t K, std::int64_t N,
                     std::span<float> da, std::span<float> db);

}  // namespace gnm::ch09
