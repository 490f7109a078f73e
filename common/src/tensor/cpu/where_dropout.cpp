// CPU kernels of where (select by a bool mask) and dropout (Philox mask, recomputed in backward).
#include <algorithm>

#include "../dispatch.hpp"
#include "../kernels_unary.hpp"
#include "loops.hpp"

namespace gnm::kernels {

namespace {
using Strides = std::span<const std::int64_t>;
}  // namespace

void where_cpu(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  const auto* pc = static_cast<const std::uint8_t*>(cond.data_ptr());
  // Any dtype: the select copies storage values, no arithmetic, so integers and bools work too.
  GNM_DISPATCH_ALL(a.dtype(), "where", [&] {
    using T = scalar_t;
    const auto* pa = static_cast<const T*>(a.data_ptr());
    const auto* pb = static_cast<const T*>(b.data_ptr());
    auto* po = static_cast<T*>(out.data_ptr());
    detail::for_each_strided<4>(
        out.shape(),
        {Strides(out.strides()), Strides(cond.strides()), Strides(a.strides()),
         Strides(b.strides())},
        [&](const std::array<std::int64_t, 4>& off, const std::array<std::int64_t, 4>& st,
            std::int64_t n) {
          for (std::int64_t k = 0; k < n; ++k)
            po[off[0] + k * st[0]] =
                pc[off[1] + k * st[1]] != 0 ? pa[off[2] + k * st[2]] : pb[off[3] + k * st[3]];
        });
  });
}

// out is contiguous, so its offset is the element's row-major index i: the Philox element that
// decides it. One Philox call yields four consecutive elements; the loop keeps the last block so
// a contiguous run costs one call per four elements instead of four.
void dropout_cpu(const Tensor& out, const Tensor& x, std::uint64_t seed, std::uint64_t subsequence,
                 double p, double scale) {
  const PhiloxRng rng(seed, subsequence);
  GNM_DISPATCH_FLOATING(x.dtype(), "dropout", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const A s = static_cast<A>(scale);
    const auto* px = static_cast<const T*>(x.data_ptr());
    auto* po = static_cast<T*>(out.data_ptr());
    detail::for_each_strided<2>(
        out.shape(), {Strides(out.strides()), Strides(x.strides())},
        [&](const std::array<std::int64_t, 2>& off, const std::array<std::int64_t, 2>& st,
            std::int64_t n) {
          std::uint64_t cached_block = ~std::uint64_t{0};
          U32x4 bits{};
          for (std::int64_t k = 0; k < n; ++k) {
            const auto i = static_cast<std::uint64_t>(off[0] + k * st[0]);
            const std::uint64_t blk = i / PhiloxRng::kBlockSize;
            if (blk != cached_block) {
              bits = rng.block(blk);
              cached_block = blk;
            }
            // Same test as math::dropout_keep (uniform(i) ≥ p, in double), from the cached bits.
            const bool keep =
                static_cast<double>(uniform_from_bits(bits.v[i % PhiloxRng::kBlockSize])) >= p;
            // A dropped element is an exact 0, even when x is inf or NaN (select, not multiply).
            po[i] = keep ? detail::store<T>(detail::load(px[off[1] + k * st[1]]) * s)
                         : detail::store<T>(A(0));
          }
        });
  });
}

}  // namespace gnm::kernels
