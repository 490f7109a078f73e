// Internal: the kernel half of the CUDA elementwise loop over N strided operands (see loops.cuh):
// OffsetArray, DeviceLayout and strided_kernel, plus the host arithmetic launch_strided uses
// (make_device_layout, strided_grid). Includes no CUDA header, so tests/emu compiles this exact
// text with g++ and the host emulator and checks DeviceLayout::offsets against the CPU's
// row-major walk for permuted, broadcast and sliced operands.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "strided_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

#include "../cpu/loops.hpp"
#include "gnm/tensor/shape.hpp"

namespace gnm::detail {
#if defined(GNM_CUDA_HOST_EMULATOR)
// The emulated tests link libgnm too: host copies in their own namespace never merge with nvcc's
// host stubs of the same names (see cuda_host_emulator.hpp).
inline namespace host_emulated {
#endif

template <std::size_t N>
struct OffsetArray {
  std::int64_t v[N];
  __device__ std::int64_t operator[](std::size_t j) const { return v[j]; }
};

template <std::size_t N>
struct DeviceLayout {
  int ndim;
  std::int64_t sizes[kMaxDims];
  std::int64_t strides[N][kMaxDims];

  __device__ OffsetArray<N> offsets(std::int64_t linear) const {
    OffsetArray<N> o{};
    for (int d = ndim - 1; d >= 0; --d) {
      const std::int64_t i = linear % sizes[d];
      linear /= sizes[d];
      for (std::size_t j = 0; j < N; ++j) o.v[j] += i * strides[j][d];
    }
    return o;
  }
};

template <std::size_t N, class F>
__global__ void strided_kernel(std::int64_t n, DeviceLayout<N> layout, F f) {
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += step)
    f(layout.offsets(i));
}

constexpr int kStridedThreads = 256;

// The device copy of coalesce()'s layout (fixed arrays, passed by value: no allocation per launch).
template <std::size_t N>
DeviceLayout<N> make_device_layout(std::span<const std::int64_t> shape,
                                   const std::array<std::span<const std::int64_t>, N>& strides) {
  const StridedLayout<N> L = coalesce<N>(shape, strides);
  DeviceLayout<N> D{};
  D.ndim = L.ndim;
  for (int d = 0; d < L.ndim; ++d) {
    D.sizes[d] = L.sizes[d];
    for (std::size_t j = 0; j < N; ++j) D.strides[j][d] = L.strides[j][d];
  }
  return D;
}

// Blocks for n elements: 4096 × 256 threads cover an H100 (132 SMs × 2048 threads) four times;
// the grid-stride loop handles anything larger.
inline unsigned strided_grid(std::int64_t n) {
  return static_cast<unsigned>(
      std::min<std::int64_t>((n + kStridedThreads - 1) / kStridedThreads, 4096));
}

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace gnm::detail
