// Program (from OpenCL C, SPIR-V or SPIR) and Kernel (built only with OpenCL; stub.cpp stands
// in otherwise).
#include "gnm/opencl/program.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "cl_api.hpp"
#include "gnm/core/check.hpp"

namespace gnm::opencl {

namespace {

std::string build_log(cl_program program, cl_device_id device) {
  std::size_t size = 0;
  if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size) !=
          CL_SUCCESS ||
      size == 0) {
    return {};
  }
  std::string log(size, '\0');
  if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, size, log.data(), nullptr) !=
      CL_SUCCESS) {
    return {};
  }
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n' || log.back() == ' ')) {
    log.pop_back();
  }
  return log;
}

// Builds `program` (whose creation succeeded) and wraps it; on failure releases it and throws
// BuildError with the log. `what` names the program's origin for the message.
Program build(Context& ctx, cl_program program, const std::string& options,
              const std::string& what) {
  cl_device_id device = detail::Access::device(ctx);
  const cl_int rc = clBuildProgram(program, 1, &device, options.c_str(), nullptr, nullptr);
  std::string log = build_log(program, device);
  if (rc != CL_SUCCESS) {
    (void)clReleaseProgram(program);
    throw BuildError(rc, "clBuildProgram(" + what + ", options \"" + options + "\")",
                     std::move(log));
  }
  cl_command_queue queue = detail::Access::queue(ctx);
  const cl_int qrc = clRetainCommandQueue(queue);
  if (qrc != CL_SUCCESS) (void)clReleaseProgram(program);
  GNM_CL_CHECK_AS(qrc, "clRetainCommandQueue");
  return detail::Access::make_program(program, queue, device, std::move(log));
}

bool is_spirv(std::span<const std::byte> il) {
  // SPIR-V starts with the magic number 0x07230203 in the module's byte order.
  std::uint32_t magic = 0;
  std::memcpy(&magic, il.data(), sizeof magic);
  return magic == 0x07230203u || magic == 0x03022307u;
}

}  // namespace

namespace detail {
Program Access::make_program(cl_program program, cl_command_queue queue, cl_device_id device,
                             std::string log) {
  Program p;
  p.program_ = program;
  p.queue_ = queue;
  p.device_ = device;
  p.log_ = std::move(log);
  return p;
}
}  // namespace detail

//! [program_from_source]
Program Program::from_source(Context& ctx, std::string_view source, std::string_view options) {
  const char* text = source.data();
  const std::size_t length = source.size();
  cl_int rc = CL_SUCCESS;
  cl_program program =
      clCreateProgramWithSource(detail::Access::context(ctx), 1, &text, &length, &rc);
  GNM_CL_CHECK_AS(rc, "clCreateProgramWithSource");
  return build(ctx, program, std::string(options), "OpenCL C source");
}
//! [program_from_source]

