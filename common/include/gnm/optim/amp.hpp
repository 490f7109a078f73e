/// \file
/// The mixed-precision training step (chapter 10.4): dynamic loss scaling on the .grad tensors of
/// an optimizer's fp32 master weights, with GradScaler's rules (torch.amp.GradScaler's
/// scale → unscale_ → step → update).
///
/// Why scale: under fp16 autocast (gnm/tensor/autocast.hpp) the backward of every GEMM runs in
/// fp16, whose smallest subnormal is 2⁻²⁴ ≈ 6·10⁻⁸. The gradient of a mean loss over a batch of
/// 128 is already 1/128 of a per-sample one, and gradients of deep layers are smaller still:
/// below ~3·10⁻⁸ they round to zero and that part of the model stops learning. Multiplying the
/// loss by S (2¹⁶ by default) multiplies every gradient by S on the way down; the fp32 .grad is
/// divided by S before the step, so the update is unchanged. Too large an S overflows fp16's
/// 65504 instead: the gradients hold inf or NaN, the step is skipped and S halves. After
/// growth_interval clean steps S doubles again, so it hovers just below overflow.
/// bf16 has fp32's range and needs no scaling (a scaler constructed with enabled = false makes
/// the same loop a plain one).
///
/// \code
/// gnm::optim::GradScaler scaler;                  // S = 65536, ×2 every 2000 clean steps
/// opt.zero_grad();
/// gnm::Tensor loss;
/// {
///   gnm::AutocastGuard autocast(gnm::DType::f16);
///   loss = gnm::cross_entropy(model->forward(x), y);  // f32 loss from an f16 forward
/// }
/// gnm::optim::scale_loss(loss, scaler).backward();  // gradients carry the factor S
/// const bool stepped = gnm::optim::amp_step(scaler, opt);  // false: inf/NaN, step skipped
/// \endcode
///
/// With gradient clipping, unscale first, clip the true gradients, then step and update:
/// \code
/// const bool found_inf = gnm::optim::unscale_grads(scaler, opt.params());
/// gnm::optim::clip_grad_norm_(opt.params(), 1.0);
/// if (!found_inf) opt.step();
/// scaler.update(found_inf);
/// \endcode
#pragma once

#include <vector>

#include "gnm/optim/grad_scaler.hpp"
#include "gnm/optim/optimizer.hpp"
#include "gnm/tensor/tensor.hpp"

namespace gnm::optim {

/// `loss` · scaler.scale() (differentiable; `loss` itself when the scaler is disabled). The scale
/// is a power of two under the default factors, so the product is exact unless it overflows:
/// an f16 loss above 1 times 2¹⁶ is inf in f16, one reason losses are on autocast's fp32 list.
/// \throws gnm::Error for an undefined or non-floating `loss`
Tensor scale_loss(const Tensor& loss, const GradScaler& scaler);

/// Divides the .grad of every parameter in `params` by scaler.scale() in place (multiplying by
/// the fp32 reciprocal, as PyTorch does) and returns whether any gradient element was inf or NaN.
/// Parameters without a .grad are skipped; a disabled scaler touches nothing and returns false.
/// Contiguous f32 CPU gradients go through GradScaler::unscale_and_check; others (CUDA, other
/// dtypes, strided) through tensor ops, with one device synchronisation for the whole list: the
/// check is sum(g·0) over all gradients, which is 0 when every element is finite and NaN
/// otherwise (exact and unable to overflow, unlike a sum of g). Runs under no_grad.
bool unscale_grads(const GradScaler& scaler, const std::vector<Tensor>& params);

/// One mixed-precision optimizer step: unscale_grads(scaler, opt.params()), then opt.step()
/// unless a gradient held inf or NaN, then scaler.update(found_inf). Returns whether the step
/// was taken. A skipped step leaves every parameter and all optimizer state (step_count, moments)
/// untouched; the gradients are unscaled either way (zero_grad them before the next backward).
bool amp_step(GradScaler& scaler, Optimizer& opt);

}  // namespace gnm::optim
