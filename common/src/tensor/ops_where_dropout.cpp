// where (selection by a bool mask, broadcasting) and dropout (Philox mask) with their backward.
//
// Note [Dropout mask recomputation]
// Dropout's backward needs the forward's mask. Instead of saving it (one byte per element, or a
// copy of the output), the node keeps the 16-byte Philox stream name (seed, subsequence) and p;
// the backward kernel regenerates the mask from it. Element i of the (row-major) output is kept
// when PhiloxRng(seed, subsequence).uniform(i) >= p, on the CPU and the GPU alike, so a mask
// drawn on one backend is reproduced exactly on the other.
#include <cmath>

#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"
#include "kernels_unary.hpp"

#if GNM_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "gnm/cuda/check.hpp"
#endif

namespace gnm {

namespace {

class WhereBackward final : public autograd::Node {
 public:
  Tensor cond;
  Shape a_shape, b_shape;
  bool need_a = true, need_b = true;

  std::string name() const override { return "WhereBackward0"; }

  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    const Tensor& g = grads[0];
    const Tensor zero = scalar_tensor(0.0, {.dtype = g.dtype(), .device = g.device()});
    Tensor ga, gb;
    // g has the broadcast shape of (cond, a, b), so where(cond, g, 0) keeps it; sum_to then
    // undoes a's (or b's) broadcasting.
    if (need_a) ga = sum_to(where(cond, g, zero), a_shape);
    if (need_b) gb = sum_to(where(cond, zero, g), b_shape);
    return {Tensor(), ga, gb};
  }

  void release() override {
    cond = Tensor();
    Node::release();
  }
};

void dropout_kernel(const Tensor& out, const Tensor& x, GeneratorState s, double p, double scale) {
  if (out.numel() == 0) return;
#if GNM_HAVE_CUDA
  if (x.is_cuda()) {
    GNM_CUDA_CHECK(cudaSetDevice(x.device().index));
    kernels::dropout_cuda(out, x, s.seed, s.subsequence, p, scale);
    return;
  }
#endif
  kernels::dropout_cpu(out, x, s.seed, s.subsequence, p, scale);
}

class DropoutBackward final : public autograd::Node {
 public:
  GeneratorState stream;
  double p = 0.0, scale = 1.0;

  std::string name() const override { return "NativeDropoutBackward0"; }

  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    const Tensor& g = grads[0];
    // The same mask and scale as the forward (Note [Dropout mask recomputation]).
    Tensor gi = empty(g.shape(), {.dtype = g.dtype(), .device = g.device()});
    dropout_kernel(gi, g, stream, p, scale);
    return {gi};
  }
};

}  // namespace

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  GNM_CHECK(cond.dtype() == DType::boolean, "where's condition must be a bool tensor",
            dtype_name(cond.dtype()));
  GNM_CHECK(a.dtype() == b.dtype(),
            "where's operands have different dtypes (convert one with .to())",
            dtype_name(a.dtype()), dtype_name(b.dtype()));
  GNM_CHECK(cond.device() == a.device() && a.device() == b.device(),
            "where's tensors are on different devices", cond.device().str(), a.device().str(),
            b.device().str());
  const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape()), b.shape());
  Tensor out = empty(shape, {.dtype = a.dtype(), .device = a.device()});
  if (out.numel() > 0) {
    const Tensor ec = cond.detach().expand(shape);
    const Tensor ea = a.detach().expand(shape);
    const Tensor eb = b.detach().expand(shape);
#if GNM_HAVE_CUDA
    if (a.is_cuda()) {
      GNM_CUDA_CHECK(cudaSetDevice(a.device().index));
      kernels::where_cuda(out, ec, ea, eb);
    } else
#endif
      kernels::where_cpu(out, ec, ea, eb);
  }
  if (autograd::any_requires_grad({&a, &b})) {
    auto node = std::make_shared<WhereBackward>();
    node->cond = cond.detach();
    node->a_shape = a.shape();
    node->b_shape = b.shape();
    node->need_a = a.requires_grad();
    node->need_b = b.requires_grad();
    autograd::set_history(node, {&cond, &a, &b}, {&out});
  }
  return out;
}

Tensor dropout(const Tensor& x, double p, bool training) {
  GNM_CHECK(p >= 0.0 && p <= 1.0, "dropout probability must be in [0, 1]", p);
  GNM_CHECK(is_floating(x.dtype()), "op needs a floating dtype", "dropout", dtype_name(x.dtype()));
  if (!training) return x;  // the identity, and the same tensor, as torch's dropout in eval mode
  // Every training call takes a stream, whatever p and numel, so the streams used later do not
  // depend on them.
  const GeneratorState stream = next_random_stream();
  // p = 1 drops everything: scale 0 keeps 1/(1 − p) from becoming inf (kept elements: none).
  const double scale = p < 1.0 ? 1.0 / (1.0 - p) : 0.0;
  Tensor out = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  dropout_kernel(out, x, stream, p, scale);
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<DropoutBackward>();
    node->stream = stream;
    node->p = p;
    node->scale = scale;
    autograd::set_history(node, {&x}, {&out});
  }
  return out;
}

}  // namespace gnm
