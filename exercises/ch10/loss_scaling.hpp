// Exercise 10.2 — dynamic loss scaling (section 10.4 of the book).
//
// In fp16 a gradient below 6·10⁻⁸ becomes 0. Multiplying the loss by a scale S (say 2¹⁶) before
// backward multiplies every gradient by S and lifts the small ones into range; before the
// optimizer step the gradients are divided by S again. If S was too large, some gradient
// overflowed to inf (or an inf − inf made a NaN): that step is skipped and S shrinks. After
// `growth_interval` good steps in a row S grows again, so it hovers just below overflow.
// One iteration of training:
//
//     backward(loss · state.scale);
//     const bool found_inf = unscale_and_check(grads, state.scale);
//     if (!found_inf) optimizer_step(grads);
//     update_scale(state, found_inf, config);
//
// The rules are torch.amp.GradScaler's (ATen's _amp_foreach_non_finite_check_and_unscale_ and
// _amp_update_scale_). PyTorch keeps S in a float32 tensor, so S is always an fp32 value here too
// (stored in a double):
//
//   unscale:  inv = fp32(1 / S), the division done in double and rounded once. For every element:
//             found_inf |= (g is ±inf or NaN), tested on g *before* the multiplication; then
//             g ← g · inv in fp32. Every element is multiplied, also after a bad one was found.
//   update:   found_inf:  S ← fp32(S · backoff_factor), growth_tracker ← 0.
//             otherwise:  growth_tracker + 1; when that reaches growth_interval, S grows to
//                         fp32(S · growth_factor), unless that is inf (S then stays, at fp32's
//                         ceiling), and growth_tracker ← 0.
//             (fp32(x): the double product rounded to float, then held as a double.)
//
// Write, in exercises/ch10/loss_scaling.cpp:
//   10.2a  unscale_and_check()  multiply by 1/S and detect inf and NaN in the same pass
//   10.2b  update_scale()       back off or count, grow at the interval
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch10/exercise/LossScaling
#pragma once

#include <cstdint>
#include <span>

namespace gnm::ch10 {

/// How the scale moves, with torch.amp.GradScaler's defaults.
struct LossScaleConfig {
  double growth_factor = 2.0;           ///< S ← S·growth_factor at the interval; finite, > 1
  double backoff_factor = 0.5;          ///< S ← S·backoff_factor after an overflow; in (0, 1)
  std::int64_t growth_interval = 2000;  ///< good steps in a row before S grows; ≥ 1
};

/// The scaler's state between iterations (PyTorch's `_scale` and `_growth_tracker`).
struct LossScaleState {
  double scale = 65536.0;           ///< S, an fp32 value > 0 (2¹⁶ initially)
  std::int64_t growth_tracker = 0;  ///< good steps since S last changed; < growth_interval
};

/// Ex 10.2a. Multiplies every element of `grads` by fp32(1/scale), in place, and returns true
/// when any element was +inf, −inf or NaN before the multiplication.
///
/// Throws gnm::Error naming the scale unless 0 < scale ≤ FLT_MAX and fp32(1/scale) is finite.
/// Empty grads are valid: nothing changes and the result is false.
bool unscale_and_check(std::span<float> grads, double scale);

/// Ex 10.2b. Ends an iteration: backs off after an overflow (`found_inf`), otherwise counts a
/// good step and grows the scale when the count reaches config.growth_interval.
///
/// Throws gnm::Error naming the value (and leaves `state` alone) when `config` is outside the
/// ranges documented in LossScaleConfig, or `state` is not valid: scale must satisfy
/// 0 < scale ≤ FLT_MAX and growth_tracker must lie in [0, growth_interval).
void update_scale(LossScaleState& state, bool found_inf, const LossScaleConfig& config);

}  // namespace gnm::ch10
