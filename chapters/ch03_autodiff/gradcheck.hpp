// Central differences in double precision: the reference every gradient of chapter 3 is checked
// against (the program's verification and the chapter tests).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "mat.hpp"

namespace chapter3 {

using gnm::ch03::Matrix;

/// Outcome of a gradient check.
struct GradCheckResult {
  bool ok = true;            ///< Every element within its tolerance.
  double max_error = 0.0;    ///< Largest |analytic − central difference|.
  double tolerance = 0.0;    ///< The tolerance that element was held to.
  int checked = 0;           ///< Elements compared.
  std::string report;        ///< First mismatches, "input 1 (2, 0): analytic … cd …".
};

/// The step of the central differences: near the optimum (3·δ/M3)^(1/3) for unit-scale
/// functions in double (see Note [Central-difference tolerance] in gradcheck.cpp).
inline constexpr double kCentralStep = 1e-5;

/// Compares `grads[k]` (analytic, e.g. from a tape) with central differences of `f` at `inputs`,
/// element by element, for every k with a non-empty grads[k]. `rounding_scale` is the size of
/// the terms that f sums (|f| for a plain function, Σ|y_i·g_i| for a weighted sum): the error of
/// one evaluation of f is a small multiple of eps times it.
GradCheckResult check_central_differences(const std::function<double(const std::vector<Matrix>&)>& f,
                                          const std::vector<Matrix>& inputs,
                                          const std::vector<Matrix>& grads, double rounding_scale);

}  // namespace chapter3
