// Internal: block-wide reductions built from warp shuffles, shared by the reduction (sum, mean,
// var, max) and softmax kernels. Includes no CUDA header, so tests/emu compiles this exact text
// with g++ and the host emulator (tests/emu/cuda_host_emulator.hpp) and runs it on the CPU.
//
// Note [Block reduction]: each warp folds its 32 values with a __shfl_down_sync tree (offsets
// 16, 8, 4, 2, 1; after the step with offset d, lane l < d holds op over lanes l, l + d, …, so
// lane 0 ends with the warp's value; lanes ≥ 32 − d get their own value back and hold partials
// nobody reads). One-warp blocks broadcast lane 0's value with __shfl_sync; larger blocks write
// one partial per warp to shared memory, and after a barrier EVERY thread folds the partials in
// the same order, so all threads return the same bits (the kernels rely on that: every thread
// uses the row max and sum). Error growth is O(log n) for the tree, plus the per-thread strided
// partial sums before it. A second barrier lets the next call reuse the partials array.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "block_reduce.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <cstdint>

namespace gnm::kernels::block {
#if defined(GNM_CUDA_HOST_EMULATOR)
// The emulated tests link libgnm too: host copies in their own namespace never merge with nvcc's
// host stubs of the same names (see cuda_host_emulator.hpp).
inline namespace host_emulated {
#endif

constexpr unsigned kFullMask = 0xffffffffu;

// A candidate maximum: value and row-major position inside the reduced block (−1 = none).
template <class A>
struct ValueIndex {
  A value;
  std::int64_t index;
};

template <class V>
__device__ __forceinline__ V shfl_down(V v, unsigned delta) {
  return __shfl_down_sync(kFullMask, v, delta);
}
template <class A>
__device__ __forceinline__ ValueIndex<A> shfl_down(ValueIndex<A> v, unsigned delta) {
  return {__shfl_down_sync(kFullMask, v.value, delta), __shfl_down_sync(kFullMask, v.index, delta)};
}
template <class V>
__device__ __forceinline__ V shfl_lane0(V v) {
  return __shfl_sync(kFullMask, v, 0);
}
template <class A>
__device__ __forceinline__ ValueIndex<A> shfl_lane0(ValueIndex<A> v) {
  return {__shfl_sync(kFullMask, v.value, 0), __shfl_sync(kFullMask, v.index, 0)};
}

struct Sum {
  template <class A>
  __device__ A operator()(A a, A b) const {
    return a + b;
  }
};

// op over v of the kThreads threads of a 1-d block, returned to every thread (Note [Block
// reduction]). Every thread of the block must call it, the same number of times: it contains
// warp shuffles over the full mask and, for kThreads > 32, two __syncthreads().
template <int kThreads, class V, class Op>
__device__ V block_all_reduce(V v, Op op) {
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "whole warps, at most 1024 threads");
  constexpr int kWarps = kThreads / 32;
  for (unsigned d = 16; d > 0; d /= 2) v = op(v, shfl_down(v, d));
  if constexpr (kWarps == 1) {
    return shfl_lane0(v);
  } else {
    __shared__ V partial[kWarps];
    if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
    __syncthreads();
    V total = partial[0];
    for (int w = 1; w < kWarps; ++w) total = op(total, partial[w]);
    __syncthreads();  // the next call overwrites partial[]
    return total;
  }
}

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace gnm::kernels::block
