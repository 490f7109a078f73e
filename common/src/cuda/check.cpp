#include "gnm/cuda/check.hpp"

#include <cstdlib>
#include <string>

namespace gnm::cuda {

const char* explain(cudaError_t status) noexcept {
  switch (status) {
    case cudaErrorInsufficientDriver:
      return "no CUDA driver is loaded (libcuda.so.1 missing or older than this toolkit); "
             "install the NVIDIA driver or run on a machine with a GPU";
    case cudaErrorNoDevice:
      return "the driver is loaded but sees no CUDA device (check CUDA_VISIBLE_DEVICES and nvidia-smi)";
    case cudaErrorMemoryAllocation:
      return "out of device memory";
    case cudaErrorInvalidDevice:
      return "no device with that ordinal";
    case cudaErrorNoKernelImageForDevice:
      return "the binary has no code for this GPU's architecture (set CMAKE_CUDA_ARCHITECTURES)";
    default:
      return "";
  }
}

void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  // Clear the non-sticky error so a later, unrelated check does not report it again.
  (void)cudaGetLastError();
  std::string msg = std::string("CUDA error ") + std::to_string(static_cast<int>(status)) + " (" +
                    cudaGetErrorName(status) + ": " + cudaGetErrorString(status) + ") in " + call;
  if (const char* hint = explain(status); *hint) msg += " — " + std::string(hint);
  throw CudaError(static_cast<int>(status), msg, file, line);
}

void check_launch(const char* file, int line) {
  check(cudaGetLastError(), "kernel launch", file, line);
  static const bool sync = [] {
    const char* v = std::getenv("GNM_SYNC_LAUNCH");
    return v && std::string(v) == "1";
  }();
  if (sync) check(cudaDeviceSynchronize(), "cudaDeviceSynchronize after kernel launch", file, line);
}

}  // namespace gnm::cuda
