// Tensor-level optimizers: per-parameter state on the parameter's device, the span kernels of
// update.cpp on the CPU and their CUDA twins (cuda/update.cu) on a GPU, state dicts for
// checkpoints, and clipping over .grad tensors.
#include "gnm/optim/optimizer.hpp"

#include <cmath>
#include <set>
#include <span>

#include "gnm/autograd/node.hpp"
#include "gnm/core/check.hpp"
#include "gnm/tensor/ops.hpp"

#if GNM_HAVE_CUDA
namespace gnm::optim::cuda_detail {
// Defined in cuda/update.cu (device pointers to n floats; unused state pointers may be null).
void sgd_update_cuda(int device, std::int64_t n, float* p, const float* g, float* buf,
                     const SgdOptions& opts, bool first_step);
void adam_update_cuda(int device, std::int64_t n, float* p, const float* g, float* m, float* v,
                      float* v_max, const AdamOptions& opts, std::int64_t step);
void rmsprop_update_cuda(int device, std::int64_t n, float* p, const float* g, float* square_avg,
                         float* momentum_buffer, float* grad_avg, const RmsPropOptions& opts);
}  // namespace gnm::optim::cuda_detail
#endif

namespace gnm::optim {

namespace {

bool valid_lr(double lr) { return std::isfinite(lr) && lr >= 0.0; }

float* f32_ptr(const Tensor& t) { return static_cast<float*>(t.data_ptr()); }

std::span<float> span_of(const Tensor& t) {
  return {f32_ptr(t), static_cast<std::size_t>(t.numel())};
}

// The parameter as a contiguous tensor to update: itself, or a copy written back by `finish`.
struct Workspace {
  Tensor param;  // what the kernel writes
  Tensor grad;   // contiguous gradient
  void finish(const Tensor& p) const {
    if (!param.is_same(p)) Tensor(p).copy_(param);
  }
};

Workspace workspace(const Tensor& p) {
  return {p.is_contiguous() ? p : p.contiguous(), p.grad().contiguous()};
}

std::string state_key(std::size_t index, const std::string& name) {
  return "state." + std::to_string(index) + "." + name;
}

bool flag(const std::map<std::string, double>& s, const char* key) { return s.at(key) != 0.0; }

}  // namespace

// ---- Optimizer ----------------------------------------------------------------------------------

Optimizer::Optimizer(std::vector<Tensor> params, double lr)
    : state_(params.size()), params_(std::move(params)), lr_(lr) {
  GNM_CHECK(valid_lr(lr), "optimizer: the learning rate must be finite and >= 0", lr);
  std::set<const TensorImpl*> seen;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    GNM_CHECK(p.defined(), "optimizer: parameter is an undefined tensor", i);
    GNM_CHECK(p.is_leaf() && p.requires_grad(),
              "optimizer: parameters must be leaf tensors that require grad", i);
    GNM_CHECK(p.dtype() == DType::f32,
              "optimizer: parameters must be f32 (keep f32 master weights for lower precisions)",
              i, dtype_name(p.dtype()));
    GNM_CHECK(seen.insert(p.impl_ptr().get()).second,
              "optimizer: a parameter appears twice in the list", i);
  }
}

Optimizer::~Optimizer() = default;

void Optimizer::zero_grad() {
  for (const Tensor& p : params_) Tensor(p).set_grad(Tensor());
}

void Optimizer::set_lr(double lr) {
  GNM_CHECK(valid_lr(lr), "optimizer: the learning rate must be finite and >= 0", lr);
  lr_ = lr;
}

void Optimizer::update_each_param(const ParamUpdate& update) {
  autograd::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    if (!p.grad().defined()) continue;  // as PyTorch: a parameter without a gradient is skipped
    ParamState& st = state_for(i);
    const Workspace w = workspace(p);
    update(w.param, w.grad, st);
    w.finish(p);
    ++st.step;
  }
  ++step_count_;
}