//! [program_from_spirv]
Program Program::from_spirv(Context& ctx, std::span<const std::byte> il, std::string_view options) {
  const DeviceInfo& dev = ctx.device();
  if (!dev.accepts_spirv()) {
    throw gnm::NotImplemented(
        "OpenCL device '" + dev.name + "' (" + dev.platform_name + ", " + dev.version +
        ") accepts no SPIR-V: CL_DEVICE_IL_VERSION is empty. SPIR-V needs OpenCL 2.1+ or "
        "cl_khr_il_program, and an implementation built with a SPIR-V reader (Debian's PoCL 3.1 "
        "is built without one). Load the OpenCL C source (Program::from_source) or, where "
        "cl_khr_spir is listed, the SPIR bitcode (Program::from_spir) instead.");
  }
  GNM_CHECK_SHAPE(!il.empty() && il.size() % 4 == 0,
                  "a SPIR-V module is a non-empty sequence of 32-bit words", il.size());
  GNM_CHECK(is_spirv(il), "not a SPIR-V module (no magic number 0x07230203)", il.size());
  cl_int rc = CL_SUCCESS;
  cl_program program = nullptr;
  if (detail::version_number(dev.version) >= 21) {
    program = clCreateProgramWithIL(detail::Access::context(ctx), il.data(), il.size(), &rc);
    GNM_CL_CHECK_AS(rc, "clCreateProgramWithIL");
  } else {
    // OpenCL 1.2 or 2.0 with cl_khr_il_program: the same call, found through the platform.
    cl_platform_id platform = nullptr;
    GNM_CL_CHECK(clGetDeviceInfo(detail::Access::device(ctx), CL_DEVICE_PLATFORM, sizeof platform,
                                 &platform, nullptr));
    auto create = reinterpret_cast<clCreateProgramWithILKHR_fn>(
        clGetExtensionFunctionAddressForPlatform(platform, "clCreateProgramWithILKHR"));
    GNM_CHECK(create != nullptr,
              "cl_khr_il_program is listed but clCreateProgramWithILKHR "
              "is missing",
              dev.name);
    program = create(detail::Access::context(ctx), il.data(), il.size(), &rc);
    GNM_CL_CHECK_AS(rc, "clCreateProgramWithILKHR");
  }
  return build(ctx, program, std::string(options), "SPIR-V module");
}
//! [program_from_spirv]

Program Program::from_spir(Context& ctx, std::span<const std::byte> bitcode,
                           std::string_view options) {
  const DeviceInfo& dev = ctx.device();
  if (!dev.accepts_spir()) {
    throw gnm::NotImplemented("OpenCL device '" + dev.name + "' (" + dev.platform_name +
                              ") does not list cl_khr_spir: it takes no SPIR bitcode. Load the "
                              "OpenCL C source (Program::from_source) instead.");
  }
  GNM_CHECK_SHAPE(!bitcode.empty(), "an empty SPIR module", bitcode.size());
  cl_device_id device = detail::Access::device(ctx);
  const auto* bytes = reinterpret_cast<const unsigned char*>(bitcode.data());
  const std::size_t length = bitcode.size();
  cl_int status = CL_SUCCESS, rc = CL_SUCCESS;
  cl_program program = clCreateProgramWithBinary(detail::Access::context(ctx), 1, &device, &length,
                                                 &bytes, &status, &rc);
  GNM_CL_CHECK_AS(rc, "clCreateProgramWithBinary(SPIR)");
  if (status != CL_SUCCESS) (void)clReleaseProgram(program);
  GNM_CL_CHECK_AS(status, "clCreateProgramWithBinary(SPIR, binary status)");
  // cl_khr_spir: "-x spir" says the binary is SPIR, "-spir-std=1.2" its version.
  std::string all = "-x spir -spir-std=1.2";
  if (!options.empty()) all.append(" ").append(options);
  return build(ctx, program, all, "SPIR bitcode");
}

Program::Program(Program&& other) noexcept
    : program_(std::exchange(other.program_, nullptr)),
      queue_(std::exchange(other.queue_, nullptr)),
      device_(std::exchange(other.device_, nullptr)),
      log_(std::move(other.log_)) {}

Program& Program::operator=(Program&& other) noexcept {
  if (this != &other) {
    Program old(std::move(*this));
    program_ = std::exchange(other.program_, nullptr);
    queue_ = std::exchange(other.queue_, nullptr);
    device_ = std::exchange(other.device_, nullptr);
    log_ = std::move(other.log_);
  }
  return *this;
}

Program::~Program() {
  if (program_) (void)clReleaseProgram(static_cast<cl_program>(program_));
  if (queue_) (void)clReleaseCommandQueue(static_cast<cl_command_queue>(queue_));
}

