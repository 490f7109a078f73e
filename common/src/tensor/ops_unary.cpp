// The elementwise unary ops and activations of chapter 9.3 (neg … sigmoid, clamp) with their
// backward rules (9.5). Each op: check the dtype, compute into a fresh contiguous tensor with the
// CPU or CUDA kernel, record a node that saves x or y (whichever its rule needs).
#include <cmath>

#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"
#include "kernels.hpp"
#include "kernels_unary.hpp"

namespace gnm {

namespace {

using kernels::UnaryOp;

// The names PyTorch gives these nodes (square is pow(x, 2) there).
const char* backward_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::neg: return "NegBackward0";
    case UnaryOp::exp: return "ExpBackward0";
    case UnaryOp::log: return "LogBackward0";
    case UnaryOp::sqrt: return "SqrtBackward0";
    case UnaryOp::abs: return "AbsBackward0";
    case UnaryOp::square: return "PowBackward0";
    case UnaryOp::relu: return "ReluBackward0";
    case UnaryOp::gelu:
    case UnaryOp::gelu_tanh: return "GeluBackward0";
    case UnaryOp::silu: return "SiluBackward0";
    case UnaryOp::tanh: return "TanhBackward0";
    case UnaryOp::sigmoid: return "SigmoidBackward0";
  }
  return "UnaryBackward";
}

class UnaryBackward final : public autograd::Node {
 public:
  UnaryOp op = UnaryOp::neg;
  Tensor saved;  // y for unary_backward_uses_output(op), x otherwise

  std::string name() const override { return backward_name(op); }

  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    const Tensor& g = grads[0];
    Tensor gi = empty(saved.shape(), {.dtype = saved.dtype(), .device = saved.device()});
    if (gi.numel() > 0)
      kernels::run_on(
          gi, [&] { kernels::unary_backward_cpu(op, gi, g, saved); },
          [&] {
#if GNM_HAVE_CUDA
            kernels::unary_backward_cuda(op, gi, g, saved);
#endif
          });
    return {gi};
  }

  void release() override {
    saved = Tensor();
    Node::release();
  }
};

Tensor unary(UnaryOp op, const Tensor& x) {
  const bool any_numeric = op == UnaryOp::neg || op == UnaryOp::abs;
  GNM_CHECK(x.dtype() != DType::boolean, "op is not defined for bool tensors",
            kernels::unary_name(op));
  GNM_CHECK(any_numeric || is_floating(x.dtype()), "op needs a floating dtype",
            kernels::unary_name(op), dtype_name(x.dtype()));
  Tensor out = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() > 0)
    kernels::run_on(
        x, [&] { kernels::unary_cpu(op, out, x); },
        [&] {
#if GNM_HAVE_CUDA
          kernels::unary_cuda(op, out, x);
#endif
        });
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<UnaryBackward>();
    node->op = op;
    node->saved = kernels::unary_backward_uses_output(op) ? out.detach() : x.detach();
    autograd::set_history(node, {&x}, {&out});
  }
  return out;
}

class ClampBackward final : public autograd::Node {
 public:
  kernels::ClampBounds bounds;
  Tensor x;

  std::string name() const override { return "ClampBackward1"; }

  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    const Tensor& g = grads[0];
    Tensor gi = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
    if (gi.numel() > 0)
      kernels::run_on(
          gi, [&] { kernels::clamp_backward_cpu(gi, g, x, bounds); },
          [&] {
#if GNM_HAVE_CUDA
            kernels::clamp_backward_cuda(gi, g, x, bounds);
#endif
          });
    return {gi};
  }

  void release() override {
    x = Tensor();
    Node::release();
  }
};

}  // namespace

Tensor neg(const Tensor& x) { return unary(UnaryOp::neg, x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::exp, x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::log, x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::sqrt, x); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::abs, x); }
Tensor square(const Tensor& x) { return unary(UnaryOp::square, x); }
Tensor relu(const Tensor& x) { return unary(UnaryOp::relu, x); }
Tensor gelu(const Tensor& x, bool tanh_approximation) {
  return unary(tanh_approximation ? UnaryOp::gelu_tanh : UnaryOp::gelu, x);
}
Tensor silu(const Tensor& x) { return unary(UnaryOp::silu, x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::sigmoid, x); }

Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  GNM_CHECK(lo.has_value() || hi.has_value(), "clamp needs at least one of lo and hi");
  GNM_CHECK(is_floating(x.dtype()), "op needs a floating dtype", "clamp", dtype_name(x.dtype()));
  GNM_CHECK(!(lo && std::isnan(*lo)) && !(hi && std::isnan(*hi)), "clamp bounds must not be NaN",
            lo.value_or(0.0), hi.value_or(0.0));
  kernels::ClampBounds b;
  b.has_lo = lo.has_value();
  b.has_hi = hi.has_value();
  b.lo = lo.value_or(0.0);
  b.hi = hi.value_or(0.0);
  // lo > hi clamps everything to hi, as torch.clamp does (the hi test runs last).
  Tensor out = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() > 0)
    kernels::run_on(
        x, [&] { kernels::clamp_cpu(out, x, b); },
        [&] {
#if GNM_HAVE_CUDA
          kernels::clamp_cuda(out, x, b);
#endif
        });
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<ClampBackward>();
    node->bounds = b;
    node->x = x.detach();
    autograd::set_history(node, {&x}, {&out});
  }
  return out;
}

}  // namespace gnm
