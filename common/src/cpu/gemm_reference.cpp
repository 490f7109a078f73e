// The double-precision GEMM reference with per-element error scale (see gemm.hpp).
#include <cmath>
#include <cstddef>

#include "gnm/core/check.hpp"
#include "gnm/cpu/gemm.hpp"

namespace gnm::cpu {

void sgemm_reference(std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
                     std::int64_t lda, const float* B, std::int64_t ldb, std::span<double> c,
                     std::span<double> mass) {
  GNM_CHECK_SHAPE(M >= 0 && N >= 0 && K >= 0, "GEMM sizes cannot be negative", M, N, K);
  GNM_CHECK_SHAPE(lda >= K && ldb >= N, "leading dimension smaller than the row", K, lda, N, ldb);
  const auto cells = static_cast<std::size_t>(M * N);
  GNM_CHECK_SHAPE(c.size() == cells && mass.size() == cells, "outputs must hold M·N elements",
                  M, N, c.size(), mass.size());
  for (std::size_t i = 0; i < cells; ++i) c[i] = mass[i] = 0.0;
  // i-k-j order: the inner loop is contiguous in B, c and mass.
  for (std::int64_t i = 0; i < M; ++i) {
    for (std::int64_t k = 0; k < K; ++k) {
      const auto aik = static_cast<double>(A[i * lda + k]);
      const float* b_row = B + k * ldb;
      double* c_row = c.data() + i * N;
      double* m_row = mass.data() + i * N;
      for (std::int64_t j = 0; j < N; ++j) {
        const double t = aik * static_cast<double>(b_row[j]);
        c_row[j] += t;
        m_row[j] += std::fabs(t);
      }
    }
  }
}

}  // namespace gnm::cpu
