// CPU softmax, log_softmax and cross entropy, forward and backward.
//
// Each "row" is the `size` elements along the softmax dimension: contiguous when the dimension
// is the last one (inner = 1), strided by `inner` otherwise. A row is handled by one task from
// start to end while it sits in L1/L2: a max sweep (no exp), an exp-and-sum sweep, and for
// softmax a scale sweep over the freshly written output. Subtracting the max first makes every
// exp argument ≤ 0, so nothing overflows (softmax([1000, 0]) = [1, 0], not NaN).
//
// Cross entropy never materialises log_softmax: the forward keeps only the row's log-sum-exp
// lse = m + log Σ exp(x − m), and the backward recomputes softmax = exp(x − lse) in the same
// sweep that writes the gradient, (softmax − onehot_smoothed)·scale, one pass over the logits.
#include <cmath>
#include <limits>

#include "../dispatch.hpp"
#include "../kernels_nn.hpp"
#include "gnm/core/thread_pool.hpp"
#include "loops.hpp"

namespace gnm::kernels {

namespace {

// Runs f(row, base, stride) for every row, over the pool when there is enough work.
template <class F>
void for_rows(SoftmaxShape s, F&& f) {
  const std::int64_t rows = s.outer * s.inner;
  auto body = [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r)
      f(r, (r / s.inner) * s.size * s.inner + r % s.inner, s.inner);
  };
  if (rows > 1 && rows * s.size >= detail::kParallelGrain) {
    const std::int64_t grain = std::max<std::int64_t>(1, detail::kParallelGrain / std::max<std::int64_t>(s.size, 1));
    default_thread_pool().parallel_for(0, rows, grain, body);
  } else {
    body(0, rows);
  }
}

template <class A>
A row_max(auto load_at, std::int64_t n) {
  A m = -std::numeric_limits<A>::infinity();
  for (std::int64_t k = 0; k < n; ++k) {
    const A v = load_at(k);
    m = v > m ? v : m;  // a NaN never becomes the max; exp(NaN − m) still makes the row NaN
  }
  return m;
}

}  // namespace

void softmax_cpu(const Tensor& y, const Tensor& x, SoftmaxShape s, bool log) {
  GNM_DISPATCH_FLOATING(x.dtype(), "softmax", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* px = static_cast<const T*>(x.data_ptr());
    T* py = static_cast<T*>(y.data_ptr());
    for_rows(s, [&](std::int64_t, std::int64_t base, std::int64_t st) {
      const T* xr = px + base;
      T* yr = py + base;
      auto at = [&](std::int64_t k) { return detail::load(xr[k * st]); };
      const A m = row_max<A>(at, s.size);
      A sum = A(0);
      if (log) {
        for (std::int64_t k = 0; k < s.size; ++k) sum += std::exp(at(k) - m);
        const A lse = m + std::log(sum);
        for (std::int64_t k = 0; k < s.size; ++k) yr[k * st] = detail::store<T>(at(k) - lse);
      } else if (std::is_same_v<T, A>) {
        // Full-precision storage: keep each exp in y, then scale in place.
        for (std::int64_t k = 0; k < s.size; ++k) {
          const A e = std::exp(at(k) - m);
          yr[k * st] = detail::store<T>(e);
          sum += e;
        }
        const A inv = A(1) / sum;
        for (std::int64_t k = 0; k < s.size; ++k)
          yr[k * st] = detail::store<T>(detail::load(yr[k * st]) * inv);
      } else {
        // 16-bit storage: recompute the exp rather than round it to 16 bits before scaling.
        for (std::int64_t k = 0; k < s.size; ++k) sum += std::exp(at(k) - m);
        const A inv = A(1) / sum;
        for (std::int64_t k = 0; k < s.size; ++k)
          yr[k * st] = detail::store<T>(std::exp(at(k) - m) * inv);
      }
    });
  });
}

