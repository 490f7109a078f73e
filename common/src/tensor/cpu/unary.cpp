// CPU kernels of the unary family (neg … sigmoid, clamp) and of the fused bias + activation.
//
// The op is lifted into a template parameter (dispatch_unary_op) so each loop body has a fixed
// formula: neg/abs/square/relu then vectorise to AVX2 in the contiguous branch; the
// transcendental ones call libm per element (g++ vectorises exp/tanh only under -ffast-math).
#include <type_traits>

#include "../dispatch.hpp"
#include "../kernels_unary.hpp"
#include "loops.hpp"

namespace gnm::kernels {

namespace {

using Strides = std::span<const std::int64_t>;

// f(offset of operand 0, offset of operand 1, …) for every element; a unit-stride branch lets
// the compiler vectorise the common all-contiguous case.
template <std::size_t N, class F>
void loop_n(const Tensor& out, const std::array<const Tensor*, N - 1>& ins, F f) {
  std::array<Strides, N> strides{};
  strides[0] = Strides(out.strides());
  for (std::size_t j = 1; j < N; ++j) strides[j] = Strides(ins[j - 1]->strides());
  detail::for_each_strided<N>(
      out.shape(), strides,
      [&](const std::array<std::int64_t, N>& off, const std::array<std::int64_t, N>& st,
          std::int64_t n) {
        bool unit = true;
        for (std::size_t j = 0; j < N; ++j) unit = unit && st[j] == 1;
        if (unit) {
          for (std::int64_t k = 0; k < n; ++k) {
            std::array<std::int64_t, N> o;
            for (std::size_t j = 0; j < N; ++j) o[j] = off[j] + k;
            f(o);
          }
        } else {
          for (std::int64_t k = 0; k < n; ++k) {
            std::array<std::int64_t, N> o;
            for (std::size_t j = 0; j < N; ++j) o[j] = off[j] + k * st[j];
            f(o);
          }
        }
      });
}

template <class T>
const T* cptr(const Tensor& t) { return static_cast<const T*>(t.data_ptr()); }
template <class T>
T* mptr(const Tensor& t) { return static_cast<T*>(t.data_ptr()); }

}  // namespace

const char* unary_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::neg: return "neg";
    case UnaryOp::exp: return "exp";
    case UnaryOp::log: return "log";
    case UnaryOp::sqrt: return "sqrt";
    case UnaryOp::abs: return "abs";
    case UnaryOp::square: return "square";
    case UnaryOp::relu: return "relu";
    case UnaryOp::gelu: return "gelu";
    case UnaryOp::gelu_tanh: return "gelu_tanh";
    case UnaryOp::silu: return "silu";
    case UnaryOp::tanh: return "tanh";
    case UnaryOp::sigmoid: return "sigmoid";
  }
  return "?";
}

void unary_cpu(UnaryOp op, const Tensor& out, const Tensor& x) {
  if (op == UnaryOp::neg || op == UnaryOp::abs) {
    // Integers too: compute in int64 (acc_t) and wrap on store, as PyTorch's neg of u8 does.
    GNM_DISPATCH_ALL(x.dtype(), unary_name(op), [&] {
      using T = scalar_t;
      const T* px = cptr<T>(x);
      T* po = mptr<T>(out);
      loop_n<2>(out, {&x}, [&](const std::array<std::int64_t, 2>& o) {
        const auto v = detail::load(px[o[1]]);
        po[o[0]] = detail::store<T>(op == UnaryOp::neg ? -v : (v < 0 ? -v : v));
      });
    });
    return;
  }
  GNM_DISPATCH_FLOATING(x.dtype(), unary_name(op), [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* px = cptr<T>(x);
    T* po = mptr<T>(out);
    dispatch_unary_op(op, [&](auto c) {
      loop_n<2>(out, {&x}, [&](const std::array<std::int64_t, 2>& o) {
        const A v = detail::load(px[o[1]]);
        po[o[0]] = detail::store<T>(math::unary_forward<A>(decltype(c)::value, v));
      });
    });
  });
}

