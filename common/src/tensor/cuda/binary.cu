// CUDA elementwise binary ops over broadcast (stride-0) operands; same math as cpu/binary.cpp.
#include "../dispatch.hpp"
#include "../kernels.hpp"
#include "loops.cuh"

namespace gnm::kernels {

namespace {

template <class A>
__device__ inline A arith(BinaryOp op, A x, A y, A alpha) {
  switch (op) {
    case BinaryOp::add: return x + alpha * y;
    case BinaryOp::sub: return x - alpha * y;
    case BinaryOp::mul: return x * y;
    case BinaryOp::div: return x / y;
    case BinaryOp::pow:
      if constexpr (std::is_floating_point_v<A>) return ::pow(x, y);
      else return A{};
    case BinaryOp::maximum: return (x != x) ? x : (y != y) ? y : (x > y ? x : y);
    case BinaryOp::minimum: return (x != x) ? x : (y != y) ? y : (x < y ? x : y);
    default: return A{};
  }
}

template <class A>
__device__ inline bool compare(BinaryOp op, A x, A y) {
  switch (op) {
    case BinaryOp::eq: return x == y;
    case BinaryOp::ne: return x != y;
    case BinaryOp::lt: return x < y;
    case BinaryOp::le: return x <= y;
    case BinaryOp::gt: return x > y;
    case BinaryOp::ge: return x >= y;
    default: return false;
  }
}

}  // namespace

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
        po[o[0]] = compare<A>(op, detail::load(pa[o[1]]), detail::load(pb[o[2]])) ? 1 : 0;
      });
      return;
    }
    T* po = static_cast<T*>(out.data_ptr());
    const A al = static_cast<A>(alpha);
    detail::launch_strided<3>(out.shape(), strides, [=] __device__(const detail::OffsetArray<3>& o) {
      po[o[0]] = detail::store<T>(arith<A>(op, detail::load(pa[o[1]]), detail::load(pb[o[2]]), al));
    });
  });
}
//! [binary_cuda]

}  // namespace gnm::kernels
