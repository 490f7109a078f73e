// Section 2.4 — BLAS levels 1/2/3 through cblas, and LAPACK through LAPACKE (see blas_lapack.hpp).
#include "blas_lapack.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>

#include "gnm/core/check.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/gemm.hpp"
#include "gnm/cpu/vector.hpp"

#if GNM_HAVE_OPENBLAS
#include <cblas.h>
#endif
#if defined(GNM_HAVE_LAPACKE) && GNM_HAVE_LAPACKE
#define CH02_HAVE_LAPACKE 1
#include <lapacke.h>
#else
#define CH02_HAVE_LAPACKE 0
#endif

namespace chapter2 {
namespace {

constexpr double kEps = gnm::kEpsF32;

// One untimed warm-up run first: page faults, OpenBLAS thread start.
double median_ms(int repeat, const std::function<void()>& fn) {
  return gnm::median_time_ms(repeat, fn, /*warmup=*/1);
}

std::vector<float> uniform(std::size_t n, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  gnm::fill_uniform(v, seed, lo, hi);
  return v;
}

// Note [Dot-product bound]: an L-term fp32 dot product, in any order, with or without FMA, is
// within γ_L·Σ|a·b| ≤ L·eps·Σ|a·b| of the exact value (u = eps/2; the factor 2 is the margin).
// Returns max over i of |got_i − ref_i| / (L·eps·mass_i): ≤ 1 passes.
double error_ratio(const std::vector<float>& got, const std::vector<double>& ref,
                   const std::vector<double>& mass, std::int64_t terms) {
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(static_cast<double>(got[i]) - ref[i]);
    const double bound = static_cast<double>(terms) * kEps * mass[i];
    const double ratio = bound > 0 ? err / bound : (err > 0 ? HUGE_VAL : 0.0);
    if (!(ratio <= worst)) worst = std::isnan(ratio) ? HUGE_VAL : ratio;
  }
  return worst;
}

// Fills the check and timing columns of `r`: it passes when `ratio` (error / bound) is <= 1, and
// its time is the median of `call` after one warm-up.
void finish_row(BlasRow& r, double ratio, const char* checked_against, int repeat,
                const std::function<void()>& call) {
  r.error_ratio = ratio;
  r.checked_against = checked_against;
  r.ok = r.error_ratio <= 1.0;
  r.ms = median_ms(repeat, call);
  r.gflops = r.flops / (r.ms * 1e6);
}

// One level-3 row: C = A·B (n×n) by `gemm(a, b, c)` on random A and B, C poisoned with NaN (beta = 0
// must overwrite it), checked against the double reference `ref` with its `mass`.
using GemmCall = std::function<void(const float* a, const float* b, float* c)>;
BlasRow sgemm_row(const char* routine, std::int64_t n, int repeat, std::uint64_t seed,
                  const std::vector<double>& ref, const std::vector<double>& mass,
                  const GemmCall& gemm) {
  const auto a = uniform(static_cast<std::size_t>(n * n), seed);
  const auto b = uniform(static_cast<std::size_t>(n * n), seed + 1);
  std::vector<float> c(static_cast<std::size_t>(n * n), std::nanf(""));
  auto call = [&] { gemm(a.data(), b.data(), c.data()); };
  call();
  BlasRow r;
  r.routine = routine;
  r.level = 3;
  r.shape = "M = N = K = " + std::to_string(n);
  r.flops = 2.0 * static_cast<double>(n * n * n);
  r.bytes = 4.0 * 3.0 * static_cast<double>(n * n);
  finish_row(r, error_ratio(c, ref, mass, n), "double loop", repeat, call);
  return r;
}

BlasRow engine_sgemm_row(std::int64_t n, int repeat, std::uint64_t seed,
                         const std::vector<double>& ref, const std::vector<double>& mass) {
  return sgemm_row("gnm::cpu::sgemm", n, repeat, seed, ref, mass,
                   [n](const float* a, const float* b, float* c) {
                     gnm::cpu::sgemm(gnm::cpu::Transpose::No, gnm::cpu::Transpose::No, n, n, n,
                                     1.0f, a, n, b, n, 0.0f, c, n);
                   });
}

}  // namespace

