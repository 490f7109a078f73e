/// \file
/// GNM_CUDA_CHECK and GNM_CUDA_CHECK_LAUNCH: every CUDA runtime call and every <<<>>> is checked.
///
/// \code
/// GNM_CUDA_CHECK(cudaMemcpy(d_y, h_y, bytes, cudaMemcpyHostToDevice));
/// saxpy_kernel<<<grid, block, 0, stream>>>(n, a, d_x, d_y);
/// GNM_CUDA_CHECK_LAUNCH();
/// \endcode
///
/// Both throw gnm::CudaError carrying the cudaError_t, its name and description, the call text and
/// file:line. With GNM_SYNC_LAUNCH=1 in the environment GNM_CUDA_CHECK_LAUNCH() also synchronizes, so
/// an asynchronous fault inside the kernel is reported at its launch (chapter 11 uses this).
#pragma once

#include <cuda_runtime_api.h>

#include "gnm/core/error.hpp"

namespace gnm::cuda {

/// Throws CudaError for `status` unless it is cudaSuccess; `call` is the source text of the call.
void check(cudaError_t status, const char* call, const char* file, int line);

/// Checks the last kernel launch (and, under GNM_SYNC_LAUNCH=1, synchronizes the device first).
void check_launch(const char* file, int line);

/// A one-line explanation of a CUDA error for people, e.g. code 35 → "no CUDA driver ...".
const char* explain(cudaError_t status) noexcept;

}  // namespace gnm::cuda

/// Evaluates a CUDA runtime call once and throws gnm::CudaError unless it returned cudaSuccess.
#define GNM_CUDA_CHECK(call) ::gnm::cuda::check((call), #call, __FILE__, __LINE__)

/// Checks the kernel launch just made (configuration errors, and faults under GNM_SYNC_LAUNCH=1).
#define GNM_CUDA_CHECK_LAUNCH() ::gnm::cuda::check_launch(__FILE__, __LINE__)
