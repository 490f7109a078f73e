/// \file
/// Dynamic loss scaling for mixed-precision training (chapter 10.4), with the rules of
/// PyTorch's torch.amp.GradScaler.
///
/// fp16 gradients underflow below 6·10⁻⁸; multiplying the loss by a large scale S before
/// backward lifts them into range, and dividing the gradients by S before the optimizer step
/// undoes it. S is chosen dynamically: a step whose gradients contain inf or NaN (S was too large)
/// is skipped and S is multiplied by backoff_factor; after growth_interval consecutive finite
/// steps S is multiplied by growth_factor.
///
/// \code
/// gnm::optim::GradScaler scaler;
/// for (...) {
///   backward(loss * scaler.scale());                 // gradients now carry the factor S
///   const bool found_inf = scaler.unscale_and_check(grads);
///   if (!found_inf) optimizer_step();                // skip the step on overflow
///   scaler.update(found_inf);
/// }
/// \endcode
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

namespace gnm::optim {

/// PyTorch's GradScaler as a scalar state machine; the caller owns the gradients and the step.
class GradScaler {
 public:
  /// PyTorch's defaults: S = 2^16, ×2 after 2000 finite steps, ×0.5 on overflow.
  /// \throws gnm::Error unless init_scale > 0, growth_factor > 1, 0 < backoff_factor < 1 (all
  ///         finite) and growth_interval >= 1 (checked only when enabled, as PyTorch does)
  explicit GradScaler(double init_scale = 65536.0, double growth_factor = 2.0,
                      double backoff_factor = 0.5, std::int64_t growth_interval = 2000,
                      bool enabled = true);

  /// The factor to multiply the loss by; 1 when disabled. Kept in fp32, like PyTorch's.
  double scale() const noexcept { return enabled_ ? static_cast<double>(scale_) : 1.0; }
  /// Whether scaling is on; a disabled scaler leaves everything alone.
  bool enabled() const noexcept { return enabled_; }
  /// Consecutive finite steps since the last growth or backoff (PyTorch's `_growth_tracker`).
  std::int64_t growth_tracker() const noexcept { return growth_tracker_; }
  /// How many update(true) calls there have been, i.e. how many optimizer steps were skipped.
  std::int64_t skipped_steps() const noexcept { return skipped_steps_; }

  /// Multiplies every gradient element by 1/scale() (the reciprocal taken in double, then
  /// rounded to fp32, as PyTorch does) and reports whether any element was inf or NaN.
  /// All elements are multiplied either way; the caller then skips the optimizer step.
  /// A disabled scaler touches nothing and returns false.
  bool unscale_and_check(std::span<const std::span<float>> grads) const;

  /// Ends an iteration: on `found_inf` the scale backs off and the growth tracker resets
  /// (counting a skipped step); otherwise the tracker counts up and, on reaching
  /// growth_interval, the scale grows (unless that would overflow fp32) and the tracker resets.
  void update(bool found_inf);

  /// Everything needed to resume: "scale", "growth_factor", "backoff_factor",
  /// "growth_interval", "growth_tracker", "skipped_steps", "enabled".
  std::map<std::string, double> state() const;
  /// Restores a state(); later steps then match the scaler that saved it.
  /// \throws gnm::Error naming a missing or unexpected key or an invalid value
  void load_state(const std::map<std::string, double>& state);

 private:
  float scale_;
  double growth_factor_;
  double backoff_factor_;
  std::int64_t growth_interval_;
  bool enabled_;
  std::int64_t growth_tracker_ = 0;
  std::int64_t skipped_steps_ = 0;
};

}  // namespace gnm::optim
