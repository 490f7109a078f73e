// Internal: the elementwise unary family of chapter 9.3 (neg … sigmoid, clamp, where, dropout)
// and the fused kernels of chapter 9.4 (bias + activation), CPU and CUDA.
//
// The scalar math lives here, once, as GNM_HOST_DEVICE templates: the CPU loops, the CUDA kernels,
// bias_act and the fused executor's interpreter all call the same functions, so an activation is
// the same formula everywhere (and fused == unfused exactly in f32 on the CPU, where g++ does not
// contract a·b + c into an FMA under -std=c++20).
//
// `A` is the compute type: float for f32/f16/bf16, double for f64 (detail::acc_t). Kernels trust
// their arguments: the ops in ops_unary.cpp / ops_where_dropout.cpp / fusion.cpp check them.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <vector>

#include "gnm/core/macros.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/tensor/fusion.hpp"
#include "gnm/tensor/tensor.hpp"

namespace gnm::kernels {

enum class UnaryOp : std::uint8_t {
  neg, exp, log, sqrt, abs, square, relu, gelu, gelu_tanh, silu, tanh, sigmoid
};

// The op's name as the error messages and tests print it.
const char* unary_name(UnaryOp op);

// True when the backward rule is written in terms of the output y (exp, sqrt, tanh, sigmoid:
// cheaper than recomputing from x, and what PyTorch saves); otherwise it needs the input x.
GNM_HOST_DEVICE constexpr bool unary_backward_uses_output(UnaryOp op) {
  return op == UnaryOp::exp || op == UnaryOp::sqrt || op == UnaryOp::tanh ||
         op == UnaryOp::sigmoid;
}

namespace math {

// libm on the host, CUDA's math library on the device; float and double overloads.
#if defined(__CUDA_ARCH__)
#define GNM_UNARY_MATH_FN(NAME)                                        \
  template <class A>                                                   \
  __device__ inline A NAME(A x) {                                      \
    if constexpr (std::is_same_v<A, float>) return ::NAME##f(x);       \
    else return ::NAME(x);                                             \
  }
#else
#define GNM_UNARY_MATH_FN(NAME) \
  template <class A>            \
  inline A NAME(A x) {          \
    return std::NAME(x);        \
  }
#endif
GNM_UNARY_MATH_FN(exp)
GNM_UNARY_MATH_FN(log)
GNM_UNARY_MATH_FN(sqrt)
GNM_UNARY_MATH_FN(tanh)
GNM_UNARY_MATH_FN(erf)
#undef GNM_UNARY_MATH_FN

// Constants of the GELU formulas (PyTorch's): 1/√2, 1/√(2π), √(2/π), and the tanh form's
// cubic coefficient 0.044715.
template <class A>
GNM_HOST_DEVICE constexpr A kSqrtHalf() { return static_cast<A>(0.70710678118654752440); }
template <class A>
GNM_HOST_DEVICE constexpr A kInvSqrt2Pi() { return static_cast<A>(0.39894228040143267794); }
template <class A>
GNM_HOST_DEVICE constexpr A kSqrt2OverPi() { return static_cast<A>(0.79788456080286535588); }
template <class A>
GNM_HOST_DEVICE constexpr A kGeluKappa() { return static_cast<A>(0.044715); }

template <class A>
GNM_HOST_DEVICE inline A sigmoid(A x) {
  // exp(−x) overflows to +inf for x < −88 (f32): 1/(1 + inf) = 0, the right limit, no NaN.
  return A(1) / (A(1) + exp(-x));
}

template <class A>
GNM_HOST_DEVICE inline A gelu_tanh_inner(A x) {
  return kSqrt2OverPi<A>() * (x + kGeluKappa<A>() * x * x * x);
}

// y = op(x). NaN propagates through every op (relu and abs included, as in PyTorch).
//! [unary_forward]
template <class A>
GNM_HOST_DEVICE inline A unary_forward(UnaryOp op, A x) {
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::exp: return exp(x);
    case UnaryOp::log: return log(x);
    case UnaryOp::sqrt: return sqrt(x);
    case UnaryOp::abs: return x < A(0) ? -x : x;
    case UnaryOp::square: return x * x;
    case UnaryOp::relu: return x < A(0) ? A(0) : x;  // NaN < 0 is false: NaN stays NaN
    case UnaryOp::gelu: return A(0.5) * x * (A(1) + erf(x * kSqrtHalf<A>()));
    case UnaryOp::gelu_tanh: return A(0.5) * x * (A(1) + tanh(gelu_tanh_inner(x)));
    case UnaryOp::silu: return x / (A(1) + exp(-x));
    case UnaryOp::tanh: return tanh(x);
    case UnaryOp::sigmoid: return sigmoid(x);
  }
  return x;
}
//! [unary_forward]

// dL/dx = g · op'(x), with `s` the saved value: y for the ops of unary_backward_uses_output,
// x for the others. Gradients at kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0.
template <class A>
GNM_HOST_DEVICE inline A unary_backward(UnaryOp op, A g, A s) {
  switch (op) {
    case UnaryOp::neg: return -g;
    case UnaryOp::exp: return g * s;                  // s = y = eˣ
    case UnaryOp::log: return g / s;                  // s = x
    case UnaryOp::sqrt: return g / (A(2) * s);        // s = y = √x
    case UnaryOp::abs: return s > A(0) ? g : s < A(0) ? -g : A(0);
    case UnaryOp::square: return A(2) * s * g;
    case UnaryOp::relu: return s > A(0) ? g : A(0);
    case UnaryOp::gelu: {
      // d/dx x·Φ(x) = Φ(x) + x·φ(x)
      const A cdf = A(0.5) * (A(1) + erf(s * kSqrtHalf<A>()));
      const A pdf = kInvSqrt2Pi<A>() * exp(A(-0.5) * s * s);
      return g * (cdf + s * pdf);
    }
    case UnaryOp::gelu_tanh: {
      // y = ½x(1 + t), t = tanh(u), u = √(2/π)(x + κx³):
      // y' = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3κx²)
      const A t = tanh(gelu_tanh_inner(s));
      const A du = kSqrt2OverPi<A>() * (A(1) + A(3) * kGeluKappa<A>() * s * s);
      return g * (A(0.5) * (A(1) + t) + A(0.5) * s * (A(1) - t * t) * du);
    }
    case UnaryOp::silu: {
      // d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x)))
      const A sg = sigmoid(s);
      return g * sg * (A(1) + s * (A(1) - sg));
    }
    case UnaryOp::tanh: return g * (A(1) - s * s);   // s = y
    case UnaryOp::sigmoid: return g * s * (A(1) - s);  // s = y
  }
  return g;
}

// The activation of gnm::Activation as a UnaryOp (none → no op).
GNM_HOST_DEVICE constexpr bool activation_op(Activation act, UnaryOp& op) {
  switch (act) {
    case Activation::none: return false;
    case Activation::relu: op = UnaryOp::relu; return true;
    case Activation::gelu: op = UnaryOp::gelu; return true;
    case Activation::gelu_tanh: op = UnaryOp::gelu_tanh; return true;
    case Activation::silu: op = UnaryOp::silu; return true;
    case Activation::tanh: op = UnaryOp::tanh; return true;
    case Activation::sigmoid: op = UnaryOp::sigmoid; return true;
  }
  return false;
}

// act(x) and g·act'(x) from the pre-activation x (bias_act recomputes instead of saving y).
template <class A>
GNM_HOST_DEVICE inline A activation_forward(Activation act, A x) {
  UnaryOp op = UnaryOp::neg;
  return activation_op(act, op) ? unary_forward(op, x) : x;
}
template <class A>
GNM_HOST_DEVICE inline A activation_backward(Activation act, A g, A x) {
  UnaryOp op = UnaryOp::neg;
  if (!activation_op(act, op)) return g;
  return unary_backward(op, g, unary_backward_uses_output(op) ? unary_forward(op, x) : x);
}

// Clamp with optional bounds; NaN x stays NaN (both comparisons are false).
template <class A>
GNM_HOST_DEVICE inline A clamp(A x, bool has_lo, A lo, bool has_hi, A hi) {
  if (has_lo && x < lo) x = lo;
  if (has_hi && x > hi) x = hi;
  return x;
}

// Dropout's mask: element i of stream (seed, subsequence) is kept when uniform(i) ≥ p. The
// comparison is in double, where both sides are exact (uniform() is a multiple of 2⁻²⁴), so
// the CPU and the GPU agree bit for bit.
//! [dropout_keep]
GNM_HOST_DEVICE inline bool dropout_keep(const PhiloxRng& rng, std::uint64_t i, double p) {
  return static_cast<double>(rng.uniform(i)) >= p;
}
//! [dropout_keep]

// The fused executor's unary opcodes are UnaryOp in the same order, from OpCode::neg on.
GNM_HOST_DEVICE constexpr UnaryOp fused_unary_op(fused::OpCode op) {
  return static_cast<UnaryOp>(static_cast<int>(op) - static_cast<int>(fused::OpCode::neg));
}
static_assert(static_cast<int>(fused::OpCode::sigmoid) - static_cast<int>(fused::OpCode::neg) ==
                  static_cast<int>(UnaryOp::sigmoid),
              "fused::OpCode's unary block must mirror UnaryOp");

// The executor's binary ops, with the semantics of the tensor ops (cpu/binary.cpp): maximum and
// minimum propagate NaN (and pick a on ties, as std::max/std::min do there).
template <class A>
GNM_HOST_DEVICE inline A fused_binary(fused::OpCode op, A a, A b) {
  switch (op) {
    case fused::OpCode::add: return a + b;
    case fused::OpCode::sub: return a - b;
    case fused::OpCode::mul: return a * b;
    case fused::OpCode::div: return a / b;
    case fused::OpCode::maximum: return (a != a) ? a : (b != b) ? b : (a < b ? b : a);
    case fused::OpCode::minimum: return (a != a) ? a : (b != b) ? b : (b < a ? b : a);
    default: return a;
  }
}

}  // namespace math

