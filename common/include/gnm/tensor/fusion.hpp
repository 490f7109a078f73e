/// \file
/// Kernel fusion (chapter 9.4): elementwise chains in one pass over memory.
///
/// An unfused chain such as `sigmoid(a * b + 1)` runs three kernels and writes two intermediate
/// tensors: each intermediate is written once and read once, so for n-element f32 operands the
/// chain moves 4n·(2 inputs + 2·2 intermediates + 1 output) = 28n bytes where one pass needs 12n.
/// Elementwise kernels are bandwidth-bound (a few FLOPs per 4-byte load), so time follows bytes.
/// Two fused forms are provided here:
///
/// - gnm::bias_act(x, bias, act): the epilogue of every Linear layer, `act(x + bias)`, as one
///   kernel with a backward (autograd supported).
/// - gnm::fused: a small expression language whose programs are evaluated over broadcast inputs
///   in one pass (CPU, and CUDA when built with it). No autograd: use it for inference or inside
///   a hand-written backward.
///
/// \code
/// using namespace gnm;
/// Tensor y = bias_act(x, b, Activation::gelu);           // (B, N) + (N) → gelu, one pass
/// auto e = fused::sigmoid(fused::arg(0) * fused::arg(1) + 1.0);
/// Tensor z = fused::evaluate(e, {a, b});                 // == sigmoid(a * b + 1)
/// \endcode
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gnm/tensor/tensor.hpp"

namespace gnm {

/// The activations gnm::bias_act can fuse after its bias add.
enum class Activation : std::uint8_t {
  none,       ///< Identity: bias add only.
  relu,       ///< gnm::relu.
  gelu,       ///< gnm::gelu with erf (exact).
  gelu_tanh,  ///< gnm::gelu with the tanh approximation.
  silu,       ///< gnm::silu.
  tanh,       ///< gnm::tanh.
  sigmoid,    ///< gnm::sigmoid.
};

/// The activation's name ("none", "relu", "gelu", "gelu_tanh", "silu", "tanh", "sigmoid").
const char* activation_name(Activation act);

/// act(x + bias) in one pass: x (…, N), bias (N) of x's floating dtype and device; the result has
/// x's shape. Equal to the unfused `activation(add(x, bias))` bit for bit in f32 on the CPU (the
/// same formulas; no intermediate rounding in f32); in f16/bf16 it is more accurate, since the
/// sum is not rounded to 16 bits before the activation. Differentiable in x and bias; the backward
/// recomputes x + bias instead of saving it (one kernel for dL/dx, a column sum for dL/dbias).
/// Shape mismatch → gnm::ShapeError naming both shapes.
Tensor bias_act(const Tensor& x, const Tensor& bias, Activation act);

/// The fused elementwise executor: build an expression from placeholders, evaluate it in one pass.
namespace fused {

/// One instruction's operation. Programs are postfix (reverse Polish): operands are pushed, an
/// op pops its operands and pushes its result.
enum class OpCode : std::uint8_t {
  arg,       ///< Push input `index`.
  constant,  ///< Push `value`.
  neg,        ///< −a (unary ops pop a and push the result).
  exp,        ///< eᵃ.
  log,        ///< ln a.
  sqrt,       ///< √a.
  abs,        ///< |a|.
  square,     ///< a².
  relu,       ///< max(a, 0).
  gelu,       ///< GELU, erf form.
  gelu_tanh,  ///< GELU, tanh approximation.
  silu,       ///< a·σ(a).
  tanh,       ///< tanh a.
  sigmoid,    ///< σ(a).
  add,        ///< a + b (binary ops pop b, then a, and push the result).
  sub,        ///< a − b.
  mul,        ///< a · b.
  div,        ///< a / b.
  maximum,    ///< max(a, b), NaN propagates.
  minimum,    ///< min(a, b), NaN propagates.
};

/// The opcode's name, e.g. "sigmoid" or "add".
const char* opcode_name(OpCode op);

/// The most instructions, stack slots and inputs a program may use. Programs are passed by value
/// to CUDA kernels (≈ 1 KiB here, well inside the 4 KiB parameter limit), so they are fixed-size.
inline constexpr int kMaxInstructions = 64;
inline constexpr int kMaxStack = 16;  ///< See kMaxInstructions.
inline constexpr int kMaxInputs = 8;  ///< See kMaxInstructions.

/// One instruction of a Program.
struct Instruction {
  OpCode op = OpCode::constant;  ///< What to do.
  std::uint8_t index = 0;        ///< Input index for OpCode::arg.
  double value = 0.0;            ///< Value for OpCode::constant (rounded to the compute type).
};

/// A compiled expression: postfix code in a fixed array, so it can travel to a GPU by value.
struct Program {
  int size = 0;        ///< Instructions used.
  int num_inputs = 0;  ///< 1 + the largest input index referenced (0 for a constant program).
  int max_depth = 0;   ///< Stack slots needed.
  Instruction code[kMaxInstructions];  ///< The instructions, first to run first.
};

/// An expression tree (immutable, cheap to copy: nodes are shared).
class Expr {
 public:
  /// The node behind an Expr (internal; exposed so compile() can walk it).
  struct Node {
    OpCode op = OpCode::constant;  ///< Operation.
    int index = 0;                 ///< Input index (OpCode::arg).
    double value = 0.0;            ///< Constant value (OpCode::constant).
    std::shared_ptr<const Node> lhs;  ///< First operand (the only one of a unary op).
    std::shared_ptr<const Node> rhs;  ///< Second operand of a binary op.
  };
  /// Builds an expression from its node (use arg(), constant() and the operators instead).
  explicit Expr(std::shared_ptr<const Node> node) : node_(std::move(node)) {}
  /// The root node.
  const Node& node() const { return *node_; }
  /// The shared root (for building larger expressions).
  const std::shared_ptr<const Node>& node_ptr() const { return node_; }

