// 7.1 The runtime API: what this build was compiled with (everywhere), and the
// cudaGetDeviceProperties fields that matter for writing kernels (on a GPU).
#include <string>

#include "gnm/cuda/device.hpp"
#include "sections.hpp"

#if GNM_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "gnm/cuda/check.hpp"
#include "gnm/cuda/driver.hpp"
#include "gnm/cuda/rtc.hpp"
#endif

#ifndef GNM_CH07_CXX_COMPILER
#define GNM_CH07_CXX_COMPILER "unknown"
#endif
#ifndef GNM_CH07_NVCC_VERSION
#define GNM_CH07_NVCC_VERSION ""
#endif
#ifndef GNM_CH07_CUDA_ARCHS
#define GNM_CH07_CUDA_ARCHS ""
#endif

namespace chapter07 {
namespace {

using namespace gnm::cells;

#if GNM_HAVE_CUDA
// "90" → "sm_90 SASS + compute_90 PTX"; "90-real" → SASS only; "90-virtual" → PTX only. The list
// comes from CMake with ',' between entries; "native" or "all" are printed as they are.
std::string describe_archs(const std::string& list) {
  std::string out;
  std::size_t start = 0;
  while (start < list.size()) {
    auto comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string a = list.substr(start, comma - start);
    start = comma + 1;
    if (a.empty()) continue;
    std::string what;
    if (a[0] < '0' || a[0] > '9') {
      what = a;
    } else if (a.size() > 5 && a.substr(a.size() - 5) == "-real") {
      what = "sm_" + a.substr(0, a.size() - 5) + " SASS";
    } else if (a.size() > 8 && a.substr(a.size() - 8) == "-virtual") {
      what = "compute_" + a.substr(0, a.size() - 8) + " PTX";
    } else {
      what = "sm_" + a + " SASS + compute_" + a + " PTX";
    }
    out += (out.empty() ? "" : ", ") + what;
  }
  return out.empty() ? "none" : out;
}
#endif

//! [build_table]
Table build_table() {
  const gnm::cuda::DeviceReport r = gnm::cuda::query_devices();
  Table t("7.1 build", {"item", "value"});
  t.add({str("C++ compiler"), str(GNM_CH07_CXX_COMPILER)});
  t.add({str("CUDA compiled in"), yes_no(r.compiled_with_cuda)});
#if GNM_HAVE_CUDA
  t.add({str("nvcc"), str(GNM_CH07_NVCC_VERSION)});
  t.add({str("CUDA headers (CUDART_VERSION)"),
         str(gnm::cuda::format_cuda_version(r.toolkit_version))});
  t.add({str("CMAKE_CUDA_ARCHITECTURES"),
         str(std::string(GNM_CH07_CUDA_ARCHS) + " = " + describe_archs(GNM_CH07_CUDA_ARCHS))});
  t.add({str("wgmma GEMM (7.5)"), str("sm_90a SASS, on its own target only")});
  t.add({str("runtime (cudart_static)"),
         str(r.runtime_version > 0 ? gnm::cuda::format_cuda_version(r.runtime_version) : "-")});
  int cublas_major = 0, cublas_minor = 0, cublas_patch = 0;
  cublasGetProperty(MAJOR_VERSION, &cublas_major);
  cublasGetProperty(MINOR_VERSION, &cublas_minor);
  cublasGetProperty(PATCH_LEVEL, &cublas_patch);
  t.add({str("cuBLAS (linked)"),
         str(std::to_string(cublas_major) + "." + std::to_string(cublas_minor) + "." +
             std::to_string(cublas_patch))});
  t.add(
      {str("NVRTC (dlopen)"),
       str(gnm::cuda::rtc::nvrtc_available() ? gnm::cuda::rtc::nvrtc_version() : "not available")});
  t.add({str("driver API (dlopen libcuda.so.1)"),
         str(gnm::cuda::driver::available() ? "loaded" : gnm::cuda::driver::unavailable_reason())});
  t.add(
      {str("driver supports CUDA"),
       str(r.driver_version > 0 ? gnm::cuda::format_cuda_version(r.driver_version) : "no driver")});
#endif
  t.add({str("devices"), str(r.status)});
  return t;
}
//! [build_table]

#if GNM_HAVE_CUDA
// FP32 lanes per SM by architecture (the datasheets' "CUDA cores" per SM).
int fp32_lanes_per_sm(int major, int minor) {
  if (major == 8 && minor == 0) return 64;  // A100
  if (major >= 8) return 128;               // Ampere consumer, Ada, Hopper, Blackwell
  return 64;
}

std::string kib(std::size_t bytes) { return std::to_string(bytes / 1024) + " KiB"; }

std::string mib(std::size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

//! [device_table]
Table device_table(int device) {
  cudaDeviceProp p{};
  GNM_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  // Clocks left cudaDeviceProp in CUDA 13; they are attributes now.
  int clock_khz = 0, mem_clock_khz = 0;
  GNM_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device));
  GNM_CUDA_CHECK(cudaDeviceGetAttribute(&mem_clock_khz, cudaDevAttrMemoryClockRate, device));
  std::size_t free_bytes = 0, total_bytes = 0;
  GNM_CUDA_CHECK(cudaSetDevice(device));
  GNM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  // Double data rate: two transfers per memory clock, bus width in bits.
  const double peak_gbs = 2.0 * mem_clock_khz * 1e3 * (p.memoryBusWidth / 8.0) / 1e9;
  const double fp32_tflops =
      2.0 * p.multiProcessorCount * fp32_lanes_per_sm(p.major, p.minor) * clock_khz * 1e3 / 1e12;

