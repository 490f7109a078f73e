// Section 2.5 — numerical stability and precision (see numerics_demo.hpp).
#include "numerics_demo.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <span>
#include <sstream>

#include "gnm/core/half.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"
#include "numerics.hpp"

namespace chapter2 {
namespace {

using gnm::json_number;
using gnm::json_quote;
constexpr double kEps = gnm::kEpsF32;
constexpr float kInf = std::numeric_limits<float>::infinity();

struct Exact {
  double sum = 0;
  double abs_sum = 0;
};

Exact exact_sum(const std::vector<float>& x) {
  long double s = 0, a = 0;  // 64-bit mantissa: 10^7 fp32 terms lose nothing that matters here
  for (float v : x) {
    s += v;
    a += std::fabs(v);
  }
  return {static_cast<double>(s), static_cast<double>(a)};
}

// Values ±m·2^k, m uniform in [0, 1), k uniform in [-20, 20]: sums with heavy cancellation.
std::vector<float> mixed_values(std::int64_t n, std::uint64_t seed) {
  const gnm::PhiloxRng rng(seed);
  std::vector<float> x(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float m = gnm::uniform_from_bits(rng.bits(i)) * 2.0f - 1.0f;
    x[i] = std::ldexp(m, static_cast<int>(rng.bits(i + x.size()) % 41) - 20);
  }
  return x;
}

double rel(double got, double ref) { return std::fabs(got - ref) / std::fabs(ref); }

std::string format_vector(const std::vector<float>& v) {
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", static_cast<double>(v[i]));
    s << (i ? ", " : "") << (std::isnan(v[i]) ? "NaN" : buf);  // not "-nan" for inf - inf
  }
  return s.str() + "]";
}

std::string json_vector(const std::vector<float>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    s += (i ? ", " : "") + json_number(static_cast<double>(v[i]));
  }
  return s + "]";
}

}  // namespace

// ---- Summation --------------------------------------------------------------------------------

//! [summation_table]
SummationTable summation_table(std::int64_t max_n, std::uint64_t seed) {
  SummationTable t;
  auto add_row = [&](const std::vector<float>& x, const std::string& data) {
    const Exact e = exact_sum(x);
    SummationRow r;
    r.n = static_cast<std::int64_t>(x.size());
    r.data = data;
    r.condition = e.abs_sum / std::fabs(e.sum);
    r.naive = rel(gnm::ch02::sum_naive(x), e.sum);
    r.pairwise = rel(gnm::ch02::sum_pairwise(x), e.sum);
    r.kahan = rel(gnm::ch02::sum_kahan(x), e.sum);
    // The worst cases of Note [Summation error bounds] (tests/ch02/test_numerics.cpp), with eps
    // for u, made relative to |Σx|: that is where the condition number enters.
    const double n = static_cast<double>(x.size());
    const double levels =
        n > gnm::ch02::kPairwiseBlock ? std::ceil(std::log2(n / gnm::ch02::kPairwiseBlock)) : 0.0;
    const auto block = static_cast<double>(gnm::ch02::kPairwiseBlock);
    r.pairwise_bound = (block + levels) * kEps * r.condition;
    r.kahan_bound = (2 * kEps + n * kEps * kEps) * r.condition;
    t.ok = t.ok && r.pairwise <= r.pairwise_bound && r.kahan <= r.kahan_bound;
    t.rows.push_back(r);
  };
  for (std::int64_t n = 1000; n <= max_n; n *= 10) {
    std::vector<float> x(static_cast<std::size_t>(n));
    gnm::fill_uniform(x, seed, 0.0f, 1.0f);
    add_row(x, "uniform [0, 1)");
  }
  for (std::int64_t n = 1000; n <= max_n; n *= 10) {
    add_row(mixed_values(n, seed + 1), "mixed signs, 2^-20..2^20");
  }
  // The adversarial case: every 1e-8 is below half an ulp of the running sum 1.
  std::vector<float> tiny(static_cast<std::size_t>(max_n) + 1, 1e-8f);
  tiny[0] = 1.0f;
  add_row(tiny, "1, then 1e-8 each");
  return t;
}
//! [summation_table]

void print(const SummationTable& t) {
  std::printf("  %-26s %9s %9s | %9s %9s %9s | %9s %9s\n", "data", "n", "Σ|x|/|Σx|", "naive",
              "pairwise", "Kahan", "pw bound", "K bound");
  for (const auto& r : t.rows) {
    std::printf("  %-26s %9lld %9.3g | %9.2e %9.2e %9.2e | %9.1e %9.1e\n", r.data.c_str(),
                static_cast<long long>(r.n), r.condition, r.naive, r.pairwise, r.kahan,
                r.pairwise_bound, r.kahan_bound);
  }
  std::printf("  (relative error |s - Σx| / |Σx| against a long-double sum; bounds: worst case)\n");
}

