// Section 4.5: shape arithmetic as constexpr functions. The same code runs at compile time, where
// static_assert checks it and a wrong shape is a compile error, and at run time, where a wrong
// shape throws gnm::ShapeError. Rust's const fn plays the same role.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace ch04::shape {

/// A shape of N dimensions, outermost first.
template <std::size_t N>
using Shape = std::array<std::int64_t, N>;

/// Throws gnm::ShapeError "what [a = …, b = …]". Not constexpr, on purpose: a constant
/// expression that reaches it does not compile, which turns a bad shape into a compile error.
[[noreturn]] void fail(const char* what, std::int64_t a, std::int64_t b);

//! [constexpr_shapes]
/// Number of elements; fails on a negative size.
template <std::size_t N>
constexpr std::int64_t numel(const Shape<N>& s) {
  std::int64_t n = 1;
  for (const std::int64_t d : s) {
    if (d < 0) fail("negative size", d, 0);
    n *= d;
  }
  return n;
}

/// Row-major strides in elements: the last dimension is contiguous.
template <std::size_t N>
constexpr Shape<N> row_major_strides(const Shape<N>& s) {
  Shape<N> strides{};
  std::int64_t stride = 1;
  for (std::size_t i = N; i-- > 0;) {
    strides[i] = stride;
    stride *= s[i];
  }
  return strides;
}

/// NumPy broadcasting: align the shapes on their last dimension; each pair of sizes must be equal
/// or contain a 1, which stretches. Fails naming the two sizes otherwise.
template <std::size_t N, std::size_t M>
constexpr Shape<std::max(N, M)> broadcast(const Shape<N>& a, const Shape<M>& b) {
  constexpr std::size_t R = std::max(N, M);
  Shape<R> out{};
  for (std::size_t i = 0; i < R; ++i) {  // i counts from the last dimension
    const std::int64_t da = i < N ? a[N - 1 - i] : 1;
    const std::int64_t db = i < M ? b[M - 1 - i] : 1;
    if (da != db && da != 1 && db != 1) fail("sizes cannot be broadcast", da, db);
    out[R - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

/// Output size of a convolution or pooling window along one dimension:
/// ⌊(in + 2·pad − dilation·(kernel − 1) − 1) / stride⌋ + 1. Fails when the window does not fit.
constexpr std::int64_t conv_output_size(std::int64_t in, std::int64_t kernel,
                                        std::int64_t stride = 1, std::int64_t pad = 0,
                                        std::int64_t dilation = 1) {
  if (in < 0 || pad < 0) fail("input size and padding must be >= 0", in, pad);
  if (kernel < 1 || stride < 1 || dilation < 1) fail("kernel and stride must be >= 1", kernel, stride);
  const std::int64_t span = dilation * (kernel - 1) + 1;  // input elements one window covers
  if (in + 2 * pad < span) fail("the window is larger than the padded input", span, in + 2 * pad);
  return (in + 2 * pad - span) / stride + 1;
}
//! [constexpr_shapes]

//! [static_asserts]
// Checked by the compiler every time this header is included: no test run needed.
static_assert(numel(Shape<3>{2, 3, 4}) == 24);
static_assert(numel(Shape<0>{}) == 1);  // a scalar
static_assert(row_major_strides(Shape<3>{2, 3, 4}) == Shape<3>{12, 4, 1});
static_assert(broadcast(Shape<2>{3, 1}, Shape<1>{4}) == Shape<2>{3, 4});
static_assert(broadcast(Shape<4>{8, 1, 6, 1}, Shape<3>{7, 1, 5}) == Shape<4>{8, 7, 6, 5});
static_assert(conv_output_size(224, 7, 2, 3) == 112);  // ResNet's first convolution
static_assert(conv_output_size(112, 3, 2, 1) == 56);   // its max-pool
static_assert(conv_output_size(56, 3, 1, 1, 2) == 54);  // dilation 2 sees 5 inputs
//! [static_asserts]

}  // namespace ch04::shape
