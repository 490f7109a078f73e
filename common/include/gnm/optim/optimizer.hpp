/// \file
/// Tensor-level optimizers (chapter 10.2): SGD, Adam, AdamW and RMSProp over a list of parameter
/// tensors, with the update arithmetic of the span kernels in gnm/optim/update.hpp (PyTorch's
/// trajectories to the last bit or so) on the CPU and the same arithmetic in CUDA kernels for
/// parameters on a GPU; plus clip_grad_norm_ / clip_grad_value_ on tensors.
///
/// \code
/// gnm::optim::Adam opt(model->parameters(), {.lr = 1e-3});
/// for (auto& [x, y] : loader.epoch(e)) {
///   opt.zero_grad();
///   gnm::Tensor loss = gnm::cross_entropy(model->forward(x), y);
///   loss.backward();
///   gnm::optim::clip_grad_norm_(model->parameters(), 1.0);
///   opt.step();
/// }
/// \endcode
///
/// As in PyTorch: a parameter whose .grad is undefined is skipped (its state is not created or
/// advanced); state buffers are created on a parameter's first step, on its device; every update
/// runs under no_grad. Parameters must be f32 (mixed precision keeps f32 master weights); any
/// other dtype is a gnm::Error naming it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gnm/optim/update.hpp"
#include "gnm/tensor/tensor.hpp"

namespace gnm::optim {

/// Everything an optimizer needs to resume: named state tensors per parameter index
/// ("state.3.exp_avg", PyTorch's state[3]["exp_avg"]) and scalars ("lr", "step_count",
/// hyper-parameters, and per parameter "state.3.step").
struct OptimizerState {
  std::vector<std::pair<std::string, Tensor>> tensors{};  ///< State buffers (aliases, not copies).
  std::map<std::string, double> scalars{};                ///< Counters and hyper-parameters.
};

/// The base of the optimizers: the parameter list, per-parameter state, the step counter and the
/// learning rate.
class Optimizer {
 public:
  /// Optimizes `params` (defined, f32 leaves that require grad; a tensor listed twice is a
  /// gnm::Error) starting from learning rate `lr` (finite, >= 0).
  Optimizer(std::vector<Tensor> params, double lr);
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;             ///< Owns state tied to parameters.
  Optimizer& operator=(const Optimizer&) = delete;  ///< Owns state tied to parameters.

  /// PyTorch's class name ("SGD", "Adam", "AdamW", "RMSprop"); saved in checkpoints.
  virtual std::string name() const = 0;
  /// One update of every parameter that has a gradient; then step_count() grows by one.
  virtual void step() = 0;
  /// Sets every parameter's .grad to undefined (PyTorch's set_to_none = True).
  void zero_grad();

  /// The learning rate of the next step.
  double lr() const noexcept { return lr_; }
  /// Sets the learning rate (a scheduler calls this each step); gnm::Error unless finite, >= 0.
  void set_lr(double lr);
  /// How many times step() has run.
  std::int64_t step_count() const noexcept { return step_count_; }
  /// The parameters, in the order given to the constructor (state indices refer to it).
  const std::vector<Tensor>& params() const noexcept { return params_; }

  /// The state: tensors "state.<i>.<buffer>" (aliasing the live buffers; copy before mutating)
  /// and scalars "lr", "step_count", the hyper-parameters, "state.<i>.step".
  OptimizerState state_dict() const;
  /// Throws unless `state` could be loaded: gnm::Error naming a missing or unexpected scalar or
  /// tensor, a parameter index out of range, or a hyper-parameter that fails validation;
  /// gnm::ShapeError naming a buffer whose shape is not its parameter's; gnm::Error for a dtype
  /// other than f32.
  void check_state_dict(const OptimizerState& state) const;
  /// Restores a state_dict() of the same kind of optimizer over parameters of the same shapes
  /// (checked first with check_state_dict; nothing changes when it throws). Buffers are copied
  /// to each parameter's device. Afterwards every step matches the optimizer that saved it.
  void load_state_dict(const OptimizerState& state);