std::string to_json(const SummationTable& t) {
  std::ostringstream j;
  j << "{\"ok\": " << (t.ok ? "true" : "false") << ", \"rows\": [";
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    j << (i ? ", " : "") << "{\"data\": " << json_quote(r.data) << ", \"n\": " << r.n
      << ", \"condition\": " << json_number(r.condition) << ", \"naive\": " << json_number(r.naive)
      << ", \"pairwise\": " << json_number(r.pairwise) << ", \"kahan\": " << json_number(r.kahan)
      << ", \"pairwise_bound\": " << json_number(r.pairwise_bound)
      << ", \"kahan_bound\": " << json_number(r.kahan_bound) << "}";
  }
  j << "]}";
  return j.str();
}

// ---- Softmax and log-sum-exp ------------------------------------------------------------------

SoftmaxTable softmax_table() {
  SoftmaxTable t;
  const std::vector<std::pair<std::string, std::vector<float>>> inputs = {
      {"[1, 2, 3]", {1.0f, 2.0f, 3.0f}},
      {"[1000, 1001, 1002]", {1000.0f, 1001.0f, 1002.0f}},
      {"[-1000, -1001, -1002]", {-1000.0f, -1001.0f, -1002.0f}},
      {"[88, 89, 90]", {88.0f, 89.0f, 90.0f}},
      {"[-inf, 0, 1] (masked)", {-kInf, 0.0f, 1.0f}},
  };
  for (const auto& [name, x] : inputs) {
    SoftmaxRow r;
    r.input = name;
    r.naive.resize(x.size());
    r.stable.resize(x.size());
    gnm::ch02::softmax_naive(x, r.naive);
    gnm::ch02::softmax_stable(x, r.stable);
    float sum_exp = 0.0f;
    double m = -std::numeric_limits<double>::infinity();
    for (float v : x) {
      sum_exp += std::exp(v);
      m = std::max(m, static_cast<double>(v));
    }
    double s = 0;
    for (float v : x) s += std::exp(static_cast<double>(v) - m);
    r.lse_naive = static_cast<double>(std::log(sum_exp));
    r.lse_stable = static_cast<double>(gnm::ch02::logsumexp_stable(x));
    r.lse_reference = m + std::log(s);
    for (float v : r.stable) {
      r.ok = r.ok && std::isfinite(v);
      r.stable_sum += static_cast<double>(v);
    }
    // Bounds from Note [Softmax tolerance] in tests/ch02/test_numerics.cpp.
    const auto n = static_cast<double>(x.size());
    r.ok = r.ok && std::fabs(r.stable_sum - 1.0) <= (2 * n + 2) * kEps &&
           std::fabs(r.lse_stable - r.lse_reference) <=
               (std::fabs(r.lse_reference) + 2 * n + 2) * kEps;
    t.ok = t.ok && r.ok;
    t.rows.push_back(r);
  }
  return t;
}

void print(const SoftmaxTable& t) {
  std::printf("  %-22s %-28s %-28s | %10s %10s %10s\n", "input", "softmax naive",
              "softmax stable", "LSE naive", "LSE stable", "LSE exact");
  for (const auto& r : t.rows) {
    std::printf("  %-22s %-28s %-28s | %10.6g %10.6g %10.6g\n", r.input.c_str(),
                format_vector(r.naive).c_str(), format_vector(r.stable).c_str(), r.lse_naive,
                r.lse_stable, r.lse_reference);
  }
}

std::string to_json(const SoftmaxTable& t) {
  std::ostringstream j;
  j << "{\"ok\": " << (t.ok ? "true" : "false") << ", \"rows\": [";
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    j << (i ? ", " : "") << "{\"input\": " << json_quote(r.input)
      << ", \"naive\": " << json_vector(r.naive) << ", \"stable\": " << json_vector(r.stable)
      << ", \"lse_naive\": " << json_number(r.lse_naive)
      << ", \"lse_stable\": " << json_number(r.lse_stable)
      << ", \"lse_reference\": " << json_number(r.lse_reference) << "}";
  }
  j << "]}";
  return j.str();
}

// ---- fp16 / bf16 conversion -------------------------------------------------------------------

