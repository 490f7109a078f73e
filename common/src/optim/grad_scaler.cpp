// Dynamic loss scaling (chapter 10.4): torch.amp.GradScaler's update rule
// (ATen's _amp_update_scale_) and its unscale step (_amp_foreach_non_finite_check_and_unscale_).
#include "gnm/optim/grad_scaler.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "gnm/core/check.hpp"

namespace gnm::optim {
namespace {

using State = std::map<std::string, double>;

double get(const State& state, const std::string& key) {
  const auto it = state.find(key);
  GNM_CHECK(it != state.end(), "GradScaler state: missing key '" + key + "'", state.size());
  return it->second;
}

std::int64_t get_integer(const State& state, const std::string& key) {
  const double v = get(state, key);
  constexpr double kLimit = 9007199254740992.0;  // 2^53: doubles hold integers exactly below it
  GNM_CHECK(std::isfinite(v) && v == std::trunc(v) && std::fabs(v) <= kLimit,
            "GradScaler state: '" + key + "' must be an integer", v);
  return static_cast<std::int64_t>(v);
}

}  // namespace

GradScaler::GradScaler(double init_scale, double growth_factor, double backoff_factor,
                       std::int64_t growth_interval, bool enabled)
    : scale_(static_cast<float>(init_scale)),
      growth_factor_(growth_factor),
      backoff_factor_(backoff_factor),
      growth_interval_(growth_interval),
      enabled_(enabled) {
  if (!enabled) return;  // PyTorch checks nothing for a disabled scaler
  // The scale lives in fp32 (PyTorch keeps it in a float32 tensor), so it must survive the cast.
  GNM_CHECK(std::isfinite(scale_) && scale_ > 0.0f,
            "GradScaler: init_scale must be > 0 and finite in fp32", init_scale);
  GNM_CHECK(std::isfinite(growth_factor) && growth_factor > 1.0,
            "GradScaler: growth_factor must be finite and > 1", growth_factor);
  GNM_CHECK(backoff_factor > 0.0 && backoff_factor < 1.0,
            "GradScaler: backoff_factor must lie in (0, 1)", backoff_factor);
  GNM_CHECK(growth_interval >= 1, "GradScaler: growth_interval must be >= 1", growth_interval);
}

//! [unscale_and_check]
bool GradScaler::unscale_and_check(std::span<const std::span<float>> grads) const {
  if (!enabled_) return false;
  // PyTorch takes the reciprocal in double and rounds it once ("FP32 division can be imprecise
  // for certain compile options"); for a power-of-two scale it is exact anyway.
  const auto inv_scale = static_cast<float>(1.0 / static_cast<double>(scale_));
  constexpr float kMax = std::numeric_limits<float>::max();
  bool found_inf = false;
  for (const auto& g : grads) {
    bool bad = false;
    for (float& x : g) {
      bad |= !(std::fabs(x) <= kMax);  // true for ±inf and NaN; a branch-free, vectorisable test
      x *= inv_scale;
    }
    found_inf = found_inf || bad;
  }
  return found_inf;
}
//! [unscale_and_check]

//! [grad_scaler_update]
void GradScaler::update(bool found_inf) {
  if (!enabled_) return;
  if (found_inf) {
    // fp32 scale times a double factor, rounded back to fp32 (ATen's _amp_update_scale_).
    scale_ = static_cast<float>(static_cast<double>(scale_) * backoff_factor_);
    growth_tracker_ = 0;
    skipped_steps_ += 1;
    return;
  }
  const std::int64_t successful = growth_tracker_ + 1;
  if (successful == growth_interval_) {
    const auto grown = static_cast<float>(static_cast<double>(scale_) * growth_factor_);
    if (std::isfinite(grown)) scale_ = grown;  // at fp32's ceiling the scale just stays
    growth_tracker_ = 0;
  } else {
    growth_tracker_ = successful;
  }
}
//! [grad_scaler_update]

std::map<std::string, double> GradScaler::state() const {
  return {{"scale", static_cast<double>(scale_)},
          {"growth_factor", growth_factor_},
          {"backoff_factor", backoff_factor_},
          {"growth_interval", static_cast<double>(growth_interval_)},
          {"growth_tracker", static_cast<double>(growth_tracker_)},
          {"skipped_steps", static_cast<double>(skipped_steps_)},
          {"enabled", enabled_ ? 1.0 : 0.0}};
}

void GradScaler::load_state(const std::map<std::string, double>& state) {
  const State expected = this->state();
  for (const auto& [key, value] : expected) get(state, key);  // names a missing key
  for (const auto& [key, value] : state) {
    GNM_CHECK(expected.count(key) != 0, "GradScaler state: unexpected key '" + key + "'", value);
  }
  GradScaler restored(get(state, "scale"), get(state, "growth_factor"),
                      get(state, "backoff_factor"), get_integer(state, "growth_interval"),
                      get(state, "enabled") != 0.0);
  restored.growth_tracker_ = get_integer(state, "growth_tracker");
  restored.skipped_steps_ = get_integer(state, "skipped_steps");
  GNM_CHECK(restored.growth_tracker_ >= 0 && restored.skipped_steps_ >= 0,
            "GradScaler state: counters must be >= 0", restored.growth_tracker_,
            restored.skipped_steps_);
  GNM_CHECK(!restored.enabled_ || restored.growth_tracker_ < restored.growth_interval_,
            "GradScaler state: growth_tracker must be below growth_interval",
            restored.growth_tracker_, restored.growth_interval_);
  *this = restored;
}

}  // namespace gnm::optim