// Calls f(std::integral_constant<UnaryOp, op>{}) so the op is a compile-time constant inside f
// (host code: the CPU loops specialise on it and vectorise the cheap ops).
template <class F>
void dispatch_unary_op(UnaryOp op, F&& f) {
#define GNM_UNARY_CASE(NAME) \
  case UnaryOp::NAME: f(std::integral_constant<UnaryOp, UnaryOp::NAME>{}); return;
  switch (op) {
    GNM_UNARY_CASE(neg) GNM_UNARY_CASE(exp) GNM_UNARY_CASE(log) GNM_UNARY_CASE(sqrt)
    GNM_UNARY_CASE(abs) GNM_UNARY_CASE(square) GNM_UNARY_CASE(relu) GNM_UNARY_CASE(gelu)
    GNM_UNARY_CASE(gelu_tanh) GNM_UNARY_CASE(silu) GNM_UNARY_CASE(tanh) GNM_UNARY_CASE(sigmoid)
  }
#undef GNM_UNARY_CASE
}

// Clamp bounds as the kernels take them (converted to the compute type inside).
struct ClampBounds {
  bool has_lo = false, has_hi = false;
  double lo = 0.0, hi = 0.0;
};

// out (contiguous) = op(x); x any strides, same shape and dtype. neg/abs accept every numeric
// dtype, the others floating dtypes only (GNM_DISPATCH_FLOATING throws for the rest).
void unary_cpu(UnaryOp op, const Tensor& out, const Tensor& x);
// grad_in (contiguous) = unary_backward(op, grad_out, saved); all of one floating dtype and shape.
void unary_backward_cpu(UnaryOp op, const Tensor& grad_in, const Tensor& grad_out,
                        const Tensor& saved);
