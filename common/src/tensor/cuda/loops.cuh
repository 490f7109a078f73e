// Internal: the CUDA elementwise loop over N strided operands, the GPU twin of cpu/loops.hpp.
//
// launch_strided<N>(shape, {strides…}, f) runs f(std::array-like offsets) once per element with a
// grid-stride loop; `f` is a __device__ lambda (gnm is compiled with --extended-lambda) taking
// `const OffsetArray<N>&`. Shapes travel by value in fixed kMaxDims arrays (no device allocation
// per launch). Contiguous operands get the same dimension merging as on the CPU, so the index
// arithmetic of a row-major op is one division-free multiply-add.
#pragma once

#include <cuda_runtime_api.h>

#include <array>
#include <cstdint>
#include <span>

#include "gnm/cuda/check.hpp"
#include "gnm/tensor/shape.hpp"
#include "../cpu/loops.hpp"

namespace gnm::detail {

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

template <std::size_t N, class F>
void launch_strided(std::span<const std::int64_t> shape,
                    const std::array<std::span<const std::int64_t>, N>& strides, F f,
                    cudaStream_t stream = nullptr) {
  const std::int64_t n = shape_numel(shape);
  if (n == 0) return;
  const StridedLayout<N> L = coalesce<N>(shape, strides);
  DeviceLayout<N> D{};
  D.ndim = L.ndim;
  for (int d = 0; d < L.ndim; ++d) {
    D.sizes[d] = L.sizes[d];
    for (std::size_t j = 0; j < N; ++j) D.strides[j][d] = L.strides[j][d];
  }
  constexpr int kThreads = 256;
  // 4096 blocks × 256 threads covers an H100 (132 SMs × 2048 threads) four times; the grid-stride
  // loop handles anything larger.
  const std::int64_t blocks = std::min<std::int64_t>((n + kThreads - 1) / kThreads, 4096);
  strided_kernel<N><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(n, D, f);
  GNM_CUDA_CHECK_LAUNCH();
}

}  // namespace gnm::detail
