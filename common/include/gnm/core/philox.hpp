/// \file
/// Philox4x32-10: the engine's counter-based random number generator, identical on CPU and GPU.
///
/// A conventional generator (Mersenne Twister, an LCG) is a state machine: element i exists only
/// after elements 0..i-1 have been produced, so parallel code must either share the state (a
/// serialisation point) or carry one state per thread (kilobytes each, seeded carefully so the
/// streams do not overlap). A counter-based generator (Salmon, Moraes, Dror and Shaw, "Parallel
/// random numbers: as easy as 1, 2, 3", SC'11; the Random123 library) is instead a pure function
///
///     bits = philox(counter, key)
///
/// a keyed bijection of a 128-bit counter, strong enough that counting 0, 1, 2, ... through it
/// passes BigCrush. There is no state to carry: any element of any stream is computed
/// independently, in ten rounds of integer multiply/xor. That is exactly what a GPU wants. Thread
/// t computes the elements it writes and nothing else, a grid-stride loop needs no coordination,
/// and a kernel can regenerate a dropout mask in the backward pass instead of storing it. Because
/// the function is integer arithmetic, the CPU reference and the CUDA kernel produce the same bits
/// for the same seed, so a test can compare a GPU dropout mask with the CPU one exactly.
///
/// This header is usable from host C++ and from CUDA device code (every function is
/// GNM_HOST_DEVICE; no std:: containers). See Note [Philox stream layout] for how a seed, a
/// subsequence and an element index map to counter and key.
///
///   gnm::PhiloxRng rng(/*seed=*/42);
///   float u = rng.uniform(7);           // element 7 of stream (seed 42, subsequence 0), in [0, 1)
///   float z = rng.normal(7, 0.f, 1.f);  // a standard normal draw
#pragma once

#include <cmath>
#include <cstdint>

#include "gnm/core/macros.hpp"

