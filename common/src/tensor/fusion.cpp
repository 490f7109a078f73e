// Kernel fusion (chapter 9.4): bias_act with its backward, and the fused elementwise executor —
// expression building, compiling to postfix code, and the CPU interpreter.
//
// Note [Block interpreter]
// Interpreting a program once per element would pay a switch per instruction per element (≈ 5 ns
// each on this CPU: slower than the memory pass we are trying to save). The CPU interpreter
// instead runs each instruction over a block of kBlock elements: the stack is kMaxStack arrays
// of kBlock values (16 KiB in f32: it stays in L1), an `arg` gathers one block of an input, a
// unary or binary op is one tight (vectorisable) loop over the block, and the bottom of the stack
// is stored to the output. Dispatch costs one switch per instruction per 256 elements; memory
// traffic is one read per input element and one write per output element — the fused pass.
#include <algorithm>
#include <sstream>

#include "dispatch.hpp"
#include "cpu/loops.hpp"
#include "gnm/autograd/node.hpp"
#include "gnm/tensor/fusion.hpp"
#include "gnm/tensor/ops.hpp"
#include "kernels_unary.hpp"

#if GNM_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "gnm/cuda/check.hpp"
#endif

namespace gnm {

const char* activation_name(Activation act) {
  switch (act) {
    case Activation::none: return "none";
    case Activation::relu: return "relu";
    case Activation::gelu: return "gelu";
    case Activation::gelu_tanh: return "gelu_tanh";
    case Activation::silu: return "silu";
    case Activation::tanh: return "tanh";
    case Activation::sigmoid: return "sigmoid";
  }
  return "?";
}

namespace {

class BiasActBackward final : public autograd::Node {
 public:
  Activation act = Activation::none;
  Tensor x, bias;  // the pre-activation is recomputed from these
  bool need_x = true, need_bias = true;

  std::string name() const override { return "BiasActBackward0"; }

  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    const Tensor& g = grads[0];
    Tensor grad_pre = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
    if (grad_pre.numel() > 0) {
      const Tensor eb = bias.expand(x.shape());
#if GNM_HAVE_CUDA
      if (x.is_cuda()) {
        GNM_CUDA_CHECK(cudaSetDevice(x.device().index));
        kernels::bias_act_backward_cuda(grad_pre, g, x, eb, act);
      } else
#endif
        kernels::bias_act_backward_cpu(grad_pre, g, x, eb, act);
    }
    Tensor gb = need_bias ? sum_to(grad_pre, bias.shape()) : Tensor();
    return {need_x ? grad_pre : Tensor(), gb};
  }

  void release() override {
    x = bias = Tensor();
    Node::release();
  }
};

}  // namespace

Tensor bias_act(const Tensor& x, const Tensor& bias, Activation act) {
  GNM_CHECK(is_floating(x.dtype()), "op needs a floating dtype", "bias_act", dtype_name(x.dtype()));
  GNM_CHECK(x.dtype() == bias.dtype(), "bias_act's x and bias have different dtypes",
            dtype_name(x.dtype()), dtype_name(bias.dtype()));
  GNM_CHECK(x.device() == bias.device(), "bias_act's x and bias are on different devices",
            x.device().str(), bias.device().str());
  GNM_CHECK_SHAPE(x.dim() >= 1 && bias.dim() == 1 && bias.size(0) == x.size(-1),
                  "bias_act needs x (..., N) and bias (N)", shape_str(x.shape()),
                  shape_str(bias.shape()));
  Tensor out = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() > 0) {
    const Tensor eb = bias.detach().expand(x.shape());  // (N) → (…, N) with stride 0
#if GNM_HAVE_CUDA
    if (x.is_cuda()) {
      GNM_CUDA_CHECK(cudaSetDevice(x.device().index));
      kernels::bias_act_cuda(out, x, eb, act);
    } else
#endif
      kernels::bias_act_cpu(out, x, eb, act);
  }
  if (autograd::any_requires_grad({&x, &bias})) {
    auto node = std::make_shared<BiasActBackward>();
    node->act = act;
    node->x = x.detach();
    node->bias = bias.detach();
    node->need_x = x.requires_grad();
    node->need_bias = bias.requires_grad();
    autograd::set_history(node, {&x, &bias}, {&out});
  }
  return out;
}

