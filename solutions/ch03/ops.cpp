// Exercise 3.2: backward rules, beside the given forward kernels, shape rules and dispatch that
// the tape (3.2, 3.3), the typed tensors (3.4) and the static graph (3.5) all share (see
// exercises/ch03/ops.hpp for the task statement).
#include "ops.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "gnm/core/check.hpp"

namespace gnm::ch03 {
namespace {

[[noreturn]] void shape_mismatch(Op op, const char* what, Shape2 a, Shape2 b, const char* file,
                                 int line) {
  throw ShapeError(std::string(op_name(op)) + ": " + what + ": a is " + shape_string(a) +
                       ", b is " + shape_string(b),
                   file, line);
}
#define GNM_CH03_SHAPE(cond, op, what, a, b) \
  do {                                       \
    if (!(cond)) shape_mismatch(op, what, a, b, __FILE__, __LINE__); \
  } while (0)

// out = f(a) elementwise.
template <class F>
void map1(ConstMat a, Mat out, F f) {
  for (std::int64_t i = 0; i < a.numel(); ++i) out[i] = f(a[i]);
}
// out = f(a, b) elementwise.
template <class F>
void map2(ConstMat a, ConstMat b, Mat out, F f) {
  for (std::int64_t i = 0; i < a.numel(); ++i) out[i] = f(a[i], b[i]);
}

void softmax_ce_forward(ConstMat logits, std::span<const std::int32_t> labels, Mat out,
                        Mat probs) {
  GNM_CHECK_SHAPE(static_cast<std::int64_t>(labels.size()) == logits.rows,
                  "softmax_ce: one label per row of the logits", labels.size(), logits.rows);
  double total = 0.0;
  for (std::int64_t r = 0; r < logits.rows; ++r) {
    const std::int32_t label = labels[static_cast<std::size_t>(r)];
    GNM_CHECK(label >= 0 && label < logits.cols, "softmax_ce: label out of range", r, label,
              logits.cols);
    const double* z = logits.data + r * logits.cols;
    double* p = probs.data + r * probs.cols;
    // Max-subtracted, as chapter 2.5: every exponent <= 0, the sum is in [1, C].
    const double m = *std::max_element(z, z + logits.cols);
    double s = 0.0;
    for (std::int64_t c = 0; c < logits.cols; ++c) s += (p[c] = std::exp(z[c] - m));
    for (std::int64_t c = 0; c < logits.cols; ++c) p[c] /= s;
    total += (m + std::log(s)) - z[label];  // −log p[label] = logsumexp(z) − z[label]
  }
  out[0] = total / static_cast<double>(logits.rows);
}

}  // namespace

const char* op_name(Op op) {
  switch (op) {
    case Op::leaf: return "leaf";
    case Op::constant: return "constant";
    case Op::add: return "add";
    case Op::sub: return "sub";
    case Op::mul: return "mul";
    case Op::div: return "div";
    case Op::exp: return "exp";
    case Op::log: return "log";
    case Op::tanh: return "tanh";
    case Op::relu: return "relu";
    case Op::matmul: return "matmul";
    case Op::sum: return "sum";
    case Op::mean: return "mean";
    case Op::scale: return "scale";
    case Op::add_bias: return "add_bias";
    case Op::softmax_ce: return "softmax_ce";
  }
  return "?";
}

int op_arity(Op op) {
  switch (op) {
    case Op::leaf:
    case Op::constant: return 0;
    case Op::add:
    case Op::sub:
    case Op::mul:
    case Op::div:
    case Op::matmul:
    case Op::add_bias: return 2;
    default: return 1;
  }
}

//! [infer_shape]
Shape2 infer_shape(Op op, Shape2 a, Shape2 b) {
  switch (op) {
    case Op::add:
    case Op::sub:
    case Op::mul:
    case Op::div:
      GNM_CH03_SHAPE(a == b, op, "operand shapes differ", a, b);
      return a;
    case Op::matmul:
      GNM_CH03_SHAPE(a.cols == b.rows, op, "inner dimensions differ", a, b);
      return {a.rows, b.cols};
    case Op::add_bias:
      GNM_CH03_SHAPE(b.rows == 1 && b.cols == a.cols, op, "the bias must be (1, a.cols)", a, b);
      return a;
    case Op::sum:
    case Op::mean:
    case Op::softmax_ce:
      GNM_CHECK_SHAPE(op != Op::softmax_ce || (a.rows >= 1 && a.cols >= 1),
                      "softmax_ce needs at least one row and one class", a.rows, a.cols);
      return {1, 1};
    default: return a;  // leaf, constant and the elementwise unary ops keep the shape
  }
}
//! [infer_shape]

Saved saved_by(Op op) {
  switch (op) {
    case Op::mul:
    case Op::div:
    case Op::matmul: return {true, true, false, false};   // both operands
    case Op::log: return {true, false, false, false};     // the operand
    case Op::exp:
    case Op::tanh:
    case Op::relu: return {false, false, true, false};    // the output: no recomputation needed
    case Op::softmax_ce: return {false, false, false, true};  // the probabilities
    default: return {};  // add, sub, sum, mean, scale, add_bias need only shapes
  }
}

bool has_aux(Op op) { return op == Op::softmax_ce; }

void matmul_forward(ConstMat a, ConstMat b, Mat out) {
  std::fill(out.data, out.data + out.numel(), 0.0);
  // i-k-j: the inner loop walks a row of b and a row of out with unit stride (chapter 2.3).
  for (std::int64_t i = 0; i < a.rows; ++i) {
    for (std::int64_t k = 0; k < a.cols; ++k) {
      const double aik = a(i, k);
      for (std::int64_t j = 0; j < b.cols; ++j) out(i, j) += aik * b(k, j);
    }
  }
}

void forward_op(Op op, ConstMat a, ConstMat b, const OpAttrs& attrs, Mat out, Mat aux) {
  switch (op) {
    case Op::leaf:
    case Op::constant:
      throw Error(std::string("forward_op: ") + op_name(op) + " has no forward (its value is given)");
    case Op::add: return map2(a, b, out, [](double x, double y) { return x + y; });
    case Op::sub: return map2(a, b, out, [](double x, double y) { return x - y; });
    case Op::mul: return map2(a, b, out, [](double x, double y) { return x * y; });
    case Op::div: return map2(a, b, out, [](double x, double y) { return x / y; });
    case Op::exp: return map1(a, out, [](double x) { return std::exp(x); });
    case Op::log: return map1(a, out, [](double x) { return std::log(x); });
    case Op::tanh: return map1(a, out, [](double x) { return std::tanh(x); });
    case Op::relu: return map1(a, out, [](double x) { return x > 0.0 ? x : 0.0; });
    case Op::matmul: return matmul_forward(a, b, out);
    case Op::sum:
    case Op::mean: {
      double s = 0.0;
      for (std::int64_t i = 0; i < a.numel(); ++i) s += a[i];
      out[0] = op == Op::sum ? s : s / static_cast<double>(a.numel());  // 0/0 = NaN when empty
      return;
    }
    case Op::scale: return map1(a, out, [s = attrs.scalar](double x) { return s * x; });
    case Op::add_bias:
      for (std::int64_t i = 0; i < a.rows; ++i) {
        for (std::int64_t j = 0; j < a.cols; ++j) out(i, j) = a(i, j) + b(0, j);
      }
      return;
    case Op::softmax_ce: return softmax_ce_forward(a, attrs.labels, out, aux);
  }
}

//! [backward_op]
void backward_op(Op op, ConstMat a, ConstMat b, ConstMat out, ConstMat aux, const OpAttrs& attrs,
                 ConstMat grad_out, Mat grad_a, Mat grad_b) {
  switch (op) {
    case Op::leaf:
    case Op::constant: return;  // nothing to propagate: a leaf's gradient is the result
    case Op::add: return add_backward(grad_out, grad_a, grad_b);
    case Op::sub: return sub_backward(grad_out, grad_a, grad_b);
    case Op::mul: return mul_backward(a, b, grad_out, grad_a, grad_b);
    case Op::div: return div_backward(a, b, grad_out, grad_a, grad_b);
    case Op::exp: return exp_backward(out, grad_out, grad_a);
    case Op::log: return log_backward(a, grad_out, grad_a);
    case Op::tanh: return tanh_backward(out, grad_out, grad_a);
    case Op::relu: return relu_backward(out, grad_out, grad_a);
    case Op::matmul: return matmul_backward(a, b, grad_out, grad_a, grad_b);
    case Op::sum: return sum_backward(grad_out, grad_a);
    case Op::mean: return mean_backward(grad_out, grad_a);
    case Op::scale: return scale_backward(attrs.scalar, grad_out, grad_a);
    case Op::add_bias: return add_bias_backward(grad_out, grad_a, grad_b);
    case Op::softmax_ce: return softmax_ce_backward(aux, attrs.labels, grad_out, grad_a);
  }
}
//! [backward_op]

// --- Given rules ------------------------------------------------------------------------------

//! [add_backward]
void add_backward(ConstMat grad_out, Mat grad_a, Mat grad_b) {
  // ∂(a + b)/∂a = ∂(a + b)/∂b = 1: the upstream gradient flows to both operands unchanged.
  for (std::int64_t i = 0; i < grad_out.numel(); ++i) {
    if (grad_a.data) grad_a[i] += grad_out[i];
    if (grad_b.data) grad_b[i] += grad_out[i];
  }
}
//! [add_backward]

void sub_backward(ConstMat grad_out, Mat grad_a, Mat grad_b) {
  for (std::int64_t i = 0; i < grad_out.numel(); ++i) {
    if (grad_a.data) grad_a[i] += grad_out[i];
    if (grad_b.data) grad_b[i] -= grad_out[i];
  }
}

void relu_backward(ConstMat out, ConstMat grad_out, Mat grad_a) {
  if (!grad_a.data) return;
  for (std::int64_t i = 0; i < grad_out.numel(); ++i) {
    if (out[i] > 0.0) grad_a[i] += grad_out[i];
  }
}

void sum_backward(ConstMat grad_out, Mat grad_a) {
  if (!grad_a.data) return;
  for (std::int64_t i = 0; i < grad_a.numel(); ++i) grad_a[i] += grad_out[0];
}

void mean_backward(ConstMat grad_out, Mat grad_a) {
  if (!grad_a.data) return;
  const double g = grad_out[0] / static_cast<double>(grad_a.numel());
  for (std::int64_t i = 0; i < grad_a.numel(); ++i) grad_a[i] += g;
}

void scale_backward(double s, ConstMat grad_out, Mat grad_a) {
  if (!grad_a.data) return;
  for (std::int64_t i = 0; i < grad_a.numel(); ++i) grad_a[i] += s * grad_out[i];
}

void add_bias_backward(ConstMat grad_out, Mat grad_a, Mat grad_b) {
  for (std::int64_t i = 0; i < grad_out.rows; ++i) {
    for (std::int64_t j = 0; j < grad_out.cols; ++j) {
      if (grad_a.data) grad_a(i, j) += grad_out(i, j);
      if (grad_b.data) grad_b(0, j) += grad_out(i, j);  // one bias element fed every row
    }
  }
}

void softmax_ce_backward(ConstMat probs, std::span<const std::int32_t> labels, ConstMat grad_out,
                         Mat grad_a) {
  if (!grad_a.data) return;
  // ∂/∂z_c [logsumexp(z) − z_y] = p_c − [c = y]; the mean over B rows divides by B.
  const double g = grad_out[0] / static_cast<double>(probs.rows);
  for (std::int64_t r = 0; r < probs.rows; ++r) {
    const std::int64_t y = labels[static_cast<std::size_t>(r)];
    for (std::int64_t c = 0; c < probs.cols; ++c) {
      grad_a(r, c) += g * (probs(r, c) - (c == y ? 1.0 : 0.0));
    }
  }
}

// --- Ex 3.2 -----------------------------------------------------------------------------------

//! [mul_backward]
void mul_backward(ConstMat a, ConstMat b, ConstMat grad_out, Mat grad_a, Mat grad_b) {
  // BEGIN SOLUTION("ex 3.2", "for each i: if grad_a.data, grad_a[i] += grad_out[i] * b[i]; if grad_b.data, grad_b[i] += grad_out[i] * a[i]")
  for (std::int64_t i = 0; i < grad_out.numel(); ++i) {
    // Read a and b, not the gradients: grad_a and grad_b may be one buffer (x * x), and then
    // the two contributions simply add up, 2·x·ȳ, as the derivative of x² demands.
    if (grad_a.data) grad_a[i] += grad_out[i] * b[i];
    if (grad_b.data) grad_b[i] += grad_out[i] * a[i];
  }
  // END SOLUTION
}
//! [mul_backward]

void div_backward(ConstMat a, ConstMat b, ConstMat grad_out, Mat grad_a, Mat grad_b) {
  // BEGIN SOLUTION("ex 3.2", "grad_a[i] += g / b[i]; grad_b[i] -= g * a[i] / (b[i] * b[i]), each only when its data is not null")
  for (std::int64_t i = 0; i < grad_out.numel(); ++i) {
    const double inv = 1.0 / b[i];
    if (grad_a.data) grad_a[i] += grad_out[i] * inv;
    if (grad_b.data) grad_b[i] -= grad_out[i] * a[i] * inv * inv;
  }
  // END SOLUTION
}

void exp_backward(ConstMat out, ConstMat grad_out, Mat grad_a) {
  // BEGIN SOLUTION("ex 3.2", "if grad_a.data: grad_a[i] += grad_out[i] * out[i] (exp' = exp = the saved output)")
  if (!grad_a.data) return;
  for (std::int64_t i = 0; i < grad_out.numel(); ++i) grad_a[i] += grad_out[i] * out[i];
  // END SOLUTION
}

void log_backward(ConstMat a, ConstMat grad_out, Mat grad_a) {
  // BEGIN SOLUTION("ex 3.2", "if grad_a.data: grad_a[i] += grad_out[i] / a[i]")
  if (!grad_a.data) return;
  for (std::int64_t i = 0; i < grad_out.numel(); ++i) grad_a[i] += grad_out[i] / a[i];
  // END SOLUTION
}

//! [tanh_backward]
void tanh_backward(ConstMat out, ConstMat grad_out, Mat grad_a) {
  // BEGIN SOLUTION("ex 3.2", "if grad_a.data: grad_a[i] += grad_out[i] * (1 - y*y) with y = out[i]")
  if (!grad_a.data) return;
  for (std::int64_t i = 0; i < grad_out.numel(); ++i) {
    const double y = out[i];  // tanh' = 1 − tanh²: the saved output is enough
    grad_a[i] += grad_out[i] * (1.0 - y * y);
  }
  // END SOLUTION
}
//! [tanh_backward]

//! [matmul_backward]
void matmul_backward(ConstMat a, ConstMat b, ConstMat grad_out, Mat grad_a, Mat grad_b) {
  // BEGIN SOLUTION("ex 3.2", "grad_a(i,k) += sum_j grad_out(i,j) * b(k,j); grad_b(k,j) += sum_i a(i,k) * grad_out(i,j)")
  const std::int64_t m = a.rows, k_dim = a.cols, n = b.cols;
  if (grad_a.data) {
    // ā = ȳ · bᵀ: row i of ȳ dotted with row k of b, both unit stride.
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t k = 0; k < k_dim; ++k) {
        double s = 0.0;
        for (std::int64_t j = 0; j < n; ++j) s += grad_out(i, j) * b(k, j);
        grad_a(i, k) += s;
      }
    }
  }
  if (grad_b.data) {
    // b̄ = aᵀ · ȳ: for each i, row k of b̄ += a(i, k) · row i of ȳ (the i-k-j order).
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t k = 0; k < k_dim; ++k) {
        const double aik = a(i, k);
        for (std::int64_t j = 0; j < n; ++j) grad_b(k, j) += aik * grad_out(i, j);
      }
    }
  }
  // END SOLUTION
}
//! [matmul_backward]

}  // namespace gnm::ch03