#if GNM_HAVE_OPENBLAS
namespace {

//! [blas_levels]
// Level 1: y <- a·x + y. 2 FLOPs per 12 bytes: memory-bound at any size.
BlasRow run_saxpy(std::int64_t n, int repeat, std::uint64_t seed) {
  const float a = 1.5f;
  const auto x = uniform(static_cast<std::size_t>(n), seed);
  const auto y0 = uniform(static_cast<std::size_t>(n), seed + 1);
  std::vector<double> ref(x.size());
  gnm::cpu::saxpy_reference(a, x, y0, ref);
  std::vector<float> y = y0;
  cblas_saxpy(static_cast<int>(n), a, x.data(), 1, y.data(), 1);
  BlasRow r;
  r.routine = "cblas_saxpy";
  r.level = 1;
  r.shape = "n = " + std::to_string(n);
  r.flops = 2.0 * static_cast<double>(n);
  r.bytes = 12.0 * static_cast<double>(n);  // read x, read y, write y
  const gnm::Tolerance tol = gnm::cpu::saxpy_tolerance(a);
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double err = std::fabs(static_cast<double>(y[i]) - ref[i]);
    r.error_ratio = std::max(r.error_ratio, err / (tol.abs + tol.rel * std::fabs(ref[i])));
  }
  finish_row(r, r.error_ratio, "double loop (gnm::cpu::saxpy_reference)", repeat,
             [&] { cblas_saxpy(static_cast<int>(n), a, x.data(), 1, y.data(), 1); });
  return r;
}

// Level 2: y <- A·x for an m×n row-major A. 2 FLOPs per 4-byte matrix element: memory-bound.
BlasRow run_sgemv(std::int64_t m, std::int64_t n, int repeat, std::uint64_t seed) {
  const auto A = uniform(static_cast<std::size_t>(m * n), seed);
  const auto x = uniform(static_cast<std::size_t>(n), seed + 1);
  std::vector<double> ref(static_cast<std::size_t>(m)), mass(ref.size());
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      const double t = static_cast<double>(A[static_cast<std::size_t>(i * n + j)]) *
                       static_cast<double>(x[static_cast<std::size_t>(j)]);
      ref[static_cast<std::size_t>(i)] += t;
      mass[static_cast<std::size_t>(i)] += std::fabs(t);
    }
  }
  std::vector<float> y(static_cast<std::size_t>(m), std::nanf(""));  // beta = 0 must overwrite
  auto call = [&] {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(m), static_cast<int>(n), 1.0f,
                A.data(), static_cast<int>(n), x.data(), 1, 0.0f, y.data(), 1);
  };
  call();
  BlasRow r;
  r.routine = "cblas_sgemv";
  r.level = 2;
  r.shape = std::to_string(m) + " x " + std::to_string(n);
  r.flops = 2.0 * static_cast<double>(m * n);
  r.bytes = 4.0 * static_cast<double>(m * n + n + m);
  finish_row(r, error_ratio(y, ref, mass, n), "double loop", repeat, call);
  return r;
}

// Level 3: C <- A·B, n×n. 2n³ FLOPs on 12n² bytes: n/6 FLOPs per byte, compute-bound.
BlasRow run_sgemm(std::int64_t n, int repeat, std::uint64_t seed, const std::vector<double>& ref,
                  const std::vector<double>& mass) {
  const int ni = static_cast<int>(n);
  return sgemm_row("cblas_sgemm", n, repeat, seed, ref, mass,
                   [ni](const float* a, const float* b, float* c) {
                     cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1.0f, a,
                                 ni, b, ni, 0.0f, c, ni);
                   });
}
//! [blas_levels]

}  // namespace
#endif  // GNM_HAVE_OPENBLAS

// ---- LAPACK -----------------------------------------------------------------------------------

