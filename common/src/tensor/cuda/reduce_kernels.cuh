// Internal: the CUDA reduction kernels (sum, mean, var, max/argmax) and their launch
// configuration. Included by sum.cu and reduce.cu (nvcc) and, unchanged, by tests/emu (g++ with
// the host emulator), so CI runs this exact text on the CPU. Includes no CUDA header.
//
// One block per output element (a grid-stride loop over outputs beyond grid_for's cap): the
// block's threads walk the reduced block with a stride of kThreads, then block_all_reduce
// (block_reduce.cuh) combines the per-thread partials in a tree (error growth O(log n), not
// O(n)). var takes a second sweep for Σ(x − mean)², re-reading the block (from L2) rather than
// using the cancelling Σx² − n·mean². Accumulation in acc_t<T> (float; double for f64; int64
// for integers). Reductions of ≤ 128 elements (e.g. argmax over 10 classes) use one-warp blocks
// so that most threads are not idle.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "reduce_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <cstdint>
#include <type_traits>

#include "../dispatch.hpp"
#include "block_reduce.cuh"
#include "reduce_layout.cuh"

namespace gnm::kernels::reduction {
#if defined(GNM_CUDA_HOST_EMULATOR)
// The emulated tests link libgnm too: host copies in their own namespace never merge with nvcc's
// host stubs of the same names (see cuda_host_emulator.hpp).
inline namespace host_emulated {
#endif

constexpr int kSmallThreads = 32;   // one warp, for reductions of ≤ kSmallMax elements
constexpr int kLargeThreads = 256;
constexpr std::int64_t kSmallMax = 128;
constexpr int kSumThreads = 256;    // sum always uses 256-thread blocks

template <class T, class A, int kThreads>
__global__ void __launch_bounds__(kThreads)
    sum_kernel(const T* __restrict__ x, T* __restrict__ out, ReduceLayout L) {
  for (std::int64_t o = blockIdx.x; o < L.n_out; o += gridDim.x) {
    const T* xb = x + L.base(o);
    A acc = A(0);
    for (std::int64_t r = threadIdx.x; r < L.red_n; r += kThreads)
      acc += static_cast<A>(detail::load(xb[L.offset(r)]));
    const A total = block::block_all_reduce<kThreads>(acc, block::Sum{});
    if (threadIdx.x == 0) out[o] = detail::store<T>(total);
  }
}

template <class T, class A, int kThreads>
__global__ void __launch_bounds__(kThreads)
    mean_var_kernel(const T* __restrict__ x, T* __restrict__ out, ReduceLayout L, bool var,
                    A dof) {
  for (std::int64_t o = blockIdx.x; o < L.n_out; o += gridDim.x) {
    const T* xb = x + L.base(o);
    A acc = A(0);
    for (std::int64_t r = threadIdx.x; r < L.red_n; r += kThreads)
      acc += detail::load(xb[L.offset(r)]);
    // An empty reduction gives 0/0 = NaN, as on the CPU.
    const A mu = block::block_all_reduce<kThreads>(acc, block::Sum{}) / static_cast<A>(L.red_n);
    if (var) {
      A ss = A(0);
      for (std::int64_t r = threadIdx.x; r < L.red_n; r += kThreads) {
        const A d = static_cast<A>(detail::load(xb[L.offset(r)])) - mu;
        ss += d * d;
      }
      const A total_ss = block::block_all_reduce<kThreads>(ss, block::Sum{});
      if (threadIdx.x == 0) out[o] = detail::store<T>(total_ss / dof);
    } else if (threadIdx.x == 0) {
      out[o] = detail::store<T>(mu);
    }
  }
}

template <class A>
__device__ bool is_nan(A v) {
  if constexpr (std::is_floating_point_v<A>)
    return v != v;
  else
    return false;
}

// Keeps the larger value; NaN beats numbers; on equal values (or two NaNs) the smaller position
// wins, which makes the result the first maximum whatever the order threads combine in.
struct TakeBest {
  template <class A>
  __device__ block::ValueIndex<A> operator()(const block::ValueIndex<A>& a,
                                             const block::ValueIndex<A>& b) const {
    if (b.index < 0) return a;
    if (a.index < 0) return b;
    const bool na = is_nan(a.value), nb = is_nan(b.value);
    if (na != nb) return na ? a : b;
    if (!na && a.value != b.value) return a.value > b.value ? a : b;
    return a.index <= b.index ? a : b;
  }
};

template <class T, class A, int kThreads>
__global__ void __launch_bounds__(kThreads)
    max_kernel(const T* __restrict__ x, T* __restrict__ values,
               std::int64_t* __restrict__ indices, ReduceLayout L) {
  using Best = block::ValueIndex<A>;
  for (std::int64_t o = blockIdx.x; o < L.n_out; o += gridDim.x) {
    const T* xb = x + L.base(o);
    Best best{A(0), -1};
    for (std::int64_t r = threadIdx.x; r < L.red_n; r += kThreads)
      best = TakeBest{}(best, Best{static_cast<A>(detail::load(xb[L.offset(r)])), r});
    const Best total = block::block_all_reduce<kThreads>(best, TakeBest{});
    if (threadIdx.x == 0) {
      if (values) values[o] = detail::store<T>(total.value);
      if (indices) indices[o] = total.index;
    }
  }
}

// ---- launch configuration (host), shared by the .cu launchers and tests/emu ----
// `launch(kernel, grid, block, args...)` starts the kernel: kernel<<<grid, block>>>(args...) in
// the .cu files, gnm::emu::emu_launch in the tests, so both run the same choice of kernel and
// configuration.

inline bool small_blocks(std::int64_t red_n) { return red_n <= kSmallMax; }

template <class T, class Launch>
void launch_sum(Launch&& launch, const T* x, T* out, const ReduceLayout& L) {
  if (L.n_out == 0) return;  // a grid of 0 blocks is a launch error
  using A = detail::acc_t<T>;
  launch(sum_kernel<T, A, kSumThreads>, grid_for(L.n_out), kSumThreads, x, out, L);
}

template <class T, class Launch>
void launch_mean_var(Launch&& launch, const T* x, T* out, const ReduceLayout& L, bool var,
                     detail::acc_t<T> dof) {
  if (L.n_out == 0) return;
  using A = detail::acc_t<T>;
  if (small_blocks(L.red_n))
    launch(mean_var_kernel<T, A, kSmallThreads>, grid_for(L.n_out), kSmallThreads, x, out, L,
           var, dof);
  else
    launch(mean_var_kernel<T, A, kLargeThreads>, grid_for(L.n_out), kLargeThreads, x, out, L,
           var, dof);
}

template <class T, class Launch>
void launch_max(Launch&& launch, const T* x, T* values, std::int64_t* indices,
                const ReduceLayout& L) {
  if (L.n_out == 0) return;
  using A = detail::acc_t<T>;
  if (small_blocks(L.red_n))
    launch(max_kernel<T, A, kSmallThreads>, grid_for(L.n_out), kSmallThreads, x, values, indices,
           L);
  else
    launch(max_kernel<T, A, kLargeThreads>, grid_for(L.n_out), kLargeThreads, x, values, indices,
           L);
}

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace gnm::kernels::reduction
