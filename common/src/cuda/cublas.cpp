// cuBLAS status checks and the per-device handles (gnm/cuda/cublas.hpp).
#include "gnm/cuda/cublas.hpp"

#include <cuda_runtime_api.h>

#include <array>
#include <cstddef>
#include <mutex>
#include <string>

#include "gnm/core/check.hpp"
#include "gnm/cuda/check.hpp"

namespace gnm::cuda {

void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw CudaError(static_cast<int>(status),
                  std::string("cuBLAS call failed: ") + call + ": " + cublasGetStatusName(status) +
                      " (" + cublasGetStatusString(status) + ")",
                  file, line);
}

cublasHandle_t cublas_handle() {
  constexpr int kMaxDevices = 64;
  static std::mutex mutex;
  static std::array<cublasHandle_t, kMaxDevices> handles{};
  int device = 0;
  GNM_CUDA_CHECK(cudaGetDevice(&device));
  GNM_CHECK(device >= 0 && device < kMaxDevices, "CUDA device ordinal out of range", device);
  std::lock_guard<std::mutex> lock(mutex);
  cublasHandle_t& h = handles[static_cast<std::size_t>(device)];
  if (h == nullptr) {
    cublasHandle_t created = nullptr;
    GNM_CUBLAS_CHECK(cublasCreate(&created));
    // Default math: no TF32 for fp32 inputs (CUBLAS_TF32_TENSOR_OP_MATH would turn it on).
    const cublasStatus_t mode = cublasSetMathMode(created, CUBLAS_DEFAULT_MATH);
    if (mode != CUBLAS_STATUS_SUCCESS) {
      (void)cublasDestroy(created);
      GNM_CUBLAS_CHECK(mode);
    }
    h = created;
  }
  return h;
}

}  // namespace gnm::cuda