//! [conversion_table]
ConversionTable conversion_table(std::int64_t samples_per_range, std::uint64_t seed) {
  ConversionTable t;
  struct Format {
    const char* name;
    std::uint16_t (*round)(float);
    float (*widen)(std::uint16_t);
    double half_ulp;      // unit roundoff: 2^-11 (fp16), 2^-8 (bf16)
    double min_normal;    // below this, results are subnormal
    double max_finite;    // above the rounding threshold beyond this, results are Inf
  };
  const Format formats[] = {
      {"fp16", gnm::float_to_half_bits, gnm::half_bits_to_float, std::ldexp(1.0, -11),
       std::ldexp(1.0, -14), 65504.0},
      {"bf16", gnm::float_to_bf16_bits, gnm::bf16_bits_to_float, std::ldexp(1.0, -8),
       std::ldexp(1.0, -126), 3.3895313892515355e38},
  };
  // Magnitude ranges: fp16 underflow, fp16 subnormals, the two halves of fp16's normal range,
  // and beyond fp16's maximum. For bf16 every range is normal.
  const double ranges[][2] = {{1e-30, 1e-8},     {1e-8, 6.103515625e-05}, {6.103515625e-05, 1.0},
                              {1.0, 65504.0},    {65504.0, 1e30}};
  const gnm::PhiloxRng rng(seed);
  std::uint64_t counter = 0;
  for (const Format& f : formats) {
    for (const auto& range : ranges) {
      ConversionRow r;
      r.format = f.name;
      r.lo = range[0];
      r.hi = range[1];
      double sum_rel = 0;
      std::int64_t finite_nonzero = 0;
      const double a = std::log10(r.lo), b = std::log10(r.hi);
      for (std::int64_t i = 0; i < samples_per_range; ++i, ++counter) {
        // Log-uniform magnitude, random sign.
        const double u = static_cast<double>(gnm::uniform_from_bits(rng.bits(2 * counter)));
        const auto x = static_cast<float>(std::pow(10.0, a + (b - a) * u));
        const float xs = (rng.bits(2 * counter + 1) & 1u) ? -x : x;
        const double y = static_cast<double>(f.widen(f.round(xs)));
        ++r.count;
        if (std::isinf(y)) {
          ++r.overflow;
        } else if (y == 0.0) {
          ++r.underflow;
        } else {
          if (std::fabs(y) < f.min_normal) ++r.subnormal;
          const double e = rel(y, static_cast<double>(xs));
          r.max_rel = std::max(r.max_rel, e);
          sum_rel += e;
          ++finite_nonzero;
        }
      }
      r.mean_rel = finite_nonzero ? sum_rel / static_cast<double>(finite_nonzero) : 0.0;
      // Where the whole range is normal for the format, round-to-nearest promises half an ulp.
      if (r.lo >= f.min_normal && r.hi <= f.max_finite) {
        t.ok = t.ok && r.max_rel <= f.half_ulp && r.overflow == 0 && r.underflow == 0;
      }
      t.rows.push_back(r);
    }
  }
  // Every 16-bit pattern widens exactly and rounds back to itself (NaNs come back quiet).
  for (std::uint32_t h = 0; h <= 0xFFFFu; ++h) {
    const auto bits = static_cast<std::uint16_t>(h);
    const float fh = gnm::half_bits_to_float(bits);
    const float fb = gnm::bf16_bits_to_float(bits);
    const bool ok_h = std::isnan(fh) || gnm::float_to_half_bits(fh) == bits;
    const bool ok_b = std::isnan(fb) || gnm::float_to_bf16_bits(fb) == bits;
    t.round_trips_exact = t.round_trips_exact && ok_h && ok_b;
  }
  t.ok = t.ok && t.round_trips_exact;
  return t;
}
//! [conversion_table]

void print(const ConversionTable& t) {
  std::printf("  %-5s %-22s %9s %9s %9s %9s %9s\n", "fmt", "|x| in", "max rel", "mean rel",
              "overflow", "to zero", "subnorm");
  for (const auto& r : t.rows) {
    char range[48];
    std::snprintf(range, sizeof range, "[%.3g, %.3g)", r.lo, r.hi);
    const auto pct = [&](std::int64_t c) {
      return 100.0 * static_cast<double>(c) / static_cast<double>(r.count);
    };
    std::printf("  %-5s %-22s %9.2e %9.2e %8.1f%% %8.1f%% %8.1f%%\n", r.format.c_str(), range,
                r.max_rel, r.mean_rel, pct(r.overflow), pct(r.underflow), pct(r.subnormal));
  }
  std::printf("  (unit roundoff: fp16 2^-11 = %.2e, bf16 2^-8 = %.2e; all 2 x 65536 patterns "
              "round-trip exactly: %s)\n",
              std::ldexp(1.0, -11), std::ldexp(1.0, -8), t.round_trips_exact ? "yes" : "NO");
}

