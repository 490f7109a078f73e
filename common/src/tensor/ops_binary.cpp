// The elementwise binary ops (chapter 9.3) with broadcasting (9.6) and their backward (9.5).
// This file is the model for a differentiable op: check, compute, record.
#include <cmath>

#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"
#include "kernels.hpp"

#if GNM_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "gnm/cuda/check.hpp"
#endif

namespace gnm {

namespace {

using kernels::BinaryOp;

const char* op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::add: return "add";
    case BinaryOp::sub: return "sub";
    case BinaryOp::mul: return "mul";
    case BinaryOp::div: return "div";
    case BinaryOp::pow: return "pow";
    case BinaryOp::maximum: return "maximum";
    case BinaryOp::minimum: return "minimum";
    case BinaryOp::eq: return "eq";
    case BinaryOp::ne: return "ne";
    case BinaryOp::lt: return "lt";
    case BinaryOp::le: return "le";
    case BinaryOp::gt: return "gt";
    case BinaryOp::ge: return "ge";
  }
  return "?";
}

//! [binary_forward]
// Checks devices and dtypes, broadcasts, allocates and runs the kernel. No autograd.
Tensor binary_forward(BinaryOp op, const Tensor& a, const Tensor& b, double alpha) {
  GNM_CHECK(a.device() == b.device(), "operands are on different devices", op_name(op),
            a.device().str(), b.device().str());
  GNM_CHECK(a.dtype() == b.dtype(), "operands have different dtypes (convert one with .to())",
            op_name(op), dtype_name(a.dtype()), dtype_name(b.dtype()));
  const bool compare = op >= BinaryOp::eq;
  GNM_CHECK(compare || a.dtype() != DType::boolean, "arithmetic on bool tensors", op_name(op));
  GNM_CHECK(!(op == BinaryOp::pow || op == BinaryOp::div) || is_floating(a.dtype()),
            "op needs a floating dtype", op_name(op), dtype_name(a.dtype()));
  const Shape shape = broadcast_shapes(a.shape(), b.shape());
  Tensor out = empty(shape, {.dtype = compare ? DType::boolean : a.dtype(), .device = a.device()});
  if (out.numel() == 0) return out;
  const Tensor ea = a.detach().expand(shape);
  const Tensor eb = b.detach().expand(shape);
#if GNM_HAVE_CUDA
  if (a.is_cuda()) {
    GNM_CUDA_CHECK(cudaSetDevice(a.device().index));
    kernels::binary_cuda(op, out, ea, eb, alpha);
    return out;
  }
#endif
  kernels::binary_cpu(op, out, ea, eb, alpha);
  return out;
}
//! [binary_forward]

Tensor scalar_like(double v, const Tensor& like) {
  return scalar_tensor(v, {.dtype = like.dtype(), .device = like.device()});
}

//! [binary_backward]
// d(a op b): one node type for the arithmetic ops; it saves what its op's rule needs.
class BinaryBackward final : public autograd::Node {
 public:
  BinaryOp op = BinaryOp::add;
  double alpha = 1.0;
  Tensor a, b, out;  // saved only when the rule needs them
  Shape a_shape, b_shape;
  bool need_a = true, need_b = true;

