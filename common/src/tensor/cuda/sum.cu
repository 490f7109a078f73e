// CUDA sum over dimensions: one block per output element, a strided walk over the reduced
// elements, then a shuffle tree. The kernel and its launch configuration live in
// reduce_kernels.cuh, which tests/emu also runs on the CPU with a host emulator.
#include "../dispatch.hpp"
#include "../kernels.hpp"
#include "loops.cuh"
#include "reduce_kernels.cuh"

namespace gnm::kernels {

void sum_cuda(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced) {
  const reduction::ReduceLayout L = reduction::make_layout(x, reduced);
  GNM_DISPATCH_ALL(x.dtype(), "sum", [&] {
    using T = scalar_t;
    reduction::launch_sum(detail::CudaLaunch{}, static_cast<const T*>(x.data_ptr()),
                          static_cast<T*>(out.data_ptr()), L);
  });
}

}  // namespace gnm::kernels
