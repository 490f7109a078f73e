// Philox4x32-10 and the host fills: known answers, stream layout, statistics, argument checks.
//
// Statistical bounds are six standard errors of the statistic for the sample size, so a correct
// generator fails them with probability ~1e-9 and the tests are deterministic anyway (fixed seeds).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/core/random.hpp"

namespace {

using gnm::PhiloxRng;
using gnm::U32x2;
using gnm::U32x4;

struct Kat {
  U32x4 counter;
  U32x2 key;
  U32x4 expected;
};

// Random123's published known-answer vectors (its tests/kat_vectors, as copied into
// DEShawResearch/Random123-Boost libs/random/test/test_philox.cpp).
constexpr Kat kPhilox4x32_10Kats[] = {
    {{{0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u}},
     {{0x00000000u, 0x00000000u}},
     {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}}},
    {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}},
     {{0xffffffffu, 0xffffffffu}},
     {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}}},
    {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},
     {{0xa4093822u, 0x299f31d0u}},
     {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}},
};

// The same file's vectors for seven rounds: they pin down the round function and the key
// schedule separately from the round count.
constexpr Kat kPhilox4x32_7Kats[] = {
    {{{0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u}},
     {{0x00000000u, 0x00000000u}},
     {{0x5f6fb709u, 0x0d893f64u, 0x4f121f81u, 0x4f730a48u}}},
    {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}},
     {{0xffffffffu, 0xffffffffu}},
     {{0x5207ddc2u, 0x45165e59u, 0x4d8ee751u, 0x8c52f662u}}},
    {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},
     {{0xa4093822u, 0x299f31d0u}},
     {{0x4dfccabau, 0x190a87f0u, 0xc47362bau, 0xb6b5242au}}},
};

constexpr bool equal(U32x4 a, U32x4 b) {
  return a.v[0] == b.v[0] && a.v[1] == b.v[1] && a.v[2] == b.v[2] && a.v[3] == b.v[3];
}

// The generator is constexpr: the first known answer is checked by the compiler too.
static_assert(equal(gnm::philox4x32_10(kPhilox4x32_10Kats[0].counter, kPhilox4x32_10Kats[0].key),
                    kPhilox4x32_10Kats[0].expected));
static_assert(PhiloxRng(0).bits(0) == 0x6627e8d5u && PhiloxRng(0).bits(3) == 0x9b00dbd8u);

TEST(Philox, MatchesRandom123KnownAnswers) {
  for (const Kat& kat : kPhilox4x32_10Kats) {
    const U32x4 got = gnm::philox4x32_10(kat.counter, kat.key);
    for (int w = 0; w < 4; ++w) {
      EXPECT_EQ(got.v[w], kat.expected.v[w])
          << "word " << w << " of counter 0x" << std::hex << kat.counter.v[0];
    }
  }
}

TEST(Philox, SevenRoundsMatchRandom123KnownAnswers) {
  for (const Kat& kat : kPhilox4x32_7Kats) {
    const U32x4 got = gnm::philox4x32<7>(kat.counter, kat.key);
    for (int w = 0; w < 4; ++w) EXPECT_EQ(got.v[w], kat.expected.v[w]) << "word " << w;
  }
}

TEST(PhiloxRng, StreamLayoutIsCounterBlockAndSubsequence) {
  // See Note [Philox stream layout]: key = seed halves, counter = (block, subsequence) halves.
  const std::uint64_t seed = 0x299f31d0a4093822ull;
  const std::uint64_t subsequence = 0x0370734413198a2eull;
  const PhiloxRng rng(seed, subsequence);
  EXPECT_EQ(rng.seed(), seed);
  EXPECT_EQ(rng.subsequence(), subsequence);
  const std::uint64_t block = 0x85a308d3243f6a88ull;
  const U32x4 expected = kPhilox4x32_10Kats[2].expected;  // the same words, via the stream
  EXPECT_TRUE(equal(rng.block(block), expected));
  // Element i is lane i % 4 of block i / 4.
  const std::uint64_t i = (std::uint64_t{0x3243f6a8} << 32 | 0x85a308d3u) * 4 + 2;
  EXPECT_EQ(rng.bits(i), rng.block(i / 4).v[2]);
  // The 64-bit block index carries into the counter's second word.
  const PhiloxRng zero(0);
  const U32x4 carried = gnm::philox4x32_10({{0u, 1u, 0u, 0u}}, {{0u, 0u}});
  EXPECT_EQ(zero.bits((std::uint64_t{1} << 32) * 4 + 2), carried.v[2]);
}