  std::string name() const override {
    switch (op) {
      case BinaryOp::add: return "AddBackward0";
      case BinaryOp::sub: return "SubBackward0";
      case BinaryOp::mul: return "MulBackward0";
      case BinaryOp::div: return "DivBackward0";
      case BinaryOp::pow: return "PowBackward1";
      case BinaryOp::maximum: return "MaximumBackward0";
      case BinaryOp::minimum: return "MinimumBackward0";
      default: return "BinaryBackward";
    }
  }

  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    const Tensor& g = grads[0];
    Tensor ga, gb;
    switch (op) {
      case BinaryOp::add:
      case BinaryOp::sub:
        if (need_a) ga = g;
        if (need_b) {
          const double scale = op == BinaryOp::add ? alpha : -alpha;
          gb = scale == 1.0 ? g : mul(g, scale);  // a + b: no pass over the gradient
        }
        break;
      case BinaryOp::mul:
        if (need_a) ga = mul(g, b);
        if (need_b) gb = mul(g, a);
        break;
      case BinaryOp::div:
        if (need_a) ga = div(g, b);
        if (need_b) gb = neg(div(mul(g, out), b));  // d(a/b)/db = −a/b² = −out/b
        break;
      case BinaryOp::pow:
        // d(aᵇ)/da = b·aᵇ⁻¹; d(aᵇ)/db = aᵇ·ln a (0 where a = 0 and b > 0, as PyTorch masks it).
        if (need_a) ga = mul(g, mul(b, pow(a, sub(b, scalar_like(1.0, b)))));
        if (need_b) {
          const Tensor lna = where(eq(a, scalar_like(0.0, a)), zeros_like(a), log(a));
          gb = mul(g, mul(out, lna));
        }
        break;
      case BinaryOp::maximum:
      case BinaryOp::minimum: {
        // Ties split the gradient evenly, as torch.maximum does.
        const Tensor a_wins = op == BinaryOp::maximum ? gt(a, b) : lt(a, b);
        const Tensor tie = eq(a, b);
        const Tensor half = mul(g, 0.5);
        const Tensor zero = zeros_like(g);
        if (need_a) ga = where(a_wins, g, where(tie, half, zero));
        if (need_b) gb = where(a_wins, zero, where(tie, half, g));
        break;
      }
      default: break;
    }
    if (ga.defined()) ga = sum_to(ga, a_shape);
    if (gb.defined()) gb = sum_to(gb, b_shape);
    return {ga, gb};
  }

  void release() override {
    a = b = out = Tensor();
    Node::release();
  }
};
//! [binary_backward]

//! [binary_record]
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, double alpha = 1.0) {
  Tensor out = binary_forward(op, a, b, alpha);
  if (op >= BinaryOp::eq || !autograd::any_requires_grad({&a, &b})) return out;
  auto node = std::make_shared<BinaryBackward>();
  node->op = op;
  node->alpha = alpha;
  node->a_shape = a.shape();
  node->b_shape = b.shape();
  node->need_a = a.requires_grad();
  node->need_b = b.requires_grad();
  const bool saves_inputs = op != BinaryOp::add && op != BinaryOp::sub;
  if (saves_inputs) {
    node->a = a.detach();
    node->b = b.detach();
  }
  if (op == BinaryOp::div || op == BinaryOp::pow) node->out = out.detach();
  autograd::set_history(node, {&a, &b}, {&out});
  return out;
}
//! [binary_record]

}  // namespace

Tensor add(const Tensor& a, const Tensor& b, double alpha) { return binary(BinaryOp::add, a, b, alpha); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::div, a, b); }
Tensor pow(const Tensor& a, const Tensor& b) { return binary(BinaryOp::pow, a, b); }
Tensor pow(const Tensor& a, double e) { return binary(BinaryOp::pow, a, scalar_like(e, a)); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::maximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::minimum, a, b); }
Tensor add(const Tensor& a, double b) { return binary(BinaryOp::add, a, scalar_like(b, a)); }
Tensor mul(const Tensor& a, double b) { return binary(BinaryOp::mul, a, scalar_like(b, a)); }

Tensor eq(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::eq, a, b, 1.0); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::ne, a, b, 1.0); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::lt, a, b, 1.0); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::le, a, b, 1.0); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::gt, a, b, 1.0); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::ge, a, b, 1.0); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double b) { return add(a, b); }
Tensor operator-(const Tensor& a, double b) { return add(a, -b); }
Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
Tensor operator/(const Tensor& a, double b) { return mul(a, 1.0 / b); }
Tensor operator+(double a, const Tensor& b) { return add(b, a); }
Tensor operator-(double a, const Tensor& b) { return sub(scalar_like(a, b), b); }
Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
Tensor operator-(const Tensor& a) { return neg(a); }

}  // namespace gnm
