// CUDA launchers of where and dropout; the dropout mask is the CPU's, bit for bit
// (Note [Dropout mask recomputation] in ops_where_dropout.cpp). The kernels live in
// where_dropout_kernels.cuh, which tests/emu also runs on the CPU with a host emulator.
#include "../dispatch.hpp"
#include "../kernels_unary.hpp"
#include "loops.cuh"
#include "where_dropout_kernels.cuh"

namespace gnm::kernels {

namespace {
using Strides = std::span<const std::int64_t>;
}  // namespace

void where_cuda(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  const std::array<Strides, 4> strides{Strides(out.strides()), Strides(cond.strides()),
                                       Strides(a.strides()), Strides(b.strides())};
  const auto* pc = static_cast<const std::uint8_t*>(cond.data_ptr());
  GNM_DISPATCH_ALL(a.dtype(), "where", [&] {
    using T = scalar_t;
    const where_dropout_detail::WhereOp<T> op{static_cast<T*>(out.data_ptr()), pc,
                                              static_cast<const T*>(a.data_ptr()),
                                              static_cast<const T*>(b.data_ptr())};
    detail::launch_strided<4>(out.shape(), strides, op);
  });
}

void dropout_cuda(const Tensor& out, const Tensor& x, std::uint64_t seed,
                  std::uint64_t subsequence, double p, double scale) {
  const std::int64_t n = out.numel();
  if (n == 0) return;  // a 0-block grid is a launch error
  const detail::DeviceLayout<1> layout =
      detail::make_device_layout<1>(x.shape(), std::array<Strides, 1>{Strides(x.strides())});
  const bool contiguous = x.is_contiguous();
  const PhiloxRng rng(seed, subsequence);
  GNM_DISPATCH_FLOATING(x.dtype(), "dropout", [&] {
    using T = scalar_t;
    where_dropout_detail::dropout_kernel<T>
        <<<where_dropout_detail::dropout_grid(n), where_dropout_detail::kDropoutThreads>>>(
            n, layout, contiguous, static_cast<const T*>(x.data_ptr()),
            static_cast<T*>(out.data_ptr()), rng, p, static_cast<detail::acc_t<T>>(scale));
    GNM_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace gnm::kernels
