/// \file
/// Device query that never crashes: on a machine without a driver it reports 0 devices and why.
///
/// cudaGetDeviceCount() returns an error there (35, cudaErrorInsufficientDriver) rather than a count
/// of 0, so the code is checked, not just the count. This header needs no CUDA headers and works in
/// the CPU-only build too, where it reports that CUDA was not compiled in.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

/// CUDA: device query, checked runtime calls, RAII owners of device resources, kernels.
namespace gnm::cuda {

/// What one CUDA device is, as reported by cudaGetDeviceProperties.
struct DeviceInfo {
  int ordinal = 0;                     ///< Device number, as in cudaSetDevice.
  std::string name;                    ///< Marketing name, e.g. "NVIDIA H100 80GB HBM3".
  int cc_major = 0;                    ///< Compute capability, major (9 for Hopper).
  int cc_minor = 0;                    ///< Compute capability, minor.
  int sm_count = 0;                    ///< Streaming multiprocessors.
  std::size_t total_memory = 0;        ///< Global memory in bytes.
  std::size_t free_memory = 0;         ///< Free global memory in bytes at query time.
  std::size_t l2_bytes = 0;            ///< L2 cache size in bytes.
  std::size_t smem_per_sm = 0;         ///< Shared memory per SM in bytes.
  int max_threads_per_sm = 0;          ///< Resident threads per SM.
  int regs_per_sm = 0;                 ///< 32-bit registers per SM.
  int clock_khz = 0;                   ///< SM clock in kHz (0 when the runtime does not report it).
  int memory_clock_khz = 0;            ///< Memory clock in kHz (0 when not reported).
  int memory_bus_bits = 0;             ///< Memory bus width in bits.
};

/// The result of query_devices(): the devices, the versions and a human-readable status.
struct DeviceReport {
  bool compiled_with_cuda = false;     ///< False in the CPU-only build (GNM_ENABLE_CUDA=OFF).
  int toolkit_version = 0;             ///< CUDART_VERSION the engine was compiled with (13000 = 13.0).
  int runtime_version = 0;             ///< cudaRuntimeGetVersion(), 0 when unknown.
  int driver_version = 0;              ///< cudaDriverGetVersion(), 0 when no driver is loaded.
  int error_code = 0;                  ///< cudaError_t of cudaGetDeviceCount (0 = success).
  std::string status;                  ///< "2 devices", or why there are none and how to fix it.
  std::vector<DeviceInfo> devices;     ///< Empty when no device is usable.
};

/// Queries the CUDA devices; never throws for a missing driver or device (the reason is in status).
DeviceReport query_devices();

/// Formats a CUDA version number such as 13000 as "13.0".
std::string format_cuda_version(int version);

}  // namespace gnm::cuda
