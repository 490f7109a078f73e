// CPU elementwise binary ops over broadcast (stride-0) operands.
#include "../binary_math.hpp"
#include "../dispatch.hpp"
#include "../kernels.hpp"
#include "loops.hpp"

namespace gnm::kernels {

namespace {

bool is_comparison(BinaryOp op) { return op >= BinaryOp::eq; }

template <class T, class F>
void loop3(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  detail::for_each_strided<3>(
      out.shape(),
      {std::span<const std::int64_t>(out.strides()), std::span<const std::int64_t>(a.strides()),
       std::span<const std::int64_t>(b.strides())},
      [&](const std::array<std::int64_t, 3>& off, const std::array<std::int64_t, 3>& st, std::int64_t n) {
        if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
          for (std::int64_t k = 0; k < n; ++k) f(off[0] + k, off[1] + k, off[2] + k);
        } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
          for (std::int64_t k = 0; k < n; ++k) f(off[0] + k, off[1] + k, off[2]);
        } else {
          for (std::int64_t k = 0; k < n; ++k) f(off[0] + k * st[0], off[1] + k * st[1], off[2] + k * st[2]);
        }
      });
}

}  // namespace

//! [binary_cpu]
void binary_cpu(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b, double alpha) {
  GNM_DISPATCH_ALL(a.dtype(), "binary op", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const auto* pa = static_cast<const T*>(a.data_ptr());
    const auto* pb = static_cast<const T*>(b.data_ptr());
    if (is_comparison(op)) {
      auto* po = static_cast<std::uint8_t*>(out.data_ptr());
      loop3<T>(out, a, b, [&](std::int64_t o, std::int64_t i, std::int64_t j) {
        po[o] = binary_compare<A>(op, detail::load(pa[i]), detail::load(pb[j])) ? 1 : 0;
      });
      return;
    }
    auto* po = static_cast<T*>(out.data_ptr());
    const A al = static_cast<A>(alpha);
    // Hot paths get their own loop so the compiler sees a fixed op and vectorises it.
    switch (op) {
      case BinaryOp::add:
        if (alpha == 1.0) {
          loop3<T>(out, a, b, [&](std::int64_t o, std::int64_t i, std::int64_t j) {
            po[o] = detail::store<T>(detail::load(pa[i]) + detail::load(pb[j]));
          });
          return;
        }
        break;
      case BinaryOp::mul:
        loop3<T>(out, a, b, [&](std::int64_t o, std::int64_t i, std::int64_t j) {
          po[o] = detail::store<T>(detail::load(pa[i]) * detail::load(pb[j]));
        });
        return;
      default: break;
    }
    loop3<T>(out, a, b, [&](std::int64_t o, std::int64_t i, std::int64_t j) {
      po[o] = detail::store<T>(binary_arith<A>(op, detail::load(pa[i]), detail::load(pb[j]), al));
    });
  });
}
//! [binary_cpu]

}  // namespace gnm::kernels
