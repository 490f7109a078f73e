// CUDA copy-with-conversion and fill over any strides (the GPU twins of cpu/copy.cpp).
#include "../dispatch.hpp"
#include "../kernels.hpp"
#include "loops.cuh"

namespace gnm::kernels {

namespace {

template <class D>
void copy_into(const Tensor& dst, const Tensor& src) {
  D* d = static_cast<D*>(dst.data_ptr());
  const bool dst_bool = dst.dtype() == DType::boolean;
  GNM_DISPATCH_ALL(src.dtype(), "copy", [&] {
    using S = scalar_t;
    const S* s = static_cast<const S*>(src.data_ptr());
    detail::launch_strided<2>(
        dst.shape(), {std::span<const std::int64_t>(dst.strides()), std::span<const std::int64_t>(src.strides())},
        [=] __device__(const detail::OffsetArray<2>& o) {
          const auto v = detail::load(s[o[1]]);
          d[o[0]] = dst_bool ? static_cast<D>(v != 0) : detail::store<D>(v);
        });
  });
}

}  // namespace

void copy_cuda(const Tensor& dst, const Tensor& src) {
  GNM_DISPATCH_ALL(dst.dtype(), "copy", [&] { copy_into<scalar_t>(dst, src); });
}

void fill_cuda(const Tensor& dst, double value) {
  GNM_DISPATCH_ALL(dst.dtype(), "fill", [&] {
    scalar_t* d = static_cast<scalar_t*>(dst.data_ptr());
    const scalar_t v = dst.dtype() == DType::boolean ? static_cast<scalar_t>(value != 0.0)
                                                     : detail::store<scalar_t>(value);
    detail::launch_strided<1>(dst.shape(), {std::span<const std::int64_t>(dst.strides())},
                              [=] __device__(const detail::OffsetArray<1>& o) { d[o[0]] = v; });
  });
}

}  // namespace gnm::kernels
