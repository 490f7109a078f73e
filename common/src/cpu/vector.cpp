#include "gnm/cpu/vector.hpp"

#include <cmath>
#include <cstddef>

#include "gnm/core/check.hpp"

namespace gnm::cpu {

void saxpy(float a, std::span<const float> x, std::span<float> y) {
  GNM_CHECK_SHAPE(x.size() == y.size(), "saxpy: x and y differ in length", x.size(), y.size());
  const std::size_t n = x.size();
  const float* __restrict xp = x.data();
  float* __restrict yp = y.data();
  // A plain loop: with -O3 and AVX2 the compiler emits 8-wide FMAs; the loop is bandwidth-bound
  // anyway (12 bytes moved per 2 FLOPs).
  for (std::size_t i = 0; i < n; ++i) yp[i] = a * xp[i] + yp[i];
}

void saxpy_reference(float a, std::span<const float> x, std::span<const float> y,
                     std::span<double> out) {
  GNM_CHECK_SHAPE(x.size() == y.size() && y.size() == out.size(),
                  "saxpy_reference: lengths differ", x.size(), y.size(), out.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    out[i] = static_cast<double>(a) * static_cast<double>(x[i]) + static_cast<double>(y[i]);
  }
}

Tolerance saxpy_tolerance(float a) {
  const double scale = std::fabs(static_cast<double>(a)) + 1.0;
  return Tolerance{2.0 * kEpsF32 * scale, 2.0 * kEpsF32};
}

}  // namespace gnm::cpu
