// Exercise 10.3: cosine learning-rate schedule with linear warmup (task statement in
// exercises/ch10/cosine_warmup.hpp).
#include "cosine_warmup.hpp"

#include <cmath>
#include <numbers>

#include "gnm/core/check.hpp"

namespace gnm::ch10 {

//! [cosine_warmup_lr]
double cosine_warmup_lr(std::int64_t step, double base_lr, std::int64_t warmup_steps,
                        std::int64_t total_steps, double min_lr) {
  GNM_CHECK(step >= 0, "cosine_warmup_lr: the step must be >= 0", step);
  GNM_CHECK(std::isfinite(base_lr) && base_lr >= 0.0,
            "cosine_warmup_lr: base_lr must be finite and >= 0", base_lr);
  GNM_CHECK(min_lr >= 0.0 && min_lr <= base_lr, "cosine_warmup_lr: min_lr must lie in [0, base_lr]",
            min_lr, base_lr);
  GNM_CHECK(warmup_steps >= 0 && warmup_steps < total_steps,
            "cosine_warmup_lr: need 0 <= warmup_steps < total_steps", warmup_steps, total_steps);
  // BEGIN SOLUTION("ex 10.3", "step < warmup: base_lr * step / warmup; step > total: min_lr; otherwise progress = (step - warmup) / (total - warmup) and min_lr + (base_lr - min_lr) * 0.5 * (1 + cos(pi * progress))")
  if (step < warmup_steps) {
    return base_lr * (static_cast<double>(step) / static_cast<double>(warmup_steps));
  }
  if (step > total_steps) return min_lr;
  const double progress = static_cast<double>(step - warmup_steps) /
                          static_cast<double>(total_steps - warmup_steps);
  // At progress 1, cos(π) rounds to exactly −1, so lr(T) is min_lr exactly.
  return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  // END SOLUTION
}
//! [cosine_warmup_lr]

}  // namespace gnm::ch10