void softmax_backward_cpu(const Tensor& grad, const Tensor& g, const Tensor& y, SoftmaxShape s,
                          bool log) {
  GNM_DISPATCH_FLOATING(y.dtype(), "softmax backward", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* pg = static_cast<const T*>(g.data_ptr());
    const T* py = static_cast<const T*>(y.data_ptr());
    T* pd = static_cast<T*>(grad.data_ptr());
    for_rows(s, [&](std::int64_t, std::int64_t base, std::int64_t st) {
      const T* gr = pg + base;
      const T* yr = py + base;
      T* dr = pd + base;
      A acc = A(0);
      if (log) {
        // y = x − lse: dx = g − softmax·Σg, softmax = exp(y).
        for (std::int64_t k = 0; k < s.size; ++k) acc += detail::load(gr[k * st]);
        for (std::int64_t k = 0; k < s.size; ++k)
          dr[k * st] = detail::store<T>(detail::load(gr[k * st]) -
                                        std::exp(detail::load(yr[k * st])) * acc);
      } else {
        // dx = y·(g − Σ g·y): the Jacobian diag(y) − y·yᵀ applied to g.
        for (std::int64_t k = 0; k < s.size; ++k)
          acc += detail::load(gr[k * st]) * detail::load(yr[k * st]);
        for (std::int64_t k = 0; k < s.size; ++k)
          dr[k * st] =
              detail::store<T>(detail::load(yr[k * st]) * (detail::load(gr[k * st]) - acc));
      }
    });
  });
}

void cross_entropy_cpu(const Tensor& loss, const Tensor& lse, const Tensor& logits,
                       const Tensor& target, double label_smoothing) {
  const std::int64_t N = logits.size(0), C = logits.size(1);
  const std::int64_t* pt = target.data<std::int64_t>();
  GNM_DISPATCH_FLOATING(logits.dtype(), "cross_entropy", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* px = static_cast<const T*>(logits.data_ptr());
    A* pl = static_cast<A*>(loss.data_ptr());
    A* pe = static_cast<A*>(lse.data_ptr());
    const A eps = static_cast<A>(label_smoothing);
    for_rows({N, C, 1}, [&](std::int64_t i, std::int64_t base, std::int64_t) {
      const T* xr = px + base;
      auto at = [&](std::int64_t k) { return detail::load(xr[k]); };
      const A m = row_max<A>(at, C);
      A sum = A(0), sum_x = A(0);
      for (std::int64_t k = 0; k < C; ++k) {
        const A v = at(k);
        sum += std::exp(v - m);
        sum_x += v;
      }
      const A l = m + std::log(sum);
      // (1−ε)·(lse − x_t) + ε·(lse − mean x): each difference formed before scaling, and a zero
      // weight skips its term (0·inf would be NaN where PyTorch's term is absent).
      A out = A(0);
      if (eps != A(1)) out += (A(1) - eps) * (l - at(pt[i]));
      if (eps != A(0)) out += eps * (l - sum_x / static_cast<A>(C));
      pl[i] = out;
      pe[i] = l;
    });
  });
}

void cross_entropy_backward_cpu(const Tensor& grad, const Tensor& g, const Tensor& logits,
                                const Tensor& target, const Tensor& lse, double factor,
                                double label_smoothing) {
  const std::int64_t N = logits.size(0), C = logits.size(1);
  const std::int64_t gs = g.stride(0);
  const std::int64_t* pt = target.data<std::int64_t>();
  GNM_DISPATCH_FLOATING(logits.dtype(), "cross_entropy backward", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* px = static_cast<const T*>(logits.data_ptr());
    const T* pg = static_cast<const T*>(g.data_ptr());
    const A* pe = static_cast<const A*>(lse.data_ptr());
    T* pd = static_cast<T*>(grad.data_ptr());
    const A eps = static_cast<A>(label_smoothing);
    const A off = eps / static_cast<A>(C);  // the smoothed target's mass on every class
    for_rows({N, C, 1}, [&](std::int64_t i, std::int64_t base, std::int64_t) {
      const A scale = detail::load(pg[i * gs]) * static_cast<A>(factor);
      const A l = pe[i];
      const std::int64_t t = pt[i];
      for (std::int64_t k = 0; k < C; ++k) {
        const A p = std::exp(detail::load(px[base + k]) - l);
        const A target_mass = (k == t ? A(1) - eps : A(0)) + off;
        pd[base + k] = detail::store<T>(scale * (p - target_mass));
      }
    });
  });
}

}  // namespace gnm::kernels