namespace gnm {

/// Four 32-bit words: a Philox counter, or one Philox output block.
struct U32x4 {
  std::uint32_t v[4];  ///< The words, v[0] first.
};

/// Two 32-bit words: a Philox key.
struct U32x2 {
  std::uint32_t v[2];  ///< The words, v[0] first.
};

/// Four floats: the values of one Philox output block after a transform (uniform, normal).
struct F32x4 {
  float v[4];  ///< The values, v[0] first.
};

/// Two floats: one Box–Muller pair.
struct F32x2 {
  float v[2];  ///< The values, v[0] first.
};

/// Round multiplier for words 0/1 (Random123's PHILOX_M4x32_0).
inline constexpr std::uint32_t kPhiloxM0 = 0xD2511F53u;
/// Round multiplier for words 2/3 (Random123's PHILOX_M4x32_1).
inline constexpr std::uint32_t kPhiloxM1 = 0xCD9E8D57u;
/// Weyl increment of key word 0 between rounds: the golden ratio, 2^32 / φ.
inline constexpr std::uint32_t kPhiloxW0 = 0x9E3779B9u;
/// Weyl increment of key word 1 between rounds: √3 − 1, scaled by 2^32.
inline constexpr std::uint32_t kPhiloxW1 = 0xBB67AE85u;

namespace detail {

/// The high and low halves of the 64-bit product a·b (nvcc turns this into mul.hi/mul.lo).
GNM_HOST_DEVICE constexpr void mulhilo32(std::uint32_t a, std::uint32_t b, std::uint32_t& hi,
                                         std::uint32_t& lo) {
  const std::uint64_t product = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(product >> 32);
  lo = static_cast<std::uint32_t>(product);
}

/// One Philox4x32 round: two multiplies, the high halves xor-ed with the other words and the key,
/// and a fixed word permutation (Random123's philox4x32round).
GNM_HOST_DEVICE constexpr U32x4 philox4x32_round(U32x4 c, U32x2 k) {
  std::uint32_t hi0 = 0, lo0 = 0, hi1 = 0, lo1 = 0;
  mulhilo32(kPhiloxM0, c.v[0], hi0, lo0);
  mulhilo32(kPhiloxM1, c.v[2], hi1, lo1);
  return U32x4{{hi1 ^ c.v[1] ^ k.v[0], lo1, hi0 ^ c.v[3] ^ k.v[1], lo0}};
}

// Note [Bit-identical float arithmetic]
// Integer work is exact everywhere, but float expressions can differ between compilers: nvcc
// contracts `a * b + c` into one fused multiply-add by default, g++ does so only when FMA
// instructions are enabled (-mfma, -march=native). The affine maps below therefore call fma
// explicitly: one correctly rounded operation, the same result on every IEEE-754 machine.
// logf/sinf/cosf have no such guarantee (CUDA documents 1–2 ulp, glibc is within 1 ulp), which
// is why normal() can differ by a few ulps between CPU and GPU while bits() and uniform() do not.
// Building with --use_fast_math swaps those for hardware approximations; do not, for this file.

/// Correctly rounded a·b + c on host and device (see Note [Bit-identical float arithmetic]).
GNM_HOST_DEVICE inline float fma_f32(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return ::fmaf(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

/// The largest float below `x` (towards `toward`), exact on host and device.
GNM_HOST_DEVICE inline float next_below(float x, float toward) {
#if defined(__CUDA_ARCH__)
  return ::nextafterf(x, toward);
#else
  return std::nextafter(x, toward);
#endif
}

/// Natural logarithm in float (a few ulps between host and device).
GNM_HOST_DEVICE inline float log_f32(float x) {
#if defined(__CUDA_ARCH__)
  return ::logf(x);
#else
  return std::log(x);
#endif
}
/// Correctly rounded square root (IEEE-754 on both sides).
GNM_HOST_DEVICE inline float sqrt_f32(float x) {
#if defined(__CUDA_ARCH__)
  return ::sqrtf(x);
#else
  return std::sqrt(x);
#endif
}
/// Sine in float (a few ulps between host and device).
GNM_HOST_DEVICE inline float sin_f32(float x) {
#if defined(__CUDA_ARCH__)
  return ::sinf(x);
#else
  return std::sin(x);
#endif
}
/// Cosine in float (a few ulps between host and device).
GNM_HOST_DEVICE inline float cos_f32(float x) {
#if defined(__CUDA_ARCH__)
  return ::cosf(x);
#else
  return std::cos(x);
#endif
}

}  // namespace detail

/// Philox4x32 with `Rounds` rounds: a keyed bijection of the 128-bit `counter`.
///
/// Between rounds the key advances by the Weyl constants (kPhiloxW0, kPhiloxW1). Ten rounds is
/// the standard, Crush-resistant choice; seven is the fewest that passes BigCrush.
template <int Rounds>
GNM_HOST_DEVICE constexpr U32x4 philox4x32(U32x4 counter, U32x2 key) {
  static_assert(Rounds >= 1, "Philox needs at least one round");
  counter = detail::philox4x32_round(counter, key);
  for (int r = 1; r < Rounds; ++r) {
    key.v[0] += kPhiloxW0;
    key.v[1] += kPhiloxW1;
    counter = detail::philox4x32_round(counter, key);
  }
  return counter;
}

/// Philox4x32-10, the generator's standard form; matches Random123's philox4x32(ctr, key).
GNM_HOST_DEVICE constexpr U32x4 philox4x32_10(U32x4 counter, U32x2 key) {
  return philox4x32<10>(counter, key);
}

/// Maps 32 random bits to a float in [0, 1): the top 24 bits times 2^-24.
///
/// Every step is exact (a 24-bit integer converts to float without rounding; the scale is a power
/// of two), so the result is bit-identical on CPU and GPU. All 2^24 values are equally likely.
GNM_HOST_DEVICE constexpr float uniform_from_bits(std::uint32_t x) {
  return static_cast<float>(x >> 8) * 0x1p-24f;
}

/// Maps 32 random bits to a float in [lo, hi): fma(hi − lo, u, lo), bit-identical on CPU and GPU.
///
/// Rounding can push the result up to `hi` when |lo| is large against hi − lo; such a result is
/// replaced by the largest float below `hi`, so the interval stays half-open. Preconditions
/// (lo < hi, both finite) are the caller's: see gnm::fill_uniform, which checks them.
GNM_HOST_DEVICE inline float uniform_from_bits(std::uint32_t x, float lo, float hi) {
  const float r = detail::fma_f32(hi - lo, uniform_from_bits(x), lo);
  return r < hi ? r : detail::next_below(hi, lo);
}

/// Box–Muller: two independent standard normal draws from 32 + 32 random bits.
///
/// u1 = (top 24 bits of x0 + 1)·2^-24 lies in (0, 1], so log(u1) is finite and the radius
/// sqrt(−2 ln u1) is at most sqrt(48 ln 2) ≈ 5.77: the tails beyond 5.77σ (probability about
/// 1e-8) are cut off. The angle is 2π·u2 with u2 = uniform_from_bits(x1). Uses logf, sinf and
/// cosf, so results may differ by a few ulps between CPU and GPU (see Note [Bit-identical float
/// arithmetic] in this header).
GNM_HOST_DEVICE inline F32x2 normal_pair_from_bits(std::uint32_t x0, std::uint32_t x1) {
  constexpr float kTwoPi = 6.28318530717958647692f;
  const float u1 = static_cast<float>((x0 >> 8) + 1u) * 0x1p-24f;
  const float theta = kTwoPi * uniform_from_bits(x1);
  const float radius = detail::sqrt_f32(-2.0f * detail::log_f32(u1));
  return F32x2{{radius * detail::cos_f32(theta), radius * detail::sin_f32(theta)}};
}

// Note [Philox stream layout]
// A stream is named by (seed, subsequence) and is an endless array of 32-bit values:
//
//   key     = (seed low 32 bits, seed high 32 bits)
//   counter = (block low, block high, subsequence low, subsequence high),  block = i / 4
//   element i = lane i % 4 of philox4x32_10(counter, key)
//
// so one Philox call yields four consecutive elements, and streams with different subsequences
// never overlap (the subsequence is half the counter). An element index is 64 bits, so a stream
// holds 2^64 elements (block() reaches all 2^64 blocks of its counter space). The derived
// streams use the same indexing: uniform(i) is a function of bits(i) alone; normal(i) is one
// half of the Box–Muller pair built from elements (i & ~1, i | 1), cosine for even i and sine
// for odd i. normal(i) and uniform(i) of one stream are therefore not independent: draw them
// from different subsequences when a computation needs both.

/// One random stream of a Philox4x32-10 generator: element i of (seed, subsequence) as bits,
/// uniform floats or normal floats (see Note [Philox stream layout] in gnm/core/philox.hpp).
///
/// A small value type (16 bytes) with no mutable state: pass it to a CUDA kernel by value and
/// every thread computes its own elements. bits() and uniform() are bit-identical on CPU and
/// GPU; normal() may differ by a few ulps (logf/sinf/cosf differ between libraries).
class PhiloxRng {
 public:
  /// Elements produced by one Philox call.
  static constexpr int kBlockSize = 4;

  /// The stream (seed, subsequence). The seed becomes the key; the subsequence the upper half of
  /// the counter, so (seed, 0), (seed, 1), ... are independent non-overlapping streams (use them
  /// for different layers, steps or devices).
  GNM_HOST_DEVICE constexpr explicit PhiloxRng(std::uint64_t seed, std::uint64_t subsequence = 0)
      : key_{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}},
        subsequence_{{static_cast<std::uint32_t>(subsequence),
                      static_cast<std::uint32_t>(subsequence >> 32)}} {}

  /// The seed this stream was made from.
  GNM_HOST_DEVICE constexpr std::uint64_t seed() const {
    return (static_cast<std::uint64_t>(key_.v[1]) << 32) | key_.v[0];
  }
  /// The subsequence this stream was made from.
  GNM_HOST_DEVICE constexpr std::uint64_t subsequence() const {
    return (static_cast<std::uint64_t>(subsequence_.v[1]) << 32) | subsequence_.v[0];
  }

  /// Elements 4·block .. 4·block + 3 as raw bits: one Philox call.
  GNM_HOST_DEVICE constexpr U32x4 block(std::uint64_t block) const {
    const U32x4 counter{{static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
                         subsequence_.v[0], subsequence_.v[1]}};
    return philox4x32_10(counter, key_);
  }

  /// Element i as 32 uniformly distributed bits.
  GNM_HOST_DEVICE constexpr std::uint32_t bits(std::uint64_t i) const {
    return block(i / kBlockSize).v[i % kBlockSize];
  }

  /// Element i as a float in [0, 1) with 24 random bits; bit-identical on CPU and GPU.
  GNM_HOST_DEVICE constexpr float uniform(std::uint64_t i) const {
    return uniform_from_bits(bits(i));
  }

  /// Element i as a float in [lo, hi); bit-identical on CPU and GPU. Needs lo < hi, both finite.
  GNM_HOST_DEVICE float uniform(std::uint64_t i, float lo, float hi) const {
    return uniform_from_bits(bits(i), lo, hi);
  }

  /// Element i as a standard normal draw (Box–Muller; |z| ≤ 5.77). May differ from the GPU's by
  /// a few ulps.
  GNM_HOST_DEVICE float normal(std::uint64_t i) const {
    const U32x4 b = block(i / kBlockSize);
    const unsigned pair = static_cast<unsigned>(i % kBlockSize) & ~1u;
    return normal_pair_from_bits(b.v[pair], b.v[pair + 1]).v[i & 1];
  }

  /// Element i as a normal draw with the given mean and standard deviation: fma(stddev, z, mean).
  GNM_HOST_DEVICE float normal(std::uint64_t i, float mean, float stddev) const {
    return detail::fma_f32(stddev, normal(i), mean);
  }

  /// Elements 4·block .. 4·block + 3 as uniform floats in [lo, hi); equal to uniform(i, lo, hi)
  /// element by element, at one Philox call per four values (what fill kernels use).
  GNM_HOST_DEVICE F32x4 uniform_block(std::uint64_t block, float lo, float hi) const {
    const U32x4 b = this->block(block);
    return F32x4{{uniform_from_bits(b.v[0], lo, hi), uniform_from_bits(b.v[1], lo, hi),
                  uniform_from_bits(b.v[2], lo, hi), uniform_from_bits(b.v[3], lo, hi)}};
  }

  /// Elements 4·block .. 4·block + 3 as normal draws; equal to normal(i, mean, stddev) element by
  /// element, at one Philox call and two Box–Muller pairs per four values.
  GNM_HOST_DEVICE F32x4 normal_block(std::uint64_t block, float mean, float stddev) const {
    const U32x4 b = this->block(block);
    const F32x2 z01 = normal_pair_from_bits(b.v[0], b.v[1]);
    const F32x2 z23 = normal_pair_from_bits(b.v[2], b.v[3]);
    return F32x4{{detail::fma_f32(stddev, z01.v[0], mean), detail::fma_f32(stddev, z01.v[1], mean),
                  detail::fma_f32(stddev, z23.v[0], mean),
                  detail::fma_f32(stddev, z23.v[1], mean)}};
  }

 private:
  U32x2 key_;
  U32x2 subsequence_;
};

}  // namespace gnm
