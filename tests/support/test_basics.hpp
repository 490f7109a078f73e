/// \file
/// Small helpers every kind of test uses: fp32's unit roundoff, seeded uniform data, and the
/// message of the gnm::Error a call throws.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"

namespace gnm::testing {

/// fp32 unit roundoff u = 2⁻²⁴: |fl(x) − x| ≤ u·|x| for every rounding of a normal number.
inline constexpr double kU = 0x1p-24;

/// n Philox uniforms in [lo, hi) (an empty vector for n = 0, which fill_uniform does not take).
inline std::vector<float> uniform(std::size_t n, std::uint64_t seed, float lo = -1.0f,
                                  float hi = 1.0f) {
  std::vector<float> v(n);
  if (n > 0) gnm::fill_uniform(v, seed, lo, hi);
  return v;
}

/// The message of the gnm::Error that f throws, or "(no throw)".
template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const gnm::Error& e) {
    return e.what();
  }
  return "(no throw)";
}

}  // namespace gnm::testing
