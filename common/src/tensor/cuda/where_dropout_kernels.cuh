// Internal: the CUDA kernels of where and dropout and dropout's launch arithmetic. Included by
// where_dropout.cu (nvcc) and, unchanged, by tests/emu (g++ with the host emulator), which
// compares them with the CPU kernels (where_cpu, dropout_cpu) exactly. Includes no CUDA header.
//
// Philox4x32-10 is ~10 rounds × 6 integer instructions ≈ 60 per call, and one call yields four
// mask elements: one thread per four elements keeps that at ~15 instructions per element,
// which an H100 (132 SMs × 64 INT32 lanes × 1.7 GHz ≈ 14 T instr/s) runs at ~1 T elements/s,
// above the ~375 G elements/s that 8 bytes per element (f32 read + write) allow at 3 TB/s. One
// call per element would make the mask, not memory, the limit.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "where_dropout_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <algorithm>
#include <cstdint>

#include "../dispatch.hpp"
#include "../kernels_unary.hpp"
#include "strided_kernels.cuh"

namespace gnm::kernels::where_dropout_detail {
#if defined(GNM_CUDA_HOST_EMULATOR)
// The emulated tests link libgnm too: host copies in their own namespace never merge with nvcc's
// host stubs of the same names (see cuda_host_emulator.hpp).
inline namespace host_emulated {
#endif

// out = cond ? a : b, per element of launch_strided<4>'s walk (operands: out, cond, a, b).
template <class T>
struct WhereOp {
  T* po;
  const std::uint8_t* pc;
  const T* pa;
  const T* pb;
  __device__ void operator()(const detail::OffsetArray<4>& o) const {
    po[o[0]] = pc[o[1]] != 0 ? pa[o[2]] : pb[o[3]];
  }
};

// Thread t handles Philox block t (row-major elements 4t … 4t + 3) of the contiguous output; x
// is read through its (coalesced) layout unless it is contiguous.
template <class T>
__global__ void dropout_kernel(std::int64_t n, detail::DeviceLayout<1> x_layout, bool x_contiguous,
                               const T* px, T* po, PhiloxRng rng, double p,
                               detail::acc_t<T> scale) {
  using A = detail::acc_t<T>;
  const std::int64_t n_blocks = (n + PhiloxRng::kBlockSize - 1) / PhiloxRng::kBlockSize;
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t blk = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       blk < n_blocks; blk += step) {
    const U32x4 bits = rng.block(static_cast<std::uint64_t>(blk));
    for (int lane = 0; lane < PhiloxRng::kBlockSize; ++lane) {
      const std::int64_t i = blk * PhiloxRng::kBlockSize + lane;  // row-major index = out offset
      if (i >= n) break;
      // Same test as math::dropout_keep: uniform(i) >= p, compared in double.
      const bool keep = static_cast<double>(uniform_from_bits(bits.v[lane])) >= p;
      const std::int64_t xi = x_contiguous ? i : x_layout.offsets(i)[0];
      po[i] = keep ? detail::store<T>(detail::load(px[xi]) * scale) : detail::store<T>(A(0));
    }
  }
}

constexpr int kDropoutThreads = 256;

// Blocks for n elements: one thread per Philox block of 4, at most 4096 blocks (grid-stride).
inline unsigned dropout_grid(std::int64_t n) {
  const std::int64_t n_blocks = (n + PhiloxRng::kBlockSize - 1) / PhiloxRng::kBlockSize;
  return static_cast<unsigned>(
      std::min<std::int64_t>((n_blocks + kDropoutThreads - 1) / kDropoutThreads, 4096));
}

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace gnm::kernels::where_dropout_detail
