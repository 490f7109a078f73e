/// \file
/// Learning-rate schedulers with PyTorch's semantics (chapter 10.3): StepLR, cosine with linear
/// warmup, OneCycleLR and ReduceLROnPlateau.
///
/// A scheduler is a scalar state machine: lr() is the learning rate to use for the next
/// optimizer step, step() advances it by one (call it once after each optimizer step, as with
/// torch.optim.lr_scheduler), and state()/load_state() let a checkpoint resume it mid-way with
/// the identical sequence. The sequences match PyTorch's (tests/fixtures/ch10/sched_*.json,
/// made by scripts/fixtures/ch10_optim.py).
///
/// \code
/// gnm::optim::CosineWithWarmup sched(3e-4, /*warmup_steps=*/100, /*total_steps=*/1000, 1e-5);
/// for (int i = 0; i < 1000; ++i) {
///   opts.lr = sched.lr();
///   train_step(opts);
///   sched.step();
/// }
/// \endcode
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace gnm::optim {

/// Base of the schedulers: a step counter (PyTorch's `last_epoch`) and the current rate.
class LrScheduler {
 public:
  virtual ~LrScheduler();

  /// The learning rate for the next optimizer step (PyTorch's `get_last_lr()[0]`).
  double lr() const noexcept { return lr_; }
  /// How many times step() has been called since construction (PyTorch's `last_epoch`).
  std::int64_t last_step() const noexcept { return step_; }
  /// Advances the schedule by one step and updates lr().
  /// \throws gnm::Error when the schedule cannot advance (OneCycleLR past its total, or
  ///         ReduceLROnPlateau, which needs step(metric))
  void step();

  /// Everything needed to resume: the counters, the current rate and the hyper-parameters.
  virtual std::map<std::string, double> state() const = 0;
  /// Restores a state() of the same kind of scheduler; afterwards lr() and every later step
  /// match the scheduler that saved it.
  /// \throws gnm::Error naming a missing or unexpected key or an invalid value
  virtual void load_state(const std::map<std::string, double>& state) = 0;

 protected:
  LrScheduler() = default;
  LrScheduler(const LrScheduler&) = default;             ///< copyable by derived classes
  LrScheduler& operator=(const LrScheduler&) = default;  ///< assignable by derived classes

  /// The rate after the step counter has become `step` (lr() still holds the previous rate).
  virtual double lr_at_step(std::int64_t step) const = 0;
  /// Sets lr() (used by constructors for step 0 and by step-on-metric schedulers).
  void set_lr(double lr) noexcept { lr_ = lr; }
  /// Sets the step counter.
  void set_last_step(std::int64_t step) noexcept { step_ = step; }
  /// The base state ("step", "lr") into which derived classes add their own keys.
  std::map<std::string, double> base_state() const;
  /// Checks that `state` has exactly the keys of `expected` (naming the first difference), then
  /// restores "step" (a non-negative integer) and "lr" (finite).
  void load_base_state(const std::map<std::string, double>& state,
                       const std::map<std::string, double>& expected);

 private:
  std::int64_t step_ = 0;
  double lr_ = 0.0;
};

/// torch.optim.lr_scheduler.StepLR: multiplies the rate by `gamma` every `step_size` steps.
/// Like PyTorch it multiplies the previous rate (not base_lr · gamma^k), so both accumulate the
/// same rounding.
class StepLR final : public LrScheduler {
 public:
  /// \throws gnm::Error unless base_lr >= 0, step_size >= 1 and gamma >= 0, all finite
  StepLR(double base_lr, std::int64_t step_size, double gamma = 0.1);
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& state) override;

 private:
  double lr_at_step(std::int64_t step) const override;
  double base_lr_;
  std::int64_t step_size_;
  double gamma_;
};

/// Linear warmup from start_factor · base_lr to base_lr over `warmup_steps` steps, then a cosine
/// from base_lr down to min_lr at step `total_steps`, then min_lr. In closed form, for step k:
/// k < W: base · (f + (1 − f)·k/W); W ≤ k ≤ T: min + (base − min)·(1 + cos(π(k − W)/(T − W)))/2;
/// k > T: min. PyTorch has no single class for it; the tests compare with
/// LambdaLR(lambda k: lr(k) / base_lr) exactly and with
/// SequentialLR([LinearLR(f, 1, W), CosineAnnealingLR(T − W, min)], [W]) (when f > 0) within
/// that composition's recursive drift.
class CosineWithWarmup final : public LrScheduler {
 public:
  /// \throws gnm::Error unless 0 <= min_lr <= base_lr, 0 <= warmup_steps < total_steps and
  ///         start_factor in [0, 1], all finite
  CosineWithWarmup(double base_lr, std::int64_t warmup_steps, std::int64_t total_steps,
                   double min_lr = 0.0, double start_factor = 0.0);
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& state) override;

 private:
  double lr_at_step(std::int64_t step) const override;
  double base_lr_;
  std::int64_t warmup_steps_;
  std::int64_t total_steps_;
  double min_lr_;
  double start_factor_;
};