  Table t("7.1 device " + std::to_string(device), {"field", "value", "why it matters"});
  auto row = [&](const char* field, const std::string& value, const char* why) {
    t.add({str(field), str(value), str(why)});
  };
  row("name", p.name, "what the figures below are for");
  row("major.minor", std::to_string(p.major) + "." + std::to_string(p.minor),
      "which SASS runs natively (sm_90 = Hopper: wgmma, TMA, clusters)");
  row("multiProcessorCount", std::to_string(p.multiProcessorCount),
      "grids below ~SMs x blocks/SM leave SMs idle");
  row("clock (attribute)", std::to_string(clock_khz / 1000) + " MHz", "peak FLOP/s scale with it");
  row("FP32 peak (derived)", std::to_string(fp32_tflops).substr(0, 5) + " TFLOP/s",
      "SMs x FP32 lanes x 2 x clock: the SGEMM ceiling");
  row("totalGlobalMem", mib(p.totalGlobalMem) + " (" + mib(free_bytes) + " free)",
      "the largest working set");
  row("memory clock x bus",
      std::to_string(mem_clock_khz / 1000) + " MHz x " + std::to_string(p.memoryBusWidth) + " bit",
      "two transfers per clock (DDR)");
  row("DRAM peak (derived)", std::to_string(static_cast<int>(peak_gbs)) + " GB/s",
      "2 x clock x bus/8: the bandwidth ceiling");
  row("l2CacheSize", mib(static_cast<std::size_t>(p.l2CacheSize)),
      "benchmarks use buffers several times larger");
  row("persistingL2CacheMaxSize", mib(static_cast<std::size_t>(p.persistingL2CacheMaxSize)),
      "L2 a stream can reserve (access policy window)");
  row("sharedMemPerMultiprocessor", kib(p.sharedMemPerMultiprocessor),
      "shared memory is split among resident blocks");
  row("sharedMemPerBlock / Optin", kib(p.sharedMemPerBlock) + " / " + kib(p.sharedMemPerBlockOptin),
      "above 48 KiB a kernel must opt in (cudaFuncSetAttribute)");
  row("regsPerMultiprocessor / Block",
      std::to_string(p.regsPerMultiprocessor) + " / " + std::to_string(p.regsPerBlock),
      "registers per thread x threads limit occupancy (6.5)");
  row("maxThreadsPerMultiProcessor", std::to_string(p.maxThreadsPerMultiProcessor),
      "resident warps hide latency");
  row("maxThreadsPerBlock", std::to_string(p.maxThreadsPerBlock), "the block-size ceiling");
  row("maxBlocksPerMultiProcessor", std::to_string(p.maxBlocksPerMultiProcessor),
      "tiny blocks hit this before the thread limit");
  row("warpSize", std::to_string(p.warpSize), "32 on NVIDIA; 64 on AMD CDNA (HIP's warpSize)");
  row("maxGridSize",
      std::to_string(p.maxGridSize[0]) + " x " + std::to_string(p.maxGridSize[1]) + " x " +
          std::to_string(p.maxGridSize[2]),
      "y and z are capped at 65535: put large counts in x");
  row("asyncEngineCount", std::to_string(p.asyncEngineCount),
      "copy engines: H2D and D2H overlap with kernels (8.4)");
  row("concurrentKernels", std::to_string(p.concurrentKernels),
      "kernels on different streams overlap");
  row("clusterLaunch", std::to_string(p.clusterLaunch), "thread-block clusters, distributed smem");
  row("cooperativeLaunch", std::to_string(p.cooperativeLaunch), "grid-wide synchronization");
  row("unifiedAddressing / managedMemory",
      std::to_string(p.unifiedAddressing) + " / " + std::to_string(p.managedMemory),
      "one address space; cudaMallocManaged (8.2)");
  row("concurrentManagedAccess", std::to_string(p.concurrentManagedAccess),
      "page-fault-driven migration and prefetch (8.2)");
  row("ECCEnabled", std::to_string(p.ECCEnabled), "ECC costs a little bandwidth");
  return t;
}
//! [device_table]
#endif

}  // namespace

Section run_runtime_api(const Config& /*cfg*/) {
  Section s;
  s.add(build_table());
  if (auto skip = skip_without_gpu("7.1 device properties")) {
    merge(s, *skip);
    return s;
  }
#if GNM_HAVE_CUDA
  const gnm::cuda::DeviceReport r = gnm::cuda::query_devices();
  for (const auto& d : r.devices) {
    s.add(device_table(d.ordinal));
    if (d.ordinal == 0) s.figures.emplace_back("7.1 SMs", static_cast<double>(d.sm_count));
  }
#endif
  return s;
}

}  // namespace chapter07
