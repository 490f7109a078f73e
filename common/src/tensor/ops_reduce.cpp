// Reductions of chapter 9.3 beside the lead's sum: mean, var, max (all, or along a dim) and
// argmax, with their backward rules (9.5).
//
// Backward rules (g is the output gradient, broadcast back over the reduced dims):
//   mean:      dx = g / n
//   var:       dx = g · 2·(x − mean) / (n − correction)
//   max (all): dx = g / k on each of the k elements equal to the max (ties share, as torch.amax)
//   max (dim): dx = g at the first maximum of each row, 0 elsewhere (as torch.max(dim))
#include <cmath>

#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"
#include "kernels_nn.hpp"

namespace gnm {

namespace {

// Which dims of x a reduction over `dims` (empty = all) removes, and the shapes around it.
struct ReducePlan {
  std::vector<bool> mask;
  Shape kept;       // x's shape with the reduced dims as 1 (what the kernels write)
  Shape out_shape;  // kept, without the reduced dims unless keepdim
  std::int64_t n = 1;  // elements per output
};

ReducePlan plan_reduction(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim,
                          const char* op) {
  const std::int64_t nd = x.dim();
  ReducePlan p{std::vector<bool>(static_cast<std::size_t>(nd), dims.empty()), {}, {}, 1};
  for (std::int64_t d : dims) {
    const auto w = static_cast<std::size_t>(wrap_dim(d, nd));
    if (nd == 0) continue;  // a 0-d tensor reduces over nothing (dim 0 or -1 is accepted)
    GNM_CHECK_SHAPE(!p.mask[w], "dimension appears twice in the reduction", op, d,
                    shape_str(x.shape()));
    p.mask[w] = true;
  }
  p.kept = x.shape();
  for (std::size_t d = 0; d < p.kept.size(); ++d) {
    if (p.mask[d]) {
      p.n *= p.kept[d];
      p.kept[d] = 1;
    }
    if (!p.mask[d] || keepdim) p.out_shape.push_back(p.kept[d]);
  }
  return p;
}

void check_floating(const Tensor& x, const char* op) {
  GNM_CHECK(is_floating(x.dtype()), "op needs a floating dtype", op, dtype_name(x.dtype()));
}

class MeanBackward final : public autograd::Node {
 public:
  Shape input_shape, kept;
  double inv_n = 1.0;
  std::string name() const override { return "MeanBackward1"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_not_released();
    return {mul(g[0].reshape(kept).expand(input_shape), inv_n)};
  }
};

class VarBackward final : public autograd::Node {
 public:
  Tensor x;
  std::vector<std::int64_t> dims;
  Shape kept;
  double scale = 0.0;  // 2 / (n − correction)
  std::string name() const override { return "VarBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_not_released();
    const Tensor centred = sub(x, mean(x, dims, true));
    return {mul(mul(centred, g[0].reshape(kept)), scale)};
  }
  void release() override {
    x = Tensor();
    Node::release();
  }
};

class MaxAllBackward final : public autograd::Node {
 public:
  Tensor x, max_value;
  std::string name() const override { return "MaxBackward1"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_not_released();
    // The elements equal to the max (NaN ones when the max is NaN) share g evenly.
    const Tensor hit = where(ne(max_value, max_value), ne(x, x), eq(x, max_value));
    const Tensor share = hit.to(x.dtype());
    return {mul(share, div(g[0], sum(share)))};
  }
  void release() override {
    x = max_value = Tensor();
    Node::release();
  }
};

class MaxDimBackward final : public autograd::Node {
 public:
  Tensor indices;  // (kept), i64
  Shape input_shape, kept;
  std::int64_t dim = 0;
  std::string name() const override { return "MaxBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_not_released();
    if (input_shape.empty()) return {g[0].reshape({})};  // a 0-d input is its own max
    return {detail::scatter_add_into_zeros(input_shape, dim, indices, g[0].reshape(kept))};
  }
  void release() override {
    indices = Tensor();
    Node::release();
  }
};

// values and/or indices (either may be undefined) of the max over the dims in `mask`, written in
// the kept shape.
void run_max(const Tensor& values, const Tensor& indices, const Tensor& x,
             const std::vector<bool>& mask) {
  const Tensor xd = x.detach();
  kernels::run_on(
      x, [&] { kernels::max_cpu(values, indices, xd, mask); },
      [&] {
#if GNM_HAVE_CUDA
        kernels::max_cuda(values, indices, xd, mask);
#endif
      });
}

}  // namespace

Tensor mean(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  check_floating(x, "mean");
  const ReducePlan p = plan_reduction(x, dims, keepdim, "mean");
  Tensor out = empty(p.kept, {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() > 0) {
    const Tensor xd = x.detach();
    kernels::run_on(
        x, [&] { kernels::mean_cpu(out, xd, p.mask); },
        [&] {
#if GNM_HAVE_CUDA
          kernels::mean_cuda(out, xd, p.mask);
#endif
        });
  }
  out = out.view(p.out_shape);
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<MeanBackward>();
    node->input_shape = x.shape();
    node->kept = p.kept;
    node->inv_n = 1.0 / static_cast<double>(p.n);
    autograd::set_history(node, {&x}, {&out});
  }
  return out;
}

Tensor mean(const Tensor& x) { return mean(x, {}, false); }

Tensor var(const Tensor& x, const std::vector<std::int64_t>& dims, std::int64_t correction,
           bool keepdim) {
  check_floating(x, "var");
  GNM_CHECK(correction >= 0, "var: correction must be non-negative", correction);
  const ReducePlan p = plan_reduction(x, dims, keepdim, "var");
  Tensor out = empty(p.kept, {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() > 0) {
    const Tensor xd = x.detach();
    kernels::run_on(
        x, [&] { kernels::var_cpu(out, xd, p.mask, correction); },
        [&] {
#if GNM_HAVE_CUDA
          kernels::var_cuda(out, xd, p.mask, correction);
#endif
        });
  }
  out = out.view(p.out_shape);
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<VarBackward>();
    node->x = x.detach();
    node->dims = dims;
    node->kept = p.kept;
    node->scale = 2.0 / static_cast<double>(std::max<std::int64_t>(0, p.n - correction));
    autograd::set_history(node, {&x}, {&out});
  }
  return out;
}

Tensor max(const Tensor& x) {
  GNM_CHECK(x.numel() > 0, "max() of an empty tensor (give a dim, or check the shape)",
            shape_str(x.shape()));
  const std::vector<bool> all(static_cast<std::size_t>(x.dim()), true);
  Tensor out = empty(Shape(static_cast<std::size_t>(x.dim()), 1),
                     {.dtype = x.dtype(), .device = x.device()});
  run_max(out, Tensor(), x, all);
  out = out.view({});
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<MaxAllBackward>();
    node->x = x.detach();
    node->max_value = out.detach();
    autograd::set_history(node, {&x}, {&out});
  }
  return out;
}