std::vector<std::string> Program::kernel_names() const {
  cl_program program = static_cast<cl_program>(program_);
  std::size_t size = 0;
  GNM_CL_CHECK(clGetProgramInfo(program, CL_PROGRAM_KERNEL_NAMES, 0, nullptr, &size));
  std::string text(size, '\0');
  GNM_CL_CHECK(clGetProgramInfo(program, CL_PROGRAM_KERNEL_NAMES, size, text.data(), nullptr));
  std::vector<std::string> names;
  std::string current;
  for (char c : text) {  // "saxpy;sgemm_naive" plus a NUL
    if (c == ';' || c == '\0') {
      if (!current.empty()) names.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  return names;
}

// ---- Kernel -----------------------------------------------------------------------------------

Kernel::Kernel(const Program& program, std::string_view name) : name_(name) {
  cl_int rc = CL_SUCCESS;
  cl_kernel kernel = clCreateKernel(detail::Access::program(program), name_.c_str(), &rc);
  GNM_CL_CHECK_AS(rc, "clCreateKernel(" + name_ + ")");
  auto queue = static_cast<cl_command_queue>(detail::Access::program_queue(program));
  rc = clRetainCommandQueue(queue);
  if (rc != CL_SUCCESS) (void)clReleaseKernel(kernel);
  GNM_CL_CHECK_AS(rc, "clRetainCommandQueue");
  kernel_ = kernel;
  queue_ = queue;
  device_ = detail::Access::program_device(program);
}

Kernel::Kernel(Kernel&& other) noexcept
    : kernel_(std::exchange(other.kernel_, nullptr)),
      queue_(std::exchange(other.queue_, nullptr)),
      device_(std::exchange(other.device_, nullptr)),
      name_(std::move(other.name_)) {}

Kernel& Kernel::operator=(Kernel&& other) noexcept {
  if (this != &other) {
    Kernel old(std::move(*this));
    kernel_ = std::exchange(other.kernel_, nullptr);
    queue_ = std::exchange(other.queue_, nullptr);
    device_ = std::exchange(other.device_, nullptr);
    name_ = std::move(other.name_);
  }
  return *this;
}

Kernel::~Kernel() {
  if (kernel_) (void)clReleaseKernel(static_cast<cl_kernel>(kernel_));
  if (queue_) (void)clReleaseCommandQueue(static_cast<cl_command_queue>(queue_));
}

void Kernel::set_arg_bytes(unsigned index, std::size_t size, const void* value) {
  GNM_CL_CHECK_AS(clSetKernelArg(static_cast<cl_kernel>(kernel_), index, size, value),
                  "clSetKernelArg(" + name_ + ", argument " + std::to_string(index) + ")");
}

void Kernel::set_arg(unsigned index, const RawBuffer& buffer) {
  cl_mem mem = detail::Access::mem(buffer);  // null for an empty buffer: a null pointer
  set_arg_bytes(index, sizeof(cl_mem), &mem);
}

void Kernel::set_local(unsigned index, std::size_t bytes) {
  set_arg_bytes(index, bytes, nullptr);  // a null value with a size means __local memory
}

//! [kernel_launch]
Event Kernel::launch(Range global, Range local) const {
  GNM_CHECK_SHAPE(global.dims >= 1 && global.dims <= 3, "a launch needs 1 to 3 dimensions",
                  global.dims);
  GNM_CHECK_SHAPE(local.empty() || local.dims == global.dims,
                  "local and global sizes must have the same dimensions", local.dims, global.dims);
  cl_event event = nullptr;
  GNM_CL_CHECK_AS(
      clEnqueueNDRangeKernel(static_cast<cl_command_queue>(queue_), static_cast<cl_kernel>(kernel_),
                             global.dims, nullptr, global.sizes.data(),
                             local.empty() ? nullptr : local.sizes.data(), 0, nullptr, &event),
      "clEnqueueNDRangeKernel(" + name_ + ")");
  return detail::Access::make_event(event);
}
//! [kernel_launch]

std::size_t Kernel::max_work_group_size() const {
  std::size_t size = 0;
  GNM_CL_CHECK(clGetKernelWorkGroupInfo(static_cast<cl_kernel>(kernel_),
                                        static_cast<cl_device_id>(device_),
                                        CL_KERNEL_WORK_GROUP_SIZE, sizeof size, &size, nullptr));
  return size;
}

}  // namespace gnm::opencl
