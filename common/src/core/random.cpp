#include "gnm/core/random.hpp"

#include <cmath>
#include <cstddef>

#include "gnm/core/check.hpp"
#include "gnm/core/philox.hpp"

namespace gnm {
namespace detail {

void check_uniform_range(float lo, float hi) {
  GNM_CHECK(std::isfinite(lo) && std::isfinite(hi), "uniform bounds must be finite", lo, hi);
  GNM_CHECK(lo < hi, "uniform range needs lo < hi", lo, hi);
  // lo = -FLT_MAX, hi = FLT_MAX: the width overflows and every value would be inf or nan.
  GNM_CHECK(std::isfinite(hi - lo), "uniform range width overflows float", lo, hi);
}

void check_normal_params(float mean, float stddev) {
  GNM_CHECK(std::isfinite(mean) && std::isfinite(stddev), "normal parameters must be finite", mean,
            stddev);
  GNM_CHECK(stddev >= 0.0f, "normal stddev must be non-negative", stddev);
}

namespace {

// Walks `out` one Philox block (four elements) at a time; the last block may be partial.
// `block_values(b)` returns the F32x4 of elements 4b .. 4b + 3.
template <class BlockValues>
void fill_by_block(std::span<float> out, BlockValues block_values) {
  const std::size_t n = out.size();
  constexpr std::size_t kBlock = PhiloxRng::kBlockSize;
  for (std::size_t base = 0; base < n; base += kBlock) {
    const F32x4 values = block_values(static_cast<std::uint64_t>(base / kBlock));
    const std::size_t count = n - base < kBlock ? n - base : kBlock;
    for (std::size_t lane = 0; lane < count; ++lane) out[base + lane] = values.v[lane];
  }
}

}  // namespace
}  // namespace detail

void fill_uniform(std::span<float> out, std::uint64_t seed, float lo, float hi,
                  std::uint64_t subsequence) {
  detail::check_uniform_range(lo, hi);
  const PhiloxRng rng(seed, subsequence);
  detail::fill_by_block(out, [&](std::uint64_t b) { return rng.uniform_block(b, lo, hi); });
}

void fill_normal(std::span<float> out, std::uint64_t seed, float mean, float stddev,
                 std::uint64_t subsequence) {
  detail::check_normal_params(mean, stddev);
  const PhiloxRng rng(seed, subsequence);
  detail::fill_by_block(out, [&](std::uint64_t b) { return rng.normal_block(b, mean, stddev); });
}

}  // namespace gnm
