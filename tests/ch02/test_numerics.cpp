// Exercises 2.5–2.9: summation error against the error model, stable softmax and log-sum-exp on
// extreme inputs, and bf16 rounding bit for bit. Every test calls an exercise function, so each
// fails on the generated stubs (which throw gnm::NotImplemented).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/half.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"
#include "numerics.hpp"

namespace {

using namespace gnm::ch02;

constexpr double kEps = gnm::kEpsF32;  // 2^-23 = 2u, u the unit roundoff of fp32
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Exact {
  double sum = 0;      // Σ x in double: exact enough (53 bits against fp32's 24)
  double abs_sum = 0;  // Σ |x|: the scale of every summation error bound
};

Exact exact_sum(const std::vector<float>& x) {
  Exact e;
  long double s = 0, a = 0;  // long double: 64-bit mantissa on x86, so 10^7 terms stay exact-ish
  for (float v : x) {
    s += v;
    a += std::fabs(v);
  }
  e.sum = static_cast<double>(s);
  e.abs_sum = static_cast<double>(a);
  return e;
}

// Note [Summation error bounds] (Higham, Accuracy and Stability, §4): with u = eps/2,
//   naive     |E| ≤ (n − 1)·u·Σ|x|
//   pairwise  |E| ≤ (b − 1 + ⌈log2(n/b)⌉)·u·Σ|x|   (naive leaves of b elements, then a tree)
//   Kahan     |E| ≤ (2u + O(n·u²))·Σ|x|
// The checks use eps where the bounds have u (a factor of two to spare for the first-order
// terms) and n·eps² for Kahan's O(n·u²): they are proofs, not tuned thresholds.
double kahan_bound(std::size_t n, double abs_sum) {
  return (2 * kEps + static_cast<double>(n) * kEps * kEps) * abs_sum;
}
double pairwise_bound(std::size_t n, double abs_sum) {
  const double levels =
      n > kPairwiseBlock ? std::ceil(std::log2(static_cast<double>(n) / kPairwiseBlock)) : 0.0;
  return (static_cast<double>(kPairwiseBlock) + levels) * kEps * abs_sum;
}

void expect_sums_within_bounds(const std::vector<float>& x, const char* what) {
  SCOPED_TRACE(what);
  const Exact e = exact_sum(x);
  const double kahan_err = std::fabs(static_cast<double>(sum_kahan(x)) - e.sum);
  const double pairwise_err = std::fabs(static_cast<double>(sum_pairwise(x)) - e.sum);
  EXPECT_LE(kahan_err, kahan_bound(x.size(), e.abs_sum)) << "n = " << x.size();
  EXPECT_LE(pairwise_err, pairwise_bound(x.size(), e.abs_sum)) << "n = " << x.size();
}

TEST(Ch02NumericsSum, EmptyAndTinyInputs) {
  const std::vector<float> none;
  EXPECT_EQ(sum_kahan(none), 0.0f);
  EXPECT_EQ(sum_pairwise(none), 0.0f);
  const std::vector<float> one = {-3.5f};
  EXPECT_EQ(sum_kahan(one), -3.5f);
  EXPECT_EQ(sum_pairwise(one), -3.5f);
  const std::vector<float> three = {1.0f, 2.0f, 3.0f};
  EXPECT_EQ(sum_kahan(three), 6.0f);
  EXPECT_EQ(sum_pairwise(three), 6.0f);
}

TEST(Ch02NumericsSum, EveryElementCountsAcrossBlockBoundaries) {
  // Integers sum exactly in fp32 below 2^24, so any dropped or doubled element shows. The sizes
  // straddle the pairwise base case and its multiples.
  for (std::size_t n : {std::size_t{2}, kPairwiseBlock - 1, kPairwiseBlock, kPairwiseBlock + 1,
                        2 * kPairwiseBlock - 1, 2 * kPairwiseBlock + 1, std::size_t{1000},
                        std::size_t{4099}}) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<float>(i + 1);
    const auto want = static_cast<float>(n * (n + 1) / 2);
    EXPECT_EQ(sum_pairwise(x), want) << "n = " << n;
    EXPECT_EQ(sum_kahan(x), want) << "n = " << n;
  }
}

