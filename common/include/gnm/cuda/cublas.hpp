/// \file
/// cuBLAS helpers shared by the engine and the chapters: status checks that throw gnm::CudaError,
/// and one process-wide handle per device.
///
/// \code
/// cublasHandle_t h = gnm::cuda::cublas_handle();   // this device's handle, FP32 math (no TF32)
/// GNM_CUBLAS_CHECK(cublasSetStream(h, stream));
/// GNM_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, B, n, A, k, &zero, C, n));
/// \endcode
#pragma once

#include <cublas_v2.h>

namespace gnm::cuda {

/// Throws gnm::CudaError carrying `status` as its code, cuBLAS's name and description of it, and
/// the call's text, unless `status` is CUBLAS_STATUS_SUCCESS.
void check_cublas(cublasStatus_t status, const char* call, const char* file, int line);

/// This device's cuBLAS handle (the current device, cudaGetDevice), created on first use with
/// CUBLAS_DEFAULT_MATH — FP32 FMAs, no TF32 for f32 inputs — and kept for the life of the process:
/// creating one costs about 100 ms, and destroying it at exit races with the runtime's teardown.
/// Thread-safe. A caller that changes the handle's stream or math mode must set them on each use.
cublasHandle_t cublas_handle();

}  // namespace gnm::cuda

/// Checks a cuBLAS call: throws gnm::CudaError naming the call and the status when it fails.
#define GNM_CUBLAS_CHECK(call) ::gnm::cuda::check_cublas((call), #call, __FILE__, __LINE__)
