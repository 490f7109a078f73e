// Exercises 2.5–2.9: compensated and pairwise summation, stable softmax and log-sum-exp, and
// bf16 rounding (see exercises/ch02/numerics.hpp for the task statements).
#include "numerics.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "gnm/core/check.hpp"

namespace gnm::ch02 {

//! [sum_naive]
float sum_naive(std::span<const float> x) {
  float s = 0.0f;
  for (float v : x) s += v;  // one rounding per addition, n − 1 of them in a chain
  return s;
}
//! [sum_naive]

//! [sum_kahan]
float sum_kahan(std::span<const float> x) {
  // BEGIN SOLUTION("ex 2.5", "keep a compensation c = (t - s) - y of the last addition and subtract it from the next addend")
  float s = 0.0f;
  float c = 0.0f;  // minus the low-order part lost by the previous addition
  for (float v : x) {
    const float y = v - c;  // the addend, corrected by what was lost last time
    const float t = s + y;  // big + small: the low bits of y are rounded away here...
    c = (t - s) - y;        // ...and recovered exactly here: (t - s) is what y contributed
    s = t;
  }
  return s;
  // END SOLUTION
}
//! [sum_kahan]

//! [sum_pairwise]
float sum_pairwise(std::span<const float> x) {
  // BEGIN SOLUTION("ex 2.6", "at most kPairwiseBlock elements: naive loop; otherwise split in halves, recurse, add the two sums")
  if (x.size() <= kPairwiseBlock) {
    float s = 0.0f;
    for (float v : x) s += v;
    return s;
  }
  const std::size_t half = x.size() / 2;
  // Depth ⌈log2(n / kPairwiseBlock)⌉: 17 levels for n = 10^7, so the recursion is shallow.
  return sum_pairwise(x.first(half)) + sum_pairwise(x.subspan(half));
  // END SOLUTION
}
//! [sum_pairwise]

//! [softmax_naive]
void softmax_naive(std::span<const float> in, std::span<float> out) {
  GNM_CHECK_SHAPE(in.size() == out.size(), "softmax: input and output sizes differ", in.size(),
                  out.size());
  float sum = 0.0f;
  for (std::size_t i = 0; i < in.size(); ++i) {
    out[i] = std::exp(in[i]);  // overflows to inf for in[i] > 88.7
    sum += out[i];
  }
  for (float& v : out) v /= sum;
}
//! [softmax_naive]

//! [softmax_stable]
void softmax_stable(std::span<const float> in, std::span<float> out) {
  // BEGIN SOLUTION("ex 2.7", "check the sizes (GNM_CHECK_SHAPE), find the max m, then out_i = exp(x_i - m) / sum_j exp(x_j - m)")
  GNM_CHECK_SHAPE(in.size() == out.size(), "softmax: input and output sizes differ", in.size(),
                  out.size());
  if (in.empty()) return;
  // NaN must propagate: std::max would silently skip a NaN depending on its position.
  float m = -std::numeric_limits<float>::infinity();
  bool any_nan = false;
  for (float v : in) {
    any_nan = any_nan || std::isnan(v);
    m = std::max(m, v);
  }
  if (any_nan) m = std::numeric_limits<float>::quiet_NaN();
  // Every exponent is now <= 0; the largest term is exp(0) = 1, so 1 <= sum <= n.
  float sum = 0.0f;
  for (std::size_t i = 0; i < in.size(); ++i) {
    out[i] = std::exp(in[i] - m);  // reads in[i] before writing out[i]: in place is fine
    sum += out[i];
  }
  const float inv = 1.0f / sum;
  for (float& v : out) v *= inv;
  // END SOLUTION
}
//! [softmax_stable]

//! [logsumexp_stable]
float logsumexp_stable(std::span<const float> x) {
  // BEGIN SOLUTION("ex 2.8", "m = max x_i; return m when m is -inf or +inf (or NaN), else m + log(sum exp(x_i - m))")
  float m = -std::numeric_limits<float>::infinity();  // also the answer for an empty span
  for (float v : x) {
    if (std::isnan(v)) return v;
    m = std::max(m, v);
  }
  // -inf: every term is exp(-inf) = 0, the log of 0 is -inf; +inf: the sum is inf. In both cases
  // x_i - m would be inf - inf = NaN for some i, so answer before computing it.
  if (std::isinf(m)) return m;
  float sum = 0.0f;
  for (float v : x) sum += std::exp(v - m);  // in (0, 1] each, and the max term is exactly 1
  return m + std::log(sum);
  // END SOLUTION
}
//! [logsumexp_stable]

//! [round_to_bf16_bits]
std::uint16_t round_to_bf16_bits(float x) {
  // BEGIN SOLUTION("ex 2.9", "memcpy the float to a uint32_t; NaN: (u >> 16) | 0x40; else add 0x7FFF plus the lowest kept bit, then shift right by 16")
  std::uint32_t u = 0;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
    return static_cast<std::uint16_t>((u >> 16) | 0x0040u);  // quiet NaN, sign kept
  }
  // The dropped half is u & 0xFFFF. Adding 0x7FFF carries into the kept half exactly when the
  // dropped half is > 0x8000; adding the kept half's lowest bit as well makes 0x8000 (a tie)
  // carry only when the kept half is odd, i.e. round to even.
  const std::uint32_t lsb = (u >> 16) & 1u;
  return static_cast<std::uint16_t>((u + 0x7FFFu + lsb) >> 16);
  // END SOLUTION
}
//! [round_to_bf16_bits]

}  // namespace gnm::ch02