std::string to_json(const ConversionTable& t) {
  std::ostringstream j;
  j << "{\"ok\": " << (t.ok ? "true" : "false")
    << ", \"round_trips_exact\": " << (t.round_trips_exact ? "true" : "false") << ", \"rows\": [";
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    j << (i ? ", " : "") << "{\"format\": " << json_quote(r.format) << ", \"lo\": "
      << json_number(r.lo) << ", \"hi\": " << json_number(r.hi) << ", \"count\": " << r.count
      << ", \"max_rel\": " << json_number(r.max_rel) << ", \"mean_rel\": "
      << json_number(r.mean_rel) << ", \"overflow\": " << r.overflow << ", \"underflow\": "
      << r.underflow << ", \"subnormal\": " << r.subnormal << "}";
  }
  j << "]}";
  return j.str();
}

// ---- Catastrophic cancellation ----------------------------------------------------------------

//! [variance]
namespace {

// E[x²] − E[x]² in one pass: two large, nearly equal numbers subtracted.
float variance_textbook(const std::vector<float>& x) {
  float s = 0.0f, s2 = 0.0f;
  for (float v : x) {
    s += v;
    s2 += v * v;
  }
  const float n = static_cast<float>(x.size());
  const float mean = s / n;
  return s2 / n - mean * mean;
}

// Mean first, then the squared deviations: no cancellation, but the mean must be accurate.
float variance_two_pass(const std::vector<float>& x, float (*sum)(std::span<const float>)) {
  const float n = static_cast<float>(x.size());
  const float mean = sum(x) / n;
  std::vector<float> d2(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) d2[i] = (x[i] - mean) * (x[i] - mean);
  return sum(d2) / n;
}

// Welford: update the mean and the sum of squared deviations M2 with each value, one pass.
float variance_welford(const std::vector<float>& x) {
  float mean = 0.0f, m2 = 0.0f;
  float k = 0.0f;
  for (float v : x) {
    k += 1.0f;
    const float delta = v - mean;
    mean += delta / k;
    m2 += delta * (v - mean);
  }
  return m2 / k;
}

}  // namespace
//! [variance]

CancellationTable cancellation_table(std::int64_t n, std::uint64_t seed) {
  CancellationTable t;
  for (int e = 1; e <= 8; ++e) {
    const auto x = static_cast<float>(std::pow(10.0, -e));
    const float one = 1.0f;
    const float computed = (one + x) - one;  // the subtraction is exact (Sterbenz); 1 + x is not
    t.one_plus_x.push_back(
        {static_cast<double>(x), static_cast<double>(computed), rel(computed, x)});
  }
  for (double mean : {0.0, 1e2, 1e4, 1e6}) {
    std::vector<float> x(static_cast<std::size_t>(n));
    gnm::fill_uniform(x, seed, -0.5f, 0.5f);  // variance 1/12
    for (float& v : x) v = static_cast<float>(mean + static_cast<double>(v));
    VarianceRow r;
    r.mean = mean;
    long double s = 0;
    for (float v : x) s += v;
    const long double m = s / static_cast<long double>(x.size());
    long double ss = 0;
    for (float v : x) ss += (v - m) * (v - m);
    r.exact = static_cast<double>(ss / static_cast<long double>(x.size()));
    r.textbook = static_cast<double>(variance_textbook(x));
    r.two_pass = static_cast<double>(variance_two_pass(x, gnm::ch02::sum_naive));
    r.two_pass_pairwise = static_cast<double>(variance_two_pass(x, gnm::ch02::sum_pairwise));
    r.welford = static_cast<double>(variance_welford(x));
    // Chan, Golub and LeVeque: with sums accurate to L·u relative, the two-pass variance is
    // within L·u + (L·u·κ)² relative, κ = sqrt(1 + mean²/variance) the problem's condition
    // number. Pairwise sums have L = b − 1 + ⌈log2(n/b)⌉; eps stands in for u (margin 2), and
    // the leading 2 covers the extra roundings of the squares and the divisions.
    const double nn = static_cast<double>(x.size());
    const double levels = std::ceil(std::log2(std::max(nn / gnm::ch02::kPairwiseBlock, 1.0)));
    const double lu = (static_cast<double>(gnm::ch02::kPairwiseBlock) + levels) * kEps;
    const double kappa = std::sqrt(1.0 + mean * mean / r.exact);
    r.two_pass_pairwise_bound = 2 * lu + (lu * kappa) * (lu * kappa);
    t.ok = t.ok && rel(r.two_pass_pairwise, r.exact) <= r.two_pass_pairwise_bound;
    t.variance.push_back(r);
  }
  return t;
}