TEST(Ch02NumericsSum, KahanRecoversHalfUlpAddends) {
  // 1 + 2^-24 is a tie that rounds back to 1, so the naive sum never moves. Kahan carries the
  // lost 2^-24 and the next addend brings the sum to the exact 1 + 2^-23.
  const float tiny = std::ldexp(1.0f, -24);
  const std::vector<float> x = {1.0f, tiny, tiny};
  EXPECT_EQ(sum_naive(x), 1.0f);
  EXPECT_EQ(sum_kahan(x), 1.0f + std::ldexp(1.0f, -23));
}

TEST(Ch02NumericsSum, OneThenTenMillionTinyValues) {
  // 1 followed by 10^7 copies of 1e-8: each 1e-8 is below half an ulp of 1 (5.96e-8), so the
  // naive sum stays exactly 1.0 and misses 0.1 — a 9 % error. Kahan and pairwise must not.
  std::vector<float> x(10'000'001, 1e-8f);
  x[0] = 1.0f;
  EXPECT_EQ(sum_naive(x), 1.0f);
  const Exact e = exact_sum(x);
  EXPECT_NEAR(e.sum, 1.1, 1e-7);
  expect_sums_within_bounds(x, "1 then 1e-8 x 10^7");
}

TEST(Ch02NumericsSum, TenMillionUniformValues) {
  // All positive, so the running sum grows to 5·10^6 and every addition loses the low bits of
  // a value in [0, 1): the naive error is ~10^-4 relative, far outside both bounds below.
  std::vector<float> x(10'000'000);
  gnm::fill_uniform(x, /*seed=*/7, 0.0f, 1.0f);
  expect_sums_within_bounds(x, "uniform [0, 1)");
}

TEST(Ch02NumericsSum, MixedSignsAndMagnitudes) {
  // Values ±m·2^k with k in [-20, 20]: heavy cancellation, sums small against Σ|x|.
  const gnm::PhiloxRng rng(/*seed=*/11);
  std::vector<float> x(1'000'003);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::uint32_t b = rng.bits(i);
    const float mantissa = gnm::uniform_from_bits(b) * 2.0f - 1.0f;
    x[i] = std::ldexp(mantissa, static_cast<int>(rng.bits(i + x.size()) % 41) - 20);
  }
  expect_sums_within_bounds(x, "mixed signs and magnitudes");
}

// Softmax in double from the float inputs: the reference.
std::vector<double> softmax_reference(const std::vector<float>& x) {
  double m = -std::numeric_limits<double>::infinity();
  for (float v : x) m = std::max(m, static_cast<double>(v));
  std::vector<double> out(x.size());
  double sum = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    out[i] = std::exp(static_cast<double>(x[i]) - m);
    sum += out[i];
  }
  for (double& v : out) v /= sum;
  return out;
}

// Note [Softmax tolerance]: with d_i = m − x_i ≥ 0, the subtraction rounds with absolute error
// u·d_i, which exp turns into an absolute error u·d_i·e^(−d_i) ≤ u/e in that term (t·e^(−t)
// peaks at t = 1) — tiny for far-away entries however large d_i is. exp adds an ulp (relative);
// the n-term sum at most (n − 1)·u relative; the division one more u. Since the sum is ≥ 1,
// normalising does not enlarge the absolute part. So |error| ≤ u + (n + 2)·u·|ref|, and the
// check uses eps = 2u for the margin.
void expect_softmax_close(const std::vector<float>& x, const std::vector<float>& got) {
  const std::vector<double> ref = softmax_reference(x);
  const auto n = static_cast<double>(x.size());
  const auto r = gnm::compare(got, ref, gnm::Tolerance{kEps, (n + 2) * kEps});
  EXPECT_TRUE(r.ok) << r.report;
  double total = 0;
  for (float v : got) total += static_cast<double>(v);
  EXPECT_NEAR(total, 1.0, (2 * n + 2) * kEps);
}

