/// \file
/// OpenCL platforms and devices, and the errors of the OpenCL backend (chapter 7.3).
///
/// OpenCL is a vendor-neutral API: an ICD loader (libOpenCL.so, Debian's ocl-icd) finds the
/// installed implementations ("platforms") through /etc/OpenCL/vendors/*.icd — PoCL on the CPU
/// (Debian's pocl-opencl-icd), NVIDIA's OpenCL with the GPU driver — and each platform exposes
/// devices. devices() lists them all with what a kernel author needs to know; pick_device()
/// chooses one (a GPU when there is one, else the first device; `GNM_OPENCL_DEVICE` overrides).
///
/// Every failing OpenCL call throws gnm::opencl::ClError naming the call and the error
/// ("clEnqueueNDRangeKernel(sgemm_tiled): CL_INVALID_WORK_GROUP_SIZE (-54)"); a program that does
/// not compile throws BuildError carrying the compiler's log. In a build without OpenCL (its
/// packages were not installed at configure time) every entry point that needs the runtime throws
/// gnm::NotImplemented naming the packages to install.
///
/// \code
/// for (const auto& d : gnm::opencl::devices())
///   std::printf("%s: %s, %u compute units\n", d.platform_name.c_str(), d.name.c_str(),
///               d.compute_units);
/// \endcode
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gnm/core/error.hpp"

/// The OpenCL backend: a small RAII layer over the OpenCL C API, and kernels built on it.
namespace gnm::opencl {

/// A failed OpenCL call; code() is the cl_int error code (negative), what() names the call and
/// the error, e.g. "clCreateBuffer: CL_INVALID_BUFFER_SIZE (-61)".
class ClError : public gnm::Error {
 public:
  /// `code` is the cl_int returned by `call` (a description such as "clBuildProgram").
  ClError(int code, const std::string& call, const char* file, int line);
  /// An error with a complete message (used by BuildError).
  ClError(int code, const std::string& message);
  /// The cl_int error code, e.g. -54 for CL_INVALID_WORK_GROUP_SIZE.
  int code() const noexcept { return code_; }

 private:
  int code_ = 0;
};

/// A program that did not compile (or link): what() includes the build log, log() is the log
/// alone, exactly as the OpenCL compiler wrote it.
class BuildError : public ClError {
 public:
  /// `code` is clBuildProgram's result, `what` describes the program, `log` is the build log.
  BuildError(int code, const std::string& what, std::string log);
  /// The compiler's log for the device (errors with line and column, warnings).
  const std::string& log() const noexcept { return log_; }

 private:
  std::string log_;
};

/// The name of an OpenCL error code, e.g. "CL_INVALID_WORK_GROUP_SIZE" for -54; codes the
/// Khronos headers do not define give "CL_UNKNOWN_ERROR". Never throws.
const char* error_name(int code) noexcept;

/// True when this build has the OpenCL backend (the ICD loader and headers were found at
/// configure time). False means every runtime call throws gnm::NotImplemented.
bool built_with_opencl() noexcept;

/// The Debian packages the OpenCL backend needs, for messages: the loader and headers to build,
/// PoCL to run on the CPU.
inline constexpr const char* kOpenClPackages = "ocl-icd-opencl-dev opencl-headers pocl-opencl-icd";

/// Kinds of OpenCL devices.
enum class DeviceType {
  cpu,          ///< A CPU (PoCL's pthread device, Intel's CPU runtime).
  gpu,          ///< A GPU (NVIDIA, AMD, Intel).
  accelerator,  ///< A dedicated accelerator (FPGA, DSP).
  other,        ///< Anything else (CL_DEVICE_TYPE_CUSTOM, or several bits).
};

/// "cpu", "gpu", "accelerator" or "other".
const char* device_type_name(DeviceType type) noexcept;

/// What a kernel author needs to know about one device, read once by devices().
struct DeviceInfo {
  std::size_t index = 0;         ///< Position in devices(): platform by platform, in order.
  std::string platform_name;     ///< e.g. "Portable Computing Language", "NVIDIA CUDA".
  std::string platform_version;  ///< e.g. "OpenCL 3.0 PoCL 3.1+debian ...".
  std::string name;              ///< e.g. "pthread-skylake-avx512-...", "NVIDIA H100 ...".
  std::string vendor;            ///< e.g. "GenuineIntel", "NVIDIA Corporation".
  std::string version;           ///< Device OpenCL version, e.g. "OpenCL 3.0 PoCL ...".
  std::string driver_version;    ///< The implementation's own version, e.g. "3.1+debian".
  std::string opencl_c_version;  ///< Highest OpenCL C the compiler takes, e.g. "OpenCL C 1.2".
  std::string il_version;  ///< Accepted intermediate languages ("SPIR-V_1.2 ..."); empty: none.
  std::string extensions;  ///< Space-separated extension names (cl_khr_fp64, ...).
  DeviceType type = DeviceType::other;  ///< CPU, GPU, ...
  std::uint32_t compute_units = 0;      ///< Cores (PoCL: CPU threads) or SMs (NVIDIA).
  std::uint32_t max_clock_mhz = 0;      ///< Highest clock the device reports, in MHz.
  std::uint64_t global_mem_bytes = 0;   ///< Size of global memory.
  std::uint64_t local_mem_bytes = 0;    ///< __local memory per work-group (shared memory).
  std::uint64_t max_alloc_bytes = 0;    ///< Largest single buffer.
  std::size_t max_work_group_size = 0;  ///< Most work-items in one work-group.

  /// True when `name` is one of extensions (whole words only).
  bool has_extension(std::string_view name) const;
  /// True when the device takes SPIR-V programs (Program::from_spirv): il_version names SPIR-V.
  bool accepts_spirv() const;
  /// True when the device takes SPIR 1.2 LLVM bitcode (Program::from_spir): cl_khr_spir.
  bool accepts_spir() const;
};

/// Every device of every platform, in platform order. Empty when the loader finds no platform
/// (no ICD installed: CL_PLATFORM_NOT_FOUND_KHR). Throws gnm::NotImplemented in a build without
/// OpenCL, ClError when a query fails.
std::vector<DeviceInfo> devices();

/// The device to use: `GNM_OPENCL_DEVICE` when set and non-empty — "gpu" or "cpu" (the first of
/// that type), a number (an index into devices()), or any other text (the first device whose
/// name contains it) — else the first GPU, else the first device. Throws gnm::Error naming the
/// value and listing the devices when nothing matches, and when there is no device at all
/// (naming the packages to install); NotImplemented in a build without OpenCL.
DeviceInfo pick_device();

/// pick_device() for an explicit selection text (the same rules as `GNM_OPENCL_DEVICE`; empty
/// means the default choice). Exposed so that tests can check the rules without the environment.
DeviceInfo pick_device(std::string_view selection);

}  // namespace gnm::opencl
