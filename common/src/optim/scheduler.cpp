// Learning-rate schedulers (chapter 10.3), each written to reproduce
// torch.optim.lr_scheduler's arithmetic: the same formula, in double, in the same order.
//
// Note [Python rounds every product]
// Python evaluates `a * b + c` with two roundings. Our build lets the compiler fuse it into one
// FMA (GCC's default -ffp-contract=fast), which would move a rate by an ulp and, worse, decide
// whether OneCycleLR's phase boundary pct_start * total_steps - 1 is exactly 0 (0.1 * 10 - 1 is
// 0 in Python, 5.6e-17 as an FMA). So every product that is then added goes through rounded().
#include "gnm/optim/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "gnm/core/check.hpp"

namespace gnm::optim {
namespace {

using State = std::map<std::string, double>;

double get(const State& state, const std::string& key) {
  const auto it = state.find(key);
  GNM_CHECK(it != state.end(), "scheduler state: missing key '" + key + "'", state.size());
  return it->second;
}

// Counters travel as doubles (exact up to 2^53); anything else is a corrupt checkpoint.
std::int64_t get_integer(const State& state, const std::string& key) {
  const double v = get(state, key);
  constexpr double kLimit = 9007199254740992.0;  // 2^53
  GNM_CHECK(std::isfinite(v) && v == std::trunc(v) && std::fabs(v) <= kLimit,
            "scheduler state: '" + key + "' must be an integer", v);
  return static_cast<std::int64_t>(v);
}

double as_double(std::int64_t v) { return static_cast<double>(v); }

bool finite_nonnegative(double v) { return std::isfinite(v) && v >= 0.0; }

// Forces `v` to be rounded to double before its use (see the note): the compiler cannot fuse
// across a volatile store and load.
double rounded(double v) {
  volatile double r = v;
  return r;
}

}  // namespace

// ----------------------------------------------------------------------------- LrScheduler

LrScheduler::~LrScheduler() = default;

void LrScheduler::step() {
  // Compute first: a step that throws (OneCycleLR past its end) leaves the state unchanged.
  const double next = lr_at_step(step_ + 1);
  step_ += 1;
  lr_ = next;
}

std::map<std::string, double> LrScheduler::base_state() const {
  return {{"step", as_double(step_)}, {"lr", lr_}};
}

void LrScheduler::load_base_state(const std::map<std::string, double>& state,
                                  const std::map<std::string, double>& expected) {
  for (const auto& [key, value] : expected) get(state, key);  // names a missing key
  for (const auto& [key, value] : state) {
    GNM_CHECK(expected.count(key) != 0,
              "scheduler state: unexpected key '" + key + "' (a different scheduler's state?)",
              value);
  }
  const std::int64_t step = get_integer(state, "step");
  GNM_CHECK(step >= 0, "scheduler state: the step counter must be >= 0", step);
  const double lr = get(state, "lr");
  GNM_CHECK(std::isfinite(lr), "scheduler state: the learning rate must be finite", lr);
  step_ = step;
  lr_ = lr;
}

// ----------------------------------------------------------------------------------- StepLR

StepLR::StepLR(double base_lr, std::int64_t step_size, double gamma)
    : base_lr_(base_lr), step_size_(step_size), gamma_(gamma) {
  GNM_CHECK(finite_nonnegative(base_lr), "StepLR: base_lr must be finite and >= 0", base_lr);
  GNM_CHECK(step_size >= 1, "StepLR: step_size must be >= 1", step_size);
  GNM_CHECK(finite_nonnegative(gamma), "StepLR: gamma must be finite and >= 0", gamma);
  set_lr(base_lr);
}

//! [step_lr]
double StepLR::lr_at_step(std::int64_t step) const {
  // PyTorch's chainable form: the previous rate times gamma at every multiple of step_size.
  return step % step_size_ == 0 ? lr() * gamma_ : lr();
}
//! [step_lr]

std::map<std::string, double> StepLR::state() const {
  State s = base_state();
  s["base_lr"] = base_lr_;
  s["step_size"] = as_double(step_size_);
  s["gamma"] = gamma_;
  return s;
}

void StepLR::load_state(const std::map<std::string, double>& state) {
  StepLR restored(get(state, "base_lr"), get_integer(state, "step_size"), get(state, "gamma"));
  restored.load_base_state(state, restored.state());
  *this = restored;
}

// ------------------------------------------------------------------------- CosineWithWarmup

CosineWithWarmup::CosineWithWarmup(double base_lr, std::int64_t warmup_steps,
                                   std::int64_t total_steps, double min_lr, double start_factor)
    : base_lr_(base_lr),
      warmup_steps_(warmup_steps),
      total_steps_(total_steps),
      min_lr_(min_lr),
      start_factor_(start_factor) {
  GNM_CHECK(finite_nonnegative(base_lr), "CosineWithWarmup: base_lr must be finite and >= 0",
            base_lr);
  GNM_CHECK(finite_nonnegative(min_lr) && min_lr <= base_lr,
            "CosineWithWarmup: min_lr must lie in [0, base_lr]", min_lr, base_lr);
  GNM_CHECK(warmup_steps >= 0 && warmup_steps < total_steps,
            "CosineWithWarmup: need 0 <= warmup_steps < total_steps", warmup_steps, total_steps);
  GNM_CHECK(start_factor >= 0.0 && start_factor <= 1.0,
            "CosineWithWarmup: start_factor must lie in [0, 1]", start_factor);
  set_lr(lr_at_step(0));
}

//! [cosine_with_warmup]
double CosineWithWarmup::lr_at_step(std::int64_t step) const {
  if (step < warmup_steps_) {
    const double ramp = as_double(step) / as_double(warmup_steps_);
    return base_lr_ * (start_factor_ + rounded((1.0 - start_factor_) * ramp));
  }
  if (step > total_steps_) return min_lr_;
  const double progress =
      as_double(step - warmup_steps_) / as_double(total_steps_ - warmup_steps_);
  const double cosine = 1.0 + std::cos(std::numbers::pi * progress);
  return min_lr_ + rounded((base_lr_ - min_lr_) * 0.5 * cosine);
}
//! [cosine_with_warmup]

std::map<std::string, double> CosineWithWarmup::state() const {
  State s = base_state();
  s["base_lr"] = base_lr_;
  s["warmup_steps"] = as_double(warmup_steps_);
  s["total_steps"] = as_double(total_steps_);
  s["min_lr"] = min_lr_;
  s["start_factor"] = start_factor_;
  return s;
}

void CosineWithWarmup::load_state(const std::map<std::string, double>& state) {
  CosineWithWarmup restored(get(state, "base_lr"), get_integer(state, "warmup_steps"),
                            get_integer(state, "total_steps"), get(state, "min_lr"),
                            get(state, "start_factor"));
  restored.load_base_state(state, restored.state());
  *this = restored;
}

// ------------------------------------------------------------------------------- OneCycleLR

namespace {

struct Phase {
  double end_step;
  double start_lr;
  double end_lr;
};

// PyTorch's _schedule_phases for one parameter group. Phase boundaries are fractional steps.
struct Phases {
  Phase phase[3];
  int count;
};

Phases one_cycle_phases(double max_lr, std::int64_t total_steps, const OneCycleOptions& o) {
  const double initial_lr = max_lr / o.div_factor;
  const double min_lr = initial_lr / o.final_div_factor;
  const double total = as_double(total_steps);
  if (o.three_phase) {
    return {{{rounded(o.pct_start * total) - 1.0, initial_lr, max_lr},
             {rounded(2.0 * o.pct_start * total) - 2.0, max_lr, initial_lr},
             {total - 1.0, initial_lr, min_lr}},
            3};
  }
  return {{{rounded(o.pct_start * total) - 1.0, initial_lr, max_lr},
           {total - 1.0, max_lr, min_lr}},
          2};
}

}  // namespace

OneCycleLR::OneCycleLR(double max_lr, std::int64_t total_steps, const OneCycleOptions& opts)
    : max_lr_(max_lr), total_steps_(total_steps), opts_(opts) {
  GNM_CHECK(finite_nonnegative(max_lr), "OneCycleLR: max_lr must be finite and >= 0", max_lr);
  GNM_CHECK(total_steps >= 1, "OneCycleLR: total_steps must be >= 1", total_steps);
  GNM_CHECK(opts.pct_start >= 0.0 && opts.pct_start <= 1.0,
            "OneCycleLR: pct_start must lie in [0, 1]", opts.pct_start);
  GNM_CHECK(std::isfinite(opts.div_factor) && opts.div_factor > 0.0,
            "OneCycleLR: div_factor must be finite and > 0", opts.div_factor);
  GNM_CHECK(std::isfinite(opts.final_div_factor) && opts.final_div_factor > 0.0,
            "OneCycleLR: final_div_factor must be finite and > 0", opts.final_div_factor);
  const Phases phases = one_cycle_phases(max_lr, total_steps, opts);
  double start = 0.0;
  for (int i = 0; i < phases.count; ++i) {
    // PyTorch would raise ZeroDivisionError on the first step inside such a phase.
    GNM_CHECK(phases.phase[i].end_step != start,
              "OneCycleLR: a phase of zero length (pct_start * total_steps == 1, or "
              "pct_start == 1)",
              i, opts.pct_start, total_steps);
    start = phases.phase[i].end_step;
  }
  set_lr(lr_at_step(0));
}

//! [one_cycle_lr]
double OneCycleLR::lr_at_step(std::int64_t step) const {
  GNM_CHECK(step <= total_steps_, "OneCycleLR: stepped past the end of the schedule", step,
            total_steps_);
  const Phases phases = one_cycle_phases(max_lr_, total_steps_, opts_);
  const auto k = as_double(step);
  double start_step = 0.0;
  for (int i = 0; i < phases.count; ++i) {
    const Phase& ph = phases.phase[i];
    if (k <= ph.end_step || i == phases.count - 1) {
      const double pct = (k - start_step) / (ph.end_step - start_step);
      if (opts_.anneal == AnnealStrategy::linear) {
        return rounded((ph.end_lr - ph.start_lr) * pct) + ph.start_lr;
      }
      const double cos_out = std::cos(std::numbers::pi * pct) + 1.0;
      return ph.end_lr + rounded((ph.start_lr - ph.end_lr) / 2.0 * cos_out);
    }
    start_step = ph.end_step;
  }
  return lr();  // not reached: the last phase always answers
}
//! [one_cycle_lr]

std::map<std::string, double> OneCycleLR::state() const {
  State s = base_state();
  s["max_lr"] = max_lr_;
  s["total_steps"] = as_double(total_steps_);
  s["pct_start"] = opts_.pct_start;
  s["anneal_linear"] = opts_.anneal == AnnealStrategy::linear ? 1.0 : 0.0;
  s["div_factor"] = opts_.div_factor;
  s["final_div_factor"] = opts_.final_div_factor;
  s["three_phase"] = opts_.three_phase ? 1.0 : 0.0;
  return s;
}

void OneCycleLR::load_state(const std::map<std::string, double>& state) {
  OneCycleOptions o;
  o.pct_start = get(state, "pct_start");
  o.anneal = get(state, "anneal_linear") != 0.0 ? AnnealStrategy::linear : AnnealStrategy::cos;
  o.div_factor = get(state, "div_factor");
  o.final_div_factor = get(state, "final_div_factor");
  o.three_phase = get(state, "three_phase") != 0.0;
  OneCycleLR restored(get(state, "max_lr"), get_integer(state, "total_steps"), o);
  restored.load_base_state(state, restored.state());
  GNM_CHECK(restored.last_step() <= restored.total_steps_,
            "OneCycleLR state: the step counter is past total_steps", restored.last_step(),
            restored.total_steps_);
  *this = restored;
}

// ------------------------------------------------------------------------ ReduceLROnPlateau

ReduceLROnPlateau::ReduceLROnPlateau(double initial_lr, const PlateauOptions& opts)
    : opts_(opts),
      best_(opts.mode == PlateauMode::min ? std::numeric_limits<double>::infinity()
                                          : -std::numeric_limits<double>::infinity()) {
  GNM_CHECK(finite_nonnegative(initial_lr), "ReduceLROnPlateau: the rate must be finite and >= 0",
            initial_lr);
  GNM_CHECK(opts.factor >= 0.0 && opts.factor < 1.0,
            "ReduceLROnPlateau: factor must lie in [0, 1)", opts.factor);
  GNM_CHECK(opts.patience >= 0, "ReduceLROnPlateau: patience must be >= 0", opts.patience);
  GNM_CHECK(opts.cooldown >= 0, "ReduceLROnPlateau: cooldown must be >= 0", opts.cooldown);
  GNM_CHECK(finite_nonnegative(opts.threshold),
            "ReduceLROnPlateau: threshold must be finite and >= 0", opts.threshold);
  GNM_CHECK(finite_nonnegative(opts.min_lr), "ReduceLROnPlateau: min_lr must be finite and >= 0",
            opts.min_lr);
  GNM_CHECK(finite_nonnegative(opts.eps), "ReduceLROnPlateau: eps must be finite and >= 0",
            opts.eps);
  set_lr(initial_lr);
}

double ReduceLROnPlateau::lr_at_step(std::int64_t step) const {
  GNM_CHECK(false, "ReduceLROnPlateau advances on a metric: call step(metric)", step);
  return lr();
}

bool ReduceLROnPlateau::is_better(double metric) const {
  const bool rel = opts_.threshold_mode == ThresholdMode::rel;
  if (opts_.mode == PlateauMode::min) {
    return rel ? metric < best_ * (1.0 - opts_.threshold) : metric < best_ - opts_.threshold;
  }
  return rel ? metric > best_ * (opts_.threshold + 1.0) : metric > best_ + opts_.threshold;
}

//! [plateau_step]
void ReduceLROnPlateau::step(double metric) {
  set_last_step(last_step() + 1);
  if (is_better(metric)) {
    best_ = metric;
    num_bad_steps_ = 0;
  } else {
    num_bad_steps_ += 1;
  }
  if (cooldown_counter_ > 0) {  // bad steps right after a reduction do not count
    cooldown_counter_ -= 1;
    num_bad_steps_ = 0;
  }
  if (num_bad_steps_ > opts_.patience) {
    const double old_lr = lr();
    const double new_lr = std::max(old_lr * opts_.factor, opts_.min_lr);
    if (old_lr - new_lr > opts_.eps) set_lr(new_lr);
    cooldown_counter_ = opts_.cooldown;
    num_bad_steps_ = 0;
  }
}
//! [plateau_step]

std::map<std::string, double> ReduceLROnPlateau::state() const {
  State s = base_state();
  s["mode_max"] = opts_.mode == PlateauMode::max ? 1.0 : 0.0;
  s["factor"] = opts_.factor;
  s["patience"] = as_double(opts_.patience);
  s["threshold"] = opts_.threshold;
  s["threshold_abs"] = opts_.threshold_mode == ThresholdMode::abs ? 1.0 : 0.0;
  s["cooldown"] = as_double(opts_.cooldown);
  s["min_lr"] = opts_.min_lr;
  s["eps"] = opts_.eps;
  s["best"] = best_;
  s["num_bad_steps"] = as_double(num_bad_steps_);
  s["cooldown_counter"] = as_double(cooldown_counter_);
  return s;
}

void ReduceLROnPlateau::load_state(const std::map<std::string, double>& state) {
  PlateauOptions o;
  o.mode = get(state, "mode_max") != 0.0 ? PlateauMode::max : PlateauMode::min;
  o.factor = get(state, "factor");
  o.patience = get_integer(state, "patience");
  o.threshold = get(state, "threshold");
  o.threshold_mode = get(state, "threshold_abs") != 0.0 ? ThresholdMode::abs : ThresholdMode::rel;
  o.cooldown = get_integer(state, "cooldown");
  o.min_lr = get(state, "min_lr");
  o.eps = get(state, "eps");
  ReduceLROnPlateau restored(1.0, o);
  restored.load_base_state(state, restored.state());
  const double best = get(state, "best");
  GNM_CHECK(!std::isnan(best), "ReduceLROnPlateau state: best must not be NaN", best);
  restored.best_ = best;
  restored.num_bad_steps_ = get_integer(state, "num_bad_steps");
  restored.cooldown_counter_ = get_integer(state, "cooldown_counter");
  GNM_CHECK(restored.num_bad_steps_ >= 0 && restored.cooldown_counter_ >= 0,
            "ReduceLROnPlateau state: counters must be >= 0", restored.num_bad_steps_,
            restored.cooldown_counter_);
  *this = restored;
}

}  // namespace gnm::optim