TEST(Ch02NumericsSoftmax, ExtremeInputsStayFinite) {
  for (const std::vector<float>& x : {std::vector<float>{1000.0f, 1001.0f, 1002.0f},
                                      std::vector<float>{-1000.0f, -1001.0f, -1002.0f},
                                      std::vector<float>{88.0f, 89.0f, 90.0f, -90.0f},
                                      std::vector<float>{3e38f, -3e38f, 0.0f}}) {
    std::vector<float> naive(x.size()), stable(x.size(), kNaN);
    softmax_naive(x, naive);
    softmax_stable(x, stable);
    for (float v : stable) ASSERT_TRUE(std::isfinite(v)) << "x[0] = " << x[0];
    expect_softmax_close(x, stable);
  }
  // The literal formula does break on the first two: inf / inf and 0 / 0.
  std::vector<float> out(3);
  softmax_naive(std::vector<float>{1000.0f, 1001.0f, 1002.0f}, out);
  EXPECT_TRUE(std::isnan(out[0]));
  softmax_naive(std::vector<float>{-1000.0f, -1001.0f, -1002.0f}, out);
  EXPECT_TRUE(std::isnan(out[0]));
  // And the stable one gives the textbook answer for a shift of [0, 1, 2].
  softmax_stable(std::vector<float>{1000.0f, 1001.0f, 1002.0f}, out);
  EXPECT_NEAR(static_cast<double>(out[0]), 0.0900305731703804, 1e-7);
  EXPECT_NEAR(static_cast<double>(out[2]), 0.6652409557748219, 1e-7);
}

TEST(Ch02NumericsSoftmax, RandomInputsMatchTheReference) {
  for (std::size_t n : {1u, 2u, 7u, 1000u, 4097u}) {
    std::vector<float> x(n), out(n, kNaN);
    gnm::fill_uniform(x, /*seed=*/n, -50.0f, 50.0f);
    softmax_stable(x, out);
    expect_softmax_close(x, out);
  }
  std::vector<float> one = {42.0f}, out1(1);
  softmax_stable(one, out1);
  EXPECT_EQ(out1[0], 1.0f);
}

TEST(Ch02NumericsSoftmax, MaskedEntriesInPlaceAndSpecialValues) {
  std::vector<float> masked = {-kInf, 0.0f, 0.0f, -kInf};
  softmax_stable(masked, masked);  // in place
  EXPECT_EQ(masked, (std::vector<float>{0.0f, 0.5f, 0.5f, 0.0f}));
  std::vector<float> out(3);
  softmax_stable(std::vector<float>{-kInf, -kInf, -kInf}, out);
  for (float v : out) EXPECT_TRUE(std::isnan(v)) << "all masked: NaN, as in PyTorch";
  softmax_stable(std::vector<float>{1.0f, kNaN, 2.0f}, out);
  for (float v : out) EXPECT_TRUE(std::isnan(v)) << "NaN propagates";
  std::vector<float> empty;
  EXPECT_NO_THROW(softmax_stable(empty, empty));
}

TEST(Ch02NumericsSoftmax, SizeMismatchIsAShapeError) {
  std::vector<float> in(4, 0.0f), out(3);
  try {
    softmax_stable(in, out);
    FAIL() << "expected gnm::ShapeError";
  } catch (const gnm::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("3"), std::string::npos) << e.what();
  }
}

double lse_reference(const std::vector<float>& x) {
  double m = -std::numeric_limits<double>::infinity();
  for (float v : x) m = std::max(m, static_cast<double>(v));
  double s = 0;
  for (float v : x) s += std::exp(static_cast<double>(v) - m);
  return m + std::log(s);
}

// Same error model as Note [Softmax tolerance], for S = Σ exp(x_i − m) ≥ 1: each term is off by
// at most u/e + u·term, so S is within (n/e + n + 1)·u ≤ 2n·u relative; log turns that into the
// same absolute error, and m + log S rounds once more (u·|result|).
void expect_lse_close(const std::vector<float>& x) {
  const double ref = lse_reference(x);
  const double tol = (std::fabs(ref) + 2 * static_cast<double>(x.size()) + 2) * kEps;
  EXPECT_NEAR(static_cast<double>(logsumexp_stable(x)), ref, tol)
      << "n = " << x.size() << ", x[0] = " << x[0];
}