Optimizer::ParamState& Optimizer::state_for(std::size_t index) {
  const Tensor& p = params_[index];
  const Tensor g = p.grad();
  // Module::to(dtype) may have converted a parameter after the optimizer was built.
  GNM_CHECK(p.dtype() == DType::f32, "optimizer: parameter is not f32", index,
            dtype_name(p.dtype()));
  GNM_CHECK(g.dtype() == DType::f32 && g.shape() == p.shape() && g.device() == p.device(),
            "optimizer: the gradient does not match its parameter", index, dtype_name(g.dtype()),
            shape_str(g.shape()), shape_str(p.shape()), g.device().str(), p.device().str());
  ParamState& st = state_[index];
  for (const std::string& name : buffer_names()) {
    auto it = st.buffers.find(name);
    if (it == st.buffers.end()) {
      st.buffers.emplace(name, zeros(p.shape(), {.dtype = DType::f32, .device = p.device()}));
      continue;
    }
    GNM_CHECK(it->second.device() == p.device(),
              "optimizer: state is on another device than its parameter (move the model before "
              "creating the optimizer)",
              index, name, it->second.device().str(), p.device().str());
  }
  return st;
}

OptimizerState Optimizer::state_dict() const {
  OptimizerState out;
  out.scalars = options_state();
  out.scalars["lr"] = lr_;
  out.scalars["step_count"] = static_cast<double>(step_count_);
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (state_[i].step == 0 && state_[i].buffers.empty()) continue;  // never stepped
    out.scalars[state_key(i, "step")] = static_cast<double>(state_[i].step);
    for (const auto& [name, t] : state_[i].buffers) out.tensors.emplace_back(state_key(i, name), t);
  }
  return out;
}

void Optimizer::check_state_dict(const OptimizerState& state) const {
  // Scalars: exactly the option keys, lr, step_count and some state.<i>.step.
  std::map<std::string, double> expected = options_state();
  expected["lr"] = 0;
  expected["step_count"] = 0;
  std::set<std::size_t> stepped;
  const auto parse_index = [&](const std::string& key, std::string& rest) -> std::size_t {
    // "state.<i>.<rest>"
    GNM_CHECK(key.rfind("state.", 0) == 0, "optimizer state: unexpected key", key, name());
    const std::size_t dot = key.find('.', 6);
    GNM_CHECK(dot != std::string::npos && dot > 6, "optimizer state: malformed key", key);
    const std::string digits = key.substr(6, dot - 6);
    GNM_CHECK(digits.find_first_not_of("0123456789") == std::string::npos && digits.size() < 10,
              "optimizer state: malformed parameter index", key);
    const std::size_t i = std::stoul(digits);
    GNM_CHECK(i < params_.size(), "optimizer state: parameter index out of range", key,
              params_.size());
    rest = key.substr(dot + 1);
    return i;
  };
  for (const auto& [key, value] : state.scalars) {
    if (expected.count(key) != 0) continue;
    std::string rest;
    const std::size_t i = parse_index(key, rest);
    GNM_CHECK(rest == "step", "optimizer state: unexpected scalar", key, name());
    GNM_CHECK(std::isfinite(value) && value >= 0 && value == std::floor(value),
              "optimizer state: a step count must be a non-negative integer", key, value);
    stepped.insert(i);
  }
  for (const auto& [key, value] : expected) {
    GNM_CHECK(state.scalars.count(key) != 0, "optimizer state: missing scalar", key, name());
  }
  GNM_CHECK(valid_lr(state.scalars.at("lr")), "optimizer state: bad learning rate",
            state.scalars.at("lr"));
  const double steps = state.scalars.at("step_count");
  GNM_CHECK(std::isfinite(steps) && steps >= 0 && steps == std::floor(steps),
            "optimizer state: step_count must be a non-negative integer", steps);

  // Tensors: state.<i>.<buffer> for a stepped parameter, f32, its parameter's shape.
  std::set<std::string> seen;
  for (const auto& [key, t] : state.tensors) {
    GNM_CHECK(seen.insert(key).second, "optimizer state: duplicate tensor", key);
    std::string buffer;
    const std::size_t i = parse_index(key, buffer);
    GNM_CHECK(stepped.count(i) != 0, "optimizer state: a buffer without a step count", key);
    GNM_CHECK(t.defined() && t.dtype() == DType::f32, "optimizer state: buffers must be f32", key,
              t.defined() ? std::string(dtype_name(t.dtype())) : std::string("undefined"));
    GNM_CHECK_SHAPE(t.shape() == params_[i].shape(),
                    "optimizer state: the buffer's shape is not its parameter's", key,
                    shape_str(t.shape()), shape_str(params_[i].shape()));
  }
  // Which buffers a stepped parameter must have depends on the options being loaded (momentum,
  // amsgrad, centered): load_state_dict checks that once the options are known.
}