#if CH02_HAVE_LAPACKE
namespace {

// Solves A·x = b (n×n, row-major) in double by Gaussian elimination with partial pivoting: the
// independent reference for both LAPACK problems. Throws gnm::Error for a singular matrix.
std::vector<double> solve_double(std::vector<double> A, std::vector<double> b) {
  const auto n = b.size();
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t piv = k;
    for (std::size_t i = k + 1; i < n; ++i) {
      if (std::fabs(A[i * n + k]) > std::fabs(A[piv * n + k])) piv = i;
    }
    GNM_CHECK(A[piv * n + k] != 0.0, "singular matrix in the reference solve", k);
    if (piv != k) {
      for (std::size_t j = 0; j < n; ++j) std::swap(A[k * n + j], A[piv * n + j]);
      std::swap(b[k], b[piv]);
    }
    for (std::size_t i = k + 1; i < n; ++i) {
      const double f = A[i * n + k] / A[k * n + k];
      for (std::size_t j = k; j < n; ++j) A[i * n + j] -= f * A[k * n + j];
      b[i] -= f * b[k];
    }
  }
  std::vector<double> x(n);
  for (std::size_t i = n; i-- > 0;) {
    double s = b[i];
    for (std::size_t j = i + 1; j < n; ++j) s -= A[i * n + j] * x[j];
    x[i] = s / A[i * n + i];
  }
  return x;
}

double norm2(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

// Largest and smallest eigenvalue of a small symmetric positive definite matrix: power
// iteration, and power iteration on the inverse (each step one solve_double).
std::pair<double, double> extreme_eigenvalues(const std::vector<double>& S, std::size_t n) {
  auto iterate = [&](bool inverse) {
    std::vector<double> v(n, 1.0), w(n);
    double lambda = 0;
    for (int it = 0; it < 500; ++it) {
      if (inverse) {
        w = solve_double(S, v);
      } else {
        for (std::size_t i = 0; i < n; ++i) {
          w[i] = 0;
          for (std::size_t j = 0; j < n; ++j) w[i] += S[i * n + j] * v[j];
        }
      }
      const double nw = norm2(w);
      lambda = nw / norm2(v);
      for (std::size_t i = 0; i < n; ++i) v[i] = w[i] / nw;
    }
    return inverse ? 1.0 / lambda : lambda;
  };
  return {iterate(false), iterate(true)};
}

//! [least_squares]
// Fits y ≈ c0 + c1·x + c2·x² + c3·x³ to `points` noisy samples with LAPACKE_sgels (QR).
LeastSquaresResult run_least_squares(std::int64_t points, std::uint64_t seed) {
  LeastSquaresResult r;
  r.points = points;
  r.truth = {0.5, -2.0, 1.25, 3.0};
  constexpr double kNoise = 1e-3;
  const auto m = static_cast<std::size_t>(points);
  const std::size_t n = r.truth.size();
  const auto x = uniform(m, seed);
  std::vector<float> noise(m);
  gnm::fill_normal(noise, seed + 1, 0.0f, static_cast<float>(kNoise));
  std::vector<float> A(m * n);  // (m, n) row-major Vandermonde: A[i][j] = x_i^j
  std::vector<float> y(m);
  for (std::size_t i = 0; i < m; ++i) {
    double power = 1.0, yi = 0.0;
    for (std::size_t j = 0; j < n; ++j, power *= static_cast<double>(x[i])) {
      A[i * n + j] = static_cast<float>(power);
      yi += r.truth[j] * power;
    }
    y[i] = static_cast<float>(yi + static_cast<double>(noise[i]));
  }

  // sgels overwrites A with its QR factors and b with the solution (its first n entries).
  std::vector<float> a = A, b = y;
  gnm::HostTimer timer;
  const lapack_int info =
      LAPACKE_sgels(LAPACK_ROW_MAJOR, 'N', static_cast<lapack_int>(m), static_cast<lapack_int>(n),
                    1, a.data(), static_cast<lapack_int>(n), b.data(), 1);
  r.ms = timer.elapsed_ms();
  GNM_CHECK(info == 0, "LAPACKE_sgels failed", info);
  r.lapack.assign(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));

  // Independent reference: the normal equations AᵀA c = Aᵀy in double, from the same fp32 data.
  auto Ad = [&](std::size_t i, std::size_t j) { return static_cast<double>(A[i * n + j]); };
  std::vector<double> N(n * n), rhs(n);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      rhs[j] += Ad(i, j) * static_cast<double>(y[i]);
      for (std::size_t k = 0; k < n; ++k) N[j * n + k] += Ad(i, j) * Ad(i, k);
    }
  }
  r.reference = solve_double(N, rhs);
  const auto [lmax, lmin] = extreme_eigenvalues(N, n);
  r.condition = std::sqrt(lmax / lmin);  // κ₂(A)² = κ₂(AᵀA): why QR beats the normal equations

  // Higham, Accuracy and Stability, Thm 20.1 with the backward error of Householder QR
  // (Thm 20.3), ε = m·n·eps:  ‖Δc‖/‖c‖ ≤ κε/(1 − κε)·(2 + (κ + 1)·‖r‖/(‖A‖₂·‖c‖)).
  std::vector<double> resid(m);
  for (std::size_t i = 0; i < m; ++i) {
    double fit = 0;
    for (std::size_t j = 0; j < n; ++j) fit += Ad(i, j) * r.reference[j];
    resid[i] = static_cast<double>(y[i]) - fit;
  }
  const double ke = r.condition * static_cast<double>(m * n) * kEps;
  r.diff_bound = ke / (1 - ke) *
                 (2 + (r.condition + 1) * norm2(resid) / (std::sqrt(lmax) * norm2(r.reference)));
  std::vector<double> d(n);
  for (std::size_t j = 0; j < n; ++j) d[j] = r.lapack[j] - r.reference[j];
  r.diff = norm2(d) / norm2(r.reference);

  // Against the truth: coefficient j has standard error σ·sqrt((AᵀA)⁻¹_jj).
  for (std::size_t j = 0; j < n; ++j) {
    std::vector<double> e(n, 0.0);
    e[j] = 1.0;
    const double std_error = kNoise * std::sqrt(solve_double(N, e)[j]);
    r.max_sigma = std::max(r.max_sigma, std::fabs(r.lapack[j] - r.truth[j]) / std_error);
  }
  // 5 standard errors: a correct fit exceeds it with probability below 1e-5 (fixed seed here).
  r.ok = r.diff <= r.diff_bound && r.max_sigma <= 5.0;
  return r;
}
//! [least_squares]

