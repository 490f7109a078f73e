// Exercise 3.2 — backward rules (section 3.2), and the primitives every chapter-3 engine shares.
//
// Write, in exercises/ch03/ops.cpp: mul_backward, div_backward, exp_backward, log_backward,
// tanh_backward and matmul_backward. Then:
//   cmake --build build && ctest --test-dir build -L exercise -R ch03/exercise/Ch03Backward
//
// Every primitive y = op(a, b) has a forward kernel and a backward rule (a "vector-Jacobian
// product"): given ȳ = ∂L/∂y, the upstream gradient of some scalar loss L, add
//
//     ā += ȳ · ∂y/∂a        b̄ += ȳ · ∂y/∂b
//
// to the input gradients. *Add*, never assign: an input used by several operations (fan-out)
// receives one contribution from each, and the total derivative is their sum (the multivariate
// chain rule). Before the first contribution the engine zeroes the gradient buffer.
//
// Conventions of every rule below:
// - Shapes have been checked by the caller (infer_shape); a rule may assume them.
// - A gradient view with data == nullptr is not wanted (that input does not require a gradient):
//   skip it, do not write through it.
// - A rule reads only the values that saved_by(op) lists; the others may be null views (the
//   tape of section 3.3 does not keep them).
// - The gradient views may alias each other (x * x passes the same buffer as grad_a and grad_b),
//   never the inputs: read a, b, out, grad_out; accumulate into grad_a, grad_b.
#pragma once

#include <cstdint>
#include <span>

#include "mat.hpp"

