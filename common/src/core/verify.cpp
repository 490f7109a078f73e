#include "gnm/core/verify.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include "gnm/core/check.hpp"

namespace gnm {

CompareResult compare(std::span<const float> got, std::span<const double> ref, Tolerance tol) {
  GNM_CHECK_SHAPE(got.size() == ref.size(), "result and reference sizes differ", got.size(),
                  ref.size());
  GNM_CHECK(tol.abs >= 0.0 && tol.rel >= 0.0, "tolerances must be non-negative", tol.abs, tol.rel);
  CompareResult r;
  std::ostringstream first;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double worst_ratio = -1.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = got[i];
    const double bound = tol.abs + tol.rel * std::fabs(ref[i]);
    const double err = std::fabs(g - ref[i]);
    // A NaN error compares false with everything: test for "not within bound", not "above bound".
    const bool bad = !(err <= bound);
    if (std::isfinite(err)) {
      if (err > r.max_abs_error) r.max_abs_error = err;
      const double ratio = bound > 0 ? err / bound : (err > 0 ? kInf : 0.0);
      if (ratio > worst_ratio) {
        worst_ratio = ratio;
        r.worst_index = i;
      }
    } else if (worst_ratio < kInf) {
      worst_ratio = kInf;
      r.worst_index = i;
    }
    if (bad) {
      if (r.mismatches < 5) {
        first << "\n  [" << i << "] got " << g << ", expected " << ref[i] << " (|error| " << err
              << " > bound " << bound << ")";
      }
      ++r.mismatches;
    }
  }
  r.ok = r.mismatches == 0;
  std::ostringstream head;
  head << (r.ok ? "all " : "") << got.size() << " elements compared, " << r.mismatches
       << " outside tolerance (abs " << tol.abs << ", rel " << tol.rel << "), max |error| "
       << r.max_abs_error;
  r.report = head.str() + first.str();
  return r;
}

}  // namespace gnm
