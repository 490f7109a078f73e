// CPU reductions over a set of dimensions: mean, var, and max with the index of the first maximum.
//
// As in the sum kernel, x is seen as kept dims × reduced dims: each output element is the
// reduction of one (possibly strided) block, walked in row-major order with the strided loop of
// loops.hpp. mean and var accumulate in double whatever the dtype, so on the CPU they are a
// double-precision reference in themselves (the only rounding is the final store). var takes two
// sweeps per block, mean first and then Σ(x − mean)²: the one-sweep formula Σx² − n·mean² cancels
// catastrophically when |mean| ≫ std.
//
// Parallelism: many outputs are split over the thread pool; a single long reduction (a loss's
// mean, max over everything) is split into fixed blocks of kParallelGrain elements whose partial
// results are combined in block order, so the result does not depend on the thread count.
#include <cmath>
#include <limits>

#include "../dispatch.hpp"
#include "../kernels_nn.hpp"
#include "gnm/core/thread_pool.hpp"
#include "loops.hpp"

namespace gnm::kernels {

namespace {

struct Blocks {
  Shape kept_shape, kept_strides;
  detail::StridedLayout<1> red{};
  std::int64_t n_out = 1, red_n = 1;

  // Offset of the first element of block `o` (o is the row-major index over the kept dims).
  std::int64_t base(std::int64_t o) const {
    std::int64_t b = 0;
    for (std::size_t d = kept_shape.size(); d-- > 0;) {
      b += (o % kept_shape[d]) * kept_strides[d];
      o /= kept_shape[d];
    }
    return b;
  }
};

Blocks make_blocks(const Tensor& x, const std::vector<bool>& reduced) {
  Blocks b;
  Shape red_shape, red_strides;
  for (std::size_t d = 0; d < x.shape().size(); ++d) {
    (reduced[d] ? red_shape : b.kept_shape).push_back(x.shape()[d]);
    (reduced[d] ? red_strides : b.kept_strides).push_back(x.strides()[d]);
  }
  b.n_out = shape_numel(b.kept_shape);
  b.red_n = shape_numel(red_shape);
  b.red = detail::coalesce<1>(red_shape, {std::span<const std::int64_t>(red_strides)});
  return b;
}

// Calls f(pointer, stride, count) on the runs of elements [lo, hi) (row-major) of the block that
// starts at px + base.
template <class T, class F>
void for_block(const Blocks& b, const T* px, std::int64_t base, std::int64_t lo, std::int64_t hi,
               F&& f) {
  if (hi <= lo) return;
  auto run = [&](const std::array<std::int64_t, 1>& off, const std::array<std::int64_t, 1>& st,
                 std::int64_t n) { f(px + base + off[0], st[0], n); };
  detail::run_chunk<1>(b.red, lo, hi, run);
}

// Number of fixed-size pieces a single long reduction is split into (1 when it is short).
std::int64_t pieces(std::int64_t n) {
  return n < detail::kParallelGrain ? 1 : (n + detail::kParallelGrain - 1) / detail::kParallelGrain;
}

// Σ tr(x) over the block at `base`, in double. A long block (only when it is the sole output) is
// summed in fixed pieces on the pool and the pieces added in order.
template <class T, class Tr>
double block_sum(const Blocks& b, const T* px, std::int64_t base, bool split, Tr tr) {
  auto part = [&](std::int64_t lo, std::int64_t hi) {
    double acc = 0.0;
    for_block(b, px, base, lo, hi, [&](const T* p, std::int64_t st, std::int64_t n) {
      for (std::int64_t k = 0; k < n; ++k)
        acc += tr(static_cast<double>(detail::load(p[k * st])));
    });
    return acc;
  };
  const std::int64_t np = split ? pieces(b.red_n) : 1;
  if (np == 1) return part(0, b.red_n);
  std::vector<double> partial(static_cast<std::size_t>(np));
  default_thread_pool().parallel_for(0, np, 1, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t p = lo; p < hi; ++p)
      partial[static_cast<std::size_t>(p)] =
          part(p * detail::kParallelGrain, std::min(b.red_n, (p + 1) * detail::kParallelGrain));
  });
  double acc = 0.0;
  for (double v : partial) acc += v;
  return acc;
}

// Runs body(o) for every output, over the pool when there is enough work in total.
template <class F>
void for_outputs(const Blocks& b, F&& body) {
  if (b.n_out > 1 && b.n_out * b.red_n >= detail::kParallelGrain) {
    const std::int64_t grain =
        std::max<std::int64_t>(1, detail::kParallelGrain / std::max<std::int64_t>(b.red_n, 1));
    default_thread_pool().parallel_for(0, b.n_out, grain, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t o = lo; o < hi; ++o) body(o);
    });
  } else {
    for (std::int64_t o = 0; o < b.n_out; ++o) body(o);
  }
}

