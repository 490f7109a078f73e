// CUDA reductions over a set of dimensions: mean, var, and max with the index of the first max.
// The kernels, Note [Block reduction] and the launch configuration live in reduce_kernels.cuh /
// block_reduce.cuh, which tests/emu also runs on the CPU with a host emulator; this file keeps
// the launchers.
#include <algorithm>
#include <cstdint>

#include "../dispatch.hpp"
#include "../kernels_nn.hpp"
#include "loops.cuh"
#include "reduce_kernels.cuh"

namespace gnm::kernels {

using reduction::make_layout;
using reduction::ReduceLayout;

void mean_cuda(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced) {
  const ReduceLayout L = make_layout(x, reduced);
  GNM_DISPATCH_FLOATING(x.dtype(), "mean", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    reduction::launch_mean_var(detail::CudaLaunch{}, static_cast<const T*>(x.data_ptr()),
                               static_cast<T*>(out.data_ptr()), L, false, A(1));
  });
}

void var_cuda(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced,
              std::int64_t correction) {
  const ReduceLayout L = make_layout(x, reduced);
  const double dof = static_cast<double>(std::max<std::int64_t>(0, L.red_n - correction));
  GNM_DISPATCH_FLOATING(x.dtype(), "var", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    reduction::launch_mean_var(detail::CudaLaunch{}, static_cast<const T*>(x.data_ptr()),
                               static_cast<T*>(out.data_ptr()), L, true, static_cast<A>(dof));
  });
}

void max_cuda(const Tensor& values, const Tensor& indices, const Tensor& x,
              const std::vector<bool>& reduced) {
  const ReduceLayout L = make_layout(x, reduced);
  GNM_DISPATCH_ALL(x.dtype(), "max", [&] {
    using T = scalar_t;
    const T* px = static_cast<const T*>(x.data_ptr());
    T* pv = values.defined() ? static_cast<T*>(values.data_ptr()) : nullptr;
    std::int64_t* pi =
        indices.defined() ? static_cast<std::int64_t*>(indices.data_ptr()) : nullptr;
    reduction::launch_max(detail::CudaLaunch{}, px, pv, pi, L);
  });
}

}  // namespace gnm::kernels
