// Exercise 9.2: the backward of broadcasting, summing a gradient down to its input's shape
// (task statement in exercises/ch09/reduce_to_shape.hpp).
#include "reduce_to_shape.hpp"

#include <string>

#include "gnm/core/check.hpp"

namespace gnm::ch09 {

namespace {

std::string dims_str(std::span<const std::int64_t> v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace

std::vector<std::int64_t> broadcast_strides(std::span<const std::int64_t> target,
                                            std::span<const std::int64_t> full) {
  GNM_CHECK_SHAPE(target.size() <= full.size(), "target has more dimensions than the gradient",
                  dims_str(target), dims_str(full));
  const std::size_t lead = full.size() - target.size();
  std::vector<std::int64_t> strides(full.size(), 0);
  std::int64_t step = 1;  // row-major stride of the target, built from the right
  for (std::size_t k = target.size(); k-- > 0;) {
    const std::int64_t t = target[k], f = full[lead + k];
    GNM_CHECK_SHAPE(t == f || t == 1, "target does not broadcast to the gradient's shape",
                    dims_str(target), dims_str(full));
    strides[lead + k] = (t == 1 && f != 1) ? 0 : step;
    step *= t;
  }
  return strides;
}

//! [reduce_to_shape]
std::vector<float> reduce_to_shape(std::span<const float> grad,
                                   std::span<const std::int64_t> grad_shape,
                                   std::span<const std::int64_t> target_shape) {
  const std::vector<std::int64_t> into = broadcast_strides(target_shape, grad_shape);
  std::int64_t numel = 1, target_numel = 1;
  for (std::int64_t s : grad_shape) numel *= s;
  for (std::int64_t s : target_shape) target_numel *= s;
  GNM_CHECK_SHAPE(static_cast<std::int64_t>(grad.size()) == numel,
                  "grad holds a different number of elements than its shape", grad.size(),
                  dims_str(grad_shape));
  std::vector<double> acc(static_cast<std::size_t>(target_numel), 0.0);
  // BEGIN SOLUTION("ex 9.2", "walk grad in row-major order with an odometer over grad_shape, keeping j = sum of idx[d] * into[d] (the target element it came from); acc[j] += grad[k] in double")
  const std::size_t nd = grad_shape.size();
  std::vector<std::int64_t> idx(nd, 0);
  std::int64_t j = 0;  // target element that grad element k was broadcast from
  for (std::int64_t k = 0; k < numel; ++k) {
    acc[static_cast<std::size_t>(j)] += static_cast<double>(grad[static_cast<std::size_t>(k)]);
    for (std::size_t d = nd; d-- > 0;) {  // odometer over grad's index, last dim fastest
      ++idx[d];
      j += into[d];
      if (idx[d] < grad_shape[d]) break;
      j -= grad_shape[d] * into[d];
      idx[d] = 0;
    }
  }
  // END SOLUTION
  std::vector<float> out(acc.size());
  for (std::size_t i = 0; i < acc.size(); ++i) out[i] = static_cast<float>(acc[i]);
  return out;
}
//! [reduce_to_shape]

}  // namespace gnm::ch09