template <class A>
bool is_nan(A v) {
  if constexpr (std::is_floating_point_v<A>)
    return std::isnan(v);
  else
    return false;
}

// The running maximum of a block: value (compute type), its position, and whether it is set.
template <class A>
struct Best {
  A value{};
  std::int64_t index = -1;
  // True when `v` should replace the current best: strictly larger (so the first of equal values
  // stays), or the first NaN (NaN beats everything and nothing beats it).
  bool beaten_by(A v) const {
    if (index < 0) return true;
    if (is_nan(value)) return false;
    return is_nan(v) || v > value;
  }
};

}  // namespace

void mean_cpu(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced) {
  const Blocks b = make_blocks(x, reduced);
  GNM_DISPATCH_FLOATING(x.dtype(), "mean", [&] {
    using T = scalar_t;
    const auto* px = static_cast<const T*>(x.data_ptr());
    auto* po = static_cast<T*>(out.data_ptr());
    const bool split = b.n_out == 1;
    const auto n = static_cast<double>(b.red_n);
    for_outputs(b, [&](std::int64_t o) {
      po[o] = detail::store<T>(block_sum(b, px, b.base(o), split, [](double v) { return v; }) / n);
    });
  });
}

void var_cpu(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced,
             std::int64_t correction) {
  const Blocks b = make_blocks(x, reduced);
  // torch.var divides by max(0, n − correction): 0 gives inf (or NaN for a zero sum), as there.
  const auto dof = static_cast<double>(std::max<std::int64_t>(0, b.red_n - correction));
  GNM_DISPATCH_FLOATING(x.dtype(), "var", [&] {
    using T = scalar_t;
    const auto* px = static_cast<const T*>(x.data_ptr());
    auto* po = static_cast<T*>(out.data_ptr());
    const bool split = b.n_out == 1;
    for_outputs(b, [&](std::int64_t o) {
      const std::int64_t base = b.base(o);
      const double mu =
          block_sum(b, px, base, split, [](double v) { return v; }) / static_cast<double>(b.red_n);
      const double ss = block_sum(b, px, base, split, [mu](double v) { return (v - mu) * (v - mu); });
      po[o] = detail::store<T>(ss / dof);
    });
  });
}

void max_cpu(const Tensor& values, const Tensor& indices, const Tensor& x,
             const std::vector<bool>& reduced) {
  const Blocks b = make_blocks(x, reduced);
  GNM_DISPATCH_ALL(x.dtype(), "max", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const auto* px = static_cast<const T*>(x.data_ptr());
    T* pv = values.defined() ? static_cast<T*>(values.data_ptr()) : nullptr;
    std::int64_t* pi = indices.defined() ? indices.data<std::int64_t>() : nullptr;
    // The best of positions [lo, hi) of the block at `base`.
    auto scan = [&](std::int64_t base, std::int64_t lo, std::int64_t hi) {
      Best<A> best;
      std::int64_t pos = lo;
      for_block(b, px, base, lo, hi, [&](const T* p, std::int64_t st, std::int64_t n) {
        for (std::int64_t k = 0; k < n; ++k, ++pos) {
          const A v = detail::load(p[k * st]);
          if (best.beaten_by(v)) best = {v, pos};
        }
      });
      return best;
    };
    const std::int64_t np = b.n_out == 1 ? pieces(b.red_n) : 1;
    for_outputs(b, [&](std::int64_t o) {
      const std::int64_t base = b.base(o);
      Best<A> best;
      if (np == 1) {
        best = scan(base, 0, b.red_n);
      } else {
        std::vector<Best<A>> partial(static_cast<std::size_t>(np));
        default_thread_pool().parallel_for(0, np, 1, [&](std::int64_t lo, std::int64_t hi) {
          for (std::int64_t p = lo; p < hi; ++p)
            partial[static_cast<std::size_t>(p)] =
                scan(base, p * detail::kParallelGrain,
                     std::min(b.red_n, (p + 1) * detail::kParallelGrain));
        });
        for (const Best<A>& cand : partial)  // in block order: earlier pieces win ties
          if (best.beaten_by(cand.value)) best = cand;
      }
      if (pv) pv[o] = detail::store<T>(best.value);
      if (pi) pi[o] = best.index;
    });
  });
}

}  // namespace gnm::kernels
