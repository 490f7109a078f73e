// Section 9.5's gradcheck list: every differentiable op of gnm/tensor/ops.hpp (and bias_act and
// a chain of views), in float64 at small odd shapes, with broadcasting and non-contiguous inputs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "gnm/tensor/tensor.hpp"

namespace chapter9 {

/// One gradcheck: f(inputs) with the inputs that require grad checked by central differences.
struct GradCase {
  std::string name;                 ///< The op, e.g. "mul (transposed a)".
  std::string shapes;               ///< Input shapes as given to f.
  std::vector<gnm::Tensor> inputs;  ///< f64 CPU; those with requires_grad are checked.
  std::function<gnm::Tensor(const std::vector<gnm::Tensor>&)> f;  ///< Deterministic.
};

/// The differentiable ops.
std::vector<GradCase> make_grad_cases();

/// The ops without a gradient (comparisons, argmax): name and the op on two (3, 5) inputs that
/// require grad; the result must not require grad.
std::vector<std::pair<std::string, std::function<gnm::Tensor(const gnm::Tensor&,
                                                             const gnm::Tensor&)>>>
make_no_grad_cases();

}  // namespace chapter9