TEST(PhiloxRng, UniformUsesTheTop24Bits) {
  EXPECT_EQ(gnm::uniform_from_bits(0u), 0.0f);
  EXPECT_EQ(gnm::uniform_from_bits(0xffffffffu), 1.0f - 0x1p-24f);
  EXPECT_EQ(gnm::uniform_from_bits(0x80000000u), 0.5f);
  EXPECT_EQ(gnm::uniform_from_bits(0x000000ffu), 0.0f);  // the low 8 bits are dropped
  const PhiloxRng rng(7, 3);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(rng.uniform(i), static_cast<float>(rng.bits(i) >> 8) / 16777216.0f);
    EXPECT_EQ(rng.uniform(i, 0.0f, 1.0f), rng.uniform(i));
  }
}

TEST(PhiloxRng, UniformRangeStaysHalfOpen) {
  // |lo| large against hi - lo: fma(hi - lo, u, lo) rounds up to hi for u near 1.
  const float lo = 1.0f;
  const float hi = std::nextafter(1.0f, 2.0f);
  EXPECT_EQ(gnm::uniform_from_bits(0xffffffffu, lo, hi), lo);
  EXPECT_EQ(gnm::uniform_from_bits(0u, lo, hi), lo);
  EXPECT_EQ(gnm::uniform_from_bits(0xffffffffu, -1.0f, 1.0f), 1.0f - 0x1p-23f);
  EXPECT_EQ(gnm::uniform_from_bits(0u, -3.0f, 5.0f), -3.0f);
}

TEST(PhiloxRng, UniformMeanVarianceAndHistogram) {
  constexpr int kN = 1'000'000;
  constexpr int kBins = 64;
  const PhiloxRng rng(20240601);
  double sum = 0.0, sum_sq = 0.0;
  std::vector<long> counts(kBins, 0);
  for (int i = 0; i < kN; ++i) {
    const float u = rng.uniform(static_cast<std::uint64_t>(i));
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    const auto ud = static_cast<double>(u);
    sum += ud;
    sum_sq += ud * ud;
    ++counts[static_cast<std::size_t>(u * kBins)];
  }
  const double mean = sum / kN;
  const double var = sum_sq / kN - mean * mean;
  // U(0,1): mean 1/2 with variance 1/12; the sample variance has variance (mu4 - sigma^4) / n
  // with mu4 = 1/80, sigma^4 = 1/144.
  const double se_mean = std::sqrt(1.0 / 12.0 / kN);
  const double se_var = std::sqrt((1.0 / 80.0 - 1.0 / 144.0) / kN);
  EXPECT_NEAR(mean, 0.5, 6 * se_mean);
  EXPECT_NEAR(var, 1.0 / 12.0, 6 * se_var);
  // Chi-square with 63 degrees of freedom: mean 63, sd sqrt(126) ≈ 11.2; 63 + 6 sd ≈ 130.
  const double expected = static_cast<double>(kN) / kBins;
  double chi2 = 0.0;
  for (long c : counts) {
    const double d = static_cast<double>(c) - expected;
    chi2 += d * d / expected;
  }
  EXPECT_LT(chi2, 63.0 + 6.0 * std::sqrt(126.0)) << "chi-square over " << kBins << " bins";
}

TEST(PhiloxRng, NormalMeanStddevAndTails) {
  constexpr int kN = 1'000'000;
  const PhiloxRng rng(99, 5);
  double sum = 0.0, sum_sq = 0.0;
  long beyond_2sigma = 0;
  for (int i = 0; i < kN; ++i) {
    const float z = rng.normal(static_cast<std::uint64_t>(i));
    ASSERT_TRUE(std::isfinite(z));
    ASSERT_LE(std::fabs(z), 5.8f);  // Box–Muller radius is at most sqrt(48 ln 2) ≈ 5.77
    const auto zd = static_cast<double>(z);
    sum += zd;
    sum_sq += zd * zd;
    if (std::fabs(z) > 2.0f) ++beyond_2sigma;
  }
  const double mean = sum / kN;
  const double var = sum_sq / kN - mean * mean;
  // N(0,1): the sample mean has sd 1/sqrt(n); the sample variance sd sqrt(2/n).
  EXPECT_NEAR(mean, 0.0, 6.0 / std::sqrt(kN));
  EXPECT_NEAR(var, 1.0, 6.0 * std::sqrt(2.0 / kN));
  // P(|z| > 2) = 0.0455003; a binomial count with sd sqrt(n p (1 - p)).
  const double p = 0.0455003;
  EXPECT_NEAR(static_cast<double>(beyond_2sigma), kN * p, 6.0 * std::sqrt(kN * p * (1 - p)));
}

TEST(PhiloxRng, NormalWithMeanAndStddevIsAnAffineMap) {
  const PhiloxRng rng(1);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(rng.normal(i, 0.0f, 1.0f), rng.normal(i));
    EXPECT_EQ(rng.normal(i, 3.0f, 0.5f), std::fma(0.5f, rng.normal(i), 3.0f));
  }
  // Even and odd elements are the two halves of one Box–Muller pair (Note [Philox stream layout]).
  const gnm::F32x2 pair = gnm::normal_pair_from_bits(rng.bits(6), rng.bits(7));
  EXPECT_EQ(rng.normal(6), pair.v[0]);
  EXPECT_EQ(rng.normal(7), pair.v[1]);
}

