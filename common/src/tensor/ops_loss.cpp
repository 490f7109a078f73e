// softmax, log_softmax, cross_entropy and mse_loss (chapter 9.3) with their backward rules (9.5).
//
// Backward rules (g = output gradient, y = output):
//   softmax:      dx = y·(g − Σ g·y)             (along the softmax dim)
//   log_softmax:  dx = g − exp(y)·Σ g
//   cross_entropy with label smoothing ε over C classes, per row i with weight w_i (g_i, or g/N
//   for the mean):  dx_ij = w_i·(softmax_ij − (1−ε)·[j = t_i] − ε/C)
//     fused into one kernel from the saved logits and log-sum-exp: no log_softmax tensor, no
//     one-hot tensor, one pass over the (N, C) logits.
//   mse:          dx = 2·(x − y)·g·scale, dy = −dx  (scale 1/n for the mean)
// Under autocast (gnm/tensor/autocast.hpp) all four are on the fp32 list: f16/bf16 inputs are
// converted to f32 first, with the differentiable to().
#include "gnm/autograd/node.hpp"
#include "gnm/tensor/autocast.hpp"
#include "gnm/tensor/ops.hpp"
#include "kernels_nn.hpp"

namespace gnm {

namespace {

kernels::SoftmaxShape softmax_shape(const Shape& shape, std::int64_t d) {
  kernels::SoftmaxShape s;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const auto di = static_cast<std::int64_t>(i);
    if (di < d) s.outer *= shape[i];
    if (di == d) s.size = shape[i];
    if (di > d) s.inner *= shape[i];
  }
  return s;
}

class SoftmaxBackward final : public autograd::Node {
 public:
  Tensor y;
  kernels::SoftmaxShape shape;
  bool log = false;
  std::string name() const override { return log ? "LogSoftmaxBackward0" : "SoftmaxBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    const Tensor g = grads[0].contiguous();
    Tensor dx = empty(y.shape(), {.dtype = y.dtype(), .device = y.device()});
    if (dx.numel() > 0)
      kernels::run_on(
          dx, [&] { kernels::softmax_backward_cpu(dx, g, y, shape, log); },
          [&] {
#if GNM_HAVE_CUDA
            kernels::softmax_backward_cuda(dx, g, y, shape, log);
#endif
          });
    return {dx};
  }
  void release() override {
    y = Tensor();
    Node::release();
  }
};

Tensor softmax_impl(const Tensor& x_in, std::int64_t dim, bool log) {
  const Tensor x = autocast_to_f32(x_in);
  GNM_CHECK(is_floating(x.dtype()), "op needs a floating dtype", log ? "log_softmax" : "softmax",
            dtype_name(x.dtype()));
  const std::int64_t d = wrap_dim(dim, x.dim());  // a 0-d x accepts 0 and -1: a row of one
  const kernels::SoftmaxShape s = softmax_shape(x.shape(), d);
  const Tensor xc = x.detach().contiguous();
  Tensor y = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  if (y.numel() > 0)
    kernels::run_on(
        x, [&] { kernels::softmax_cpu(y, xc, s, log); },
        [&] {
#if GNM_HAVE_CUDA
          kernels::softmax_cuda(y, xc, s, log);
#endif
        });
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<SoftmaxBackward>();
    node->y = y.detach();
    node->shape = s;
    node->log = log;
    autograd::set_history(node, {&x}, {&y});
  }
  return y;
}

// The dtype losses and log-sum-exps of cross entropy are kept in: f32, or f64 for f64 logits.
DType compute_dtype(DType t) { return t == DType::f64 ? DType::f64 : DType::f32; }

class CrossEntropyBackward final : public autograd::Node {
 public:
  Tensor logits, target, lse;  // (N, C), (N), (N)
  Reduction reduction = Reduction::mean;
  double label_smoothing = 0.0;
  Shape input_shape;
  std::string name() const override { return "CrossEntropyLossBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    const std::int64_t N = logits.size(0);
    // A (N) view of the output gradient: per row for `none`, the one value repeated otherwise.
    const Tensor g = reduction == Reduction::none ? grads[0].reshape({N})
                                                  : grads[0].reshape({1}).expand({N});
    const double factor = reduction == Reduction::mean ? 1.0 / static_cast<double>(N) : 1.0;
    Tensor dx = empty(logits.shape(), {.dtype = logits.dtype(), .device = logits.device()});
    if (dx.numel() > 0)
      kernels::run_on(
          dx,
          [&] {
            kernels::cross_entropy_backward_cpu(dx, g, logits, target, lse, factor,
                                                label_smoothing);
          },
          [&] {
#if GNM_HAVE_CUDA
            kernels::cross_entropy_backward_cuda(dx, g, logits, target, lse, factor,
                                                 label_smoothing);
#endif
          });
    return {dx.view(input_shape)};
  }
  void release() override {
    logits = target = lse = Tensor();
    Node::release();
  }
};

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim) { return softmax_impl(x, dim, false); }
Tensor log_softmax(const Tensor& x, std::int64_t dim) { return softmax_impl(x, dim, true); }

