// Exercise 10.1: one Adam / AdamW step (task statement in exercises/ch10/adam_step.hpp).
#include "adam_step.hpp"

#include <cmath>
#include <cstddef>

#include "gnm/core/check.hpp"

namespace gnm::ch10 {

namespace {

bool finite_nonnegative(double v) { return std::isfinite(v) && v >= 0.0; }

}  // namespace

//! [adam_step]
void adam_step(std::span<float> param, std::span<const float> grad, std::span<float> exp_avg,
               std::span<float> exp_avg_sq, std::int64_t step, const AdamHyper& h) {
  const std::size_t n = param.size();
  GNM_CHECK_SHAPE(grad.size() == n && exp_avg.size() == n && exp_avg_sq.size() == n,
                  "adam_step: grad, exp_avg and exp_avg_sq need one element per parameter", n,
                  grad.size(), exp_avg.size(), exp_avg_sq.size());
  GNM_CHECK(finite_nonnegative(h.lr), "adam_step: lr must be finite and >= 0", h.lr);
  GNM_CHECK(h.beta1 >= 0.0 && h.beta1 < 1.0, "adam_step: beta1 must lie in [0, 1)", h.beta1);
  GNM_CHECK(h.beta2 >= 0.0 && h.beta2 < 1.0, "adam_step: beta2 must lie in [0, 1)", h.beta2);
  GNM_CHECK(finite_nonnegative(h.eps), "adam_step: eps must be finite and >= 0", h.eps);
  GNM_CHECK(finite_nonnegative(h.weight_decay), "adam_step: weight_decay must be finite and >= 0",
            h.weight_decay);
  GNM_CHECK(step >= 1, "adam_step: the step number t counts from 1", step);
  // BEGIN SOLUTION("ex 10.1", "scalars in double, each rounded to float once: 1 - beta1, beta2, 1 - beta2, step_size = lr / (1 - pow(beta1, t)), sqrt(1 - pow(beta2, t)), eps; AdamW first multiplies every p by float(1 - lr * wd); then per element: g (+ wd * p for Adam), m += (1 - beta1) * (g - m), v = beta2 * v + (1 - beta2) * g * g, p -= step_size * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)")
  // Python floats: combined in double, rounded to float where an fp32 kernel receives them.
  const auto t = static_cast<double>(step);
  const auto one_minus_beta1 = static_cast<float>(1.0 - h.beta1);
  const auto beta2 = static_cast<float>(h.beta2);
  const auto one_minus_beta2 = static_cast<float>(1.0 - h.beta2);
  const auto step_size = static_cast<float>(h.lr / (1.0 - std::pow(h.beta1, t)));
  const auto bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(h.beta2, t)));
  const auto eps = static_cast<float>(h.eps);
  const auto weight_decay = static_cast<float>(h.weight_decay);
  const bool l2 = h.weight_decay != 0.0 && !h.decoupled;

  if (h.weight_decay != 0.0 && h.decoupled) {
    // AdamW shrinks the parameter in a pass of its own: param.mul_(1 - lr * wd).
    const auto decay = static_cast<float>(1.0 - h.lr * h.weight_decay);
    for (float& p : param) p *= decay;
  }
  for (std::size_t i = 0; i < n; ++i) {
    // Adam's L2 term: grad.add(param, alpha=wd), which PyTorch's kernel fuses.
    const float g = l2 ? std::fma(param[i], weight_decay, grad[i]) : grad[i];
    // torch.lerp(m, g, w) = m + w·(g − m), fused, for w < 0.5; g − (1 − w)·(g − m) otherwise,
    // so that w = 1 gives g exactly.
    const float w = one_minus_beta1;
    const float m = w < 0.5f ? std::fma(w, g - exp_avg[i], exp_avg[i])
                             : std::fma(w - 1.0f, g - exp_avg[i], g);
    // v.mul_(beta2).addcmul_(g, g, value=1 - beta2): the product v·β2 is rounded, the rest fused.
    const float v = std::fma(one_minus_beta2 * g, g, exp_avg_sq[i] * beta2);
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    const float denom = std::sqrt(v) / bias_correction2_sqrt + eps;
    param[i] = param[i] + (-step_size * m) / denom;  // addcdiv_(m, denom, value=-step_size)
  }
  // END SOLUTION
}
//! [adam_step]

}  // namespace gnm::ch10
