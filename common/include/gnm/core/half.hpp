/// \file
/// fp16 (IEEE binary16) and bf16 (bfloat16): conversions from and to fp32 with
/// round-to-nearest-even, and the two 16-bit value types `gnm::f16` and `gnm::bf16` of the
/// engine's dtypes.
///
/// Note [Half formats]: both formats are an fp32 with bits taken away.
///
///     fp32  1 sign | 8 exponent (bias 127) | 23 fraction   max 3.4e38   eps 2^-23 ≈ 1.2e-7
///     fp16  1 sign | 5 exponent (bias  15) | 10 fraction   max 65504    eps 2^-10 ≈ 9.8e-4
///     bf16  1 sign | 8 exponent (bias 127) |  7 fraction   max 3.4e38   eps 2^-7  ≈ 7.8e-3
///
/// bf16 is the top half of an fp32: same range, so converting never overflows or underflows except
/// by rounding at the very top, but only 8 significant bits. fp16 keeps 11 significant bits but
/// its range is small: values ≥ 65520 round to infinity and values below 2^-14 ≈ 6.1e-5 become
/// subnormal (fewer significant bits, down to 2^-24 ≈ 6e-8; below half of that, zero).
///
/// Rounding is to nearest, ties to even (IEEE's default and what the hardware conversions —
/// x86 F16C, CUDA's __float2half_rn and __float2bfloat16_rn — do). NaN stays NaN and comes out
/// quiet, with the sign and the top payload bits kept; ±Inf and ±0 keep their sign.
///
/// Every function is GNM_HOST_DEVICE and uses integer arithmetic only, so CUDA kernels can use
/// them and the CPU and GPU agree bit for bit.
///
///   std::uint16_t h = gnm::float_to_half_bits(0.1f);   // 0x2E66
///   float back = gnm::half_bits_to_float(h);            // 0.0999755859375
///   gnm::bf16 b(3.14159f);                              // bits 0x4049: 3.140625
#pragma once

#include <cstdint>
#include <cstring>

#include "gnm/core/macros.hpp"

// Note [F16C in gnm::f16]: on x86 hosts with F16C (x86-64-v3) the value type's two conversions
// use the conversion instructions, one instruction each instead of the branchy integer code:
// every elementwise kernel on f16 tensors loads and stores through them. The instructions round
// exactly like float_to_half_bits()/half_bits_to_float() (test_half.cpp checks the instructions,
// test_convert.cpp this type, over the bit patterns), which stay the integer-only specification
// that device code and the vector kernels are held to. nvcc translation units (__CUDACC__) keep
// the integer path, so cudafe never parses <immintrin.h>; both definitions give the same bits for
// every input.
#if defined(__F16C__) && !defined(__CUDACC__)
#include <immintrin.h>
#define GNM_DETAIL_HOST_F16C 1
#else
#define GNM_DETAIL_HOST_F16C 0
#endif

namespace gnm {

namespace detail {

/// The bits of a float, on host and device.
GNM_HOST_DEVICE inline std::uint32_t float_to_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}

/// The float with bits `u`, on host and device.
GNM_HOST_DEVICE inline float bits_to_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

/// `value >> shift` rounded to nearest, ties to even (0 < shift < 32).
GNM_HOST_DEVICE inline std::uint32_t shift_right_rne(std::uint32_t value, unsigned shift) {
  const std::uint32_t kept = value >> shift;
  const std::uint32_t rest = value & ((1u << shift) - 1u);
  const std::uint32_t half = 1u << (shift - 1u);
  // Round up past the halfway point, and at exactly halfway when that makes the result even.
  return kept + ((rest > half || (rest == half && (kept & 1u) != 0)) ? 1u : 0u);
}

}  // namespace detail

/// fp32 → fp16 bits, rounded to nearest even. |x| ≥ 65520 gives ±Inf, |x| ≤ 2^-25 gives ±0, values
/// in between below 2^-14 become subnormals; NaN gives a quiet NaN with the top payload bits.
GNM_HOST_DEVICE inline std::uint16_t float_to_half_bits(float x) {
  const std::uint32_t u = detail::float_to_bits(x);
  const auto sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
  const std::uint32_t a = u & 0x7FFFFFFFu;  // |x| as bits: ordered like the values
  if (a > 0x7F800000u) {  // NaN: set the quiet bit, keep the top 9 payload bits
    return static_cast<std::uint16_t>(sign | 0x7E00u | ((a >> 13) & 0x03FFu));
  }
  if (a >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);  // ≥ 65520 (and Inf)
  if (a >= 0x38800000u) {
    // Normal in fp16 (≥ 2^-14): rebias the exponent (127 → 15, i.e. subtract 112 << 23) and drop 13
    // fraction bits with rounding. A carry out of the fraction correctly bumps the exponent;
    // it cannot reach 0x7C00 because values that would round there were caught above.
    return static_cast<std::uint16_t>(sign | detail::shift_right_rne(a - (112u << 23), 13));
  }
  if (a <= 0x33000000u) return sign;  // ≤ 2^-25: half of the smallest subnormal ties to even (0)
  // Subnormal in fp16: the value is m · 2^(e - 150) with the implicit bit in m, and the result
  // counts units of 2^-24, so it is m >> (126 - e): a shift of 14 (e = 112) to 24 (e = 102).
  const std::uint32_t e = a >> 23;
  const std::uint32_t m = (a & 0x007FFFFFu) | 0x00800000u;
  // Rounding 2^-14 - tiny up gives 0x0400, the smallest normal: the encoding is continuous.
  return static_cast<std::uint16_t>(sign | detail::shift_right_rne(m, 126u - e));
}

