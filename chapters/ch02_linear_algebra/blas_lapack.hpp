// Section 2.4 — what BLAS and LAPACK are and how to call them.
//
// BLAS levels by what they do to memory: level 1 (vector-vector, saxpy: O(n) work on O(n) data),
// level 2 (matrix-vector, sgemv: O(n²) on O(n²)), level 3 (matrix-matrix, sgemm: O(n³) on O(n²)).
// Only level 3 does more arithmetic than it moves bytes, so only level 3 can run near the FLOP
// peak; levels 1 and 2 run at memory speed. run_blas_lapack() measures one routine of each level
// through cblas and checks it against a double-precision loop (and sgemm against the engine).
//
// LAPACK builds dense linear algebra on level-3 BLAS. Two calls through LAPACKE: a least-squares
// polynomial fit (sgels, Householder QR) and a linear solve (sgesv, LU with partial pivoting),
// each checked against an independent double-precision solve with a bound from perturbation
// theory. Without OpenBLAS or LAPACKE in the build, the parts that need them are skipped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chapter2 {

/// One BLAS routine, measured and checked.
struct BlasRow {
  std::string routine;    // "cblas_saxpy"
  int level = 0;          // 1, 2 or 3
  std::string shape;      // "n = 1048576"
  double flops = 0;       // arithmetic of one call
  double bytes = 0;       // compulsory memory traffic of one call
  double ms = 0;          // median time
  double gflops = 0;
  double error_ratio = 0; // max over elements of |got − ref| / bound (≤ 1 passes)
  std::string checked_against;
  bool ok = false;
};

/// sgels on a noisy cubic: the fit, an independent double solve, and the bounds.
struct LeastSquaresResult {
  std::int64_t points = 0;
  std::vector<double> truth;      // the coefficients the data were made from
  std::vector<double> lapack;     // LAPACKE_sgels (fp32, Householder QR)
  std::vector<double> reference;  // normal equations in double, own Gaussian elimination
  double condition = 0;           // κ₂(A), from the normal equations' eigenvalues
  double diff = 0;                // ‖lapack − reference‖₂ / ‖reference‖₂
  double diff_bound = 0;          // first-order perturbation bound for QR least squares
  double max_sigma = 0;           // max_j |lapack_j − truth_j| / (std. error of coefficient j)
  double ms = 0;
  bool ok = false;
};

/// sgesv on a diagonally dominant system with a known solution.
struct LinearSolveResult {
  std::int64_t n = 0;
  double backward_error = 0;  // ‖b − A·x̂‖∞ / (‖A‖∞·‖x̂‖∞ + ‖b‖∞), in double
  double backward_bound = 0;  // 3n·eps (LU with partial pivoting, growth ≤ 2)
  double forward_error = 0;   // ‖x̂ − x_double‖∞ / ‖x_double‖∞
  double forward_bound = 0;   // 2·κ∞(A)·backward_bound, κ∞ bounded by Varah's theorem
  double ms = 0;
  bool ok = false;
};

/// Section 2.4's report.
struct BlasLapackReport {
  bool have_blas = false;    // OpenBLAS (cblas) linked
  bool have_lapack = false;  // LAPACKE linked
  std::vector<BlasRow> blas;
  LeastSquaresResult least_squares;
  LinearSolveResult solve;
  bool verified = false;     // every check that ran passed (skipped parts do not fail)
};

/// Runs the three BLAS levels and the two LAPACK problems; `quick` uses small sizes.
BlasLapackReport run_blas_lapack(bool quick = false, std::uint64_t seed = 24);
void print(const BlasLapackReport& r);
std::string to_json(const BlasLapackReport& r);

}  // namespace chapter2
