// CUDA reductions over a set of dimensions: mean, var, and max with the index of the first max.
//
// One block per output element (a grid-stride loop over outputs beyond 2³¹−1): the block's
// threads walk the reduced block with a stride of blockDim, then cub::BlockReduce combines the
// per-thread partials in a tree (error growth O(log n), not O(n)). var takes a second sweep for
// Σ(x − mean)², reading the block again from L2 rather than using the cancelling Σx² − n·mean².
// Accumulation is in float (double for f64). Small reductions (≤ 128 elements, e.g. argmax over
// 10 classes) use 32-thread blocks so most threads are not idle.
#include <cub/block/block_reduce.cuh>

#include <cmath>

#include "../dispatch.hpp"
#include "../kernels_nn.hpp"
#include "loops.cuh"
#include "reduce_layout.cuh"

namespace gnm::kernels {

namespace {

using reduction::grid_for;
using reduction::make_layout;
using reduction::ReduceLayout;

template <class T, class A, int kThreads>
__global__ void mean_var_kernel(const T* __restrict__ x, T* __restrict__ out, ReduceLayout L,
                                bool var, A dof) {
  using BlockReduce = cub::BlockReduce<A, kThreads>;
  __shared__ typename BlockReduce::TempStorage temp;
  __shared__ A shared_mean;
  for (std::int64_t o = blockIdx.x; o < L.n_out; o += gridDim.x) {
    const T* xb = x + L.base(o);
    A acc = A(0);
    for (std::int64_t r = threadIdx.x; r < L.red_n; r += kThreads) acc += detail::load(xb[L.offset(r)]);
    const A total = BlockReduce(temp).Sum(acc);
    if (threadIdx.x == 0) shared_mean = total / static_cast<A>(L.red_n);
    __syncthreads();
    const A mu = shared_mean;
    if (var) {
      A ss = A(0);
      for (std::int64_t r = threadIdx.x; r < L.red_n; r += kThreads) {
        const A d = static_cast<A>(detail::load(xb[L.offset(r)])) - mu;
        ss += d * d;
      }
      __syncthreads();  // temp is reused
      const A total_ss = BlockReduce(temp).Sum(ss);
      if (threadIdx.x == 0) out[o] = detail::store<T>(total_ss / dof);
    } else if (threadIdx.x == 0) {
      out[o] = detail::store<T>(mu);
    }
    __syncthreads();
  }
}

template <class A>
__device__ bool is_nan(A v) {
  if constexpr (std::is_floating_point_v<A>)
    return v != v;
  else
    return false;
}

// A candidate maximum: value and position (−1 = none).
template <class A>
struct Best {
  A value;
  std::int64_t index;
};

// Keeps the larger value; NaN beats numbers; on equal values (or two NaNs) the smaller position
// wins, which makes the result the first maximum whatever the order threads combine in.
struct TakeBest {
  template <class A>
  __device__ Best<A> operator()(const Best<A>& a, const Best<A>& b) const {
    if (b.index < 0) return a;
    if (a.index < 0) return b;
    const bool na = is_nan(a.value), nb = is_nan(b.value);
    if (na != nb) return na ? a : b;
    if (!na && a.value != b.value) return a.value > b.value ? a : b;
    return a.index <= b.index ? a : b;
  }
};

template <class T, class A, int kThreads>
__global__ void max_kernel(const T* __restrict__ x, T* __restrict__ values,
                           std::int64_t* __restrict__ indices, ReduceLayout L) {
  using BlockReduce = cub::BlockReduce<Best<A>, kThreads>;
  __shared__ typename BlockReduce::TempStorage temp;
  for (std::int64_t o = blockIdx.x; o < L.n_out; o += gridDim.x) {
    const T* xb = x + L.base(o);
    Best<A> best{A(0), -1};
    for (std::int64_t r = threadIdx.x; r < L.red_n; r += kThreads)
      best = TakeBest{}(best, Best<A>{static_cast<A>(detail::load(xb[L.offset(r)])), r});
    const Best<A> total = BlockReduce(temp).Reduce(best, TakeBest{});
    if (threadIdx.x == 0) {
      if (values) values[o] = detail::store<T>(total.value);
      if (indices) indices[o] = total.index;
    }
    __syncthreads();
  }
}

}  // namespace

void mean_cuda(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced) {
  const ReduceLayout L = make_layout(x, reduced);
  GNM_DISPATCH_FLOATING(x.dtype(), "mean", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* px = static_cast<const T*>(x.data_ptr());
    T* po = static_cast<T*>(out.data_ptr());
    if (L.red_n <= 128)
      mean_var_kernel<T, A, 32><<<grid_for(L.n_out), 32>>>(px, po, L, false, A(1));
    else
      mean_var_kernel<T, A, 256><<<grid_for(L.n_out), 256>>>(px, po, L, false, A(1));
    GNM_CUDA_CHECK_LAUNCH();
  });
}

void var_cuda(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced,
              std::int64_t correction) {
  const ReduceLayout L = make_layout(x, reduced);
  const double dof = static_cast<double>(std::max<std::int64_t>(0, L.red_n - correction));
  GNM_DISPATCH_FLOATING(x.dtype(), "var", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* px = static_cast<const T*>(x.data_ptr());
    T* po = static_cast<T*>(out.data_ptr());
    if (L.red_n <= 128)
      mean_var_kernel<T, A, 32><<<grid_for(L.n_out), 32>>>(px, po, L, true, static_cast<A>(dof));
    else
      mean_var_kernel<T, A, 256><<<grid_for(L.n_out), 256>>>(px, po, L, true, static_cast<A>(dof));
    GNM_CUDA_CHECK_LAUNCH();
  });
}

void max_cuda(const Tensor& values, const Tensor& indices, const Tensor& x,
              const std::vector<bool>& reduced) {
  const ReduceLayout L = make_layout(x, reduced);
  GNM_DISPATCH_ALL(x.dtype(), "max", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* px = static_cast<const T*>(x.data_ptr());
    T* pv = values.defined() ? static_cast<T*>(values.data_ptr()) : nullptr;
    std::int64_t* pi = indices.defined() ? static_cast<std::int64_t*>(indices.data_ptr()) : nullptr;
    if (L.red_n <= 128)
      max_kernel<T, A, 32><<<grid_for(L.n_out), 32>>>(px, pv, pi, L);
    else
      max_kernel<T, A, 256><<<grid_for(L.n_out), 256>>>(px, pv, pi, L);
    GNM_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace gnm::kernels