namespace fused {

const char* opcode_name(OpCode op) {
  switch (op) {
    case OpCode::arg: return "arg";
    case OpCode::constant: return "constant";
    case OpCode::add: return "add";
    case OpCode::sub: return "sub";
    case OpCode::mul: return "mul";
    case OpCode::div: return "div";
    case OpCode::maximum: return "maximum";
    case OpCode::minimum: return "minimum";
    default: return kernels::unary_name(kernels::math::fused_unary_op(op));
  }
}

namespace {

bool is_unary(OpCode op) { return op >= OpCode::neg && op <= OpCode::sigmoid; }

Expr make(OpCode op, const Expr* a, const Expr* b = nullptr, int index = 0, double value = 0.0) {
  auto n = std::make_shared<Expr::Node>();
  n->op = op;
  n->index = index;
  n->value = value;
  if (a) n->lhs = a->node_ptr();
  if (b) n->rhs = b->node_ptr();
  return Expr(std::move(n));
}

struct Compiler {
  Program p;
  int depth = 0;

  void emit(const Expr::Node& n, int level) {
    // Every node on the path down costs at least one instruction, so a deeper tree cannot fit:
    // stopping here also bounds this recursion.
    GNM_CHECK(level < kMaxInstructions && p.size < kMaxInstructions,
              "fused expression is too long", kMaxInstructions);
    if (n.lhs) emit(*n.lhs, level + 1);
    if (n.rhs) emit(*n.rhs, level + 1);
    GNM_CHECK(p.size < kMaxInstructions, "fused expression is too long", kMaxInstructions);
    Instruction& ins = p.code[p.size++];
    ins.op = n.op;
    ins.index = static_cast<std::uint8_t>(n.index);
    ins.value = n.value;
    if (n.op == OpCode::arg || n.op == OpCode::constant) {
      ++depth;
      if (n.op == OpCode::arg) p.num_inputs = std::max(p.num_inputs, n.index + 1);
    } else if (!is_unary(n.op)) {
      --depth;  // binary: two popped, one pushed
    }
    p.max_depth = std::max(p.max_depth, depth);
    GNM_CHECK(p.max_depth <= kMaxStack, "fused expression needs too deep a stack", p.max_depth,
              kMaxStack);
  }
};

void print(std::ostream& os, const Expr::Node& n, int level) {
  if (level > 200) {
    os << "...";
    return;
  }
  switch (n.op) {
    case OpCode::arg: os << 'x' << n.index; return;
    case OpCode::constant: os << n.value; return;
    case OpCode::add:
    case OpCode::sub:
    case OpCode::mul:
    case OpCode::div: {
      const char* sym = n.op == OpCode::add   ? " + "
                        : n.op == OpCode::sub ? " - "
                        : n.op == OpCode::mul ? " * "
                                              : " / ";
      os << '(';
      print(os, *n.lhs, level + 1);
      os << sym;
      print(os, *n.rhs, level + 1);
      os << ')';
      return;
    }
    default:
      os << opcode_name(n.op) << '(';
      print(os, *n.lhs, level + 1);
      if (n.rhs) {
        os << ", ";
        print(os, *n.rhs, level + 1);
      }
      os << ')';
  }
}

// A Program may be built by hand: check it the way the interpreters will run it, so that a bad
// one is a gnm::Error and never a stack underflow or an out-of-range input read.
void validate(const Program& p, int n_in) {
  GNM_CHECK(p.size >= 1 && p.size <= kMaxInstructions, "malformed fused program: bad size",
            p.size, kMaxInstructions);
  int depth = 0, max_depth = 0;
  for (int pc = 0; pc < p.size; ++pc) {
    const Instruction& ins = p.code[pc];
    const int op = static_cast<int>(ins.op);
    GNM_CHECK(op >= 0 && op <= static_cast<int>(OpCode::minimum),
              "malformed fused program: bad opcode", pc, op);
    if (ins.op == OpCode::arg) {
      GNM_CHECK(ins.index < n_in, "fused program reads an input that was not given", pc,
                static_cast<int>(ins.index), n_in);
      ++depth;
    } else if (ins.op == OpCode::constant) {
      ++depth;
    } else {
      const int pops = is_unary(ins.op) ? 1 : 2;
      GNM_CHECK(depth >= pops, "malformed fused program: stack underflow", pc, opcode_name(ins.op));
      depth -= pops - 1;
    }
    max_depth = std::max(max_depth, depth);
  }
  GNM_CHECK(depth == 1 && max_depth <= kMaxStack && max_depth <= p.max_depth,
            "malformed fused program: it must leave one value within its declared stack", depth,
            max_depth, p.max_depth, kMaxStack);
}

}  // namespace

Expr arg(int index) {
  GNM_CHECK(index >= 0 && index < kMaxInputs, "fused::arg index out of range", index, kMaxInputs);
  return make(OpCode::arg, nullptr, nullptr, index);
}
Expr constant(double value) { return make(OpCode::constant, nullptr, nullptr, 0, value); }

Expr operator+(const Expr& a, const Expr& b) { return make(OpCode::add, &a, &b); }
Expr operator-(const Expr& a, const Expr& b) { return make(OpCode::sub, &a, &b); }
Expr operator*(const Expr& a, const Expr& b) { return make(OpCode::mul, &a, &b); }
Expr operator/(const Expr& a, const Expr& b) { return make(OpCode::div, &a, &b); }
Expr operator+(const Expr& a, double b) { return a + constant(b); }
Expr operator-(const Expr& a, double b) { return a - constant(b); }
Expr operator*(const Expr& a, double b) { return a * constant(b); }
Expr operator/(const Expr& a, double b) { return a / constant(b); }
Expr operator+(double a, const Expr& b) { return constant(a) + b; }
Expr operator-(double a, const Expr& b) { return constant(a) - b; }
Expr operator*(double a, const Expr& b) { return constant(a) * b; }
Expr operator/(double a, const Expr& b) { return constant(a) / b; }
Expr operator-(const Expr& a) { return neg(a); }
Expr maximum(const Expr& a, const Expr& b) { return make(OpCode::maximum, &a, &b); }
Expr minimum(const Expr& a, const Expr& b) { return make(OpCode::minimum, &a, &b); }

Expr neg(const Expr& x) { return make(OpCode::neg, &x); }
Expr exp(const Expr& x) { return make(OpCode::exp, &x); }
Expr log(const Expr& x) { return make(OpCode::log, &x); }
Expr sqrt(const Expr& x) { return make(OpCode::sqrt, &x); }
Expr abs(const Expr& x) { return make(OpCode::abs, &x); }
Expr square(const Expr& x) { return make(OpCode::square, &x); }
Expr relu(const Expr& x) { return make(OpCode::relu, &x); }
Expr gelu(const Expr& x, bool tanh_approximation) {
  return make(tanh_approximation ? OpCode::gelu_tanh : OpCode::gelu, &x);
}
Expr silu(const Expr& x) { return make(OpCode::silu, &x); }
Expr tanh(const Expr& x) { return make(OpCode::tanh, &x); }
Expr sigmoid(const Expr& x) { return make(OpCode::sigmoid, &x); }

Program compile(const Expr& e) {
  Compiler c;
  c.emit(e.node(), 0);
  return c.p;
}

std::string to_string(const Expr& e) {
  std::ostringstream os;
  print(os, e.node(), 0);
  return os.str();
}

Tensor evaluate(const Expr& e, const std::vector<Tensor>& inputs) {
  return evaluate(compile(e), inputs);
}

Tensor evaluate(const Program& program, const std::vector<Tensor>& inputs) {
  const auto n_in = static_cast<int>(inputs.size());
  GNM_CHECK(n_in >= 1 && n_in <= kMaxInputs, "fused::evaluate takes 1 to kMaxInputs inputs", n_in,
            kMaxInputs);
  GNM_CHECK(program.num_inputs <= n_in, "the expression references more inputs than were given",
            program.num_inputs, n_in);
  validate(program, n_in);
  const Tensor& first = inputs[0];
  GNM_CHECK(is_floating(first.dtype()), "op needs a floating dtype", "fused::evaluate",
            dtype_name(first.dtype()));
  Shape shape = first.shape();
  for (int j = 1; j < n_in; ++j) {
    const Tensor& t = inputs[static_cast<std::size_t>(j)];
    GNM_CHECK(t.dtype() == first.dtype(), "fused::evaluate inputs have different dtypes", j,
              dtype_name(first.dtype()), dtype_name(t.dtype()));
    GNM_CHECK(t.device() == first.device(), "fused::evaluate inputs are on different devices", j,
              first.device().str(), t.device().str());
    shape = broadcast_shapes(shape, t.shape());
  }
  Tensor out = empty(shape, {.dtype = first.dtype(), .device = first.device()});
  if (out.numel() == 0) return out;
  std::vector<Tensor> expanded;
  expanded.reserve(inputs.size());
  for (const Tensor& t : inputs) expanded.push_back(t.detach().expand(shape));
#if GNM_HAVE_CUDA
  if (first.is_cuda()) {
    GNM_CUDA_CHECK(cudaSetDevice(first.device().index));
    kernels::fused_evaluate_cuda(program, out, expanded);
    return out;
  }
#endif
  kernels::fused_evaluate_cpu(program, out, expanded);
  return out;
}

}  // namespace fused