//! [linear_solve]
// Solves A·x = b with LAPACKE_sgesv for a diagonally dominant A and a known x.
LinearSolveResult run_linear_solve(std::int64_t n, std::uint64_t seed) {
  LinearSolveResult r;
  r.n = n;
  const auto nn = static_cast<std::size_t>(n);
  auto A = uniform(nn * nn, seed);
  for (std::size_t i = 0; i < nn; ++i) A[i * nn + i] += 2.0f * static_cast<float>(n);
  const auto x_true = uniform(nn, seed + 1);
  std::vector<float> b(nn);
  for (std::size_t i = 0; i < nn; ++i) {
    double s = 0;
    for (std::size_t j = 0; j < nn; ++j) {
      s += static_cast<double>(A[i * nn + j]) * static_cast<double>(x_true[j]);
    }
    b[i] = static_cast<float>(s);
  }

  std::vector<float> lu = A, x = b;
  std::vector<lapack_int> ipiv(nn);
  gnm::HostTimer timer;
  const lapack_int info = LAPACKE_sgesv(LAPACK_ROW_MAJOR, static_cast<lapack_int>(n), 1, lu.data(),
                                        static_cast<lapack_int>(n), ipiv.data(), x.data(), 1);
  r.ms = timer.elapsed_ms();
  GNM_CHECK(info == 0, "LAPACKE_sgesv failed", info);

  // Backward error in double: how little A and b must change for x̂ to be exact.
  double norm_a = 0, norm_x = 0, norm_b = 0, norm_r = 0, min_margin = HUGE_VAL;
  for (std::size_t i = 0; i < nn; ++i) {
    double row = 0, s = 0, off = 0;
    for (std::size_t j = 0; j < nn; ++j) {
      const double aij = A[i * nn + j];
      row += std::fabs(aij);
      s += aij * static_cast<double>(x[j]);
      if (j != i) off += std::fabs(aij);
    }
    norm_a = std::max(norm_a, row);
    norm_r = std::max(norm_r, std::fabs(static_cast<double>(b[i]) - s));
    norm_x = std::max(norm_x, std::fabs(static_cast<double>(x[i])));
    norm_b = std::max(norm_b, std::fabs(static_cast<double>(b[i])));
    min_margin = std::min(min_margin, std::fabs(static_cast<double>(A[i * nn + i])) - off);
  }
  r.backward_error = norm_r / (norm_a * norm_x + norm_b);
  // LU with partial pivoting: backward error ≤ γ_3n·ρ with growth factor ρ ≤ 2 for a
  // diagonally dominant matrix; 3n·eps = 2·(3n·u).
  r.backward_bound = 3.0 * static_cast<double>(n) * kEps;

  // Independent solve in double, and the forward error it implies: ‖Δx‖/‖x‖ ≤ 2κη/(1 − κη),
  // with κ∞(A) = ‖A‖∞·‖A⁻¹‖∞ and Varah's ‖A⁻¹‖∞ ≤ 1 / min_i(|a_ii| − Σ_{j≠i} |a_ij|).
  std::vector<double> Ad(A.begin(), A.end()), bd(b.begin(), b.end());
  const std::vector<double> xd = solve_double(Ad, bd);
  double diff = 0, norm_xd = 0;
  for (std::size_t i = 0; i < nn; ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(x[i]) - xd[i]));
    norm_xd = std::max(norm_xd, std::fabs(xd[i]));
  }
  r.forward_error = diff / norm_xd;
  const double kappa = norm_a / min_margin;
  const double ke = kappa * r.backward_bound;
  r.forward_bound = 2 * ke / (1 - ke);
  r.ok = r.backward_error <= r.backward_bound && r.forward_error <= r.forward_bound;
  return r;
}
//! [linear_solve]

}  // namespace
#endif  // CH02_HAVE_LAPACKE

