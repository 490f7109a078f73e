// The mixed-precision step (chapter 10.4): GradScaler's unscale-and-check on the .grad tensors
// of an optimizer's parameters, the skip, and the scale update.
#include "gnm/optim/amp.hpp"

#include <cmath>
#include <span>

#include "gnm/autograd/node.hpp"
#include "gnm/core/check.hpp"
#include "gnm/tensor/ops.hpp"

namespace gnm::optim {

Tensor scale_loss(const Tensor& loss, const GradScaler& scaler) {
  GNM_CHECK(loss.defined(), "scale_loss: the loss is undefined", scaler.scale());
  GNM_CHECK(is_floating(loss.dtype()), "scale_loss: the loss needs a floating dtype",
            dtype_name(loss.dtype()));
  if (!scaler.enabled()) return loss;
  return mul(loss, scaler.scale());
}

//! [unscale_grads]
bool unscale_grads(const GradScaler& scaler, const std::vector<Tensor>& params) {
  if (!scaler.enabled()) return false;
  const autograd::NoGradGuard no_grad;
  // Host f32 gradients go to the span kernel in one call; the rest are unscaled with tensor ops.
  std::vector<std::span<float>> host;
  std::vector<Tensor> other;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (!g.defined() || g.numel() == 0) continue;
    if (!g.is_cuda() && g.dtype() == DType::f32 && g.is_contiguous()) {
      host.emplace_back(g.data<float>(), static_cast<std::size_t>(g.numel()));
    } else {
      other.push_back(g);
    }
  }
  bool found_inf = scaler.unscale_and_check(host);
  if (other.empty()) return found_inf;
  // The same fp32 reciprocal as the span kernel; mul() rounds it to the gradient's dtype.
  const double inv_scale = static_cast<double>(static_cast<float>(1.0 / scaler.scale()));
  // g·0 is ±0 for finite g and NaN for ±inf or NaN, so Σ g·0 is exactly 0 or NaN: a finite check
  // with no risk of the sum overflowing. The probes add up on the first gradient's device, so
  // item() synchronises once.
  Tensor poison;
  for (Tensor& g : other) {
    const Tensor probe = sum(mul(g, 0.0)).to(DType::f32);
    poison = poison.defined() ? add(poison, probe.to(poison.device())) : probe;
    g.copy_(mul(g, inv_scale));  // in place: the .grad keeps its identity (aliases stay valid)
  }
  found_inf = found_inf || !std::isfinite(poison.item());
  return found_inf;
}
//! [unscale_grads]

//! [amp_step]
bool amp_step(GradScaler& scaler, Optimizer& opt) {
  const bool found_inf = unscale_grads(scaler, opt.params());
  if (!found_inf) opt.step();
  scaler.update(found_inf);
  return !found_inf;
}
//! [amp_step]

}  // namespace gnm::optim