/// fp16 bits → fp32 (exact: every fp16 value is an fp32 value). A signalling NaN comes out quiet.
GNM_HOST_DEVICE inline float half_bits_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t e = (h >> 10) & 0x1Fu;
  std::uint32_t m = h & 0x03FFu;
  if (e == 0x1Fu) {  // Inf, or NaN made quiet
    return detail::bits_to_float(sign | 0x7F800000u | (m << 13) | (m != 0 ? 0x00400000u : 0u));
  }
  if (e != 0) return detail::bits_to_float(sign | ((e + 112u) << 23) | (m << 13));
  if (m == 0) return detail::bits_to_float(sign);  // ±0
  // Subnormal m · 2^-24: shift the leading one up to the implicit-bit position (bit 10); each
  // shift lowers the exponent by one, starting from 2^-14's biased fp32 exponent 113.
  std::uint32_t exponent = 113;
  while ((m & 0x0400u) == 0) {
    m <<= 1;
    --exponent;
  }
  return detail::bits_to_float(sign | (exponent << 23) | ((m & 0x03FFu) << 13));
}

/// fp32 → bf16 bits, rounded to nearest even: the top 16 bits of the float after rounding the
/// low 16 away. Values within half a bf16 ulp of 2^128 round to ±Inf; NaN gives a quiet NaN.
GNM_HOST_DEVICE inline std::uint16_t float_to_bf16_bits(float x) {
  const std::uint32_t u = detail::float_to_bits(x);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
    // NaN: truncating could clear every payload bit left and make Inf, so set the quiet bit.
    return static_cast<std::uint16_t>((u >> 16) | 0x0040u);
  }
  // Adding 0x7FFF rounds up exactly when the low half is above 0x8000; the extra 1 for an odd
  // kept part makes exact ties go to even. Carries ripple into the exponent, as they should.
  const std::uint32_t rounded = u + 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(rounded >> 16);
}

/// bf16 bits → fp32 (exact: the bits become the top half of the float). A signalling NaN comes
/// out quiet.
GNM_HOST_DEVICE inline float bf16_bits_to_float(std::uint16_t b) {
  std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) u |= 0x00400000u;
  return detail::bits_to_float(u);
}

/// A 16-bit IEEE binary16 value: storage for the engine's f16 dtype. Arithmetic happens in fp32:
/// convert with `static_cast<float>(h)`, compute, and convert back with `f16(x)` (rounds to nearest
/// even). Comparison is deliberately absent: compare the floats (NaN ≠ NaN, -0 == +0).
struct f16 {
  std::uint16_t bits = 0;  ///< The binary16 bit pattern (0: +0.0).

  /// +0.0.
  f16() = default;
  /// `x` rounded to the nearest fp16 (ties to even); see float_to_half_bits().
#if GNM_DETAIL_HOST_F16C
  explicit f16(float x)
      : bits(static_cast<std::uint16_t>(_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT))) {}
#else
  GNM_HOST_DEVICE explicit f16(float x) : bits(float_to_half_bits(x)) {}
#endif
  /// The value with bit pattern `b`.
  GNM_HOST_DEVICE static f16 from_bits(std::uint16_t b) {
    f16 h;
    h.bits = b;
    return h;
  }
  /// The exact fp32 value.
#if GNM_DETAIL_HOST_F16C
  explicit operator float() const { return _cvtsh_ss(bits); }
#else
  GNM_HOST_DEVICE explicit operator float() const { return half_bits_to_float(bits); }
#endif
};

/// A 16-bit bfloat16 value: storage for the engine's bf16 dtype (fp32's range, 8 significant bits).
/// Arithmetic happens in fp32, as for f16.
struct bf16 {
  std::uint16_t bits = 0;  ///< The bfloat16 bit pattern (0: +0.0).

  /// +0.0.
  bf16() = default;
  /// `x` rounded to the nearest bf16 (ties to even); see float_to_bf16_bits().
  GNM_HOST_DEVICE explicit bf16(float x) : bits(float_to_bf16_bits(x)) {}
  /// The value with bit pattern `b`.
  GNM_HOST_DEVICE static bf16 from_bits(std::uint16_t b) {
    bf16 h;
    h.bits = b;
    return h;
  }
  /// The exact fp32 value.
  GNM_HOST_DEVICE explicit operator float() const { return bf16_bits_to_float(bits); }
};

static_assert(sizeof(f16) == 2 && alignof(f16) == 2, "f16 must pack like a uint16_t");
static_assert(sizeof(bf16) == 2 && alignof(bf16) == 2, "bf16 must pack like a uint16_t");

}  // namespace gnm