void Optimizer::load_state_dict(const OptimizerState& state) {
  check_state_dict(state);
  // Validate the options and the buffer set before changing anything: remember the current
  // options, load the new ones (which validates them), check the buffer names, roll back on error.
  const std::map<std::string, double> old_options = options_state();
  std::map<std::string, double> new_options;
  for (const auto& [key, value] : old_options) new_options[key] = state.scalars.at(key);
  load_options_state(new_options);
  try {
    const std::vector<std::string> names = buffer_names();
    std::set<std::string> have;
    for (const auto& [key, t] : state.tensors) have.insert(key);
    for (const auto& [key, value] : state.scalars) {
      if (key.rfind("state.", 0) != 0) continue;
      const std::string index = key.substr(6, key.find('.', 6) - 6);
      for (const std::string& n : names) {
        GNM_CHECK(have.erase("state." + index + "." + n) == 1,
                  "optimizer state: a stepped parameter lacks a buffer", key, n, name());
      }
    }
    GNM_CHECK(have.empty(), "optimizer state: a buffer these options do not use",
              have.empty() ? std::string() : *have.begin(), name());
  } catch (...) {
    load_options_state(old_options);
    throw;
  }

  autograd::NoGradGuard no_grad;
  std::vector<ParamState> fresh(params_.size());
  for (const auto& [key, value] : state.scalars) {
    if (key.rfind("state.", 0) != 0) continue;
    const std::size_t i = std::stoul(key.substr(6, key.find('.', 6) - 6));
    fresh[i].step = static_cast<std::int64_t>(value);
  }
  for (const auto& [key, t] : state.tensors) {
    const std::size_t dot = key.find('.', 6);
    const std::size_t i = std::stoul(key.substr(6, dot - 6));
    // A private contiguous copy on the parameter's device: the caller's tensors stay untouched.
    Tensor buf = zeros(params_[i].shape(), {.dtype = DType::f32, .device = params_[i].device()});
    buf.copy_(t.detach());
    fresh[i].buffers.emplace(key.substr(dot + 1), buf);
  }
  state_ = std::move(fresh);
  lr_ = state.scalars.at("lr");
  step_count_ = static_cast<std::int64_t>(state.scalars.at("step_count"));
}

// ---- SGD ----------------------------------------------------------------------------------------

SGD::SGD(std::vector<Tensor> params, const SgdOptions& opts)
    : Optimizer(std::move(params), opts.lr), opts_(opts) {
  validate(opts_);
}

SgdOptions SGD::options() const {
  SgdOptions o = opts_;
  o.lr = lr();
  return o;
}

std::vector<std::string> SGD::buffer_names() const {
  if (opts_.momentum != 0.0) return {"momentum_buffer"};
  return {};
}

std::map<std::string, double> SGD::options_state() const {
  return {{"momentum", opts_.momentum},         {"dampening", opts_.dampening},
          {"weight_decay", opts_.weight_decay}, {"nesterov", opts_.nesterov ? 1.0 : 0.0},
          {"maximize", opts_.maximize ? 1.0 : 0.0}};
}

void SGD::load_options_state(const std::map<std::string, double>& s) {
  SgdOptions o = opts_;
  o.momentum = s.at("momentum");
  o.dampening = s.at("dampening");
  o.weight_decay = s.at("weight_decay");
  o.nesterov = flag(s, "nesterov");
  o.maximize = flag(s, "maximize");
  validate(o);
  opts_ = o;
}

void SGD::step() {
  const SgdOptions o = options();
  validate(o);
  update_each_param([&](const Tensor& p, const Tensor& g, ParamState& st) {
    const bool first = st.step == 0;
    Tensor buf = o.momentum != 0.0 ? st.buffers.at("momentum_buffer") : Tensor();
    if (p.is_cuda()) {
#if GNM_HAVE_CUDA
      cuda_detail::sgd_update_cuda(p.device().index, p.numel(), f32_ptr(p), f32_ptr(g),
                                   buf.defined() ? f32_ptr(buf) : nullptr, o, first);
#endif
    } else {
      sgd_update(span_of(p), span_of(g), buf.defined() ? span_of(buf) : std::span<float>(), o,
                 first);
    }
  });
}

