// Exercises 2.5–2.9 — numerical stability (section 2.5 of the book).
//
// Write, in exercises/ch02/numerics.cpp:
//   2.5  sum_kahan()            compensated summation
//   2.6  sum_pairwise()         pairwise (cascade) summation with a naive base case
//   2.7  softmax_stable()       softmax that cannot overflow
//   2.8  logsumexp_stable()     log Σ exp(x) that cannot overflow
//   2.9  round_to_bf16_bits()   fp32 → bfloat16 with round-to-nearest-even
// Then: cmake --build build && ctest --test-dir build -L exercise -R Ch02Numerics
//
// sum_naive() and softmax_naive() are given: they are the baselines the chapter measures yours
// against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace gnm::ch02 {

/// The baseline: s = ((x0 + x1) + x2) + … in fp32, left to right (given, not an exercise).
///
/// Each addition rounds, so the error bound grows with n: |s − Σx| ≤ (n − 1)·u·Σ|x| to first
/// order, u = 2^-24 (half of fp32's eps). Worse, once s is large an addend below half an ulp of
/// s is lost entirely: 1 + 1e-8 + 1e-8 + … stays 1 however many terms follow. Returns 0 for an
/// empty span.
float sum_naive(std::span<const float> x);

/// Ex 2.5. Kahan's compensated summation: alongside the sum s, carry c, the rounding error of the
/// last addition, and feed it back into the next addend:
///
///     y = x_i − c;  t = s + y;  c = (t − s) − y;  s = t;
///
/// (t − s) is the part of y that made it into t, so c = −(the part that was lost). The error
/// bound no longer grows with n: |s − Σx| ≤ (2u + O(n·u²))·Σ|x|. Returns 0 for an empty span.
/// Needs IEEE arithmetic in program order: it breaks under -ffast-math, which may simplify
/// (t − s) − y to 0. Do not use long double or double inside; the point is fp32.
float sum_kahan(std::span<const float> x);

/// Block size of sum_pairwise()'s base case: below it, a plain loop (see sum_pairwise()).
inline constexpr std::size_t kPairwiseBlock = 128;

/// Ex 2.6. Pairwise (cascade) summation: split the span in two halves, sum each recursively, add
/// the two sums. Each element then passes through only ⌈log2 n⌉ additions instead of up to n − 1,
/// so the bound is ⌈log2 n⌉·u·Σ|x| instead of (n − 1)·u·Σ|x|.
///
/// Recursing down to single elements would spend a function call per addition. Instead, a span of
/// at most kPairwiseBlock elements is summed with the naive loop: the bound becomes
/// (kPairwiseBlock − 1 + ⌈log2(n / kPairwiseBlock)⌉)·u·Σ|x| — still independent of n in practice
/// — and the leaf loop runs at full speed. (NumPy's np.sum does the same with a block of 128.)
/// Returns 0 for an empty span.
float sum_pairwise(std::span<const float> x);

/// The baseline softmax: out_i = exp(x_i) / Σ_j exp(x_j), computed literally (given).
///
/// exp overflows fp32 for x > 88.7 and underflows to 0 for x < −103: softmax([1000, 1001]) is
/// inf/inf = NaN, softmax([−1000, −1001]) is 0/0 = NaN. Throws gnm::ShapeError naming both sizes
/// when `in` and `out` differ in length.
void softmax_naive(std::span<const float> in, std::span<float> out);

/// Ex 2.7. Softmax that never overflows: subtract m = max_j x_j first,
///
///     out_i = exp(x_i − m) / Σ_j exp(x_j − m),
///
/// which is the same function (the factor exp(−m) cancels), but now every exponent is ≤ 0, so
/// every exp is in (0, 1] and the largest is exactly 1: the sum is in [1, n] and cannot overflow
/// or be 0. Requirements:
/// - `in` and `out` have the same length (gnm::ShapeError naming both sizes otherwise); empty
///   spans are allowed and do nothing. `out` may be the same memory as `in` (in place).
/// - An entry of −∞ (a masked position, as in attention) gets probability exactly 0. If every
///   entry is −∞ the result is NaN everywhere, as in PyTorch; NaN anywhere gives NaN everywhere.
void softmax_stable(std::span<const float> in, std::span<float> out);

/// Ex 2.8. log Σ exp(x_i), stably: m + log Σ exp(x_i − m) with m = max x_i (the same identity as
/// softmax_stable). logsumexp([1000, 1000]) is 1000 + log 2, where the literal formula gives inf.
/// Conventions: an empty span gives −∞ (the log of an empty sum); all entries −∞ give −∞ (not
/// NaN: −∞ − (−∞) must not be evaluated); any +∞ gives +∞; any NaN gives NaN.
float logsumexp_stable(std::span<const float> x);

/// Ex 2.9. Rounds `x` to bfloat16 (the top 16 bits of an fp32: 1 sign, 8 exponent, 7 fraction
/// bits) with round-to-nearest, ties-to-even, and returns the 16-bit pattern.
///
/// - Look at the 16 bits that are dropped: above 0x8000, round up; below, round down; exactly
///   0x8000 (a tie), round so that the kept 16 bits are even. A carry out of the fraction
///   correctly increments the exponent (1.99… rounds to 2.0; the largest floats round to +∞).
/// - NaN must stay NaN: truncating 0x7F800001 would give 0x7F80 = +∞. Return a quiet NaN with the
///   same sign: the kept bits with bit 6 (the fraction's top bit) set.
/// - ±∞ and ±0 are exact; fp32 subnormals round like any other value.
/// Examples: 1.0f → 0x3F80; bits 0x3F808000 (a tie, kept part even) → 0x3F80; 0x3F818000 → 0x3F82;
/// 3.14159265f → 0x4049. The engine's reference is gnm::float_to_bf16_bits() in gnm/core/half.hpp
/// (you may read it after you are done; the tests compare against it).
std::uint16_t round_to_bf16_bits(float x);

}  // namespace gnm::ch02