TEST(PhiloxRng, SeedsAndSubsequencesGiveDifferentStreams) {
  const PhiloxRng streams[] = {PhiloxRng(1, 0), PhiloxRng(2, 0), PhiloxRng(1, 1),
                               PhiloxRng(std::uint64_t{1} << 32, 0),
                               PhiloxRng(1, std::uint64_t{1} << 32)};
  std::set<std::vector<std::uint32_t>> seen;
  for (const PhiloxRng& rng : streams) {
    std::vector<std::uint32_t> prefix;
    for (std::uint64_t i = 0; i < 16; ++i) prefix.push_back(rng.bits(i));
    EXPECT_TRUE(seen.insert(prefix).second)
        << "seed " << rng.seed() << ", subsequence " << rng.subsequence() << " repeats a stream";
  }
  // The same stream is the same, element for element, however it is reached.
  EXPECT_EQ(PhiloxRng(1, 1).bits(12345), PhiloxRng(1, 1).block(12345 / 4).v[12345 % 4]);
}

TEST(FillUniform, MatchesElementwiseCallsAtOddSizes) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{4},
                        std::size_t{5}, std::size_t{1001}}) {
    std::vector<float> out(n, -7.0f);
    gnm::fill_uniform(out, /*seed=*/42, -0.25f, 0.75f, /*subsequence=*/9);
    const PhiloxRng rng(42, 9);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(out[i], rng.uniform(i, -0.25f, 0.75f)) << "n = " << n << ", i = " << i;
    }
  }
}

TEST(FillUniform, StaysInRangeAndWritesOnlyTheSpan) {
  std::vector<float> out(1003, 100.0f);
  gnm::fill_uniform(std::span<float>(out).subspan(1, 1001), 3, -2.0f, -1.0f);
  EXPECT_EQ(out.front(), 100.0f);
  EXPECT_EQ(out.back(), 100.0f);
  for (std::size_t i = 1; i <= 1001; ++i) {
    ASSERT_GE(out[i], -2.0f);
    ASSERT_LT(out[i], -1.0f);
  }
}

TEST(FillNormal, MatchesElementwiseCalls) {
  for (std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{6}, std::size_t{1001}}) {
    std::vector<float> out(n);
    gnm::fill_normal(out, /*seed=*/7, 1.5f, 0.25f);
    const PhiloxRng rng(7);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(out[i], rng.normal(i, 1.5f, 0.25f)) << "n = " << n << ", i = " << i;
    }
  }
  std::vector<float> zero_sd(10);
  gnm::fill_normal(zero_sd, 1, 2.0f, 0.0f);
  for (float v : zero_sd) EXPECT_EQ(v, 2.0f);
}

TEST(FillUniform, RejectsBadRanges) {
  std::vector<float> out(4);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
  constexpr float kMax = std::numeric_limits<float>::max();
  EXPECT_THROW(gnm::fill_uniform(out, 1, 1.0f, 1.0f), gnm::Error);
  EXPECT_THROW(gnm::fill_uniform(out, 1, 2.0f, 1.0f), gnm::Error);
  EXPECT_THROW(gnm::fill_uniform(out, 1, 0.0f, kInf), gnm::Error);
  EXPECT_THROW(gnm::fill_uniform(out, 1, -kInf, 0.0f), gnm::Error);
  EXPECT_THROW(gnm::fill_uniform(out, 1, kNan, 1.0f), gnm::Error);
  EXPECT_THROW(gnm::fill_uniform(out, 1, -kMax, kMax), gnm::Error);  // width overflows
  try {
    gnm::fill_uniform(out, 1, 2.0f, 1.0f);
    FAIL() << "expected gnm::Error";
  } catch (const gnm::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("lo = 2"), std::string::npos) << what;
    EXPECT_NE(what.find("hi = 1"), std::string::npos) << what;
  }
}

TEST(FillNormal, RejectsBadParameters) {
  std::vector<float> out(4);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(gnm::fill_normal(out, 1, 0.0f, -1.0f), gnm::Error);
  EXPECT_THROW(gnm::fill_normal(out, 1, 0.0f, kNan), gnm::Error);
  EXPECT_THROW(gnm::fill_normal(out, 1, 0.0f, kInf), gnm::Error);
  EXPECT_THROW(gnm::fill_normal(out, 1, kNan, 1.0f), gnm::Error);
  EXPECT_THROW(gnm::fill_normal(out, 1, -kInf, 1.0f), gnm::Error);
}

}  // namespace