// ---- Adam / AdamW -------------------------------------------------------------------------------

Adam::Adam(std::vector<Tensor> params, const AdamOptions& opts)
    : Optimizer(std::move(params), opts.lr), opts_(opts) {
  validate(opts_);
}

AdamOptions Adam::options() const {
  AdamOptions o = opts_;
  o.lr = lr();
  return o;
}

std::vector<std::string> Adam::buffer_names() const {
  if (opts_.amsgrad) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}

std::map<std::string, double> Adam::options_state() const {
  return {{"beta1", opts_.beta1},
          {"beta2", opts_.beta2},
          {"eps", opts_.eps},
          {"weight_decay", opts_.weight_decay},
          {"decoupled_weight_decay", opts_.decoupled_weight_decay ? 1.0 : 0.0},
          {"amsgrad", opts_.amsgrad ? 1.0 : 0.0},
          {"maximize", opts_.maximize ? 1.0 : 0.0}};
}

void Adam::load_options_state(const std::map<std::string, double>& s) {
  AdamOptions o = opts_;
  o.beta1 = s.at("beta1");
  o.beta2 = s.at("beta2");
  o.eps = s.at("eps");
  o.weight_decay = s.at("weight_decay");
  GNM_CHECK(flag(s, "decoupled_weight_decay") == opts_.decoupled_weight_decay,
            "optimizer state: Adam and AdamW states are not interchangeable", name());
  o.amsgrad = flag(s, "amsgrad");
  o.maximize = flag(s, "maximize");
  validate(o);
  opts_ = o;
}

void Adam::step() {
  const AdamOptions o = options();
  validate(o);
  update_each_param([&](const Tensor& p, const Tensor& g, ParamState& st) {
    const std::int64_t t = st.step + 1;
    const Tensor& m = st.buffers.at("exp_avg");
    const Tensor& v = st.buffers.at("exp_avg_sq");
    const Tensor vmax = o.amsgrad ? st.buffers.at("max_exp_avg_sq") : Tensor();
    if (p.is_cuda()) {
#if GNM_HAVE_CUDA
      cuda_detail::adam_update_cuda(p.device().index, p.numel(), f32_ptr(p), f32_ptr(g),
                                    f32_ptr(m), f32_ptr(v),
                                    vmax.defined() ? f32_ptr(vmax) : nullptr, o, t);
#endif
    } else {
      adam_update(span_of(p), span_of(g), span_of(m), span_of(v),
                  vmax.defined() ? span_of(vmax) : std::span<float>(), o, t);
    }
  });
}

AdamW::AdamW(std::vector<Tensor> params, AdamOptions opts)
    : Adam(std::move(params), [&] {
        opts.decoupled_weight_decay = true;
        return opts;
      }()) {}

// ---- RMSProp ------------------------------------------------------------------------------------

RMSProp::RMSProp(std::vector<Tensor> params, const RmsPropOptions& opts)
    : Optimizer(std::move(params), opts.lr), opts_(opts) {
  validate(opts_);
}

RmsPropOptions RMSProp::options() const {
  RmsPropOptions o = opts_;
  o.lr = lr();
  return o;
}

std::vector<std::string> RMSProp::buffer_names() const {
  std::vector<std::string> names{"square_avg"};
  if (opts_.momentum > 0.0) names.emplace_back("momentum_buffer");
  if (opts_.centered) names.emplace_back("grad_avg");
  return names;
}

std::map<std::string, double> RMSProp::options_state() const {
  return {{"alpha", opts_.alpha},
          {"eps", opts_.eps},
          {"weight_decay", opts_.weight_decay},
          {"momentum", opts_.momentum},
          {"centered", opts_.centered ? 1.0 : 0.0},
          {"maximize", opts_.maximize ? 1.0 : 0.0}};
}

void RMSProp::load_options_state(const std::map<std::string, double>& s) {
  RmsPropOptions o = opts_;
  o.alpha = s.at("alpha");
  o.eps = s.at("eps");
  o.weight_decay = s.at("weight_decay");
  o.momentum = s.at("momentum");
  o.centered = flag(s, "centered");
  o.maximize = flag(s, "maximize");
  validate(o);
  opts_ = o;
}

