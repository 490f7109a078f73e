/// \file
/// Host fills from the Philox streams of gnm/core/philox.hpp.
///
/// fill_uniform(out, seed, lo, hi) writes element i of stream (seed, subsequence) to out[i], so its
/// output equals PhiloxRng(seed, subsequence).uniform(i, lo, hi) element by element, and equals the
/// CUDA fill gnm::cuda::fill_uniform_device bit for bit: the same seed gives the same weights or
/// the same dropout mask on either backend.
///
///   std::vector<float> w(fan_in * fan_out);
///   gnm::fill_uniform(w, /*seed=*/42, -bound, bound);
#pragma once

#include <cstdint>
#include <span>

namespace gnm {

/// Writes uniform floats in [lo, hi) to `out`: out[i] = PhiloxRng(seed, subsequence).uniform(i,
/// lo, hi). Throws gnm::Error unless lo < hi and lo, hi and hi − lo are finite.
void fill_uniform(std::span<float> out, std::uint64_t seed, float lo, float hi,
                  std::uint64_t subsequence = 0);

/// Writes normal draws to `out`: out[i] = PhiloxRng(seed, subsequence).normal(i, mean, stddev).
/// Throws gnm::Error unless mean and stddev are finite and stddev ≥ 0.
void fill_normal(std::span<float> out, std::uint64_t seed, float mean, float stddev,
                 std::uint64_t subsequence = 0);

namespace detail {

/// Throws gnm::Error naming lo and hi unless lo < hi and lo, hi, hi − lo are finite (shared by
/// the host and CUDA fills so both reject the same arguments).
void check_uniform_range(float lo, float hi);

/// Throws gnm::Error naming mean and stddev unless both are finite and stddev ≥ 0.
void check_normal_params(float mean, float stddev);

}  // namespace detail
}  // namespace gnm
