// matmul, bmm and linear (chapter 9.3) with their backward rules (9.5).
//
// Everything funnels into one batched GEMM on strided views, kernels::bmm_{cpu,cuda}, which takes
// transposed views as transpose flags (Note [GEMM operand layouts] in cpu/linalg.cpp). So the
// backward rules are written with transposes and cost no copies:
//   C = A·B:            dA = dC·Bᵀ,  dB = Aᵀ·dC
//   y = x·Wᵀ + b:       dx = g·W,    dW = gᵀ·x (x flattened to (M, in): the sum over the batch
//                       dims is the GEMM's own K loop),  db = Σ_rows g
// matmul follows torch.matmul: 1-d operands are promoted and the added dim removed afterwards,
// batch dims broadcast; a ≥3-d operand times a 2-d one folds its batch into the GEMM's M (one
// large product instead of many small ones, as PyTorch does).
// Under autocast (gnm/tensor/autocast.hpp) all three are on the lower-precision list: f32 operands
// are converted to the autocast dtype first, with the differentiable to().
#include "gnm/autograd/node.hpp"
#include "gnm/tensor/autocast.hpp"
#include "gnm/tensor/ops.hpp"
#include "kernels.hpp"
#include "kernels_nn.hpp"

namespace gnm {

namespace {

void check_operands(const Tensor& a, const Tensor& b, const char* op) {
  GNM_CHECK(a.device() == b.device(), "operands are on different devices", op, a.device().str(),
            b.device().str());
  GNM_CHECK(a.dtype() == b.dtype(), "operands have different dtypes (convert one with .to())", op,
            dtype_name(a.dtype()), dtype_name(b.dtype()));
  GNM_CHECK(is_floating(a.dtype()), "op needs a floating dtype", op, dtype_name(a.dtype()));
}

// c = a·b + beta·c for detached 2-d or 3-d views (equal batch); c contiguous.
void gemm_into(const Tensor& c, const Tensor& a, const Tensor& b, double beta) {
  const bool flat = a.dim() == 2;
  const Tensor c3 = flat ? c.unsqueeze(0) : c;
  const Tensor a3 = flat ? a.unsqueeze(0) : a;
  const Tensor b3 = flat ? b.unsqueeze(0) : b;
  kernels::run_on(
      c, [&] { kernels::bmm_cpu(c3, a3, b3, beta); },
      [&] {
#if GNM_HAVE_CUDA
        kernels::bmm_cuda(c3, a3, b3, beta);
#endif
      });
}

// a·b without autograd, for 2-d or equal-batch 3-d operands.
Tensor product(const Tensor& a, const Tensor& b) {
  Shape shape = a.shape();
  shape.back() = b.shape().back();
  Tensor out = empty(shape, {.dtype = a.dtype(), .device = a.device()});
  gemm_into(out, a.detach(), b.detach(), 0.0);
  return out;
}

class MatmulBackward final : public autograd::Node {
 public:
  Tensor a, b;  // each saved only when the other input needs a gradient
  bool batched = false;
  std::string name() const override { return batched ? "BmmBackward0" : "MmBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    const Tensor& g = grads[0];
    Tensor ga, gb;
    if (b.defined()) ga = product(g, b.transpose(-1, -2));  // dA = dC·Bᵀ
    if (a.defined()) gb = product(a.transpose(-1, -2), g);  // dB = Aᵀ·dC
    return {ga, gb};
  }
  void release() override {
    a = b = Tensor();
    Node::release();
  }
};

// The differentiable core: (M, K)·(K, N) or (B, M, K)·(B, K, N).
Tensor matmul_core(const Tensor& a, const Tensor& b) {
  Tensor out = product(a, b);
  if (autograd::any_requires_grad({&a, &b})) {
    auto node = std::make_shared<MatmulBackward>();
    node->batched = a.dim() == 3;
    if (b.requires_grad()) node->a = a.detach();
    if (a.requires_grad()) node->b = b.detach();
    autograd::set_history(node, {&a, &b}, {&out});
  }
  return out;
}

class LinearBackward final : public autograd::Node {
 public:
  Tensor x2;  // (M, in), saved when w needs a gradient
  Tensor w;   // (out, in), saved when x needs a gradient
  Shape x_shape;
  std::int64_t M = 0, out_features = 0;
  bool need_x = false, need_b = false;
  std::string name() const override { return "LinearBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    const Tensor g2 = grads[0].reshape({M, out_features});  // (M, out)
    Tensor gx, gw, gb;
    if (need_x) gx = product(g2, w).view(x_shape);  // (M, out)·(out, in)
    if (x2.defined()) gw = product(g2.t(), x2);     // (out, M)·(M, in): gᵀ as a transpose flag
    if (need_b) {
      if (g2.is_cuda()) {
        gb = sum(g2, {0});
      } else {
        gb = empty({out_features}, {.dtype = g2.dtype()});
        kernels::column_sum_cpu(gb, g2.contiguous());
      }
    }
    return {gx, gw, gb};
  }
  void release() override {
    x2 = w = Tensor();
    Node::release();
  }
};

}  // namespace

Tensor bmm(const Tensor& a_in, const Tensor& b_in) {
  const Tensor a = autocast_to_lower(a_in), b = autocast_to_lower(b_in);
  check_operands(a, b, "bmm");
  GNM_CHECK_SHAPE(a.dim() == 3 && b.dim() == 3, "bmm needs two 3-d tensors", shape_str(a.shape()),
                  shape_str(b.shape()));
  GNM_CHECK_SHAPE(a.size(0) == b.size(0) && a.size(2) == b.size(1),
                  "bmm: shapes do not fit (B, M, K)·(B, K, N)", shape_str(a.shape()),
                  shape_str(b.shape()));
  return matmul_core(a, b);
}

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  const Tensor a = autocast_to_lower(a_in), b = autocast_to_lower(b_in);
  check_operands(a, b, "matmul");
  const std::int64_t da = a.dim(), db = b.dim();
  GNM_CHECK_SHAPE(da >= 1 && db >= 1, "matmul needs operands of at least 1 dimension",
                  shape_str(a.shape()), shape_str(b.shape()));
  // Promote 1-d operands: a (K) → (1, K), b (K) → (K, 1); the added dims are removed at the end.
  const Tensor a2 = da == 1 ? a.unsqueeze(0) : a;
  const Tensor b2 = db == 1 ? b.unsqueeze(1) : b;
  GNM_CHECK_SHAPE(a2.size(-1) == b2.size(-2), "matmul: inner dimensions differ",
                  shape_str(a.shape()), shape_str(b.shape()));
  const std::int64_t M = a2.size(-2), K = a2.size(-1), N = b2.size(-1);
  Tensor out;
  Shape batch;
  if (a2.dim() == 2 && b2.dim() == 2) {
    out = matmul_core(a2, b2);
  } else if (b2.dim() == 2) {
    // (…, M, K)·(K, N): fold the batch into M.
    batch.assign(a2.shape().begin(), a2.shape().end() - 2);
    const std::int64_t rows = shape_numel(batch) * M;
    Shape shape = batch;
    shape.insert(shape.end(), {M, N});
    out = matmul_core(a2.reshape({rows, K}), b2).view(shape);
  } else {
    const Shape ba(a2.shape().begin(), a2.shape().end() - 2);
    const Shape bb(b2.shape().begin(), b2.shape().end() - 2);
    batch = broadcast_shapes(ba, bb);
    const std::int64_t B = shape_numel(batch);
    Shape sa = batch, sb = batch, shape = batch;
    sa.insert(sa.end(), {M, K});
    sb.insert(sb.end(), {K, N});
    shape.insert(shape.end(), {M, N});
    out = matmul_core(a2.expand(sa).reshape({B, M, K}), b2.expand(sb).reshape({B, K, N}))
              .view(shape);
  }
  if (db == 1) out = out.squeeze(-1);
  if (da == 1) out = out.squeeze(db == 1 ? -1 : -2);
  return out;
}