/// How OneCycleLR moves between two rates.
enum class AnnealStrategy {
  cos,    ///< half a cosine (PyTorch's default)
  linear  ///< a straight line
};

/// OneCycleLR's options with PyTorch's defaults.
struct OneCycleOptions {
  double pct_start = 0.3;          ///< fraction of the steps spent increasing the rate, [0, 1]
  AnnealStrategy anneal = AnnealStrategy::cos;  ///< shape of each phase
  double div_factor = 25.0;        ///< initial rate = max_lr / div_factor
  double final_div_factor = 1e4;   ///< final rate = initial rate / final_div_factor
  bool three_phase = false;        ///< up, back down to the initial rate, then to the final one
};

/// torch.optim.lr_scheduler.OneCycleLR (the rate only; momentum cycling is left to the caller).
/// Like PyTorch, the schedule may be stepped exactly total_steps times; one more throws.
class OneCycleLR final : public LrScheduler {
 public:
  /// \throws gnm::Error unless max_lr >= 0, total_steps >= 1, pct_start in [0, 1], the divide
  ///         factors > 0 (all finite) and no phase has zero length (PyTorch would divide by 0)
  OneCycleLR(double max_lr, std::int64_t total_steps, const OneCycleOptions& opts = {});
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& state) override;

 private:
  double lr_at_step(std::int64_t step) const override;
  double max_lr_;
  std::int64_t total_steps_;
  OneCycleOptions opts_;
};

/// Whether a smaller or a larger metric is better for ReduceLROnPlateau.
enum class PlateauMode {
  min,  ///< a loss: lower is better
  max   ///< an accuracy: higher is better
};

/// How ReduceLROnPlateau's threshold is measured.
enum class ThresholdMode {
  rel,  ///< better means beyond best · (1 ∓ threshold)
  abs   ///< better means beyond best ∓ threshold
};

/// ReduceLROnPlateau's options with PyTorch's defaults.
struct PlateauOptions {
  PlateauMode mode = PlateauMode::min;                ///< which direction is better
  double factor = 0.1;                                ///< new rate = rate · factor, in [0, 1)
  std::int64_t patience = 10;                         ///< bad steps tolerated before reducing
  double threshold = 1e-4;                            ///< how much better counts as better
  ThresholdMode threshold_mode = ThresholdMode::rel;  ///< relative or absolute threshold
  std::int64_t cooldown = 0;  ///< steps after a reduction during which bad steps are ignored
  double min_lr = 0.0;        ///< the rate never goes below this
  double eps = 1e-8;          ///< reductions smaller than this are skipped
};

/// torch.optim.lr_scheduler.ReduceLROnPlateau: reduces the rate when a metric stops improving.
/// It advances only with step(metric); the plain step() throws.
class ReduceLROnPlateau final : public LrScheduler {
 public:
  /// \throws gnm::Error unless initial_lr >= 0, factor in [0, 1), patience, cooldown >= 0 and
  ///         threshold, min_lr, eps >= 0, all finite
  explicit ReduceLROnPlateau(double initial_lr, const PlateauOptions& opts = {});
  using LrScheduler::step;
  /// Records this step's metric (e.g. the validation loss) and reduces lr() if it has not
  /// improved for more than `patience` steps. A NaN metric counts as not better.
  void step(double metric);
  /// The best metric seen so far (+inf or −inf before the first step).
  double best() const noexcept { return best_; }
  /// Consecutive steps without improvement, as PyTorch's `num_bad_epochs`.
  std::int64_t num_bad_steps() const noexcept { return num_bad_steps_; }
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& state) override;

 private:
  double lr_at_step(std::int64_t step) const override;
  bool is_better(double metric) const;
  PlateauOptions opts_;
  double best_;
  std::int64_t num_bad_steps_ = 0;
  std::int64_t cooldown_counter_ = 0;
};

}  // namespace gnm::optim
