// CPU copy-with-conversion and fill over any strides.
#include <cmath>

#include "../dispatch.hpp"
#include "../kernels.hpp"
#include "loops.hpp"

namespace gnm::kernels {

namespace {

template <class D>
void copy_into(const Tensor& dst, const Tensor& src) {
  auto* d = static_cast<D*>(dst.data_ptr());
  const bool dst_bool = dst.dtype() == DType::boolean;
  GNM_DISPATCH_ALL(src.dtype(), "copy", [&] {
    using S = scalar_t;
    const auto* s = static_cast<const S*>(src.data_ptr());
    detail::for_each_strided<2>(
        dst.shape(), {std::span<const std::int64_t>(dst.strides()), std::span<const std::int64_t>(src.strides())},
        [&](const std::array<std::int64_t, 2>& off, const std::array<std::int64_t, 2>& st, std::int64_t n) {
          for (std::int64_t k = 0; k < n; ++k) {
            const auto v = detail::load(s[off[1] + k * st[1]]);
            d[off[0] + k * st[0]] = dst_bool ? static_cast<D>(v != 0) : detail::store<D>(v);
          }
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
