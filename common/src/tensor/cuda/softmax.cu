// CUDA softmax, log_softmax and cross entropy, forward and backward: the launchers. The kernels
// (one block per row, shuffle-tree reductions) and their launch configuration live in
// softmax_kernels.cuh, which tests/emu also runs on the CPU with a host emulator.
#include <cstdint>

#include "../dispatch.hpp"
#include "../kernels_nn.hpp"
#include "loops.cuh"
#include "softmax_kernels.cuh"

namespace gnm::kernels {

void softmax_cuda(const Tensor& y, const Tensor& x, SoftmaxShape s, bool log) {
  GNM_DISPATCH_FLOATING(x.dtype(), "softmax", [&] {
    using T = scalar_t;
    softmax_detail::launch_softmax(detail::CudaLaunch{}, static_cast<const T*>(x.data_ptr()),
                                   static_cast<T*>(y.data_ptr()), s.outer, s.size, s.inner, log);
  });
}

void softmax_backward_cuda(const Tensor& grad, const Tensor& g, const Tensor& y, SoftmaxShape s,
                           bool log) {
  GNM_DISPATCH_FLOATING(y.dtype(), "softmax backward", [&] {
    using T = scalar_t;
    softmax_detail::launch_softmax_backward(
        detail::CudaLaunch{}, static_cast<T*>(grad.data_ptr()),
        static_cast<const T*>(g.data_ptr()), static_cast<const T*>(y.data_ptr()), s.outer, s.size,
        s.inner, log);
  });
}

void cross_entropy_cuda(const Tensor& loss, const Tensor& lse, const Tensor& logits,
                        const Tensor& target, double label_smoothing) {
  const std::int64_t N = logits.size(0), C = logits.size(1);
  const auto* pt = static_cast<const std::int64_t*>(target.data_ptr());
  GNM_DISPATCH_FLOATING(logits.dtype(), "cross_entropy", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    softmax_detail::launch_cross_entropy(
        detail::CudaLaunch{}, static_cast<A*>(loss.data_ptr()), static_cast<A*>(lse.data_ptr()),
        static_cast<const T*>(logits.data_ptr()), pt, N, C, static_cast<A>(label_smoothing));
  });
}

void cross_entropy_backward_cuda(const Tensor& grad, const Tensor& g, const Tensor& logits,
                                 const Tensor& target, const Tensor& lse, double factor,
                                 double label_smoothing) {
  const std::int64_t N = logits.size(0), C = logits.size(1);
  const auto* pt = static_cast<const std::int64_t*>(target.data_ptr());
  GNM_DISPATCH_FLOATING(logits.dtype(), "cross_entropy backward", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    softmax_detail::launch_cross_entropy_backward(
        detail::CudaLaunch{}, static_cast<T*>(grad.data_ptr()),
        static_cast<const T*>(g.data_ptr()), g.stride(0),
        static_cast<const T*>(logits.data_ptr()), pt, static_cast<const A*>(lse.data_ptr()), N,
        C, static_cast<A>(factor), static_cast<A>(label_smoothing));
  });
}

}  // namespace gnm::kernels
