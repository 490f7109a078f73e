// Exercise 9.4: matmul's backward as two GEMMs reading an operand transposed (task statement in
// exercises/ch09/matmul_backward.hpp).
#include "matmul_backward.hpp"

#include <algorithm>

#include "gnm/core/check.hpp"
#include "gnm/cpu/gemm.hpp"

namespace gnm::ch09 {

//! [matmul_backward]
void matmul_backward(std::span<const float> a, std::span<const float> b,
                     std::span<const float> dc, std::int64_t M, std::int64_t K, std::int64_t N,
                     std::span<float> da, std::span<float> db) {
  GNM_CHECK_SHAPE(M >= 0 && K >= 0 && N >= 0, "matmul_backward: negative size", M, K, N);
  const auto mk = static_cast<std::size_t>(M * K), kn = static_cast<std::size_t>(K * N),
             mn = static_cast<std::size_t>(M * N);
  GNM_CHECK_SHAPE(a.size() == mk && da.size() == mk, "matmul_backward: A or dA is not M x K", M,
                  K, a.size(), da.size());
  GNM_CHECK_SHAPE(b.size() == kn && db.size() == kn, "matmul_backward: B or dB is not K x N", K,
                  N, b.size(), db.size());
  GNM_CHECK_SHAPE(dc.size() == mn, "matmul_backward: dC is not M x N", M, N, dc.size());
  using gnm::cpu::Transpose;
  // BEGIN SOLUTION("ex 9.4", "dA (M x K) = dC (M x N) * B^T: sgemm(No, Yes, M, K, N, 1, dc, N, b, N, 0, da, K); dB (K x N) = A^T * dC: sgemm(Yes, No, K, N, M, 1, a, K, dc, N, 0, db, N); leading dimensions are at least 1")
  // Leading dimensions are the stored row lengths; BLAS wants them ≥ 1 even for empty matrices.
  const auto ld = [](std::int64_t v) { return std::max<std::int64_t>(v, 1); };
  // dA = dC · Bᵀ: B is stored K×N, i.e. Bᵀ (N×K) stored transposed → Transpose::Yes, ldb = N.
  gnm::cpu::sgemm(Transpose::No, Transpose::Yes, M, K, N, 1.0f, dc.data(), ld(N), b.data(), ld(N),
                  0.0f, da.data(), ld(K));
  // dB = Aᵀ · dC: A is stored M×K, i.e. Aᵀ (K×M) stored transposed → Transpose::Yes, lda = K.
  gnm::cpu::sgemm(Transpose::Yes, Transpose::No, K, N, M, 1.0f, a.data(), ld(K), dc.data(), ld(N),
                  0.0f, db.data(), ld(N));
  // END SOLUTION
}
//! [matmul_backward]

}  // namespace gnm::ch09
