#include "gnm/cuda/device.hpp"

#include <string>

#if GNM_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "gnm/cuda/check.hpp"
#endif

namespace gnm::cuda {

std::string format_cuda_version(int version) {
  if (version <= 0) return "none";
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

#if GNM_HAVE_CUDA

namespace {

int attribute(cudaDeviceAttr attr, int device) {
  int value = 0;
  // Some attributes are not reported by every driver; 0 means "unknown" in DeviceInfo.
  if (cudaDeviceGetAttribute(&value, attr, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return value;
}

}  // namespace

DeviceReport query_devices() {
  DeviceReport report;
  report.compiled_with_cuda = true;
  report.toolkit_version = CUDART_VERSION;
  if (cudaRuntimeGetVersion(&report.runtime_version) != cudaSuccess) report.runtime_version = 0;
  if (cudaDriverGetVersion(&report.driver_version) != cudaSuccess) report.driver_version = 0;
  (void)cudaGetLastError();

  //! [query]
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  report.error_code = static_cast<int>(err);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    std::string why = explain(err);
    report.status = std::string("0 devices: ") + cudaGetErrorName(err) + " (error " +
                    std::to_string(static_cast<int>(err)) + ")" + (why.empty() ? "" : ": " + why);
    return report;
  }
  if (count == 0) {
    report.status = "0 devices: the driver reports no CUDA device";
    return report;
  }
  //! [query]
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp p{};
    GNM_CUDA_CHECK(cudaGetDeviceProperties(&p, d));
    DeviceInfo info;
    info.ordinal = d;
    info.name = p.name;
    info.cc_major = p.major;
    info.cc_minor = p.minor;
    info.sm_count = p.multiProcessorCount;
    info.total_memory = p.totalGlobalMem;
    info.l2_bytes = static_cast<std::size_t>(p.l2CacheSize);
    info.smem_per_sm = p.sharedMemPerMultiprocessor;
    info.max_threads_per_sm = p.maxThreadsPerMultiProcessor;
    info.regs_per_sm = p.regsPerMultiprocessor;
    info.memory_bus_bits = p.memoryBusWidth;
    // CUDA 13 removed clockRate/memoryClockRate from cudaDeviceProp; ask for the attributes.
    info.clock_khz = attribute(cudaDevAttrClockRate, d);
    info.memory_clock_khz = attribute(cudaDevAttrMemoryClockRate, d);
    int previous = 0;
    GNM_CUDA_CHECK(cudaGetDevice(&previous));
    GNM_CUDA_CHECK(cudaSetDevice(d));
    std::size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) info.free_memory = free_bytes;
    (void)cudaGetLastError();
    GNM_CUDA_CHECK(cudaSetDevice(previous));
    report.devices.push_back(std::move(info));
  }
  report.status = std::to_string(count) + (count == 1 ? " device" : " devices");
  return report;
}

#else  // CPU-only build

DeviceReport query_devices() {
  DeviceReport report;
  report.status =
      "0 devices: this build has no CUDA (configured with GNM_ENABLE_CUDA=OFF or without nvcc); "
      "reconfigure with the default preset on a machine with the CUDA toolkit";
  return report;
}

#endif

}  // namespace gnm::cuda
