// Internal: the CUDA softmax, log_softmax and cross-entropy kernels (forward and backward) and
// their launch configuration. Included by softmax.cu (nvcc) and, unchanged, by tests/emu (g++
// with the host emulator), so CI runs this exact text on the CPU. Includes no CUDA header.
//
// One block per row: a row (the `size` elements along the softmax dim, strided by `inner`, of
// the contiguous (outer, size, inner) view) is reduced by one block with block_all_reduce
// (block_reduce.cuh): the max, then Σ exp(x − max), then the output sweep; the row is read from
// DRAM once and re-read from L1/L2. Rows of ≤ 128 elements (class logits) use one warp per block,
// longer rows 256 threads. Accumulation in float (double for f64), exp via expf/exp.
//
// cross entropy keeps only each row's log-sum-exp; its backward recomputes softmax = exp(x − lse)
// in the elementwise sweep that writes (softmax − onehot_smoothed)·scale. Targets are trusted to
// lie in [0, C) (cross_entropy checks them before it launches anything).
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "softmax_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <math.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "../dispatch.hpp"
#include "block_reduce.cuh"

namespace gnm::kernels::softmax_detail {
#if defined(GNM_CUDA_HOST_EMULATOR)
// The emulated tests link libgnm too: host copies in their own namespace never merge with nvcc's
// host stubs of the same names (see cuda_host_emulator.hpp).
inline namespace host_emulated {
#endif

constexpr int kSmallThreads = 32;  // one warp, for rows of ≤ kSmallMax elements
constexpr int kLargeThreads = 256;
constexpr std::int64_t kSmallMax = 128;
constexpr int kElementwiseThreads = 256;
constexpr std::int64_t kMaxElementwiseBlocks = 4096;

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

// The block's max and Σ exp(x − max) of a row of n elements, stride st; every thread gets both.
template <class T, class A, int kThreads>
__device__ void row_stats(const T* xr, std::int64_t n, std::int64_t st, A& m, A& sum) {
  A local = static_cast<A>(-INFINITY);
  for (std::int64_t k = threadIdx.x; k < n; k += kThreads)
    local = MaxOp{}(local, static_cast<A>(detail::load(xr[k * st])));
  m = block::block_all_reduce<kThreads>(local, MaxOp{});
  A s = A(0);
  for (std::int64_t k = threadIdx.x; k < n; k += kThreads)
    s += dev_exp(static_cast<A>(detail::load(xr[k * st])) - m);
  sum = block::block_all_reduce<kThreads>(s, block::Sum{});
}

// Σ over a row of f(k), k < n; every thread gets the result.
template <class A, int kThreads, class F>
__device__ A row_sum(std::int64_t n, F f) {
  A s = A(0);
  for (std::int64_t k = threadIdx.x; k < n; k += kThreads) s += f(k);
  return block::block_all_reduce<kThreads>(s, block::Sum{});
}

template <class T, class A, int kThreads>
__global__ void __launch_bounds__(kThreads)
    softmax_kernel(const T* __restrict__ x, T* __restrict__ y, std::int64_t outer,
                   std::int64_t size, std::int64_t inner, bool log) {
  const std::int64_t rows = outer * inner;
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const std::int64_t base = (r / inner) * size * inner + r % inner, st = inner;
    A m, sum;
    row_stats<T, A, kThreads>(x + base, size, st, m, sum);
    const A lse = m + dev_log(sum), inv = A(1) / sum;
    for (std::int64_t k = threadIdx.x; k < size; k += kThreads) {
      const A v = detail::load(x[base + k * st]);
      y[base + k * st] = detail::store<T>(log ? v - lse : dev_exp(v - m) * inv);
    }
  }
}

template <class T, class A, int kThreads>
__global__ void __launch_bounds__(kThreads)
    softmax_backward_kernel(T* __restrict__ grad, const T* __restrict__ g,
                            const T* __restrict__ y, std::int64_t outer, std::int64_t size,
                            std::int64_t inner, bool log) {
  const std::int64_t rows = outer * inner;
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const std::int64_t base = (r / inner) * size * inner + r % inner, st = inner;
    const A acc = row_sum<A, kThreads>(size, [&](std::int64_t k) {
      const A gk = detail::load(g[base + k * st]);
      return log ? gk : gk * static_cast<A>(detail::load(y[base + k * st]));
    });
    for (std::int64_t k = threadIdx.x; k < size; k += kThreads) {
      const A gk = detail::load(g[base + k * st]), yk = detail::load(y[base + k * st]);
      grad[base + k * st] = detail::store<T>(log ? gk - dev_exp(yk) * acc : yk * (gk - acc));
    }
  }
}

