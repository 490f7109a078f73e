// CPU sum over a set of dimensions.
//
// The input is viewed with kept dims first and reduced dims last; each output element is then the
// sum of a (possibly strided) block. Accumulation is in double for f32/f64 (so the CPU sum is a
// double-precision reference in itself) and in float for f16/bf16 (values are ≤ 16 significant
// bits; float's 24 give plenty of headroom for sums of up to ~10⁵ terms).
#include "../dispatch.hpp"
#include "../kernels.hpp"
#include "gnm/core/thread_pool.hpp"
#include "loops.hpp"

namespace gnm::kernels {

void sum_cpu(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced) {
  Shape kept_shape, kept_strides, red_shape, red_strides;
  for (std::size_t d = 0; d < x.shape().size(); ++d) {
    (reduced[d] ? red_shape : kept_shape).push_back(x.shape()[d]);
    (reduced[d] ? red_strides : kept_strides).push_back(x.strides()[d]);
  }
  const std::int64_t n_out = shape_numel(kept_shape);
  const std::int64_t red_n = shape_numel(red_shape);
  const auto layout = detail::coalesce<1>(red_shape, {std::span<const std::int64_t>(red_strides)});
  GNM_DISPATCH_ALL(x.dtype(), "sum", [&] {
    using T = scalar_t;
    using A = std::conditional_t<std::is_same_v<T, float> || std::is_same_v<T, double>, double,
                                 detail::acc_t<T>>;
    const auto* px = static_cast<const T*>(x.data_ptr());
    auto* po = static_cast<T*>(out.data_ptr());
    // Sum of reduced elements [lo, hi) (row-major order) of the block starting at `base`.
    auto block_sum = [&](std::int64_t base, std::int64_t lo, std::int64_t hi) {
      A acc{};
      auto f = [&](const std::array<std::int64_t, 1>& off, const std::array<std::int64_t, 1>& st,
                   std::int64_t n) {
        const T* p = px + base + off[0];
        if (st[0] == 1) {
          for (std::int64_t k = 0; k < n; ++k) acc += static_cast<A>(detail::load(p[k]));
        } else {
          for (std::int64_t k = 0; k < n; ++k) acc += static_cast<A>(detail::load(p[k * st[0]]));
        }
      };
      if (hi > lo) detail::run_chunk<1>(layout, lo, hi, f);
      return acc;
    };
    auto base_of = [&](std::int64_t o) {
      std::int64_t base = 0, rest = o;
      for (std::size_t d = kept_shape.size(); d-- > 0;) {
        base += (rest % kept_shape[d]) * kept_strides[d];
        rest /= kept_shape[d];
      }
      return base;
    };
    if (red_n >= detail::kParallelGrain) {
      // Few long reductions: split each into fixed blocks summed in parallel, then add the block
      // sums in order, so the result does not depend on the thread count (bit-reproducible).
      const std::int64_t blocks = (red_n + detail::kParallelGrain - 1) / detail::kParallelGrain;
      std::vector<A> partial(static_cast<std::size_t>(blocks));
      for (std::int64_t o = 0; o < n_out; ++o) {
        const std::int64_t base = base_of(o);
        default_thread_pool().parallel_for(0, blocks, 1, [&](std::int64_t lo, std::int64_t hi) {
          for (std::int64_t blk = lo; blk < hi; ++blk)
            partial[static_cast<std::size_t>(blk)] =
                block_sum(base, blk * detail::kParallelGrain,
                          std::min(red_n, (blk + 1) * detail::kParallelGrain));
        });
        A acc{};
        for (const A& p : partial) acc += p;
        po[o] = detail::store<T>(acc);
      }
      return;
    }
    auto body = [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t o = lo; o < hi; ++o) po[o] = detail::store<T>(block_sum(base_of(o), 0, red_n));
    };
    if (n_out > 1 && n_out * red_n >= detail::kParallelGrain) {
      const std::int64_t grain = std::max<std::int64_t>(1, detail::kParallelGrain / std::max<std::int64_t>(red_n, 1));
      default_thread_pool().parallel_for(0, n_out, grain, body);
    } else {
      body(0, n_out);
    }
  });
}

}  // namespace gnm::kernels
