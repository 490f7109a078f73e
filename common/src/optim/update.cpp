// Optimizer update kernels (chapter 10.2) and gradient clipping (10.3) on flat fp32 spans.
//
// Note [Matching PyTorch's rounding]
// PyTorch's single-tensor CPU path runs one ATen kernel per line of the algorithm, each reading
// and writing fp32 tensors, so every intermediate is rounded to float. Its AVX2/AVX-512 kernels
// use fused multiply-adds in three places, and its scalar tails are compiled with contraction, so
// the tails agree with the vector bodies (checked against NumPy, bit for bit, on PyTorch 2.15):
//   a.add_(b, alpha=s)            -> fma(b, s, a)
//   a.addcmul_(b, c, value=s)     -> fma(s * b, c, a)
//   a.lerp_(b, w)                 -> fma(w, b - a, a)          when |w| < 0.5
//                                    fma(w - 1, b - a, b)      otherwise
//   a.addcdiv_(b, c, value=s)     -> a + (s * b) / c           (no fusion across a division)
//   a.mul_(s), a.div(s)           -> one rounding each
//   a.sqrt()                      -> NOT always correctly rounded: PyTorch's x86 CPU build takes
//                                    float sqrt from a vector math library that is 1 ulp off for
//                                    ~0.7 % of inputs (measured on 10^6); we use IEEE sqrt, so
//                                    Adam and RMSProp may differ from PyTorch by an ulp there.
// Python scalars reach these kernels as float: PyTorch combines them in double first
// (1 - beta2, lr / bias_correction1, ...) and rounds the result once; we do the same.
// The kernels below spell every fusion with std::fma. Our build lets the compiler contract
// `x * y + z` (GCC's default -ffp-contract=fast), so wherever PyTorch stores a product before
// adding to it (param.mul_ before AdamW's step, buf.mul_ before RMSProp's momentum addcdiv) that
// product is written to memory in its own pass: a product loaded from memory cannot be fused.
#include "gnm/optim/update.hpp"

#include <cmath>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string>

#include "gnm/core/check.hpp"

