// Internal: the CUDA indexing kernels (index range check, index_select/embedding, index_add,
// gather, scatter_add) and their launch arithmetic. Included by index.cu (nvcc) and, unchanged,
// by tests/emu (g++ with the host emulator). Includes no CUDA header. The strided ones are
// functors for launch_strided (loops.cuh / strided_kernels.cuh), which the tests launch through
// strided_kernel with the same layout.
//
// One thread per element moved; the backwards accumulate with atomicAdd into an f32/f64 buffer
// (the ops convert 16-bit gradients), so duplicated indices add up. The order of atomic adds
// varies from run to run: the backward is exact up to fp32 reassociation, not bit-reproducible
// (as PyTorch's CUDA index_add and embedding backward).
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "index_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <algorithm>
#include <cstdint>

#include "strided_kernels.cuh"

namespace gnm::kernels::index_detail {
#if defined(GNM_CUDA_HOST_EMULATOR)
// The emulated tests link libgnm too: host copies in their own namespace never merge with nvcc's
// host stubs of the same names (see cuda_host_emulator.hpp).
inline namespace host_emulated {
#endif

constexpr int kThreads = 256;

// Blocks for n elements, one thread each, at most 4096 (grid-stride beyond).
inline unsigned blocks_for(std::int64_t n) {
  return static_cast<unsigned>(std::min<std::int64_t>((n + kThreads - 1) / kThreads, 4096));
}

// out (outer, n, inner) = x (outer, V, inner)[:, idx[k], :], moved as raw words of the dtype's
// size (any dtype).
template <class W>
__global__ void index_select_kernel(W* __restrict__ out, const W* __restrict__ x,
                                    const std::int64_t* __restrict__ idx, std::int64_t total,
                                    std::int64_t n, std::int64_t V, std::int64_t inner) {
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       e < total; e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t r = e / inner, c = e % inner;  // r = o·n + k
    const std::int64_t o = r / n, k = r % n;
    out[e] = x[(o * V + idx[k]) * inner + c];
  }
}

// grad (outer, V, inner) += g (outer, n, inner) at rows idx[k].
template <class T>
__global__ void index_add_kernel(T* __restrict__ grad, const T* __restrict__ g,
                                 const std::int64_t* __restrict__ idx, std::int64_t total,
                                 std::int64_t n, std::int64_t V, std::int64_t inner) {
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       e < total; e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t r = e / inner, c = e % inner;
    const std::int64_t o = r / n, k = r % n;
    atomicAdd(grad + (o * V + idx[k]) * inner + c, g[e]);
  }
}

// The smallest row-major position (operand 0: contiguous strides of index's shape) whose index
// (operand 1) lies outside [0, size), by atomicMin on a word that starts at all ones.
struct FirstOutOfRangeOp {
  unsigned long long* result;
  const std::int64_t* index;
  std::int64_t size;
  __device__ void operator()(const detail::OffsetArray<2>& o) const {
    const std::int64_t v = index[o[1]];
    if (v < 0 || v >= size) atomicMin(result, static_cast<unsigned long long>(o[0]));
  }
};

// gather: out[o0] = x[o2 + index[o1]·step], with x's stride along dim set to 0 in operand 2.
template <class T>
struct GatherOp {
  T* out;
  const T* x;
  const std::int64_t* index;
  std::int64_t step;
  __device__ void operator()(const detail::OffsetArray<3>& o) const {
    out[o[0]] = x[o[2] + index[o[1]] * step];
  }
};

// scatter_add: grad[o2 + index[o1]·step] += g[o0], grad's stride along dim set to 0 in operand 2.
template <class T>
struct ScatterAddOp {
  T* grad;
  const T* g;
  const std::int64_t* index;
  std::int64_t step;
  __device__ void operator()(const detail::OffsetArray<3>& o) const {
    atomicAdd(grad + o[2] + index[o[1]] * step, g[o[0]]);
  }
};

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace gnm::kernels::index_detail