namespace kernels {

namespace {

constexpr std::int64_t kBlock = 256;  // Note [Block interpreter]
constexpr std::size_t kOperands = fused::kMaxInputs + 1;  // the output, then the inputs

template <class T>
void interpret(const fused::Program& prog, const Tensor& out, const std::vector<Tensor>& inputs) {
  using A = detail::acc_t<T>;
  using fused::OpCode;
  const Shape zero_strides(out.shape().size(), 0);  // unused operand slots never move
  std::array<std::span<const std::int64_t>, kOperands> strides;
  std::array<const T*, fused::kMaxInputs> base{};
  strides[0] = out.strides();
  for (std::size_t j = 0; j < static_cast<std::size_t>(fused::kMaxInputs); ++j) {
    const bool used = j < inputs.size();
    strides[j + 1] = used ? std::span<const std::int64_t>(inputs[j].strides())
                          : std::span<const std::int64_t>(zero_strides);
    base[j] = used ? static_cast<const T*>(inputs[j].data_ptr()) : nullptr;
  }
  T* po = static_cast<T*>(out.data_ptr());
  detail::for_each_strided<kOperands>(
      out.shape(), strides,
      [&](const std::array<std::int64_t, kOperands>& off,
          const std::array<std::int64_t, kOperands>& st, std::int64_t n) {
        //! [block_interpreter]
        alignas(64) A stack[fused::kMaxStack][kBlock];
        for (std::int64_t i0 = 0; i0 < n; i0 += kBlock) {
          const std::int64_t m = std::min(kBlock, n - i0);
          int sp = 0;
          for (int pc = 0; pc < prog.size; ++pc) {
            const fused::Instruction& ins = prog.code[pc];
            if (ins.op == OpCode::arg) {
              const std::size_t j = ins.index;
              const std::int64_t s = st[j + 1];
              const T* src = base[j] + off[j + 1] + i0 * s;
              A* d = stack[sp++];
              if (s == 1) {
                for (std::int64_t k = 0; k < m; ++k) d[k] = detail::load(src[k]);
              } else {
                for (std::int64_t k = 0; k < m; ++k) d[k] = detail::load(src[k * s]);
              }
            } else if (ins.op == OpCode::constant) {
              A* d = stack[sp++];
              std::fill(d, d + m, static_cast<A>(ins.value));
            } else if (ins.op >= OpCode::neg && ins.op <= OpCode::sigmoid) {
              A* d = stack[sp - 1];
              dispatch_unary_op(math::fused_unary_op(ins.op), [&](auto c) {
                for (std::int64_t k = 0; k < m; ++k)
                  d[k] = math::unary_forward<A>(decltype(c)::value, d[k]);
              });
            } else {
              A* a = stack[sp - 2];
              const A* b = stack[sp - 1];
              --sp;
              switch (ins.op) {  // fixed op per loop, so each one vectorises
                case OpCode::add: for (std::int64_t k = 0; k < m; ++k) a[k] = a[k] + b[k]; break;
                case OpCode::sub: for (std::int64_t k = 0; k < m; ++k) a[k] = a[k] - b[k]; break;
                case OpCode::mul: for (std::int64_t k = 0; k < m; ++k) a[k] = a[k] * b[k]; break;
                case OpCode::div: for (std::int64_t k = 0; k < m; ++k) a[k] = a[k] / b[k]; break;
                default:
                  for (std::int64_t k = 0; k < m; ++k)
                    a[k] = math::fused_binary<A>(ins.op, a[k], b[k]);
              }
            }
          }
          T* dst = po + off[0] + i0 * st[0];  // out is contiguous: st[0] is 1
          for (std::int64_t k = 0; k < m; ++k) dst[k] = detail::store<T>(stack[0][k]);
        }
        //! [block_interpreter]
      });
}

}  // namespace

void fused_evaluate_cpu(const fused::Program& program, const Tensor& out,
                        const std::vector<Tensor>& inputs) {
  GNM_DISPATCH_FLOATING(out.dtype(), "fused::evaluate",
                        [&] { interpret<scalar_t>(program, out, inputs); });
}

}  // namespace kernels

}  // namespace gnm