// out = clamp(x); grad_in = grad_out where lo < x < hi, else 0 (strict: PyTorch gives 0 at a
// bound, as its clamp_min/clamp_max derivatives do).
void clamp_cpu(const Tensor& out, const Tensor& x, ClampBounds b);
void clamp_backward_cpu(const Tensor& grad_in, const Tensor& grad_out, const Tensor& x,
                        ClampBounds b);
// out = cond ? a : b; all expanded to out's shape; cond bool, a/b/out one dtype.
void where_cpu(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b);
// out (contiguous) = keep(i) ? x·scale : 0, i the row-major index of the element (the offset in
// out). Used for the forward (x = input) and the backward (x = grad_output).
void dropout_cpu(const Tensor& out, const Tensor& x, std::uint64_t seed, std::uint64_t subsequence,
                 double p, double scale);
// out (contiguous, x's shape) = act(x + bias), bias (N) broadcast along x's last dimension.
void bias_act_cpu(const Tensor& out, const Tensor& x, const Tensor& bias, Activation act);
// grad_pre (contiguous) = g · act'(x + bias): the gradient of x; bias's is its column sum.
void bias_act_backward_cpu(const Tensor& grad_pre, const Tensor& grad_out, const Tensor& x,
                           const Tensor& bias, Activation act);

// The fused executor (chapter 9.4): out (contiguous) = program(inputs), the inputs already
// expanded to out's shape, all of out's floating dtype. CPU version in fusion.cpp.
void fused_evaluate_cpu(const fused::Program& program, const Tensor& out,
                        const std::vector<Tensor>& inputs);

#if GNM_HAVE_CUDA
void fused_evaluate_cuda(const fused::Program& program, const Tensor& out,
                         const std::vector<Tensor>& inputs);
void unary_cuda(UnaryOp op, const Tensor& out, const Tensor& x);
void unary_backward_cuda(UnaryOp op, const Tensor& grad_in, const Tensor& grad_out,
                         const Tensor& saved);
void clamp_cuda(const Tensor& out, const Tensor& x, ClampBounds b);
void clamp_backward_cuda(const Tensor& grad_in, const Tensor& grad_out, const Tensor& x,
                         ClampBounds b);
void where_cuda(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b);
void dropout_cuda(const Tensor& out, const Tensor& x, std::uint64_t seed,
                  std::uint64_t subsequence, double p, double scale);
void bias_act_cuda(const Tensor& out, const Tensor& x, const Tensor& bias, Activation act);
void bias_act_backward_cuda(const Tensor& grad_pre, const Tensor& grad_out, const Tensor& x,
                            const Tensor& bias, Activation act);
#endif

}  // namespace gnm::kernels
