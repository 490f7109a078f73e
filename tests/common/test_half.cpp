// fp16 and bf16 conversions: bit-exact against known values, exhaustive round trips, and fp32 →
// 16-bit rounding against a slow reference written with doubles (and against the CPU's own F16C
// conversion instructions when the build targets them).
#include "gnm/core/half.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <type_traits>
#include <vector>

#include "gnm/core/philox.hpp"

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace {

using gnm::bf16_bits_to_float;
using gnm::float_to_bf16_bits;
using gnm::float_to_half_bits;
using gnm::half_bits_to_float;
using gnm::detail::bits_to_float;
using gnm::detail::float_to_bits;

std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

bool half_is_nan(std::uint16_t h) { return (h & 0x7C00u) == 0x7C00u && (h & 0x03FFu) != 0; }
bool bf16_is_nan(std::uint16_t b) { return (b & 0x7F80u) == 0x7F80u && (b & 0x007Fu) != 0; }

// Rounds |x| · 2^shift to the nearest integer, ties to even (nearbyint in the default rounding
// mode). ldexp of a float's value in double is exact, so the only rounding is the one we test.
double round_scaled(double a, int shift) { return std::nearbyint(std::ldexp(a, shift)); }

// The slow reference: decompose |x| = q · 2^(e - p) in double, round q to p + 1 bits, re-encode.
// `frac_bits` is 10 (fp16) or 7 (bf16); `bias` 15 or 127; `max_exp` 15 or 127.
std::uint16_t reference_round(float x, int frac_bits, int bias, int max_exp) {
  const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const auto exp_mask = static_cast<std::uint16_t>(((1 << (15 - frac_bits)) - 1) << frac_bits);
  if (std::isnan(x)) return static_cast<std::uint16_t>(sign | exp_mask | (1 << (frac_bits - 1)));
  const double a = std::fabs(static_cast<double>(x));
  if (std::isinf(a)) return static_cast<std::uint16_t>(sign | exp_mask);
  if (a == 0) return sign;
  int ex = 0;
  (void)std::frexp(a, &ex);
  int e = ex - 1;  // a lies in [2^e, 2^(e+1))
  const int min_normal = 1 - bias;
  if (e < min_normal) {
    // Subnormal range: count units of the smallest subnormal 2^(min_normal - frac_bits). A result
    // of 2^frac_bits is the smallest normal, whose encoding is the same integer.
    const double q = round_scaled(a, frac_bits - min_normal);
    return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(q));
  }
  double q = round_scaled(a, frac_bits - e);  // in [2^p, 2^(p+1)]
  if (q == std::ldexp(1.0, frac_bits + 1)) {
    q = std::ldexp(1.0, frac_bits);
    ++e;
  }
  if (e > max_exp) return static_cast<std::uint16_t>(sign | exp_mask);
  const auto fraction = static_cast<std::uint32_t>(q) - (1u << frac_bits);
  return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(e + bias) << frac_bits |
                                    fraction);
}

std::uint16_t reference_half(float x) { return reference_round(x, 10, 15, 15); }
std::uint16_t reference_bf16(float x) { return reference_round(x, 7, 127, 127); }

// Floats where rounding is decided: every 16-bit value, the exact midpoints between neighbours,
// and one fp32 ulp either side of each; then random bit patterns and a stride through all floats.
// `inf_bits` is the format's +Inf pattern (0x7C00 or 0x7F80): the patterns below it are the
// positive finite values.
std::vector<float> rounding_test_floats(float (*to_float)(std::uint16_t), std::uint32_t inf_bits) {
  std::vector<float> xs;
  for (std::uint32_t h = 0; h < inf_bits; ++h) {  // positive finite values; signs added below
    const float v = to_float(static_cast<std::uint16_t>(h));
    const float next = to_float(static_cast<std::uint16_t>(h + 1));  // may be +Inf at the top
    const float mid = static_cast<float>((static_cast<double>(v) + static_cast<double>(next)) / 2);
    for (float m : {v, mid}) {
      if (!std::isfinite(m)) continue;
      xs.push_back(m);
      xs.push_back(std::nextafter(m, 0.0f));
      xs.push_back(std::nextafter(m, std::numeric_limits<float>::infinity()));
    }
  }
  const gnm::PhiloxRng rng(/*seed=*/2024);
  for (std::uint64_t i = 0; i < (1u << 20); ++i) xs.push_back(bits_to_float(rng.bits(i)));
  for (std::uint64_t u = 0; u < (std::uint64_t{1} << 32); u += 4099) {
    xs.push_back(bits_to_float(static_cast<std::uint32_t>(u)));
  }
  const std::size_t n = xs.size();
  for (std::size_t i = 0; i < n; ++i) xs.push_back(-xs[i]);
  return xs;
}