Tensor linear(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in) {
  //! [linear_autocast]
  // Under autocast the bias is lowered too, so the output has one dtype (as PyTorch's linear).
  const Tensor x = autocast_to_lower(x_in), w = autocast_to_lower(w_in);
  const Tensor b = autocast_to_lower(b_in);
  //! [linear_autocast]
  check_operands(x, w, "linear");
  GNM_CHECK_SHAPE(w.dim() == 2 && x.dim() >= 1 && x.size(-1) == w.size(1),
                  "linear: x (…, in) does not fit w (out, in)", shape_str(x.shape()),
                  shape_str(w.shape()));
  const std::int64_t in = w.size(1), out_features = w.size(0);
  if (b.defined()) {
    check_operands(w, b, "linear (bias)");
    GNM_CHECK_SHAPE(b.dim() == 1 && b.size(0) == out_features,
                    "linear: bias must be (out) for w (out, in)", shape_str(b.shape()),
                    shape_str(w.shape()));
  }
  Shape out_shape(x.shape().begin(), x.shape().end() - 1);
  const std::int64_t M = shape_numel(out_shape);
  out_shape.push_back(out_features);
  const Tensor x2 = x.detach().reshape({M, in});
  Tensor out = empty({M, out_features}, {.dtype = x.dtype(), .device = x.device()});
  // The bias goes in first and the GEMM accumulates onto it (beta = 1): the bias add rides on the
  // GEMM's own read-modify-write of C instead of a separate pass over the output.
  if (b.defined() && out.numel() > 0) {
    const Tensor rows = b.detach().expand({M, out_features});
    kernels::run_on(
        out, [&] { kernels::copy_cpu(out, rows); },
        [&] {
#if GNM_HAVE_CUDA
          kernels::copy_cuda(out, rows);
#endif
        });
  }
  gemm_into(out, x2, w.detach().t(), b.defined() ? 1.0 : 0.0);
  out = out.view(out_shape);
  if (autograd::any_requires_grad({&x, &w, &b})) {
    auto node = std::make_shared<LinearBackward>();
    if (w.requires_grad()) node->x2 = x2;
    if (x.requires_grad()) node->w = w.detach();
    node->x_shape = x.shape();
    node->M = M;
    node->out_features = out_features;
    node->need_x = x.requires_grad();
    node->need_b = b.defined() && b.requires_grad();
    autograd::set_history(node, {&x, &w, &b}, {&out});
  }
  return out;
}

}  // namespace gnm
