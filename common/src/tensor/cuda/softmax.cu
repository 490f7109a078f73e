// CUDA softmax, log_softmax and cross entropy, forward and backward: one block per row.
//
// A row (the `size` elements along the softmax dim, strided by `inner`) is reduced by one block
// with cub::BlockReduce: the max, then Σ exp(x − max), then the output sweep; the row is read from
// DRAM once and re-read from L1/L2. Rows of ≤ 128 elements (class logits) use one warp per block,
// longer rows 256 threads. Accumulation in float (double for f64), exp via expf/exp.
//
// cross entropy keeps only each row's log-sum-exp; its backward recomputes softmax = exp(x − lse)
// in the sweep that writes (softmax − onehot_smoothed)·scale, one pass over the logits.
#include <cub/block/block_reduce.cuh>

#include <cmath>

#include "../dispatch.hpp"
#include "../kernels_nn.hpp"
#include "loops.cuh"

namespace gnm::kernels {

namespace {

template <class A>
__device__ A dev_exp(A v) {
  if constexpr (std::is_same_v<A, float>)
    return expf(v);
  else
    return ::exp(v);
}
template <class A>
__device__ A dev_log(A v) {
  if constexpr (std::is_same_v<A, float>)
    return logf(v);
  else
    return ::log(v);
}

struct MaxOp {
  template <class A>
  __device__ A operator()(A a, A b) const {
    return b > a ? b : a;  // NaN never becomes the max; exp(NaN − m) still poisons the row
  }
};

unsigned row_grid(std::int64_t rows) {
  return static_cast<unsigned>(std::min<std::int64_t>(rows, 65535LL * 32));
}

// The block's max and Σ exp(x − max) of a row; every thread gets both.
template <class T, class A, int kThreads>
__device__ void row_stats(const T* xr, std::int64_t n, std::int64_t st, A& m, A& sum) {
  using BlockReduce = cub::BlockReduce<A, kThreads>;
  __shared__ typename BlockReduce::TempStorage temp;
  __shared__ A shared[2];
  A local = -INFINITY;
  for (std::int64_t k = threadIdx.x; k < n; k += kThreads)
    local = MaxOp{}(local, static_cast<A>(detail::load(xr[k * st])));
  const A block_max = BlockReduce(temp).Reduce(local, MaxOp{});
  if (threadIdx.x == 0) shared[0] = block_max;
  __syncthreads();
  m = shared[0];
  A s = A(0);
  for (std::int64_t k = threadIdx.x; k < n; k += kThreads)
    s += dev_exp(static_cast<A>(detail::load(xr[k * st])) - m);
  const A block_sum = BlockReduce(temp).Sum(s);
  if (threadIdx.x == 0) shared[1] = block_sum;
  __syncthreads();
  sum = shared[1];
  __syncthreads();  // shared[] and temp are reused by the next row
}

// Σ over a row of f(k), every thread gets the result.
template <class A, int kThreads, class F>
__device__ A row_sum(std::int64_t n, F f) {
  using BlockReduce = cub::BlockReduce<A, kThreads>;
  __shared__ typename BlockReduce::TempStorage temp;
  __shared__ A shared;
  A s = A(0);
  for (std::int64_t k = threadIdx.x; k < n; k += kThreads) s += f(k);
  const A total = BlockReduce(temp).Sum(s);
  if (threadIdx.x == 0) shared = total;
  __syncthreads();
  const A out = shared;
  __syncthreads();
  return out;
}

template <class T, class A, int kThreads>
__global__ void softmax_kernel(const T* __restrict__ x, T* __restrict__ y, SoftmaxShape s,
                               bool log) {
  const std::int64_t rows = s.outer * s.inner;
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const std::int64_t base = (r / s.inner) * s.size * s.inner + r % s.inner, st = s.inner;
    A m, sum;
    row_stats<T, A, kThreads>(x + base, s.size, st, m, sum);
    const A lse = m + dev_log(sum), inv = A(1) / sum;
    for (std::int64_t k = threadIdx.x; k < s.size; k += kThreads) {
      const A v = detail::load(x[base + k * st]);
      y[base + k * st] = detail::store<T>(log ? v - lse : dev_exp(v - m) * inv);
    }
  }
}

template <class T, class A, int kThreads>
__global__ void softmax_backward_kernel(T* __restrict__ grad, const T* __restrict__ g,
                                        const T* __restrict__ y, SoftmaxShape s, bool log) {
  const std::int64_t rows = s.outer * s.inner;
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const std::int64_t base = (r / s.inner) * s.size * s.inner + r % s.inner, st = s.inner;
    const A acc = row_sum<A, kThreads>(s.size, [&](std::int64_t k) {
      const A gk = detail::load(g[base + k * st]);
      return log ? gk : gk * static_cast<A>(detail::load(y[base + k * st]));
    });
    for (std::int64_t k = threadIdx.x; k < s.size; k += kThreads) {
      const A gk = detail::load(g[base + k * st]), yk = detail::load(y[base + k * st]);
      grad[base + k * st] = detail::store<T>(log ? gk - dev_exp(yk) * acc : yk * (gk - acc));
    }
  }
}