BlasLapackReport run_blas_lapack(bool quick, std::uint64_t seed) {
  BlasLapackReport r;
  r.have_blas = GNM_HAVE_OPENBLAS != 0;
  r.have_lapack = CH02_HAVE_LAPACKE != 0;
  const int repeat = quick ? 3 : 10;
  const std::int64_t n3 = quick ? 128 : 512;
  std::vector<double> ref(static_cast<std::size_t>(n3 * n3)), mass(ref.size());
  {
    const auto a = uniform(static_cast<std::size_t>(n3 * n3), seed + 4);
    const auto b = uniform(static_cast<std::size_t>(n3 * n3), seed + 5);
    gnm::cpu::sgemm_reference(n3, n3, n3, a.data(), n3, b.data(), n3, ref, mass);
  }
#if GNM_HAVE_OPENBLAS
  r.blas.push_back(run_saxpy(quick ? 1 << 16 : 1 << 22, repeat, seed));
  r.blas.push_back(run_sgemv(quick ? 256 : 2048, quick ? 256 : 2048, repeat, seed + 2));
  r.blas.push_back(run_sgemm(n3, repeat, seed + 4, ref, mass));
#endif
  r.blas.push_back(engine_sgemm_row(n3, repeat, seed + 4, ref, mass));
  r.verified = true;
  for (const auto& row : r.blas) r.verified = r.verified && row.ok;
#if CH02_HAVE_LAPACKE
  r.least_squares = run_least_squares(200, seed + 6);
  r.solve = run_linear_solve(quick ? 64 : 500, seed + 8);
  r.verified = r.verified && r.least_squares.ok && r.solve.ok;
#endif
  return r;
}

