// Internal: the CUDA elementwise loop over N strided operands, the GPU twin of cpu/loops.hpp.
//
// launch_strided<N>(shape, {strides…}, f) runs f(std::array-like offsets) once per element with a
// grid-stride loop; `f` is a __device__ lambda (gnm is compiled with --extended-lambda) or a
// functor (index_kernels.cuh, where_dropout_kernels.cuh: those the emulated tests can run too)
// taking `const OffsetArray<N>&`. Shapes travel by value in fixed kMaxDims arrays (no device
// allocation per launch). Contiguous operands get the same dimension merging as on the CPU, so
// the index arithmetic of a row-major op is one division-free multiply-add. The kernel half
// (DeviceLayout, strided_kernel, the grid arithmetic) is in strided_kernels.cuh.
#pragma once

#include <cuda_runtime_api.h>

#include <array>
#include <cstdint>
#include <span>

#include "gnm/cuda/check.hpp"
#include "gnm/tensor/shape.hpp"
#include "../cpu/loops.hpp"
#include "strided_kernels.cuh"

namespace gnm::detail {

// kernel<<<grid, block>>>(args...) and the launch check: the `launch` callable that the launch_*
// functions of reduce_kernels.cuh and softmax_kernels.cuh take (the emulated tests in tests/emu
// pass one that calls gnm::emu::emu_launch instead), so both run the same kernel choice and grid.
struct CudaLaunch {
  template <class Kernel, class... Args>
  void operator()(Kernel kernel, dim3 grid, dim3 block, Args... args) const {
    kernel<<<grid, block>>>(args...);
    GNM_CUDA_CHECK_LAUNCH();
  }
};

template <std::size_t N, class F>
void launch_strided(std::span<const std::int64_t> shape,
                    const std::array<std::span<const std::int64_t>, N>& strides, F f,
                    cudaStream_t stream = nullptr) {
  const std::int64_t n = shape_numel(shape);
  if (n == 0) return;
  const DeviceLayout<N> D = make_device_layout<N>(shape, strides);
  strided_kernel<N><<<strided_grid(n), kStridedThreads, 0, stream>>>(n, D, f);
  GNM_CUDA_CHECK_LAUNCH();
}

}  // namespace gnm::detail