void RMSProp::step() {
  const RmsPropOptions o = options();
  validate(o);
  update_each_param([&](const Tensor& p, const Tensor& g, ParamState& st) {
    const Tensor& s = st.buffers.at("square_avg");
    const Tensor buf = o.momentum > 0.0 ? st.buffers.at("momentum_buffer") : Tensor();
    const Tensor avg = o.centered ? st.buffers.at("grad_avg") : Tensor();
    if (p.is_cuda()) {
#if GNM_HAVE_CUDA
      cuda_detail::rmsprop_update_cuda(p.device().index, p.numel(), f32_ptr(p), f32_ptr(g),
                                       f32_ptr(s),
                                       buf.defined() ? f32_ptr(buf) : nullptr,
                                       avg.defined() ? f32_ptr(avg) : nullptr, o);
#endif
    } else {
      rmsprop_update(span_of(p), span_of(g), span_of(s),
                     buf.defined() ? span_of(buf) : std::span<float>(),
                     avg.defined() ? span_of(avg) : std::span<float>(), o);
    }
  });
}

// ---- clipping -----------------------------------------------------------------------------------

namespace {

std::vector<Tensor> defined_grads(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params) {
    if (!p.defined()) continue;
    Tensor g = p.grad();
    if (g.defined() && g.numel() > 0) grads.push_back(std::move(g));
  }
  return grads;
}

// True when every gradient can be handed to the span kernels as it is.
bool all_host_f32(const std::vector<Tensor>& grads) {
  for (const Tensor& g : grads)
    if (g.is_cuda() || g.dtype() != DType::f32 || !g.is_contiguous()) return false;
  return true;
}

std::vector<std::span<float>> spans_of(const std::vector<Tensor>& grads) {
  std::vector<std::span<float>> out;
  for (const Tensor& g : grads) out.push_back(span_of(g));
  return out;
}

}  // namespace

//! [clip_grad_norm_]
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  autograd::NoGradGuard no_grad;
  const std::vector<Tensor> grads = defined_grads(params);
  if (all_host_f32(grads)) {
    const auto spans = spans_of(grads);
    return clip_grad_norm(spans, max_norm, norm_type, error_if_nonfinite);
  }
  GNM_CHECK(max_norm >= 0.0, "clip_grad_norm_: max_norm must be >= 0", max_norm);
  GNM_CHECK(norm_type > 0.0, "clip_grad_norm_: norm_type must be > 0 (or infinity)", norm_type);
  // Other devices and dtypes: reduce each gradient in f64 on its own device (one scalar comes
  // back per tensor), combine here exactly as the span kernel does.
  const bool inf_norm = std::isinf(norm_type);
  double total = 0.0;
  bool saw_nan = false;
  for (const Tensor& g : grads) {
    const Tensor a = abs(g.to(DType::f64));
    if (inf_norm) {
      const double m = max(a).item();
      saw_nan = saw_nan || std::isnan(m);
      total = m > total ? m : total;
    } else {
      total += (norm_type == 1.0   ? sum(a)
                : norm_type == 2.0 ? sum(square(a))
                                   : sum(pow(a, norm_type)))
                   .item();
    }
  }
  if (inf_norm && saw_nan) total = std::nan("");
  if (!inf_norm) {
    total = norm_type == 1.0 ? total : norm_type == 2.0 ? std::sqrt(total)
                                                        : std::pow(total, 1.0 / norm_type);
  }
  GNM_CHECK(!error_if_nonfinite || std::isfinite(total),
            "clip_grad_norm_: the total norm of the gradients is not finite", total, norm_type);
  const float coef = clip_coefficient(total, max_norm);  // the span kernel's (PyTorch's)
  if (coef != 1.0f) {
    for (const Tensor& g : grads) Tensor(g).copy_(mul(g, static_cast<double>(coef)));
  }
  return total;
}
//! [clip_grad_norm_]

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  autograd::NoGradGuard no_grad;
  const std::vector<Tensor> grads = defined_grads(params);
  if (all_host_f32(grads)) {
    const auto spans = spans_of(grads);
    clip_grad_value(spans, clip_value);
    return;
  }
  GNM_CHECK(clip_value >= 0.0, "clip_grad_value_: clip_value must be >= 0", clip_value);
  for (const Tensor& g : grads) Tensor(g).copy_(clamp(g, -clip_value, clip_value));
}

}  // namespace gnm::optim