template <class T, class A, int kThreads>
__global__ void cross_entropy_kernel(A* __restrict__ loss, A* __restrict__ lse,
                                     const T* __restrict__ x, const std::int64_t* __restrict__ t,
                                     std::int64_t N, std::int64_t C, A eps) {
  for (std::int64_t i = blockIdx.x; i < N; i += gridDim.x) {
    const T* xr = x + i * C;
    A m, sum;
    row_stats<T, A, kThreads>(xr, C, 1, m, sum);
    const A sum_x =
        eps != A(0) ? row_sum<A, kThreads>(C, [&](std::int64_t k) { return static_cast<A>(detail::load(xr[k])); })
                    : A(0);
    if (threadIdx.x == 0) {
      const A l = m + dev_log(sum);
      A out = A(0);
      if (eps != A(1)) out += (A(1) - eps) * (l - static_cast<A>(detail::load(xr[t[i]])));
      if (eps != A(0)) out += eps * (l - sum_x / static_cast<A>(C));
      loss[i] = out;
      lse[i] = l;
    }
  }
}

template <class T, class A>
__global__ void cross_entropy_backward_kernel(T* __restrict__ grad, const T* __restrict__ g,
                                              std::int64_t gs, const T* __restrict__ x,
                                              const std::int64_t* __restrict__ t,
                                              const A* __restrict__ lse, std::int64_t N,
                                              std::int64_t C, A factor, A eps) {
  // Elementwise: one thread per logit (the row's lse is already known).
  const std::int64_t n = N * C;
  const A off = eps / static_cast<A>(C);
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t i = e / C, k = e % C;
    const A p = dev_exp(static_cast<A>(detail::load(x[e])) - lse[i]);
    const A target_mass = (k == t[i] ? A(1) - eps : A(0)) + off;
    grad[e] = detail::store<T>(static_cast<A>(detail::load(g[i * gs])) * factor * (p - target_mass));
  }
}

}  // namespace

void softmax_cuda(const Tensor& y, const Tensor& x, SoftmaxShape s, bool log) {
  GNM_DISPATCH_FLOATING(x.dtype(), "softmax", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* px = static_cast<const T*>(x.data_ptr());
    T* py = static_cast<T*>(y.data_ptr());
    const unsigned grid = row_grid(s.outer * s.inner);
    if (s.size <= 128)
      softmax_kernel<T, A, 32><<<grid, 32>>>(px, py, s, log);
    else
      softmax_kernel<T, A, 256><<<grid, 256>>>(px, py, s, log);
    GNM_CUDA_CHECK_LAUNCH();
  });
}

void softmax_backward_cuda(const Tensor& grad, const Tensor& g, const Tensor& y, SoftmaxShape s,
                           bool log) {
  GNM_DISPATCH_FLOATING(y.dtype(), "softmax backward", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    T* pd = static_cast<T*>(grad.data_ptr());
    const T* pg = static_cast<const T*>(g.data_ptr());
    const T* py = static_cast<const T*>(y.data_ptr());
    const unsigned grid = row_grid(s.outer * s.inner);
    if (s.size <= 128)
      softmax_backward_kernel<T, A, 32><<<grid, 32>>>(pd, pg, py, s, log);
    else
      softmax_backward_kernel<T, A, 256><<<grid, 256>>>(pd, pg, py, s, log);
    GNM_CUDA_CHECK_LAUNCH();
  });
}

void cross_entropy_cuda(const Tensor& loss, const Tensor& lse, const Tensor& logits,
                        const Tensor& target, double label_smoothing) {
  const std::int64_t N = logits.size(0), C = logits.size(1);
  const auto* pt = static_cast<const std::int64_t*>(target.data_ptr());
  GNM_DISPATCH_FLOATING(logits.dtype(), "cross_entropy", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    const T* px = static_cast<const T*>(logits.data_ptr());
    A* pl = static_cast<A*>(loss.data_ptr());
    A* pe = static_cast<A*>(lse.data_ptr());
    const A eps = static_cast<A>(label_smoothing);
    if (C <= 128)
      cross_entropy_kernel<T, A, 32><<<row_grid(N), 32>>>(pl, pe, px, pt, N, C, eps);
    else
      cross_entropy_kernel<T, A, 256><<<row_grid(N), 256>>>(pl, pe, px, pt, N, C, eps);
    GNM_CUDA_CHECK_LAUNCH();
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
    constexpr int kThreads = 256;
    const std::int64_t n = N * C;
    const auto blocks = static_cast<unsigned>(std::min<std::int64_t>((n + kThreads - 1) / kThreads, 4096));
    cross_entropy_backward_kernel<T, A><<<blocks, kThreads>>>(
        static_cast<T*>(grad.data_ptr()), static_cast<const T*>(g.data_ptr()), g.stride(0),
        static_cast<const T*>(logits.data_ptr()), pt, static_cast<const A*>(lse.data_ptr()), N, C,
        static_cast<A>(factor), static_cast<A>(label_smoothing));
    GNM_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace gnm::kernels