template <class T, class A, int kThreads>
__global__ void __launch_bounds__(kThreads)
    cross_entropy_kernel(A* __restrict__ loss, A* __restrict__ lse, const T* __restrict__ x,
                         const std::int64_t* __restrict__ t, std::int64_t N, std::int64_t C,
                         A eps) {
  for (std::int64_t i = blockIdx.x; i < N; i += gridDim.x) {
    const T* xr = x + i * C;
    A m, sum;
    row_stats<T, A, kThreads>(xr, C, 1, m, sum);
    // eps is the same for every thread, so all of them take (or skip) row_sum's reduction.
    const A sum_x = eps != A(0) ? row_sum<A, kThreads>(C,
                                                       [&](std::int64_t k) {
                                                         return static_cast<A>(
                                                             detail::load(xr[k]));
                                                       })
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

// Elementwise: one thread per logit (the row's lse is already known), grid-stride.
template <class T, class A>
__global__ void cross_entropy_backward_kernel(T* __restrict__ grad, const T* __restrict__ g,
                                              std::int64_t gs, const T* __restrict__ x,
                                              const std::int64_t* __restrict__ t,
                                              const A* __restrict__ lse, std::int64_t N,
                                              std::int64_t C, A factor, A eps) {
  const std::int64_t n = N * C;
  const A off = eps / static_cast<A>(C);
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t i = e / C, k = e % C;
    const A p = dev_exp(static_cast<A>(detail::load(x[e])) - lse[i]);
    const A target_mass = (k == t[i] ? A(1) - eps : A(0)) + off;
    const A gi = detail::load(g[i * gs]);
    grad[e] = detail::store<T>(gi * factor * (p - target_mass));
  }
}

// ---- launch configuration (host), shared by softmax.cu and tests/emu ----
// `launch(kernel, grid, block, args...)` starts the kernel (see CudaLaunch in loops.cuh).

// Blocks for `rows` rows: one each, capped; the kernels' grid-stride loops cover the rest.
inline unsigned row_grid(std::int64_t rows) {
  return static_cast<unsigned>(std::min<std::int64_t>(rows, 65535LL * 32));
}
inline bool small_blocks(std::int64_t row_length) { return row_length <= kSmallMax; }

template <class T, class Launch>
void launch_softmax(Launch&& launch, const T* x, T* y, std::int64_t outer, std::int64_t size,
                    std::int64_t inner, bool log) {
  using A = detail::acc_t<T>;
  const std::int64_t rows = outer * inner;
  if (rows == 0 || size == 0) return;  // nothing to write; a 0-block grid is a launch error
  if (small_blocks(size))
    launch(softmax_kernel<T, A, kSmallThreads>, row_grid(rows), kSmallThreads, x, y, outer, size,
           inner, log);
  else
    launch(softmax_kernel<T, A, kLargeThreads>, row_grid(rows), kLargeThreads, x, y, outer, size,
           inner, log);
}

template <class T, class Launch>
void launch_softmax_backward(Launch&& launch, T* grad, const T* g, const T* y,
                             std::int64_t outer, std::int64_t size, std::int64_t inner,
                             bool log) {
  using A = detail::acc_t<T>;
  const std::int64_t rows = outer * inner;
  if (rows == 0 || size == 0) return;
  if (small_blocks(size))
    launch(softmax_backward_kernel<T, A, kSmallThreads>, row_grid(rows), kSmallThreads, grad, g,
           y, outer, size, inner, log);
  else
    launch(softmax_backward_kernel<T, A, kLargeThreads>, row_grid(rows), kLargeThreads, grad, g,
           y, outer, size, inner, log);
}

template <class T, class Launch>
void launch_cross_entropy(Launch&& launch, detail::acc_t<T>* loss, detail::acc_t<T>* lse,
                          const T* x, const std::int64_t* t, std::int64_t N, std::int64_t C,
                          detail::acc_t<T> eps) {
  using A = detail::acc_t<T>;
  if (N == 0 || C == 0) return;
  if (small_blocks(C))
    launch(cross_entropy_kernel<T, A, kSmallThreads>, row_grid(N), kSmallThreads, loss, lse, x, t,
           N, C, eps);
  else
    launch(cross_entropy_kernel<T, A, kLargeThreads>, row_grid(N), kLargeThreads, loss, lse, x, t,
           N, C, eps);
}

// Blocks for the elementwise backward over n logits: one thread each, capped (the grid-stride
// loop covers the rest; 4096 × 256 threads fill an H100's 132 SMs several times over).
inline unsigned elementwise_grid(std::int64_t n) {
  return static_cast<unsigned>(std::min<std::int64_t>(
      (n + kElementwiseThreads - 1) / kElementwiseThreads, kMaxElementwiseBlocks));
}

template <class T, class Launch>
void launch_cross_entropy_backward(Launch&& launch, T* grad, const T* g, std::int64_t gs,
                                   const T* x, const std::int64_t* t,
                                   const detail::acc_t<T>* lse, std::int64_t N, std::int64_t C,
                                   detail::acc_t<T> factor, detail::acc_t<T> eps) {
  using A = detail::acc_t<T>;
  if (N == 0 || C == 0) return;
  launch(cross_entropy_backward_kernel<T, A>, elementwise_grid(N * C), kElementwiseThreads, grad,
         g, gs, x, t, lse, N, C, factor, eps);
}

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace gnm::kernels::softmax_detail