namespace gnm::optim {
namespace {

bool finite_nonnegative(double v) { return std::isfinite(v) && v >= 0.0; }

// Python rounds lr * weight_decay before subtracting it from 1; the compiler would fuse the two
// (see Note [Python rounds every product] in scheduler.cpp). A volatile round trip prevents it.
double rounded(double v) {
  volatile double r = v;
  return r;
}

// Every state span must match the parameter; `param_size` and `state_size` name both in the
// message, e.g. "adam_update: exp_avg must have one element per parameter element
// [state_size = 4, param_size = 5]".
void check_size(const char* who, const char* name, std::size_t state_size,
                std::size_t param_size) {
  GNM_CHECK_SHAPE(state_size == param_size,
                  std::string(who) + ": " + name + " must have one element per parameter element",
                  state_size, param_size);
}

void check_empty(const char* who, const char* name, std::size_t state_size, const char* why) {
  GNM_CHECK_SHAPE(state_size == 0, std::string(who) + ": " + name + " must be empty " + why,
                  state_size);
}

struct Range {
  const char* name;
  const float* data;
  std::size_t size;
};

// The loops use __restrict pointers so that they vectorise without run-time alias checks; that
// promise is kept here, at the cost of a few pointer comparisons per call.
void check_disjoint(const char* who, std::initializer_list<Range> ranges) {
  const std::less<const float*> before;
  for (auto a = ranges.begin(); a != ranges.end(); ++a) {
    for (auto b = a + 1; b != ranges.end(); ++b) {
      if (a->size == 0 || b->size == 0) continue;
      const bool overlap = before(a->data, b->data + b->size) && before(b->data, a->data + a->size);
      GNM_CHECK(!overlap, std::string(who) + ": " + a->name + " and " + b->name + " overlap");
    }
  }
}

// torch.lerp's two-sided formula (see the note): exact at w = 0 and at w = 1. Written with
// selects on the loop-invariant weight so that the loops around it stay vectorisable.
inline float lerp_like_torch(float start, float end, float weight) {
  const bool small = std::fabs(weight) < 0.5f;
  return std::fma(small ? weight : weight - 1.0f, end - start, small ? start : end);
}

// torch.maximum propagates NaN from either side; std::max would drop it from one side.
inline float maximum_like_torch(float a, float b) {
  return std::isnan(a) || std::isnan(b) ? a + b : (a > b ? a : b);
}

// Adam's scalars, each rounded to float where PyTorch's kernels receive it.
struct AdamScalars {
  float sign;                   // -1 to maximize: -g is exact, so g * sign is too
  bool coupled_decay;           // Adam's L2 term (AdamW decays the parameter instead)
  float weight_decay;
  float one_minus_beta1;        // lerp weight
  float beta2;
  float one_minus_beta2;
  float bias_correction2_sqrt;
  float eps;
  float neg_step_size;          // -lr / bias_correction1
};

// One template instance per optional state stream keeps the loop free of branches that guard
// loads and stores, so the compiler can vectorise it -- provided std::sqrt need not set errno:
// built with -fno-math-errno the Adam and RMSProp loops become 8-wide (Adam on 10^7 parameters:
// 34 → 14 ms per step on the 2-core Xeon, i.e. from compute- to bandwidth-bound); without it
// they stay scalar but give the same results (sqrt is exact either way).
//! [adam_loop]
template <bool kAmsgrad>
void adam_loop(std::size_t n, float* __restrict p, const float* __restrict gp,
               float* __restrict m, float* __restrict v, float* __restrict v_max,
               const AdamScalars& c) {
  for (std::size_t i = 0; i < n; ++i) {
    float g = gp[i] * c.sign;
    g = c.coupled_decay ? std::fma(p[i], c.weight_decay, g) : g;  // grad.add(param, alpha=wd)
    const float m_new = lerp_like_torch(m[i], g, c.one_minus_beta1);
    const float v_new = std::fma(c.one_minus_beta2 * g, g, v[i] * c.beta2);  // mul_, addcmul_
    m[i] = m_new;
    v[i] = v_new;
    float second = v_new;
    if constexpr (kAmsgrad) {
      second = maximum_like_torch(v_max[i], v_new);
      v_max[i] = second;
    }
    const float denom = std::sqrt(second) / c.bias_correction2_sqrt + c.eps;
    p[i] = p[i] + (c.neg_step_size * m_new) / denom;  // addcdiv_(m, denom, value=-step_size)
  }
}
//! [adam_loop]

// RMSProp's scalars, rounded to float like Adam's.
struct RmsPropScalars {
  float sign;
  bool use_weight_decay;
  float weight_decay;
  float alpha;
  float one_minus_alpha;
  float eps;
  float neg_lr;
};

template <bool kCentered, bool kMomentum>
void rmsprop_loop(std::size_t n, float* __restrict p, const float* __restrict gp,
                  float* __restrict s, float* __restrict buf, float* __restrict a,
                  const RmsPropScalars& c) {
  for (std::size_t i = 0; i < n; ++i) {
    float g = gp[i] * c.sign;
    g = c.use_weight_decay ? std::fma(p[i], c.weight_decay, g) : g;
    const float s_new = std::fma(c.one_minus_alpha * g, g, s[i] * c.alpha);
    s[i] = s_new;
    float avg;
    if constexpr (kCentered) {
      const float a_new = lerp_like_torch(a[i], g, c.one_minus_alpha);
      a[i] = a_new;
      // square_avg.addcmul(a, a, value=-1) = (-1 * a) * a + s, fused. Rounding can make it
      // slightly negative, and then PyTorch's sqrt gives NaN; so does ours.
      avg = std::sqrt(std::fma(-a_new, a_new, s_new));
    } else {
      avg = std::sqrt(s_new);
    }
    avg = avg + c.eps;
    if constexpr (kMomentum) {
      const float b = buf[i] + g / avg;  // buf (already times momentum) .addcdiv_(g, avg)
      buf[i] = b;
      p[i] = std::fma(b, c.neg_lr, p[i]);  // param.add_(buf, alpha=-lr)
    } else {
      p[i] = p[i] + (c.neg_lr * g) / avg;  // param.addcdiv_(g, avg, value=-lr)
    }
  }
}

}  // namespace

AdamOptions adamw_defaults() {
  AdamOptions opts;
  opts.weight_decay = 1e-2;
  opts.decoupled_weight_decay = true;
  return opts;
}

void validate(const SgdOptions& opts) {
  GNM_CHECK(finite_nonnegative(opts.lr), "SGD: the learning rate must be finite and >= 0",
            opts.lr);
  GNM_CHECK(finite_nonnegative(opts.momentum), "SGD: momentum must be finite and >= 0",
            opts.momentum);
  GNM_CHECK(std::isfinite(opts.dampening), "SGD: dampening must be finite", opts.dampening);
  GNM_CHECK(finite_nonnegative(opts.weight_decay), "SGD: weight_decay must be finite and >= 0",
            opts.weight_decay);
  GNM_CHECK(!opts.nesterov || (opts.momentum > 0.0 && opts.dampening == 0.0),
            "SGD: Nesterov momentum requires momentum > 0 and dampening == 0", opts.momentum,
            opts.dampening);
}

void validate(const AdamOptions& opts) {
  GNM_CHECK(finite_nonnegative(opts.lr), "Adam: the learning rate must be finite and >= 0",
            opts.lr);
  GNM_CHECK(opts.beta1 >= 0.0 && opts.beta1 < 1.0, "Adam: beta1 must lie in [0, 1)", opts.beta1);
  GNM_CHECK(opts.beta2 >= 0.0 && opts.beta2 < 1.0, "Adam: beta2 must lie in [0, 1)", opts.beta2);
  GNM_CHECK(finite_nonnegative(opts.eps), "Adam: eps must be finite and >= 0", opts.eps);
  GNM_CHECK(finite_nonnegative(opts.weight_decay), "Adam: weight_decay must be finite and >= 0",
            opts.weight_decay);
}

void validate(const RmsPropOptions& opts) {
  GNM_CHECK(finite_nonnegative(opts.lr), "RMSProp: the learning rate must be finite and >= 0",
            opts.lr);
  GNM_CHECK(opts.alpha >= 0.0 && opts.alpha <= 1.0, "RMSProp: alpha must lie in [0, 1]",
            opts.alpha);
  GNM_CHECK(finite_nonnegative(opts.eps), "RMSProp: eps must be finite and >= 0", opts.eps);
  GNM_CHECK(finite_nonnegative(opts.weight_decay),
            "RMSProp: weight_decay must be finite and >= 0", opts.weight_decay);
  GNM_CHECK(finite_nonnegative(opts.momentum), "RMSProp: momentum must be finite and >= 0",
            opts.momentum);
}

//! [sgd_update]
void sgd_update(std::span<float> param, std::span<const float> grad,
                std::span<float> momentum_buffer, const SgdOptions& opts, bool first_step) {
  validate(opts);
  const std::size_t n = param.size();
  check_size("sgd_update", "grad", grad.size(), n);
  const bool use_momentum = opts.momentum != 0.0;
  if (use_momentum) {
    check_size("sgd_update", "momentum_buffer", momentum_buffer.size(), n);
  } else {
    check_empty("sgd_update", "momentum_buffer", momentum_buffer.size(), "when momentum == 0");
  }
  check_disjoint("sgd_update",
                 {{"param", param.data(), n},
                  {"grad", grad.data(), grad.size()},
                  {"momentum_buffer", momentum_buffer.data(), momentum_buffer.size()}});

  // PyTorch hands each Python scalar to its fp32 kernel rounded to float (see the note).
  const float weight_decay = static_cast<float>(opts.weight_decay);
  const float momentum = static_cast<float>(opts.momentum);
  const float keep = static_cast<float>(1.0 - opts.dampening);
  const float neg_lr = static_cast<float>(-opts.lr);
  const bool use_weight_decay = opts.weight_decay != 0.0;

  float* __restrict p = param.data();
  const float* __restrict gp = grad.data();
  float* __restrict buf = momentum_buffer.data();
  for (std::size_t i = 0; i < n; ++i) {
    float g = opts.maximize ? -gp[i] : gp[i];
    if (use_weight_decay) g = std::fma(p[i], weight_decay, g);  // grad.add(param, alpha=wd)
    if (use_momentum) {
      // Step 1 copies g into the buffer undamped; later steps buf.mul_(m).add_(g, alpha=1-d).
      const float b = first_step ? g : std::fma(g, keep, buf[i] * momentum);
      buf[i] = b;
      g = opts.nesterov ? std::fma(b, momentum, g) : b;
    }
    p[i] = std::fma(g, neg_lr, p[i]);  // param.add_(g, alpha=-lr)
  }
}
//! [sgd_update]

void adam_update(std::span<float> param, std::span<const float> grad, std::span<float> exp_avg,
                 std::span<float> exp_avg_sq, std::span<float> max_exp_avg_sq,
                 const AdamOptions& opts, std::int64_t step) {
  validate(opts);
  GNM_CHECK(step >= 1, "adam_update: the step number counts from 1", step);
  const std::size_t n = param.size();
  check_size("adam_update", "grad", grad.size(), n);
  check_size("adam_update", "exp_avg", exp_avg.size(), n);
  check_size("adam_update", "exp_avg_sq", exp_avg_sq.size(), n);
  if (opts.amsgrad) {
    check_size("adam_update", "max_exp_avg_sq", max_exp_avg_sq.size(), n);
  } else {
    check_empty("adam_update", "max_exp_avg_sq", max_exp_avg_sq.size(), "unless amsgrad");
  }
  check_disjoint("adam_update", {{"param", param.data(), n},
                                 {"grad", grad.data(), grad.size()},
                                 {"exp_avg", exp_avg.data(), exp_avg.size()},
                                 {"exp_avg_sq", exp_avg_sq.data(), exp_avg_sq.size()},
                                 {"max_exp_avg_sq", max_exp_avg_sq.data(), max_exp_avg_sq.size()}});

  // The bias corrections are Python floats in PyTorch: double pow, rounded to float only where a
  // kernel receives them. `** 0.5` is pow, not sqrt; they agree except in rare last-bit cases,
  // so we call pow too.
  const auto t = static_cast<double>(step);
  const double bias_correction1 = 1.0 - std::pow(opts.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(opts.beta2, t);
  const AdamScalars c{opts.maximize ? -1.0f : 1.0f,
                      opts.weight_decay != 0.0 && !opts.decoupled_weight_decay,
                      static_cast<float>(opts.weight_decay),
                      static_cast<float>(1.0 - opts.beta1),
                      static_cast<float>(opts.beta2),
                      static_cast<float>(1.0 - opts.beta2),
                      static_cast<float>(std::pow(bias_correction2, 0.5)),
                      static_cast<float>(opts.eps),
                      static_cast<float>(-(opts.lr / bias_correction1))};

  if (opts.weight_decay != 0.0 && opts.decoupled_weight_decay) {
    // AdamW: param.mul_(1 - lr * wd) is its own rounded pass (see the note).
    const float decay = static_cast<float>(1.0 - rounded(opts.lr * opts.weight_decay));
    float* __restrict p = param.data();
    for (std::size_t i = 0; i < n; ++i) p[i] *= decay;
  }
  if (opts.amsgrad) {
    adam_loop<true>(n, param.data(), grad.data(), exp_avg.data(), exp_avg_sq.data(),
                    max_exp_avg_sq.data(), c);
  } else {
    adam_loop<false>(n, param.data(), grad.data(), exp_avg.data(), exp_avg_sq.data(), nullptr, c);
  }
}

void rmsprop_update(std::span<float> param, std::span<const float> grad,
                    std::span<float> square_avg, std::span<float> momentum_buffer,
                    std::span<float> grad_avg, const RmsPropOptions& opts) {
  validate(opts);
  const std::size_t n = param.size();
  check_size("rmsprop_update", "grad", grad.size(), n);
  check_size("rmsprop_update", "square_avg", square_avg.size(), n);
  const bool use_momentum = opts.momentum > 0.0;
  if (use_momentum) {
    check_size("rmsprop_update", "momentum_buffer", momentum_buffer.size(), n);
  } else {
    check_empty("rmsprop_update", "momentum_buffer", momentum_buffer.size(), "when momentum == 0");
  }
  if (opts.centered) {
    check_size("rmsprop_update", "grad_avg", grad_avg.size(), n);
  } else {
    check_empty("rmsprop_update", "grad_avg", grad_avg.size(), "unless centered");
  }
  check_disjoint("rmsprop_update",
                 {{"param", param.data(), n},
                  {"grad", grad.data(), grad.size()},
                  {"square_avg", square_avg.data(), square_avg.size()},
                  {"momentum_buffer", momentum_buffer.data(), momentum_buffer.size()},
                  {"grad_avg", grad_avg.data(), grad_avg.size()}});

  const RmsPropScalars c{opts.maximize ? -1.0f : 1.0f,
                         opts.weight_decay != 0.0,
                         static_cast<float>(opts.weight_decay),
                         static_cast<float>(opts.alpha),
                         static_cast<float>(1.0 - opts.alpha),
                         static_cast<float>(opts.eps),
                         static_cast<float>(-opts.lr)};
  if (use_momentum) {
    // buf.mul_(momentum) is rounded before addcdiv_ adds g / avg to it (see the note).
    const float momentum = static_cast<float>(opts.momentum);
    float* __restrict buf = momentum_buffer.data();
    for (std::size_t i = 0; i < n; ++i) buf[i] *= momentum;
  }
  float* const p = param.data();
  const float* const g = grad.data();
  float* const s = square_avg.data();
  float* const b = momentum_buffer.data();
  float* const a = grad_avg.data();
  if (opts.centered) {
    if (use_momentum) rmsprop_loop<true, true>(n, p, g, s, b, a, c);
    else rmsprop_loop<true, false>(n, p, g, s, b, a, c);
  } else {
    if (use_momentum) rmsprop_loop<false, true>(n, p, g, s, b, a, c);
    else rmsprop_loop<false, false>(n, p, g, s, b, a, c);
  }
}

float clip_coefficient(double total_norm, double max_norm) {
  // PyTorch's coefficient, in fp32: max_norm / (total + 1e-6) is evaluated as
  // reciprocal(total + 1e-6) * max_norm, then clamped to at most 1 (NaN stays NaN).
  const float denom = static_cast<float>(total_norm) + static_cast<float>(1e-6);
  const float coef = (1.0f / denom) * static_cast<float>(max_norm);
  return coef > 1.0f ? 1.0f : coef;
}

//! [clip_grad_norm]
double clip_grad_norm(std::span<const std::span<float>> grads, double max_norm, double norm_type,
                      bool error_if_nonfinite) {
  GNM_CHECK(max_norm >= 0.0, "clip_grad_norm: max_norm must be >= 0", max_norm);
  GNM_CHECK(norm_type > 0.0, "clip_grad_norm: norm_type must be > 0 (or infinity)", norm_type);

  // Accumulate in double: summing 10^7 squares in float would lose ~log2(10^7) bits.
  double total = 0.0;
  if (std::isinf(norm_type)) {
    bool saw_nan = false;
    for (const auto& g : grads) {
      for (const float x : g) {
        const double ax = std::fabs(static_cast<double>(x));
        saw_nan = saw_nan || std::isnan(ax);
        total = ax > total ? ax : total;
      }
    }
    if (saw_nan) total = std::numeric_limits<double>::quiet_NaN();
  } else {
    for (const auto& g : grads) {
      for (const float x : g) {
        const double ax = std::fabs(static_cast<double>(x));
        total += norm_type == 1.0 ? ax : norm_type == 2.0 ? ax * ax : std::pow(ax, norm_type);
      }
    }
    total = norm_type == 1.0 ? total : norm_type == 2.0 ? std::sqrt(total)
                                                        : std::pow(total, 1.0 / norm_type);
  }
  GNM_CHECK(!error_if_nonfinite || std::isfinite(total),
            "clip_grad_norm: the total norm of the gradients is not finite", total, norm_type);

  const float coef = clip_coefficient(total, max_norm);
  if (coef != 1.0f) {  // multiplying by exactly 1 changes nothing
    for (const auto& g : grads) {
      for (float& x : g) x *= coef;
    }
  }
  return total;
}
//! [clip_grad_norm]

void clip_grad_value(std::span<const std::span<float>> grads, double clip_value) {
  GNM_CHECK(clip_value >= 0.0, "clip_grad_value: clip_value must be >= 0", clip_value);
  const float hi = static_cast<float>(clip_value);
  const float lo = -hi;
  for (const auto& g : grads) {
    for (float& x : g) x = x < lo ? lo : (x > hi ? hi : x);  // comparisons with NaN are false
  }
}

}  // namespace gnm::optim