TEST(Half, KnownFp16BitPatterns) {
  struct Case {
    float x;
    std::uint16_t bits;
  };
  const float two_m24 = std::ldexp(1.0f, -24);
  const float two_m14 = std::ldexp(1.0f, -14);
  const float inf = std::numeric_limits<float>::infinity();
  const Case cases[] = {
      {1.0f, 0x3C00},       {-2.0f, 0xC000},     {0.5f, 0x3800},
      {65504.0f, 0x7BFF},   {65519.99f, 0x7BFF},  // just below the overflow threshold
      {65520.0f, 0x7C00},                          // halfway to 2^16: ties to even = Inf
      {1e6f, 0x7C00},       {-1e6f, 0xFC00},     {inf, 0x7C00},
      {-inf, 0xFC00},       {0.0f, 0x0000},      {-0.0f, 0x8000},
      {0.1f, 0x2E66},       {1.0f / 3.0f, 0x3555},
      {1.0f + std::ldexp(1.0f, -11), 0x3C00},      // tie between 1 and 1 + 2^-10: even is 1
      {1.0f + 3 * std::ldexp(1.0f, -11), 0x3C02},  // tie between 0x3C01 and 0x3C02: even
      {2049.0f, 0x6800},    {2051.0f, 0x6802},     // ulp 2 at 2048: ties go to even
      {two_m14, 0x0400},                          // smallest normal
      {two_m14 - two_m24, 0x03FF},                // largest subnormal
      {two_m24, 0x0001},                          // smallest subnormal
      {1.5f * two_m24, 0x0002}, {2.5f * two_m24, 0x0002},  // subnormal ties to even
      {0.5f * two_m24, 0x0000},                            // tie with zero: zero is even
      {std::nextafter(0.5f * two_m24, 1.0f), 0x0001},
      {-1e-10f, 0x8000},                          // underflow keeps the sign
      {std::numeric_limits<float>::denorm_min(), 0x0000},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(float_to_half_bits(c.x), c.bits)
        << "x = " << c.x << " (" << hex(float_to_bits(c.x)) << ")";
    EXPECT_EQ(reference_half(c.x), c.bits) << "the double reference disagrees for x = " << c.x;
  }
}

