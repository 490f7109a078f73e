// Section 2.5 — numerical stability and precision: the chapter program's tables.
//
//   summation_table()      naive vs pairwise vs Kahan summation error, n = 10^3 … 10^7
//   softmax_table()        naive vs stable softmax and log-sum-exp on extreme inputs
//   conversion_table()     fp32 → fp16 / bf16 rounding error, overflow and underflow by range
//   cancellation_table()   (1 + x) − 1, and variance: textbook one-pass vs two-pass vs Welford
//
// Each returns a table with its own `ok` (the checks the error model guarantees) and has a
// print() and a to_json(). The exercise functions (sum_kahan, softmax_stable, …) come from the
// linked exercise library: the solutions, or the learner's code with -DGNM_LEARNER=ON.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chapter2 {

/// One row of the summation table: relative errors against a long-double reference.
struct SummationRow {
  std::int64_t n = 0;         // number of terms
  std::string data;           // what the terms are
  double condition = 0;       // Σ|x| / |Σx|: how much cancellation magnifies every error
  double naive = 0;           // |s − Σx| / |Σx| for each method
  double pairwise = 0;
  double kahan = 0;
  double pairwise_bound = 0;  // the error model's worst case for pairwise, relative to |Σx|
  double kahan_bound = 0;     // and for Kahan
};

/// The summation table; ok when pairwise and Kahan stay within their bounds on every row.
struct SummationTable {
  std::vector<SummationRow> rows;
  bool ok = true;
};

/// Sums 10^3 … max_n values (uniform in [0, 1); mixed signs and magnitudes 2^-20 … 2^20; and
/// 1 followed by 1e-8s) with the three methods.
SummationTable summation_table(std::int64_t max_n = 10'000'000, std::uint64_t seed = 42);
void print(const SummationTable& t);
std::string to_json(const SummationTable& t);

/// One input of the softmax table.
struct SoftmaxRow {
  std::string input;          // e.g. "[1000, 1001, 1002]"
  std::vector<float> naive;   // softmax_naive (NaN where it breaks)
  std::vector<float> stable;  // softmax_stable
  double stable_sum = 0;      // Σ stable: 1 up to rounding
  double lse_naive = 0;       // log(Σ exp x) computed literally in fp32
  double lse_stable = 0;      // logsumexp_stable
  double lse_reference = 0;   // in double
  bool ok = true;             // stable outputs finite, sum ≈ 1, LSE within its error bound
};

/// The softmax / log-sum-exp table.
struct SoftmaxTable {
  std::vector<SoftmaxRow> rows;
  bool ok = true;
};

SoftmaxTable softmax_table();
void print(const SoftmaxTable& t);
std::string to_json(const SoftmaxTable& t);

/// fp32 → 16-bit rounding error over one range of magnitudes.
struct ConversionRow {
  std::string format;     // "fp16" or "bf16"
  double lo = 0, hi = 0;  // |x| drawn log-uniformly from [lo, hi)
  std::int64_t count = 0;
  double max_rel = 0;     // over the values that stay finite and non-zero
  double mean_rel = 0;
  std::int64_t overflow = 0;   // became ±Inf
  std::int64_t underflow = 0;  // became ±0
  std::int64_t subnormal = 0;  // became a subnormal (fewer significant bits)
};

/// The conversion table; ok when every normal-range row stays within half an ulp of its format
/// (2^-11 for fp16, 2^-8 for bf16) and the exhaustive round trips are exact.
struct ConversionTable {
  std::vector<ConversionRow> rows;
  bool round_trips_exact = true;  // all 65536 patterns of each format survive → fp32 → back
  bool ok = true;
};

ConversionTable conversion_table(std::int64_t samples_per_range = 200'000, std::uint64_t seed = 7);
void print(const ConversionTable& t);
std::string to_json(const ConversionTable& t);

/// (1 + x) − 1 in fp32: the subtraction is exact, but 1 + x already lost x's low bits.
struct CancellationRow {
  double x = 0;
  double computed = 0;
  double rel_error = 0;
};

/// Variance of data with a large mean, four ways, in fp32.
struct VarianceRow {
  double mean = 0;          // of the data (the spread is uniform with variance 1/12)
  double exact = 0;         // two-pass in long double on the same fp32 data
  double textbook = 0;      // E[x²] − E[x]², one pass, fp32 sums
  double two_pass = 0;      // mean first, then Σ(x − mean)², naive fp32 sums
  double two_pass_pairwise = 0;  // the same with sum_pairwise
  double welford = 0;       // Welford's one-pass update in fp32
  double two_pass_pairwise_bound = 0;  // relative error bound for two_pass_pairwise
};

/// The cancellation tables; ok when every pairwise two-pass variance is within its bound.
struct CancellationTable {
  std::vector<CancellationRow> one_plus_x;
  std::vector<VarianceRow> variance;
  bool ok = true;
};

CancellationTable cancellation_table(std::int64_t n = 100'000, std::uint64_t seed = 3);
void print(const CancellationTable& t);
std::string to_json(const CancellationTable& t);

/// All of section 2.5: the four tables and their overall verdict.
struct NumericsReport {
  SummationTable summation;
  SoftmaxTable softmax;
  ConversionTable conversion;
  CancellationTable cancellation;
  bool verified = false;
};

/// Runs the four tables; `quick` caps the sizes (10^5 terms, 20 000 samples) for smoke tests.
NumericsReport run_numerics(bool quick = false);
void print(const NumericsReport& r);
std::string to_json(const NumericsReport& r);

}  // namespace chapter2
