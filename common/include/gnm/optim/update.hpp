/// \file
/// Optimizer update kernels on flat fp32 spans: SGD, Adam/AdamW and RMSProp, plus gradient
/// clipping (chapter 10.2–10.3).
///
/// Each function updates one parameter tensor in place, given its gradient and its state
/// buffers, with exactly the arithmetic of PyTorch 2.x's single-tensor CPU path
/// (`torch.optim.*(..., foreach=False)`): the same operations in the same order, in fp32, with the
/// scalar hyper-parameters combined in double and rounded to float where PyTorch does, and fused
/// multiply-adds exactly where PyTorch's CPU kernels use them. A trajectory therefore matches
/// PyTorch's to a few units in the last place (tests/common/test_optim_update.cpp replays
/// fixtures made by scripts/fixtures/ch10_optim.py).
///
/// The kernels allocate nothing and know nothing of tensors: the engine's Optimizer classes own
/// the state buffers and call these once per parameter. The spans must not overlap (checked).
///
/// \code
/// gnm::optim::AdamOptions opts = gnm::optim::adamw_defaults();
/// opts.lr = 3e-4;
/// for (std::int64_t step = 1; step <= steps; ++step) {
///   compute_gradient(w, g);
///   gnm::optim::adam_update(w, g, m, v, {}, opts, step);
/// }
/// \endcode
#pragma once

#include <cstdint>
#include <span>

