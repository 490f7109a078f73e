/// \file
/// The CUDA driver API, loaded at run time: load a PTX or cubin image and launch its kernels.
///
/// The engine never links libcuda (build/no_libcuda_link checks it): every binary must start on a
/// machine without a driver. So the first call here dlopen()s libcuda.so.1 and resolves the dozen
/// entry points it needs by name with dlsym(); none of them has a versioned (_v2) symbol, so the
/// plain names are the current ABI. When the library is missing, or cuInit fails, every call
/// throws gnm::CudaError with code 35 (the runtime's cudaErrorInsufficientDriver, which the rest of
/// the engine already explains as "no driver") and a message saying what is missing — never a
/// crash. Kernels run in the device's primary context, the one the runtime API uses too, so device
/// pointers from gnm::cuda::DeviceBuffer and streams from gnm::cuda::Stream work unchanged.
///
/// \code
/// auto module = gnm::cuda::driver::Module::load(ptx);   // PTX (JIT-compiled) or a cubin
/// CUfunction f = module.function("saxpy");
/// gnm::cuda::driver::launch(f, {grid, block}, n, a, d_x, d_y);  // arguments by value, in order
/// \endcode
#pragma once

#include <cuda.h>  // types and enums only; the functions are resolved at run time
#include <cuda_runtime_api.h>

#include <string>
#include <string_view>

namespace gnm::cuda::driver {

/// True when libcuda.so.1 loads and cuInit(0) succeeds; never throws (see unavailable_reason()).
bool available() noexcept;

/// Why the driver API is unusable ("no CUDA driver (libcuda.so.1 not found)", ...), or "" when
/// available() is true.
std::string unavailable_reason();

/// cuDriverGetVersion(), e.g. 13000 for 13.0; throws CudaError without a driver.
int version();

/// Throws CudaError for `status` unless it is CUDA_SUCCESS; the message has the CUresult's name,
/// description and `call`.
void check(CUresult status, const char* call, const char* file, int line);

/// Makes `device`'s primary context current on this thread (retaining it for the rest of the
/// process) unless a context is already current; returns the current context.
CUcontext ensure_context(int device = 0);

/// The device's compute capability as an architecture name: `prefix` "sm" gives "sm_90" (a cubin
/// target), "compute" gives "compute_90" (a PTX target).
std::string device_arch(int device = 0, std::string_view prefix = "sm");

/// A loaded module (cuModuleLoadData); unloaded in the destructor. Move-only.
class Module {
 public:
  /// Loads a PTX text or a cubin image into the current context (made current with
  /// ensure_context(0) when none is). PTX is JIT-compiled by the driver here; a PTX newer than the
  /// driver fails with CUDA_ERROR_UNSUPPORTED_PTX_VERSION, which a cubin avoids.
  static Module load(std::string_view image);

  Module() = default;
  ~Module();
  Module(Module&& other) noexcept;             ///< Takes over the module; `other` becomes empty.
  Module& operator=(Module&& other) noexcept;  ///< Unloads the held module, then takes `other`'s.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// The kernel named `name` (its unmangled name: declare it extern "C"); throws CudaError
  /// naming it when the module has no such function.
  CUfunction function(const char* name) const;

  /// The raw handle (nullptr when empty).
  CUmodule get() const noexcept { return module_; }

 private:
  explicit Module(CUmodule m) noexcept : module_(m) {}
  CUmodule module_ = nullptr;
};

/// Grid, block, dynamic shared memory and stream of one launch.
struct LaunchConfig {
  dim3 grid;                       ///< Blocks in x, y, z.
  dim3 block;                      ///< Threads per block in x, y, z.
  unsigned shared_bytes = 0;       ///< Dynamic shared memory per block.
  cudaStream_t stream = nullptr;   ///< The stream (same type as CUstream); nullptr: default.
};

/// Launches `f` with cuLaunchKernel; `args[i]` points at the i-th kernel parameter. Throws
/// CudaError for an invalid configuration (the launch is asynchronous: faults inside the kernel
/// show at the next synchronizing call).
void launch_raw(CUfunction f, const LaunchConfig& config, void** args);

/// Launches `f` with `args` passed by value in order. Each argument's type must match the kernel's
/// parameter exactly (an int for an int, a float* for a float*): nothing checks this, as with any
/// driver-API launch.
template <class... Args>
void launch(CUfunction f, const LaunchConfig& config, const Args&... args) {
  // The driver copies each parameter from these addresses before cuLaunchKernel returns.
  void* pointers[] = {const_cast<void*>(static_cast<const void*>(&args))..., nullptr};
  launch_raw(f, config, pointers);
}

/// cuCtxSynchronize on the current context; throws CudaError for an earlier asynchronous fault.
void synchronize();

}  // namespace gnm::cuda::driver