TEST(Ch02NumericsLogSumExp, LargeAndSmallValues) {
  EXPECT_NEAR(static_cast<double>(logsumexp_stable(std::vector<float>{1000.0f, 1000.0f})),
              1000.0 + std::log(2.0), 1000.0 * kEps);
  expect_lse_close({1000.0f, 1001.0f, 1002.0f});
  expect_lse_close({88.0f, 89.0f, 90.0f});  // exp(89) overflows fp32
  expect_lse_close({-1000.0f, -1000.5f});   // exp(-1000) underflows to 0
  expect_lse_close({3e38f, 3e38f});         // the answer is finite: 3e38 + log 2
  std::vector<float> x(10007);
  gnm::fill_uniform(x, /*seed=*/5, -100.0f, 100.0f);
  expect_lse_close(x);
}

TEST(Ch02NumericsLogSumExp, SpecialValues) {
  EXPECT_EQ(logsumexp_stable(std::vector<float>{}), -kInf);
  EXPECT_EQ(logsumexp_stable(std::vector<float>{-kInf, -kInf}), -kInf);
  EXPECT_EQ(logsumexp_stable(std::vector<float>{1.0f, kInf}), kInf);
  EXPECT_EQ(logsumexp_stable(std::vector<float>{-kInf, 2.5f}), 2.5f);  // log(1) = 0 exactly
  EXPECT_EQ(logsumexp_stable(std::vector<float>{7.0f}), 7.0f);
  EXPECT_TRUE(std::isnan(logsumexp_stable(std::vector<float>{1.0f, kNaN})));
}

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

TEST(Ch02NumericsBf16, KnownBitPatterns) {
  struct Case {
    std::uint32_t in;
    std::uint16_t out;
  };
  const Case cases[] = {
      {0x3F800000u, 0x3F80}, {0x3F808000u, 0x3F80}, {0x3F818000u, 0x3F82},
      {0x3F808001u, 0x3F81}, {0x3F807FFFu, 0x3F80}, {0x40490FDBu, 0x4049},
      {0x3FFFFFFFu, 0x4000},  // 1.99999988 rounds up into the next binade: 2.0
      {0x00000000u, 0x0000}, {0x80000000u, 0x8000}, {0x7F800000u, 0x7F80},
      {0xFF800000u, 0xFF80}, {0x7F7FFFFFu, 0x7F80},  // FLT_MAX overflows to +Inf
      {0xFF7FFFFFu, 0xFF80}, {0x7F7F7FFFu, 0x7F7F}, {0x00008000u, 0x0000},
      {0x00018000u, 0x0002}, {0x7F800001u, 0x7FC0},  // NaN must not become Inf
      {0xFF800001u, 0xFFC0}, {0x7FC00000u, 0x7FC0}, {0xFFFFFFFFu, 0xFFFF},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(round_to_bf16_bits(from_bits(c.in)), c.out) << std::hex << "0x" << c.in;
  }
}

TEST(Ch02NumericsBf16, MatchesTheEngineEverywhere) {
  // Every kept half with the dropped halves that decide rounding, then random bit patterns.
  std::size_t mismatches = 0;
  auto check = [&](std::uint32_t u) {
    const float x = from_bits(u);
    const std::uint16_t got = round_to_bf16_bits(x);
    const std::uint16_t want = gnm::float_to_bf16_bits(x);
    if (got != want && ++mismatches <= 5) {
      ADD_FAILURE() << std::hex << "x = 0x" << u << ": got 0x" << got << ", engine 0x" << want;
    }
  };
  for (std::uint32_t hi = 0; hi <= 0xFFFFu; ++hi) {
    for (std::uint32_t lo : {0x0000u, 0x0001u, 0x7FFFu, 0x8000u, 0x8001u, 0xFFFFu}) {
      check(hi << 16 | lo);
    }
  }
  const gnm::PhiloxRng rng(/*seed=*/99);
  for (std::uint64_t i = 0; i < 1'000'000; ++i) check(rng.bits(i));
  EXPECT_EQ(mismatches, 0u);
}

}  // namespace
