// Exercise 10.2: dynamic loss scaling, torch.amp.GradScaler's rules (task statement in
// exercises/ch10/loss_scaling.hpp).
#include "loss_scaling.hpp"

#include <cmath>
#include <limits>

#include "gnm/core/check.hpp"

namespace gnm::ch10 {

namespace {

constexpr double kFloatMax = std::numeric_limits<float>::max();

}  // namespace

//! [unscale_and_check]
bool unscale_and_check(std::span<float> grads, double scale) {
  GNM_CHECK(scale > 0.0 && scale <= kFloatMax,
            "unscale_and_check: the scale must be an fp32 value > 0", scale);
  GNM_CHECK(std::isfinite(static_cast<float>(1.0 / scale)),
            "unscale_and_check: 1 / scale overflows fp32", scale);
  // BEGIN SOLUTION("ex 10.2a", "inv = float(1.0 / scale); for every g: found |= !std::isfinite(g) (before multiplying); g *= inv; return found")
  // PyTorch takes the reciprocal in double and rounds it once; exact for a power-of-two scale.
  const auto inv_scale = static_cast<float>(1.0 / scale);
  bool found_inf = false;
  for (float& g : grads) {
    found_inf |= !std::isfinite(g);  // +inf, −inf and NaN, seen before the product
    g *= inv_scale;
  }
  return found_inf;
  // END SOLUTION
}
//! [unscale_and_check]

//! [update_scale]
void update_scale(LossScaleState& state, bool found_inf, const LossScaleConfig& config) {
  GNM_CHECK(std::isfinite(config.growth_factor) && config.growth_factor > 1.0,
            "update_scale: growth_factor must be finite and > 1", config.growth_factor);
  GNM_CHECK(config.backoff_factor > 0.0 && config.backoff_factor < 1.0,
            "update_scale: backoff_factor must lie in (0, 1)", config.backoff_factor);
  GNM_CHECK(config.growth_interval >= 1, "update_scale: growth_interval must be >= 1",
            config.growth_interval);
  GNM_CHECK(state.scale > 0.0 && state.scale <= kFloatMax,
            "update_scale: the scale must be an fp32 value > 0", state.scale);
  GNM_CHECK(state.growth_tracker >= 0 && state.growth_tracker < config.growth_interval,
            "update_scale: growth_tracker must lie in [0, growth_interval)", state.growth_tracker,
            config.growth_interval);
  // BEGIN SOLUTION("ex 10.2b", "found_inf: scale = double(float(scale * backoff_factor)), growth_tracker = 0; otherwise count the step, and when the count reaches growth_interval set scale = double(float(scale * growth_factor)) unless that is inf, and growth_tracker = 0")
  if (found_inf) {
    state.scale = static_cast<float>(state.scale * config.backoff_factor);  // S lives in fp32
    state.growth_tracker = 0;
    return;
  }
  const std::int64_t successful = state.growth_tracker + 1;
  if (successful == config.growth_interval) {
    const auto grown = static_cast<float>(state.scale * config.growth_factor);
    if (std::isfinite(grown)) state.scale = grown;  // at fp32's ceiling the scale just stays
    state.growth_tracker = 0;
  } else {
    state.growth_tracker = successful;
  }
  // END SOLUTION
}
//! [update_scale]

}  // namespace gnm::ch10
