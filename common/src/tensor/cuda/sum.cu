// CUDA sum over dimensions: one block per output element (a grid-stride loop over outputs beyond
// the grid), a strided walk over the reduced elements, then cub::BlockReduce's tree. Float
// accumulation (double for f64): the tree keeps the error growth O(log n) instead of O(n).
#include <cub/block/block_reduce.cuh>

#include "../dispatch.hpp"
#include "../kernels.hpp"
#include "loops.cuh"
#include "reduce_layout.cuh"

namespace gnm::kernels {

namespace {

constexpr int kSumThreads = 256;

template <class T, class A>
__global__ void sum_kernel(const T* __restrict__ x, T* __restrict__ out, reduction::ReduceLayout L) {
  using BlockReduce = cub::BlockReduce<A, kSumThreads>;
  __shared__ typename BlockReduce::TempStorage temp;
  for (std::int64_t o = blockIdx.x; o < L.n_out; o += gridDim.x) {
    const T* xb = x + L.base(o);
    A acc = A(0);
    for (std::int64_t r = threadIdx.x; r < L.red_n; r += kSumThreads)
      acc += static_cast<A>(detail::load(xb[L.offset(r)]));
    const A total = BlockReduce(temp).Sum(acc);
    if (threadIdx.x == 0) out[o] = detail::store<T>(total);
    __syncthreads();  // temp is reused by the next output
  }
}

}  // namespace

void sum_cuda(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced) {
  const reduction::ReduceLayout L = reduction::make_layout(x, reduced);
  if (L.n_out == 0) return;
  GNM_DISPATCH_ALL(x.dtype(), "sum", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    sum_kernel<T, A><<<reduction::grid_for(L.n_out), kSumThreads>>>(
        static_cast<const T*>(x.data_ptr()), static_cast<T*>(out.data_ptr()), L);
    GNM_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace gnm::kernels
