// CUDA elementwise binary ops over broadcast (stride-0) operands; same math as cpu/binary.cpp.
#include "../binary_math.hpp"
#include "../dispatch.hpp"
#include "../kernels.hpp"
#include "loops.cuh"

namespace gnm::kernels {

//! [binary_cuda]
void binary_cuda(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b, double alpha) {
  const std::array<std::span<const std::int64_t>, 3> strides{
      std::span<const std::int64_t>(out.strides()), std::span<const std::int64_t>(a.strides()),
      std::span<const std::int64_t>(b.strides())};
  GNM_DISPATCH_ALL(a.dtype(), "binary op", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* pa = static_cast<const T*>(a.data_ptr());
    const T* pb = static_cast<const T*>(b.data_ptr());
    if (op >= BinaryOp::eq) {
      auto* po = static_cast<std::uint8_t*>(out.data_ptr());
      detail::launch_strided<3>(out.shape(), strides, [=] __device__(const detail::OffsetArray<3>& o) {
        po[o[0]] = binary_compare<A>(op, detail::load(pa[o[1]]), detail::load(pb[o[2]])) ? 1 : 0;
      });
      return;
    }
    T* po = static_cast<T*>(out.data_ptr());
    const A al = static_cast<A>(alpha);
    detail::launch_strided<3>(out.shape(), strides, [=] __device__(const detail::OffsetArray<3>& o) {
      po[o[0]] = detail::store<T>(binary_arith<A>(op, detail::load(pa[o[1]]), detail::load(pb[o[2]]), al));
    });
  });
}
//! [binary_cuda]

}  // namespace gnm::kernels