void print(const CancellationTable& t) {
  std::printf("  (1 + x) - 1 in fp32:\n  %10s %14s %10s\n", "x", "computed", "rel error");
  for (const auto& r : t.one_plus_x) {
    std::printf("  %10.0e %14.8g %10.2e\n", r.x, r.computed, r.rel_error);
  }
  std::printf("\n  variance of mean + U(-0.5, 0.5) (exact 1/12 = 0.0833), fp32, relative error:\n");
  std::printf("  %8s %10s | %10s %10s %10s %10s | %10s\n", "mean", "exact", "E[x²]-E²",
              "two-pass", "2p pairw.", "Welford", "2p bound");
  for (const auto& r : t.variance) {
    std::printf("  %8.0e %10.6f | %10.2e %10.2e %10.2e %10.2e | %10.1e\n", r.mean, r.exact,
                rel(r.textbook, r.exact), rel(r.two_pass, r.exact),
                rel(r.two_pass_pairwise, r.exact), rel(r.welford, r.exact),
                r.two_pass_pairwise_bound);
  }
}

std::string to_json(const CancellationTable& t) {
  std::ostringstream j;
  j << "{\"ok\": " << (t.ok ? "true" : "false") << ", \"one_plus_x\": [";
  for (std::size_t i = 0; i < t.one_plus_x.size(); ++i) {
    const auto& r = t.one_plus_x[i];
    j << (i ? ", " : "") << "{\"x\": " << json_number(r.x) << ", \"computed\": "
      << json_number(r.computed) << ", \"rel_error\": " << json_number(r.rel_error) << "}";
  }
  j << "], \"variance\": [";
  for (std::size_t i = 0; i < t.variance.size(); ++i) {
    const auto& r = t.variance[i];
    j << (i ? ", " : "") << "{\"mean\": " << json_number(r.mean) << ", \"exact\": "
      << json_number(r.exact) << ", \"textbook\": " << json_number(r.textbook)
      << ", \"two_pass\": " << json_number(r.two_pass) << ", \"two_pass_pairwise\": "
      << json_number(r.two_pass_pairwise) << ", \"welford\": " << json_number(r.welford)
      << ", \"two_pass_pairwise_bound\": " << json_number(r.two_pass_pairwise_bound) << "}";
  }
  j << "]}";
  return j.str();
}

// ---- Section 2.5 as a whole -------------------------------------------------------------------

NumericsReport run_numerics(bool quick) {
  NumericsReport r;
  r.summation = summation_table(quick ? 100'000 : 10'000'000);
  r.softmax = softmax_table();
  r.conversion = conversion_table(quick ? 20'000 : 200'000);
  r.cancellation = cancellation_table(quick ? 20'000 : 100'000);
  r.verified = r.summation.ok && r.softmax.ok && r.conversion.ok && r.cancellation.ok;
  return r;
}

void print(const NumericsReport& r) {
  auto verdict = [](bool ok) { return ok ? "within the error model" : "OUTSIDE the error model"; };
  std::printf("\n== 2.5 Summation: naive vs pairwise vs Kahan ==\n");
  print(r.summation);
  std::printf("  check: %s\n", verdict(r.summation.ok));
  std::printf("\n== 2.5 Softmax and log-sum-exp on extreme inputs ==\n");
  print(r.softmax);
  std::printf("  check: %s\n", verdict(r.softmax.ok));
  std::printf("\n== 2.5 fp32 -> fp16 / bf16 (round to nearest even) ==\n");
  print(r.conversion);
  std::printf("  check: %s\n", verdict(r.conversion.ok));
  std::printf("\n== 2.5 Catastrophic cancellation ==\n");
  print(r.cancellation);
  std::printf("  check: %s\n", verdict(r.cancellation.ok));
}

std::string to_json(const NumericsReport& r) {
  return "{\"summation\": " + to_json(r.summation) + ", \"softmax\": " + to_json(r.softmax) +
         ", \"conversion\": " + to_json(r.conversion) + ", \"cancellation\": " +
         to_json(r.cancellation) + ", \"verified\": " + (r.verified ? "true" : "false") + "}";
}

}  // namespace chapter2