TEST(Half, KnownFp16ValuesToFloat) {
  EXPECT_EQ(half_bits_to_float(0x3C00), 1.0f);
  EXPECT_EQ(half_bits_to_float(0xC000), -2.0f);
  EXPECT_EQ(half_bits_to_float(0x7BFF), 65504.0f);
  EXPECT_EQ(half_bits_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(half_bits_to_float(0x03FF), 1023.0f * std::ldexp(1.0f, -24));
  EXPECT_EQ(half_bits_to_float(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(half_bits_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(half_bits_to_float(0x2E66), 0.0999755859375f);
  EXPECT_EQ(half_bits_to_float(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(half_bits_to_float(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(float_to_bits(half_bits_to_float(0x8000)), 0x80000000u);  // -0 keeps its sign
  EXPECT_EQ(float_to_bits(half_bits_to_float(0x0000)), 0x00000000u);
}

TEST(Half, NanStaysNanAndBecomesQuiet) {
  for (std::uint32_t u : {0x7FC00000u, 0x7F800001u, 0x7FBFFFFFu, 0xFFFFFFFFu, 0xFF800001u,
                          0x7FA00000u}) {
    const std::uint16_t h = float_to_half_bits(bits_to_float(u));
    EXPECT_TRUE(half_is_nan(h)) << hex(u) << " -> " << hex(h);
    EXPECT_NE(h & 0x0200u, 0u) << "quiet bit of " << hex(h);
    EXPECT_EQ(h & 0x8000u, (u >> 16) & 0x8000u) << "sign of " << hex(u);
    const std::uint16_t b = float_to_bf16_bits(bits_to_float(u));
    EXPECT_TRUE(bf16_is_nan(b)) << hex(u) << " -> " << hex(b);  // 0x7F800001 must not become Inf
    EXPECT_NE(b & 0x0040u, 0u) << "quiet bit of " << hex(b);
    EXPECT_EQ(b & 0x8000u, (u >> 16) & 0x8000u);
  }
  for (std::uint16_t h : {std::uint16_t{0x7C01}, std::uint16_t{0x7E00}, std::uint16_t{0xFDFF}}) {
    const float f = half_bits_to_float(h);
    EXPECT_TRUE(std::isnan(f)) << hex(h);
    EXPECT_NE(float_to_bits(f) & 0x00400000u, 0u) << "quiet bit for " << hex(h);
  }
  EXPECT_TRUE(std::isnan(bf16_bits_to_float(0x7F81)));
  EXPECT_NE(float_to_bits(bf16_bits_to_float(0x7F81)) & 0x00400000u, 0u);
}

TEST(Half, EveryFp16PatternRoundTripsThroughFloat) {
  int nans = 0;
  for (std::uint32_t h = 0; h <= 0xFFFFu; ++h) {
    const auto bits = static_cast<std::uint16_t>(h);
    const float f = half_bits_to_float(bits);
    const std::uint16_t back = float_to_half_bits(f);
    if (half_is_nan(bits)) {
      ++nans;
      ASSERT_TRUE(std::isnan(f)) << hex(h);
      // NaN stays NaN with the same sign and payload, made quiet.
      ASSERT_EQ(back, bits | 0x0200u) << hex(h);
    } else {
      ASSERT_EQ(back, bits) << hex(h) << " -> " << f << " -> " << hex(back);
    }
  }
  EXPECT_EQ(nans, 2 * 1023);
}

TEST(Half, EveryBf16PatternRoundTripsThroughFloat) {
  for (std::uint32_t b = 0; b <= 0xFFFFu; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const float f = bf16_bits_to_float(bits);
    const std::uint16_t back = float_to_bf16_bits(f);
    if (bf16_is_nan(bits)) {
      ASSERT_TRUE(std::isnan(f)) << hex(b);
      ASSERT_EQ(back, bits | 0x0040u) << hex(b);
    } else {
      ASSERT_EQ(float_to_bits(f), b << 16) << hex(b);  // widening is exact
      ASSERT_EQ(back, bits) << hex(b);
    }
  }
}

TEST(Half, Fp16RoundingMatchesDoubleReference) {
  const std::vector<float> xs = rounding_test_floats(half_bits_to_float, 0x7C00u);
  std::size_t mismatches = 0;
  for (float x : xs) {
    const std::uint16_t got = float_to_half_bits(x);
    const std::uint16_t want = reference_half(x);
    const bool same = std::isnan(x) ? half_is_nan(got) : got == want;
    if (!same && ++mismatches <= 5) {
      ADD_FAILURE() << "x = " << x << " (" << hex(float_to_bits(x)) << "): got " << hex(got)
                    << ", reference " << hex(want);
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << xs.size() << " floats";
}

TEST(Half, Bf16RoundingMatchesDoubleReference) {
  const std::vector<float> xs = rounding_test_floats(bf16_bits_to_float, 0x7F80u);
  std::size_t mismatches = 0;
  for (float x : xs) {
    const std::uint16_t got = float_to_bf16_bits(x);
    const std::uint16_t want = reference_bf16(x);
    const bool same = std::isnan(x) ? bf16_is_nan(got) : got == want;
    if (!same && ++mismatches <= 5) {
      ADD_FAILURE() << "x = " << x << " (" << hex(float_to_bits(x)) << "): got " << hex(got)
                    << ", reference " << hex(want);
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << xs.size() << " floats";
}

TEST(Half, KnownBf16BitPatterns) {
  struct Case {
    std::uint32_t in;
    std::uint16_t out;
  };
  const Case cases[] = {
      {0x3F800000u, 0x3F80},  // 1.0
      {0x3F808000u, 0x3F80},  // tie, kept part even: down
      {0x3F818000u, 0x3F82},  // tie, kept part odd: up to even
      {0x3F808001u, 0x3F81},  // just above the tie
      {0x3F807FFFu, 0x3F80},  // just below the tie
      {0x40490FDBu, 0x4049},  // pi -> 3.140625
      {0x80000000u, 0x8000},  // -0
      {0x7F800000u, 0x7F80},  // +Inf
      {0xFF800000u, 0xFF80},  // -Inf
      {0x7F7FFFFFu, 0x7F80},  // FLT_MAX is past the last bf16's halfway point: Inf
      {0x7F7F7FFFu, 0x7F7F},  // largest finite bf16, from below
      {0x7F7F8000u, 0x7F80},  // tie at the top, kept part odd: rounds to Inf
      {0x00000001u, 0x0000},  // fp32 subnormals round like everything else
      {0x00008000u, 0x0000},  // tie with zero: even
      {0x00018000u, 0x0002},  // tie, odd: up
      {0x0000FFFFu, 0x0001},
      {0x007FFFFFu, 0x0080},  // largest subnormal rounds up into the smallest normal
  };
  for (const Case& c : cases) {
    EXPECT_EQ(float_to_bf16_bits(bits_to_float(c.in)), c.out) << hex(c.in);
    EXPECT_EQ(reference_bf16(bits_to_float(c.in)), c.out) << "reference, " << hex(c.in);
  }
  EXPECT_EQ(bf16_bits_to_float(0x3F80), 1.0f);
  EXPECT_EQ(bf16_bits_to_float(0x4049), 3.140625f);
}

#if defined(__F16C__)
// The CPU's conversion instructions (F16C, part of x86-64-v3) are an independent implementation.
TEST(Half, Fp16MatchesF16CInstructions) {
  std::size_t mismatches = 0;
  // A stride of 61 through all 2^32 patterns: 70 M floats, every exponent and sign.
  for (std::uint64_t u = 0; u < (std::uint64_t{1} << 32); u += 61) {
    const float x = bits_to_float(static_cast<std::uint32_t>(u));
    const auto hw = static_cast<std::uint16_t>(_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT));
    const std::uint16_t got = float_to_half_bits(x);
    if (got != hw && ++mismatches <= 5) {
      ADD_FAILURE() << hex(static_cast<std::uint32_t>(u)) << ": got " << hex(got) << ", F16C "
                    << hex(hw);
    }
  }
  EXPECT_EQ(mismatches, 0u);
  for (std::uint32_t h = 0; h <= 0xFFFFu; ++h) {
    const float hw = _cvtsh_ss(static_cast<unsigned short>(h));
    ASSERT_EQ(float_to_bits(half_bits_to_float(static_cast<std::uint16_t>(h))), float_to_bits(hw))
        << hex(h);
  }
}
#endif

TEST(Half, ValueTypes) {
  static_assert(std::is_trivially_copyable_v<gnm::f16> && std::is_standard_layout_v<gnm::f16>);
  static_assert(std::is_trivially_copyable_v<gnm::bf16> && std::is_standard_layout_v<gnm::bf16>);
  static_assert(!std::is_convertible_v<float, gnm::f16>, "conversion from float is explicit");
  static_assert(!std::is_convertible_v<gnm::bf16, float>, "conversion to float is explicit");
  EXPECT_EQ(gnm::f16(1.0f).bits, 0x3C00);
  EXPECT_EQ(gnm::f16().bits, 0);
  EXPECT_EQ(static_cast<float>(gnm::f16::from_bits(0x3555)), 0.333251953125f);
  EXPECT_EQ(gnm::bf16(1.0f).bits, 0x3F80);
  EXPECT_EQ(static_cast<float>(gnm::bf16::from_bits(0xC040)), -3.0f);
  // Round to 16 bits and back: the error is at most half an ulp of the 16-bit format.
  const float x = 1234.5678f;
  EXPECT_LE(std::fabs(static_cast<float>(gnm::f16(x)) - x), 0.5f * std::ldexp(1.0f, 10 - 10));
  EXPECT_LE(std::fabs(static_cast<float>(gnm::bf16(x)) - x), 0.5f * std::ldexp(1.0f, 10 - 7));
}

}  // namespace