 protected:
  /// One parameter's state: its buffers by PyTorch's names, and how many steps it has taken.
  struct ParamState {
    std::map<std::string, Tensor> buffers;  ///< e.g. "exp_avg", "exp_avg_sq".
    std::int64_t step = 0;                  ///< Steps this parameter has taken.
  };
  /// The hyper-parameters as scalars (e.g. "momentum", "nesterov" as 0/1).
  virtual std::map<std::string, double> options_state() const = 0;
  /// Restores options_state() (keys already checked); validates and throws on a bad value.
  virtual void load_options_state(const std::map<std::string, double>& state) = 0;
  /// The buffer names parameter state has after a step, for the current options.
  virtual std::vector<std::string> buffer_names() const = 0;
  /// What a step does to one parameter: `param` and `grad` are contiguous f32 tensors on the
  /// parameter's device (`param` may be a copy that is written back afterwards), `state` has every
  /// buffer of buffer_names() and the step count before this step.
  using ParamUpdate =
      std::function<void(const Tensor& param, const Tensor& grad, ParamState& state)>;
  /// The step skeleton shared by every optimizer: under NoGradGuard, for each parameter that has a
  /// .grad, checks it and creates missing buffers (zeros), runs `update`, writes a non-contiguous
  /// parameter back, counts the parameter's step; then counts the optimizer's step.
  void update_each_param(const ParamUpdate& update);
  /// Checks parameter `index` (f32, its grad of the same shape and device) and returns its state,
  /// with every buffer of buffer_names() created (zeros) on the parameter's device when missing.
  ParamState& state_for(std::size_t index);
  /// Per-parameter state, indexed like params().
  std::vector<ParamState> state_;

 private:
  std::vector<Tensor> params_;
  double lr_;
  std::int64_t step_count_ = 0;
};

/// torch.optim.SGD: momentum, dampening, Nesterov, weight decay, maximize (see sgd_update). State:
/// "momentum_buffer" when momentum != 0.
class SGD final : public Optimizer {
 public:
  /// `opts` validated like sgd_update's; its lr becomes lr().
  SGD(std::vector<Tensor> params, const SgdOptions& opts);
  std::string name() const override { return "SGD"; }  ///< "SGD".
  void step() override;                                  ///< One SGD update.
  /// The options (lr is lr()).
  SgdOptions options() const;

 private:
  std::map<std::string, double> options_state() const override;
  void load_options_state(const std::map<std::string, double>& state) override;
  std::vector<std::string> buffer_names() const override;
  SgdOptions opts_;
};

/// torch.optim.Adam, or AdamW when opts.decoupled_weight_decay (see adam_update). State:
/// "exp_avg", "exp_avg_sq", and "max_exp_avg_sq" under amsgrad.
class Adam : public Optimizer {
 public:
  /// `opts` validated like adam_update's; its lr becomes lr().
  Adam(std::vector<Tensor> params, const AdamOptions& opts);
  /// "AdamW" with decoupled weight decay, else "Adam".
  std::string name() const override { return opts_.decoupled_weight_decay ? "AdamW" : "Adam"; }
  void step() override;  ///< One Adam update.
  /// The options (lr is lr()).
  AdamOptions options() const;

 private:
  std::map<std::string, double> options_state() const override;
  void load_options_state(const std::map<std::string, double>& state) override;
  std::vector<std::string> buffer_names() const override;
  AdamOptions opts_;
};

/// torch.optim.AdamW: Adam with decoupled weight decay, PyTorch's defaults (weight_decay 1e-2).
class AdamW final : public Adam {
 public:
  /// `opts` with decoupled_weight_decay forced on.
  AdamW(std::vector<Tensor> params, AdamOptions opts = adamw_defaults());
};

/// torch.optim.RMSprop (see rmsprop_update). State: "square_avg", "momentum_buffer" when
/// momentum > 0, "grad_avg" when centered.
class RMSProp final : public Optimizer {
 public:
  /// `opts` validated like rmsprop_update's; its lr becomes lr().
  RMSProp(std::vector<Tensor> params, const RmsPropOptions& opts);
  std::string name() const override { return "RMSprop"; }  ///< "RMSprop", PyTorch's spelling.
  void step() override;                                      ///< One RMSProp update.
  /// The options (lr is lr()).
  RmsPropOptions options() const;

 private:
  std::map<std::string, double> options_state() const override;
  void load_options_state(const std::map<std::string, double>& state) override;
  std::vector<std::string> buffer_names() const override;
  RmsPropOptions opts_;
};

/// torch.nn.utils.clip_grad_norm_ on the .grad of `params` (those without one are ignored):
/// scales every gradient by min(1, max_norm / (total + 1e-6)) in place and returns the total
/// norm before clipping. f32 CPU gradients go through optim::clip_grad_norm (PyTorch's fp32
/// arithmetic); others (CUDA, f64, bf16, f16) are reduced in f64 on their device and scaled
/// with the same fp32 coefficient. gnm::Error as clip_grad_norm, and when `error_if_nonfinite`
/// and the norm is NaN or infinite.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

/// torch.nn.utils.clip_grad_value_: clamps every .grad element of `params` into
/// [−clip_value, clip_value] in place. gnm::Error when clip_value is negative or NaN.
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

}  // namespace gnm::optim