namespace gnm::ch03 {

/// The primitives of the chapter's autodiff engines (the tape, the static graph, the replay).
enum class Op : std::uint8_t {
  leaf,        ///< An input or a parameter: no operation, the value is given.
  constant,    ///< A value known when the graph is built (the static graph folds these).
  add,         ///< a + b, same shapes.
  sub,         ///< a − b, same shapes.
  mul,         ///< a ⊙ b (elementwise), same shapes.
  div,         ///< a ⊘ b (elementwise), same shapes.
  exp,         ///< exp(a), elementwise.
  log,         ///< log(a), elementwise.
  tanh,        ///< tanh(a), elementwise.
  relu,        ///< max(a, 0), elementwise.
  matmul,      ///< a (M, K) · b (K, N) → (M, N).
  sum,         ///< Σ a → (1, 1).
  mean,        ///< Σ a / numel → (1, 1); NaN for an empty a, as torch.mean.
  scale,       ///< s · a for the constant s = OpAttrs::scalar.
  add_bias,    ///< a (M, N) + b (1, N): b added to every row.
  softmax_ce,  ///< mean over rows of −log softmax(a)[label]: a (B, C) logits → (1, 1).
};

/// Number of Op values (for tables indexed by op).
inline constexpr int kOpCount = static_cast<int>(Op::softmax_ce) + 1;

/// "matmul", "softmax_ce": the op's name in messages and figures.
const char* op_name(Op op);
/// Number of tensor operands: 0 for leaf/constant, 2 for add … div, matmul, add_bias, else 1.
int op_arity(Op op);

/// The non-tensor arguments of an op.
struct OpAttrs {
  double scalar = 0.0;                    ///< The factor of Op::scale.
  std::span<const std::int32_t> labels;  ///< Op::softmax_ce: one class index per row of a.
};

/// The output shape of `op` on operands of shapes a and b (b ignored for unary ops). Throws
/// gnm::ShapeError naming the op and both shapes when they do not fit, e.g. matmul (2, 3) by
/// (4, 5), or a softmax_ce with no rows.
Shape2 infer_shape(Op op, Shape2 a, Shape2 b = {});

/// Which values the backward rule of an op reads: its operands, its output, its auxiliary
/// output (softmax_ce's probabilities). Whatever is not listed can be freed after the forward.
struct Saved {
  bool in0 = false;  ///< The first operand a.
  bool in1 = false;  ///< The second operand b.
  bool out = false;  ///< The output y.
  bool aux = false;  ///< The auxiliary output (softmax_ce: softmax(a), same shape as a).
};
/// What backward_op(op, …) reads (section 3.3 frees everything else).
Saved saved_by(Op op);
/// True when `op` writes an auxiliary output of the operand's shape (only softmax_ce).
bool has_aux(Op op);

/// Runs op's forward kernel: writes every element of `out` (shape infer_shape(...)), and of `aux`
/// when has_aux(op). Checks softmax_ce's labels (count == rows, each in [0, C): gnm::Error naming
/// the row and the label).
void forward_op(Op op, ConstMat a, ConstMat b, const OpAttrs& attrs, Mat out, Mat aux);

/// Runs op's backward rule: accumulates into grad_a and grad_b (null views are skipped). `a`,
/// `b`, `out` and `aux` need only be valid where saved_by(op) says so.
void backward_op(Op op, ConstMat a, ConstMat b, ConstMat out, ConstMat aux, const OpAttrs& attrs,
                 ConstMat grad_out, Mat grad_a, Mat grad_b);

/// out (M, N) = a (M, K) · b (K, N), accumulated in double in k order (given).
void matmul_forward(ConstMat a, ConstMat b, Mat out);

// --- Given backward rules: the pattern the exercises follow ----------------------------------

/// y = a + b: ā += ȳ, b̄ += ȳ.
void add_backward(ConstMat grad_out, Mat grad_a, Mat grad_b);
/// y = a − b: ā += ȳ, b̄ −= ȳ.
void sub_backward(ConstMat grad_out, Mat grad_a, Mat grad_b);
/// y = max(a, 0): ā += ȳ where y > 0 (the kink at 0 takes the subgradient 0, as PyTorch).
void relu_backward(ConstMat out, ConstMat grad_out, Mat grad_a);
/// y = Σ a (1, 1): ā_ij += ȳ for every element.
void sum_backward(ConstMat grad_out, Mat grad_a);
/// y = Σ a / n (1, 1): ā_ij += ȳ / n.
void mean_backward(ConstMat grad_out, Mat grad_a);
/// y = s · a: ā += s · ȳ.
void scale_backward(double s, ConstMat grad_out, Mat grad_a);
/// y = a + b broadcast over rows: ā += ȳ, b̄_j += Σ_i ȳ_ij (a broadcast in the forward is a sum
/// in the backward).
void add_bias_backward(ConstMat grad_out, Mat grad_a, Mat grad_b);
/// y = mean_i(logsumexp(a_i) − a_i,label_i) with p = softmax(a) saved: ā += ȳ · (p − onehot) / B.
void softmax_ce_backward(ConstMat probs, std::span<const std::int32_t> labels, ConstMat grad_out,
                         Mat grad_a);

// --- Ex 3.2: write these six ----------------------------------------------------------------

/// Ex 3.2. y = a ⊙ b: ā += ȳ ⊙ b, b̄ += ȳ ⊙ a (each only when its view is not null).
void mul_backward(ConstMat a, ConstMat b, ConstMat grad_out, Mat grad_a, Mat grad_b);
/// Ex 3.2. y = a ⊘ b: ā += ȳ / b, b̄ += −ȳ · a / b² (elementwise).
void div_backward(ConstMat a, ConstMat b, ConstMat grad_out, Mat grad_a, Mat grad_b);
/// Ex 3.2. y = exp(a): ā += ȳ ⊙ y. Uses the saved output, not a: exp is not recomputed.
void exp_backward(ConstMat out, ConstMat grad_out, Mat grad_a);
/// Ex 3.2. y = log(a): ā += ȳ / a.
void log_backward(ConstMat a, ConstMat grad_out, Mat grad_a);
/// Ex 3.2. y = tanh(a): ā += ȳ ⊙ (1 − y²), from the saved output y.
void tanh_backward(ConstMat out, ConstMat grad_out, Mat grad_a);
/// Ex 3.2. y (M, N) = a (M, K) · b (K, N):
///
///     ā (M, K) += ȳ (M, N) · bᵀ      b̄ (K, N) += aᵀ · ȳ
///
/// (check the shapes: they are the only products of ȳ with b or a that fit). Loop orders with a
/// unit-stride inner loop are enough; K, M or N may be 0 or 1.
void matmul_backward(ConstMat a, ConstMat b, ConstMat grad_out, Mat grad_a, Mat grad_b);

}  // namespace gnm::ch03