 private:
  std::shared_ptr<const Node> node_;
};

/// Placeholder for input `index` (0 ≤ index < kMaxInputs, else gnm::Error naming it).
Expr arg(int index);
/// A constant, computed in the inputs' compute type (f32 for f32/f16/bf16, f64 for f64).
Expr constant(double value);

/// \name Arithmetic (NumPy broadcasting happens between the inputs, not here)
///@{
Expr operator+(const Expr& a, const Expr& b);  ///< a + b.
Expr operator-(const Expr& a, const Expr& b);  ///< a − b.
Expr operator*(const Expr& a, const Expr& b);  ///< a · b.
Expr operator/(const Expr& a, const Expr& b);  ///< a / b.
Expr operator+(const Expr& a, double b);       ///< a + b.
Expr operator-(const Expr& a, double b);       ///< a − b.
Expr operator*(const Expr& a, double b);       ///< a · b.
Expr operator/(const Expr& a, double b);       ///< a / b.
Expr operator+(double a, const Expr& b);       ///< a + b.
Expr operator-(double a, const Expr& b);       ///< a − b.
Expr operator*(double a, const Expr& b);       ///< a · b.
Expr operator/(double a, const Expr& b);       ///< a / b.
Expr operator-(const Expr& a);                 ///< −a.
Expr maximum(const Expr& a, const Expr& b);    ///< Elementwise max (NaN propagates).
Expr minimum(const Expr& a, const Expr& b);    ///< Elementwise min (NaN propagates).
///@}

/// \name Functions (the same formulas as the tensor ops of the same name)
///@{
Expr neg(const Expr& x);      ///< −x.
Expr exp(const Expr& x);      ///< eˣ.
Expr log(const Expr& x);      ///< ln x.
Expr sqrt(const Expr& x);     ///< √x.
Expr abs(const Expr& x);      ///< |x|.
Expr square(const Expr& x);   ///< x².
Expr relu(const Expr& x);     ///< max(x, 0).
Expr gelu(const Expr& x, bool tanh_approximation = false);  ///< GELU (erf or tanh form).
Expr silu(const Expr& x);     ///< x·σ(x).
Expr tanh(const Expr& x);     ///< tanh x.
Expr sigmoid(const Expr& x);  ///< σ(x).
///@}

/// Postfix code for `e`; gnm::Error when it needs more than kMaxInstructions instructions or
/// kMaxStack stack slots (naming both numbers). A subexpression used twice is evaluated twice
/// (recomputing is free next to a memory pass).
Program compile(const Expr& e);

/// Readable form of the expression, e.g. "sigmoid(((x0 * x1) + 1))".
std::string to_string(const Expr& e);

/// Evaluates `e` elementwise over `inputs` broadcast together (NumPy rules), in one pass: each
/// input element is read once and the output written once; intermediates live in registers (CUDA)
/// or in an L1-sized block (CPU). Inputs: 1 to kMaxInputs tensors of one floating dtype and one
/// device, at least as many as the expression references; the result is contiguous, of their
/// dtype and broadcast shape. Not differentiable: the result never requires grad.
Tensor evaluate(const Expr& e, const std::vector<Tensor>& inputs);
/// evaluate() of an already compiled program (skips compiling in a hot loop).
Tensor evaluate(const Program& program, const std::vector<Tensor>& inputs);

}  // namespace fused
}  // namespace gnm
