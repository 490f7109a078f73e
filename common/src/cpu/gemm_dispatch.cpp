// sgemm's front door: argument checks, the cases with nothing to multiply, and the switch between
// the engine's kernel and OpenBLAS (GNM_BLAS / set_blas_backend).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "gemm_internal.hpp"
#include "gnm/core/check.hpp"
#include "gnm/cpu/gemm.hpp"

#if GNM_HAVE_OPENBLAS
#include <cblas.h>
constexpr bool kHaveOpenBlas = true;
#else
constexpr bool kHaveOpenBlas = false;
#endif

namespace gnm::cpu {
namespace {

const char* transpose_name(Transpose t) { return t == Transpose::No ? "No" : "Yes"; }

// Shapes and leading dimensions as in BLAS: a row-major matrix stored rows × cols needs a row
// stride of at least max(1, cols). The messages name every value needed to see the mismatch.
void check_args(Transpose ta, Transpose tb, std::int64_t M, std::int64_t N, std::int64_t K,
                float alpha, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
                const float* C, std::int64_t ldc) {
  GNM_CHECK_SHAPE(M >= 0 && N >= 0 && K >= 0, "sgemm: dimensions must be non-negative", M, N, K);
  const char* trans_a = transpose_name(ta);
  const char* trans_b = transpose_name(tb);
  // Stored shapes: A is M×K (or K×M when transposed), B is K×N (or N×K).
  const std::int64_t a_rows = ta == Transpose::No ? M : K;
  const std::int64_t a_cols = ta == Transpose::No ? K : M;
  const std::int64_t b_rows = tb == Transpose::No ? K : N;
  const std::int64_t b_cols = tb == Transpose::No ? N : K;
  GNM_CHECK_SHAPE(lda >= std::max<std::int64_t>(1, a_cols),
                  "sgemm: lda is smaller than a row of A as stored (a_rows x a_cols)", lda, a_rows,
                  a_cols, trans_a, M, K);
  GNM_CHECK_SHAPE(ldb >= std::max<std::int64_t>(1, b_cols),
                  "sgemm: ldb is smaller than a row of B as stored (b_rows x b_cols)", ldb, b_rows,
                  b_cols, trans_b, K, N);
  GNM_CHECK_SHAPE(ldc >= std::max<std::int64_t>(1, N),
                  "sgemm: ldc is smaller than a row of C (M x N)", ldc, M, N);
  if (M > 0 && N > 0) {
    GNM_CHECK(C != nullptr, "sgemm: C is null but M x N is not empty", M, N);
    if (K > 0 && alpha != 0.0f) {
      GNM_CHECK(A != nullptr && B != nullptr, "sgemm: A or B is null but K is not zero", M, N, K);
    }
  }
}

// C = beta · C when there is no product to add (K == 0 or alpha == 0); beta == 0 writes zeros,
// so NaN or garbage in C does not survive (BLAS semantics).
void scale_c(std::int64_t M, std::int64_t N, float beta, float* C, std::int64_t ldc) {
  for (std::int64_t i = 0; i < M; ++i) {
    float* row = C + i * ldc;
    if (beta == 0.0f) {
      std::fill(row, row + N, 0.0f);
    } else if (beta != 1.0f) {
      for (std::int64_t j = 0; j < N; ++j) row[j] *= beta;
    }
  }
}

// Checks, then either handles the trivial cases (returns true) or leaves the product to the caller.
bool trivial_or_checked(Transpose ta, Transpose tb, std::int64_t M, std::int64_t N,
                        std::int64_t K, float alpha, const float* A, std::int64_t lda,
                        const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc) {
  check_args(ta, tb, M, N, K, alpha, A, lda, B, ldb, C, ldc);
  if (M == 0 || N == 0) return true;
  if (K == 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return true;
  }
  return false;
}

void require_available(Backend backend, const char* source) {
  if (backend == Backend::OpenBlas && !kHaveOpenBlas) {
    throw NotImplemented(std::string("the OpenBLAS backend was requested (") + source +
                         ") but this build has no OpenBLAS (Debian: libopenblas-dev)");
  }
}

// -1: not overridden; otherwise the Backend chosen by set_blas_backend().
std::atomic<int> g_backend_override{-1};

}  // namespace

Backend parse_blas_backend(const char* text) {
  const std::string value = text ? text : "";
  if (value == "engine") return Backend::Engine;
  if (value == "openblas") return Backend::OpenBlas;
  throw Error("GNM_BLAS must be 'engine' or 'openblas', got '" + value + "'", __FILE__, __LINE__);
}

Backend blas_backend() {
  const int forced = g_backend_override.load(std::memory_order_acquire);
  if (forced >= 0) return static_cast<Backend>(forced);
  // Read once; a throwing initialiser is retried (and throws again) on the next call.
  static const Backend from_env = [] {
    const char* env = std::getenv("GNM_BLAS");
    const Backend b = (env && *env) ? parse_blas_backend(env) : Backend::Engine;
    require_available(b, "GNM_BLAS=openblas");
    return b;
  }();
  return from_env;
}

void set_blas_backend(Backend backend) {
  require_available(backend, "set_blas_backend");
  g_backend_override.store(static_cast<int>(backend), std::memory_order_release);
}

void sgemm_engine(Transpose ta, Transpose tb, std::int64_t M, std::int64_t N, std::int64_t K,
                  float alpha, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
                  float beta, float* C, std::int64_t ldc, ThreadPool* pool) {
  if (trivial_or_checked(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
  const detail::GemmArgs args{ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc};
  // The kernel is read once per call, so set_cpu_kernel() on another thread cannot mix two.
  detail::gemm_blocked(args, detail::active_kernel(), pool ? *pool : default_thread_pool());
}

void sgemm(Transpose ta, Transpose tb, std::int64_t M, std::int64_t N, std::int64_t K,
           float alpha, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
           float beta, float* C, std::int64_t ldc, ThreadPool* pool) {
  // Always asked, so that a bad GNM_BLAS is reported even in a build without OpenBLAS.
  const Backend backend = blas_backend();
#if GNM_HAVE_OPENBLAS
  if (backend == Backend::OpenBlas) {
    if (trivial_or_checked(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
    // cblas takes `blasint` (32-bit in Debian's build); larger problems stay with the engine.
    constexpr std::int64_t kMaxInt = std::numeric_limits<blasint>::max();
    if (std::max({M, N, K, lda, ldb, ldc}) <= kMaxInt) {
      cblas_sgemm(CblasRowMajor, ta == Transpose::No ? CblasNoTrans : CblasTrans,
                  tb == Transpose::No ? CblasNoTrans : CblasTrans, static_cast<blasint>(M),
                  static_cast<blasint>(N), static_cast<blasint>(K), alpha, A,
                  static_cast<blasint>(lda), B, static_cast<blasint>(ldb), beta, C,
                  static_cast<blasint>(ldc));
      return;
    }
  }
#else
  (void)backend;
#endif
  sgemm_engine(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pool);
}

}  // namespace gnm::cpu
