// CPU copy-with-conversion and fill over any strides.
//
// copy_cpu walks the operands with detail::for_each_strided (which merges dims that are
// contiguous for both and splits large copies over the thread pool). Runs where both operands
// advance by one element go to a unit-stride converter when the dtype pair has one (convert.hpp:
// a byte copy for equal dtypes, F16C/AVX2 for f32 ↔ f16/bf16), to a plain loop the compiler
// vectorises otherwise; strided runs take the element-by-element loop.
#include <cmath>

#include "../dispatch.hpp"
#include "../kernels.hpp"
#include "convert.hpp"
#include "loops.hpp"

namespace gnm::kernels {

namespace {

using Offsets = std::array<std::int64_t, 2>;

template <class D>
void copy_into(const Tensor& dst, const Tensor& src) {
  auto* d = static_cast<D*>(dst.data_ptr());
  const bool dst_bool = dst.dtype() == DType::boolean;
  const ContiguousConvertFn fast = contiguous_converter(dst.dtype(), src.dtype());
  GNM_DISPATCH_ALL(src.dtype(), "copy", [&] {
    using S = scalar_t;
    const auto* s = static_cast<const S*>(src.data_ptr());
    const auto convert = [dst_bool](S v) {
      const auto a = detail::load(v);
      return dst_bool ? static_cast<D>(a != 0) : detail::store<D>(a);
    };
    detail::for_each_strided<2>(
        dst.shape(), {std::span<const std::int64_t>(dst.strides()), std::span<const std::int64_t>(src.strides())},
        [&](const Offsets& off, const Offsets& st, std::int64_t n) {
          if (st[0] == 1 && st[1] == 1) {
            if (fast != nullptr) {
              fast(d + off[0], s + off[1], n);
            } else {
              D* dd = d + off[0];
              const S* ss = s + off[1];
              for (std::int64_t k = 0; k < n; ++k) dd[k] = convert(ss[k]);
            }
            return;
          }
          for (std::int64_t k = 0; k < n; ++k)
            d[off[0] + k * st[0]] = convert(s[off[1] + k * st[1]]);
        });
  });
}

}  // namespace

void copy_cpu(const Tensor& dst, const Tensor& src) {
  GNM_DISPATCH_ALL(dst.dtype(), "copy", [&] { copy_into<scalar_t>(dst, src); });
}

void fill_cpu(const Tensor& dst, double value) {
  GNM_DISPATCH_ALL(dst.dtype(), "fill", [&] {
    auto* d = static_cast<scalar_t*>(dst.data_ptr());
    const scalar_t v = dst.dtype() == DType::boolean ? static_cast<scalar_t>(value != 0.0)
                                                     : detail::store<scalar_t>(value);
    detail::for_each_strided<1>(dst.shape(), {std::span<const std::int64_t>(dst.strides())},
                                [&](const std::array<std::int64_t, 1>& off,
                                    const std::array<std::int64_t, 1>& st, std::int64_t n) {
                                  for (std::int64_t k = 0; k < n; ++k) d[off[0] + k * st[0]] = v;
                                });
  });
}

}  // namespace gnm::kernels
