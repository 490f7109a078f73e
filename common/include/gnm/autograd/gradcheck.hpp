/// \file
/// Numerical gradient checking (chapter 9.5): compares every backward rule with central
/// differences in float64, as torch.autograd.gradcheck does.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "gnm/tensor/tensor.hpp"

namespace gnm::autograd {

/// Tolerances of gradcheck().
///
/// Error model: for f64 inputs and a smooth f, the central difference (f(x+h) − f(x−h)) / 2h has
/// truncation error ~h²·|f'''|/6 and rounding error ~ε·|f|/h (ε = 2⁻⁵³); h = 1e-6 makes both
/// ~1e-10 relative for values of order 1, so 1e-7 absolute + 1e-5 relative leaves a wide margin
/// without hiding a wrong rule (wrong rules are off by O(1)).
struct GradcheckOptions {
  double eps = 1e-6;   ///< Perturbation h.
  double atol = 1e-7;  ///< Absolute tolerance.
  double rtol = 1e-5;  ///< Relative tolerance.
};

/// What gradcheck() found.
struct GradcheckResult {
  bool ok = true;        ///< Every entry within tolerance.
  double max_abs_error = 0.0;  ///< Largest |analytic − numeric|.
  std::string message;   ///< The first failing entry (input, flat index, both values) or empty.
};

/// Checks d(sum(f(inputs) · w))/d(inputs) computed by backward against central differences, for a
/// fixed random weighting w of f's output (one backward instead of one per output element).
/// Inputs must be f64 CPU tensors; those with requires_grad are checked. `f` is called many times
/// and must be deterministic (seed any dropout inside it).
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace gnm::autograd
