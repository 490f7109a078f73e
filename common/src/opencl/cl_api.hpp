// The raw OpenCL C API, for the .cpp files of the OpenCL backend only (never a public header):
// the headers with the version we target, the check macro, and detail::Access, through which
// those files reach the handles the public classes hold as void*.
#pragma once

// OpenCL 3.0 headers; calls newer than 1.2 are made only after checking the device's version.
// clCreateCommandQueue is deprecated since 2.0 but the only way on a 1.2 device; we use it there.
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <CL/cl_ext.h>  // CL_PLATFORM_NOT_FOUND_KHR, cl_khr_il_program

#include <string>

#include "gnm/opencl/context.hpp"
#include "gnm/opencl/device.hpp"
#include "gnm/opencl/program.hpp"

/// Throws gnm::opencl::ClError naming `what` (a call, with context) and the error when `code`
/// is not CL_SUCCESS.
#define GNM_CL_CHECK_AS(code, what)                                           \
  do {                                                                        \
    const cl_int gnm_cl_code_ = (code);                                       \
    if (gnm_cl_code_ != CL_SUCCESS) [[unlikely]] {                            \
      throw ::gnm::opencl::ClError(gnm_cl_code_, (what), __FILE__, __LINE__); \
    }                                                                         \
  } while (0)

/// Throws gnm::opencl::ClError naming the call (its function name) when it fails.
#define GNM_CL_CHECK(call) GNM_CL_CHECK_AS((call), ::gnm::opencl::detail::call_name(#call))

namespace gnm::opencl::detail {

/// "clFinish(queue)" → "clFinish": the function's name, for messages.
inline std::string call_name(const char* call_text) {
  std::string s(call_text);
  const auto paren = s.find('(');
  return paren == std::string::npos ? s : s.substr(0, paren);
}

/// The cl_device_id of `device` (an element of devices()): the same enumeration, by index.
/// Throws gnm::Error when the device is no longer there.
cl_device_id device_handle(const DeviceInfo& device);

/// The device's OpenCL version as major * 10 + minor (30 for "OpenCL 3.0 ..."); 0 if unparsable.
int version_number(const std::string& version_text);

/// The handles behind the public classes (void* there, so that no public header needs CL/cl.h).
struct Access {
  static cl_context context(const Context& c);
  static cl_command_queue queue(const Context& c);
  static cl_device_id device(const Context& c);
  static cl_mem mem(const RawBuffer& b) { return static_cast<cl_mem>(b.mem_); }
  static cl_program program(const Program& p) { return static_cast<cl_program>(p.program_); }
  static void* program_queue(const Program& p) { return p.queue_; }
  static void* program_device(const Program& p) { return p.device_; }
  static cl_kernel kernel(const Kernel& k) { return static_cast<cl_kernel>(k.kernel_); }
  static cl_event event(const Event& e) { return static_cast<cl_event>(e.event_); }
  /// An Event owning `event` (one reference).
  static Event make_event(cl_event event) {
    Event e;
    e.event_ = event;
    return e;
  }
  /// A Program with the given handles (the Program constructor is private).
  static Program make_program(cl_program program, cl_command_queue queue, cl_device_id device,
                              std::string log);
};

}  // namespace gnm::opencl::detail