void unary_backward_cpu(UnaryOp op, const Tensor& grad_in, const Tensor& grad_out,
                        const Tensor& saved) {
  GNM_DISPATCH_FLOATING(saved.dtype(), unary_name(op), [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* pg = cptr<T>(grad_out);
    const T* ps = cptr<T>(saved);
    T* pi = mptr<T>(grad_in);
    dispatch_unary_op(op, [&](auto c) {
      loop_n<3>(grad_in, {&grad_out, &saved}, [&](const std::array<std::int64_t, 3>& o) {
        pi[o[0]] = detail::store<T>(math::unary_backward<A>(
            decltype(c)::value, detail::load(pg[o[1]]), detail::load(ps[o[2]])));
      });
    });
  });
}

void clamp_cpu(const Tensor& out, const Tensor& x, ClampBounds b) {
  GNM_DISPATCH_FLOATING(x.dtype(), "clamp", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const A lo = static_cast<A>(b.lo), hi = static_cast<A>(b.hi);
    const T* px = cptr<T>(x);
    T* po = mptr<T>(out);
    loop_n<2>(out, {&x}, [&](const std::array<std::int64_t, 2>& o) {
      const A v = detail::load(px[o[1]]);
      po[o[0]] = detail::store<T>(math::clamp<A>(v, b.has_lo, lo, b.has_hi, hi));
    });
  });
}

void clamp_backward_cpu(const Tensor& grad_in, const Tensor& grad_out, const Tensor& x,
                        ClampBounds b) {
  GNM_DISPATCH_FLOATING(x.dtype(), "clamp", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const A lo = static_cast<A>(b.lo), hi = static_cast<A>(b.hi);
    const T* pg = cptr<T>(grad_out);
    const T* px = cptr<T>(x);
    T* pi = mptr<T>(grad_in);
    loop_n<3>(grad_in, {&grad_out, &x}, [&](const std::array<std::int64_t, 3>& o) {
      const A v = detail::load(px[o[2]]);
      const bool pass = (!b.has_lo || v > lo) && (!b.has_hi || v < hi);  // strict, as PyTorch
      pi[o[0]] = pass ? pg[o[1]] : detail::store<T>(0.0f);
    });
  });
}

// Fused bias + activation: one read of x and bias, one write of out. The bias arrives already
// expanded to x's shape (stride 0 along the leading dimensions), so the strided loop walks it
// for free and stays in L1 (N floats).
//! [bias_act_cpu]
void bias_act_cpu(const Tensor& out, const Tensor& x, const Tensor& bias, Activation act) {
  GNM_DISPATCH_FLOATING(x.dtype(), "bias_act", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* px = cptr<T>(x);
    const T* pb = cptr<T>(bias);
    T* po = mptr<T>(out);
    UnaryOp op = UnaryOp::neg;
    if (!math::activation_op(act, op)) {
      loop_n<3>(out, {&x, &bias}, [&](const std::array<std::int64_t, 3>& o) {
        po[o[0]] = detail::store<T>(detail::load(px[o[1]]) + detail::load(pb[o[2]]));
      });
      return;
    }
    dispatch_unary_op(op, [&](auto c) {
      loop_n<3>(out, {&x, &bias}, [&](const std::array<std::int64_t, 3>& o) {
        const A pre = detail::load(px[o[1]]) + detail::load(pb[o[2]]);
        po[o[0]] = detail::store<T>(math::unary_forward<A>(decltype(c)::value, pre));
      });
    });
  });
}
//! [bias_act_cpu]

void bias_act_backward_cpu(const Tensor& grad_pre, const Tensor& grad_out, const Tensor& x,
                           const Tensor& bias, Activation act) {
  GNM_DISPATCH_FLOATING(x.dtype(), "bias_act", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* pg = cptr<T>(grad_out);
    const T* px = cptr<T>(x);
    const T* pb = cptr<T>(bias);
    T* pi = mptr<T>(grad_pre);
    loop_n<4>(grad_pre, {&grad_out, &x, &bias}, [&](const std::array<std::int64_t, 4>& o) {
      const A pre = detail::load(px[o[2]]) + detail::load(pb[o[3]]);
      pi[o[0]] = detail::store<T>(math::activation_backward<A>(act, detail::load(pg[o[1]]), pre));
    });
  });
}

}  // namespace gnm::kernels