Tensor max(const Tensor& x, std::int64_t dim, bool keepdim) {
  const ReducePlan p = plan_reduction(x, {dim}, keepdim, "max");
  GNM_CHECK(x.dim() == 0 || x.size(dim) > 0, "max(): cannot reduce over a dimension of size 0",
            dim, shape_str(x.shape()));
  const bool grad = autograd::any_requires_grad({&x});
  Tensor out = empty(p.kept, {.dtype = x.dtype(), .device = x.device()});
  Tensor idx = grad ? empty(p.kept, {.dtype = DType::i64, .device = x.device()}) : Tensor();
  if (out.numel() > 0) run_max(out, idx, x, p.mask);
  out = out.view(p.out_shape);
  if (grad) {
    auto node = std::make_shared<MaxDimBackward>();
    node->indices = idx;
    node->input_shape = x.shape();
    node->kept = p.kept;
    node->dim = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim());
    autograd::set_history(node, {&x}, {&out});
  }
  return out;
}

Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) {
  const ReducePlan p = plan_reduction(x, {dim}, keepdim, "argmax");
  GNM_CHECK(x.dim() == 0 || x.size(dim) > 0,
            "argmax(): cannot reduce over a dimension of size 0", dim, shape_str(x.shape()));
  Tensor idx = empty(p.kept, {.dtype = DType::i64, .device = x.device()});
  if (idx.numel() > 0) run_max(Tensor(), idx, x, p.mask);
  return idx.view(p.out_shape);
}

}  // namespace gnm