/// Optimizers, learning-rate schedulers, gradient clipping and loss scaling (chapter 10).
namespace gnm::optim {

/// Hyper-parameters of stochastic gradient descent, as torch.optim.SGD names them.
struct SgdOptions {
  double lr = 1e-3;            ///< learning rate (>= 0)
  double momentum = 0.0;       ///< momentum factor (>= 0); 0 disables the momentum buffer
  double dampening = 0.0;      ///< dampening of the gradient added to the buffer (not on step 1)
  double weight_decay = 0.0;   ///< L2 penalty (>= 0), added to the gradient as weight_decay * p
  bool nesterov = false;       ///< Nesterov momentum (needs momentum > 0 and dampening == 0)
  bool maximize = false;       ///< ascend the objective instead of descending it
};

/// Hyper-parameters of Adam and AdamW, as torch.optim.Adam names them.
struct AdamOptions {
  double lr = 1e-3;            ///< learning rate (>= 0)
  double beta1 = 0.9;          ///< decay of the first-moment average, in [0, 1)
  double beta2 = 0.999;        ///< decay of the second-moment average, in [0, 1)
  double eps = 1e-8;           ///< added to the denominator (>= 0)
  double weight_decay = 0.0;   ///< L2 penalty (Adam) or decoupled decay (AdamW), >= 0
  bool decoupled_weight_decay = false;  ///< AdamW: p *= 1 - lr * weight_decay before the step
  bool amsgrad = false;        ///< normalise by the running maximum of the second moment
  bool maximize = false;       ///< ascend the objective instead of descending it
};

/// torch.optim.AdamW's defaults: AdamOptions with decoupled weight decay 1e-2 (Adam's is 0).
AdamOptions adamw_defaults();

/// Hyper-parameters of RMSProp, as torch.optim.RMSprop names them.
struct RmsPropOptions {
  double lr = 1e-2;            ///< learning rate (>= 0)
  double alpha = 0.99;         ///< decay of the squared-gradient average, in [0, 1]
  double eps = 1e-8;           ///< added to the denominator (>= 0)
  double weight_decay = 0.0;   ///< L2 penalty (>= 0)
  double momentum = 0.0;       ///< momentum factor (>= 0); 0 disables the momentum buffer
  bool centered = false;       ///< normalise by an estimate of the variance (needs grad_avg)
  bool maximize = false;       ///< ascend the objective instead of descending it
};

/// Throws gnm::Error naming the offending value unless `opts` is valid: lr, momentum and
/// weight_decay >= 0 and finite, dampening finite, nesterov only with momentum > 0 and
/// dampening == 0 (PyTorch's rules, plus rejecting NaN and infinity).
void validate(const SgdOptions& opts);
/// Throws gnm::Error naming the offending value unless lr, eps, weight_decay >= 0 and finite and
/// beta1, beta2 lie in [0, 1).
void validate(const AdamOptions& opts);
/// Throws gnm::Error naming the offending value unless lr, eps, weight_decay, momentum >= 0 and
/// finite and alpha lies in [0, 1].
void validate(const RmsPropOptions& opts);

/// One SGD step on one parameter, in place (torch.optim.SGD, foreach=False):
/// g = ±grad + weight_decay·p; with momentum, buf = g on the first step, otherwise
/// buf = momentum·buf + (1 − dampening)·g, and g = buf (or g + momentum·buf for Nesterov);
/// finally p −= lr·g.
///
/// \param param           the parameter (n), updated in place
/// \param grad            its gradient (n), not modified
/// \param momentum_buffer the momentum state (n) when momentum != 0, otherwise empty
/// \param opts            hyper-parameters (validated)
/// \param first_step      true on the parameter's first step: the buffer is initialised to g
/// \throws gnm::ShapeError when a span's length differs from the parameter's (naming both)
/// \throws gnm::Error for invalid options or overlapping spans
void sgd_update(std::span<float> param, std::span<const float> grad,
                std::span<float> momentum_buffer, const SgdOptions& opts, bool first_step);

/// One Adam or AdamW step on one parameter, in place (torch.optim.Adam/AdamW, foreach=False):
/// m = lerp(m, g, 1 − β1), v = β2·v + (1 − β2)·g², then
/// p −= lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + eps), with v replaced by max(v_max, v) under
/// amsgrad. Weight decay is added to g (Adam) or applied as p *= 1 − lr·wd first (AdamW).
///
/// \param param          the parameter (n), updated in place
/// \param grad           its gradient (n), not modified
/// \param exp_avg        first moment m (n), zero before step 1
/// \param exp_avg_sq     second moment v (n), zero before step 1
/// \param max_exp_avg_sq running maximum of v (n) when amsgrad, otherwise empty
/// \param opts           hyper-parameters (validated)
/// \param step           the step number t, 1 on the first step
/// \throws gnm::ShapeError when a span's length differs from the parameter's (naming both)
/// \throws gnm::Error for invalid options, step < 1 or overlapping spans
void adam_update(std::span<float> param, std::span<const float> grad, std::span<float> exp_avg,
                 std::span<float> exp_avg_sq, std::span<float> max_exp_avg_sq,
                 const AdamOptions& opts, std::int64_t step);

/// One RMSProp step on one parameter, in place (torch.optim.RMSprop, foreach=False):
/// s = α·s + (1 − α)·g², d = √s + eps (centered: a = lerp(a, g, 1 − α), d = √(s − a²) + eps);
/// then p −= lr·g/d, or with momentum b = momentum·b + g/d and p −= lr·b.
///
/// \param param           the parameter (n), updated in place
/// \param grad            its gradient (n), not modified
/// \param square_avg      the squared-gradient average s (n), zero before the first step
/// \param momentum_buffer b (n), zero before the first step, when momentum > 0; otherwise empty
/// \param grad_avg        the gradient average a (n), zero before the first step, when centered;
///                        otherwise empty
/// \param opts            hyper-parameters (validated)
/// \throws gnm::ShapeError when a span's length differs from the parameter's (naming both)
/// \throws gnm::Error for invalid options or overlapping spans
void rmsprop_update(std::span<float> param, std::span<const float> grad,
                    std::span<float> square_avg, std::span<float> momentum_buffer,
                    std::span<float> grad_avg, const RmsPropOptions& opts);

/// Scales the gradients in place so that their joint p-norm is at most `max_norm`
/// (torch.nn.utils.clip_grad_norm_): every element is multiplied by
/// min(1, max_norm / (total_norm + 1e-6)), computed in fp32 as PyTorch does.
///
/// \param grads              the gradients, seen as one long vector
/// \param max_norm           the largest norm allowed (>= 0)
/// \param norm_type          p > 0, or infinity for the largest magnitude
/// \param error_if_nonfinite throw gnm::Error (and leave the gradients alone) when the total
///                           norm is NaN or infinite; otherwise they are scaled like PyTorch
///                           does (an infinite norm zeroes the finite entries)
/// \return the total norm before clipping (accumulated in double), 0 for no gradients
/// \throws gnm::Error for a negative or NaN max_norm, or a norm_type that is not > 0
double clip_grad_norm(std::span<const std::span<float>> grads, double max_norm,
                      double norm_type = 2.0, bool error_if_nonfinite = false);

/// Clamps every gradient element to [−clip_value, clip_value] in place
/// PyTorch's clipping coefficient in fp32, shared by every clip_grad_norm path:
/// reciprocal(total_norm + 1e-6) · max_norm, clamped to at most 1 (NaN stays NaN).
float clip_coefficient(double total_norm, double max_norm);

/// (torch.nn.utils.clip_grad_value_); NaN entries stay NaN.
///
/// \throws gnm::Error when clip_value is negative or NaN
void clip_grad_value(std::span<const std::span<float>> grads, double clip_value);

}  // namespace gnm::optim