Tensor cross_entropy(const Tensor& logits_in, const Tensor& target, Reduction reduction,
                     double label_smoothing) {
  const Tensor logits = autocast_to_f32(logits_in);
  GNM_CHECK(is_floating(logits.dtype()), "cross_entropy: logits need a floating dtype",
            dtype_name(logits.dtype()));
  GNM_CHECK(target.dtype() == DType::i64, "cross_entropy: target must hold i64 class indices",
            dtype_name(target.dtype()));
  GNM_CHECK(logits.device() == target.device(), "cross_entropy: tensors on different devices",
            logits.device().str(), target.device().str());
  GNM_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0,
            "cross_entropy: label_smoothing must be in [0, 1]", label_smoothing);
  const bool batched = logits.dim() == 2;
  GNM_CHECK_SHAPE((batched && target.dim() == 1 && target.size(0) == logits.size(0)) ||
                      (logits.dim() == 1 && target.dim() == 0),
                  "cross_entropy: logits (N, C) need target (N), logits (C) a 0-d target",
                  shape_str(logits.shape()), shape_str(target.shape()));
  const std::int64_t C = logits.size(-1);
  const std::int64_t N = batched ? logits.size(0) : 1;
  detail::check_index_range(target, C, "cross_entropy target (class index, C = number of classes)");
  const Tensor x2 = logits.detach().contiguous().reshape({N, C});
  const Tensor t = target.detach().contiguous().reshape({N});
  const DType acc = compute_dtype(logits.dtype());
  Tensor rows = empty({N}, {.dtype = acc, .device = logits.device()});
  Tensor lse = empty({N}, {.dtype = acc, .device = logits.device()});
  if (N > 0 && C > 0)
    kernels::run_on(
        logits, [&] { kernels::cross_entropy_cpu(rows, lse, x2, t, label_smoothing); },
        [&] {
#if GNM_HAVE_CUDA
          kernels::cross_entropy_cuda(rows, lse, x2, t, label_smoothing);
#endif
        });
  Tensor out;
  {
    autograd::NoGradGuard no_grad;
    if (reduction == Reduction::none) {
      out = rows.to(logits.dtype());
      if (!batched) out = out.view({});
    } else {
      Tensor total = sum(rows);  // accumulated in double on the CPU, a tree on CUDA
      if (reduction == Reduction::mean) total = mul(total, 1.0 / static_cast<double>(N));
      out = total.to(logits.dtype());
    }
  }
  if (autograd::any_requires_grad({&logits})) {
    auto node = std::make_shared<CrossEntropyBackward>();
    node->logits = x2;
    node->target = t;
    node->lse = lse;
    node->reduction = reduction;
    node->label_smoothing = label_smoothing;
    node->input_shape = logits.shape();
    autograd::set_history(node, {&logits}, {&out});
  }
  return out;
}

namespace {

class MseBackward final : public autograd::Node {
 public:
  Tensor diff;  // x − y
  double scale = 1.0;
  bool need_x = false, need_y = false;
  std::string name() const override { return "MseLossBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    const Tensor gx = mul(mul(diff, grads[0]), 2.0 * scale);  // g broadcasts when reduced
    return {need_x ? gx : Tensor(), need_y ? neg(gx) : Tensor()};
  }
  void release() override {
    diff = Tensor();
    Node::release();
  }
};

}  // namespace

Tensor mse_loss(const Tensor& x_in, const Tensor& y_in, Reduction reduction) {
  const Tensor x = autocast_to_f32(x_in), y = autocast_to_f32(y_in);
  GNM_CHECK(x.device() == y.device(), "mse_loss: tensors on different devices", x.device().str(),
            y.device().str());
  GNM_CHECK(x.dtype() == y.dtype(), "mse_loss: different dtypes (convert one with .to())",
            dtype_name(x.dtype()), dtype_name(y.dtype()));
  GNM_CHECK(is_floating(x.dtype()), "mse_loss needs a floating dtype", dtype_name(x.dtype()));
  GNM_CHECK_SHAPE(x.shape() == y.shape(), "mse_loss: input and target shapes differ",
                  shape_str(x.shape()), shape_str(y.shape()));
  Tensor diff, out;
  {
    autograd::NoGradGuard no_grad;
    diff = sub(x, y);
    const Tensor sq = square(diff);
    out = reduction == Reduction::none ? sq : reduction == Reduction::sum ? sum(sq) : mean(sq);
  }
  if (autograd::any_requires_grad({&x, &y})) {
    auto node = std::make_shared<MseBackward>();
    node->diff = diff;
    node->scale = reduction == Reduction::mean ? 1.0 / static_cast<double>(x.numel()) : 1.0;
    node->need_x = x.requires_grad();
    node->need_y = y.requires_grad();
    autograd::set_history(node, {&x, &y}, {&out});
  }
  return out;
}

}  // namespace gnm