void print(const BlasLapackReport& r) {
  std::printf("\n== 2.4 BLAS levels 1, 2, 3 ==\n");
  if (!r.have_blas) std::printf("  (no OpenBLAS in this build: only the engine's sgemm runs)\n");
  std::printf("  %-16s %5s %-22s %9s %9s %10s %9s %7s\n", "routine", "level", "shape",
              "FLOP/byte", "ms", "GFLOP/s", "err/bound", "check");
  for (const auto& b : r.blas) {
    std::printf("  %-16s %5d %-22s %9.3g %9.3f %10.2f %9.2g %7s\n", b.routine.c_str(), b.level,
                b.shape.c_str(), b.flops / b.bytes, b.ms, b.gflops, b.error_ratio,
                b.ok ? "ok" : "FAILED");
  }
  std::printf("  (err/bound: max |got - double| / (L·eps·Σ|a·b|); ≤ 1 passes)\n");
  std::printf("\n== 2.4 LAPACK through LAPACKE ==\n");
  if (!r.have_lapack) {
    std::printf("  skipped: LAPACKE is not in this build (Debian: liblapacke-dev)\n");
    return;
  }
  const auto& ls = r.least_squares;
  std::printf("  sgels: cubic fit to %lld noisy points (sigma 1e-3), %.3f ms, kappa2(A) = %.3g\n",
              static_cast<long long>(ls.points), ls.ms, ls.condition);
  std::printf("    %-12s %12s %12s %12s\n", "coefficient", "truth", "sgels", "double NE");
  for (std::size_t j = 0; j < ls.truth.size(); ++j) {
    std::printf("    c%-11zu %12.6f %12.6f %12.6f\n", j, ls.truth[j], ls.lapack[j],
                ls.reference[j]);
  }
  std::printf("    |sgels - double| / |double| = %.2e (bound %.2e); max |sgels - truth| = %.2f "
              "standard errors: %s\n",
              ls.diff, ls.diff_bound, ls.max_sigma, ls.ok ? "ok" : "FAILED");
  const auto& s = r.solve;
  std::printf("  sgesv: %lld x %lld diagonally dominant system, %.3f ms\n",
              static_cast<long long>(s.n), static_cast<long long>(s.n), s.ms);
  std::printf("    backward error %.2e (bound 3n·eps = %.2e), forward error vs double %.2e "
              "(bound %.2e): %s\n",
              s.backward_error, s.backward_bound, s.forward_error, s.forward_bound,
              s.ok ? "ok" : "FAILED");
}

std::string to_json(const BlasLapackReport& r) {
  using gnm::json_number;
  using gnm::json_quote;
  std::ostringstream j;
  j << "{\"have_blas\": " << (r.have_blas ? "true" : "false")
    << ", \"have_lapack\": " << (r.have_lapack ? "true" : "false") << ", \"blas\": [";
  for (std::size_t i = 0; i < r.blas.size(); ++i) {
    const auto& b = r.blas[i];
    j << (i ? ", " : "") << "{\"routine\": " << json_quote(b.routine) << ", \"level\": " << b.level
      << ", \"shape\": " << json_quote(b.shape) << ", \"flops\": " << json_number(b.flops)
      << ", \"bytes\": " << json_number(b.bytes) << ", \"ms\": " << json_number(b.ms)
      << ", \"gflops\": " << json_number(b.gflops)
      << ", \"error_ratio\": " << json_number(b.error_ratio)
      << ", \"ok\": " << (b.ok ? "true" : "false") << "}";
  }
  j << "]";
  if (r.have_lapack) {
    const auto& ls = r.least_squares;
    auto vec = [](const std::vector<double>& v) {
      std::string s = "[";
      for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + json_number(v[i]);
      return s + "]";
    };
    j << ", \"least_squares\": {\"points\": " << ls.points << ", \"truth\": " << vec(ls.truth)
      << ", \"sgels\": " << vec(ls.lapack) << ", \"reference\": " << vec(ls.reference)
      << ", \"condition\": " << json_number(ls.condition) << ", \"diff\": "
      << json_number(ls.diff) << ", \"diff_bound\": " << json_number(ls.diff_bound)
      << ", \"max_sigma\": " << json_number(ls.max_sigma) << ", \"ms\": " << json_number(ls.ms)
      << ", \"ok\": " << (ls.ok ? "true" : "false") << "}";
    const auto& s = r.solve;
    j << ", \"solve\": {\"n\": " << s.n << ", \"backward_error\": "
      << json_number(s.backward_error) << ", \"backward_bound\": "
      << json_number(s.backward_bound) << ", \"forward_error\": " << json_number(s.forward_error)
      << ", \"forward_bound\": " << json_number(s.forward_bound) << ", \"ms\": "
      << json_number(s.ms) << ", \"ok\": " << (s.ok ? "true" : "false") << "}";
  }
  j << ", \"verified\": " << (r.verified ? "true" : "false") << "}";
  return j.str();
}

}  // namespace chapter2
