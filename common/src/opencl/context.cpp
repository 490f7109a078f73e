// Context, Event and RawBuffer: the runtime objects every OpenCL program needs (built only with
// OpenCL; stub.cpp stands in otherwise).
#include "gnm/opencl/context.hpp"

#include <map>
#include <string>
#include <utility>

#include "cl_api.hpp"
#include "gnm/core/check.hpp"
#include "gnm/opencl/program.hpp"

// Note [PoCL's leak under LeakSanitizer]: the first time PoCL compiles a kernel for a work-group
// size (on its worker thread, pocl_check_kernel_dlhandle_cache → LLVM code generation), it leaks
// one 16-byte object that holds LLVM's pass and target-machine objects (~1.4 MB in ~3000
// allocations, all reachable only from it). A run that finds the kernel in PoCL's disk cache
// leaks nothing. The stacks stop inside libpocl (built without frame pointers), so the narrowest
// suppression is the module: "leak:libpocl.so". That also suppresses the indirect LLVM leaks,
// because they hang off the suppressed object. It could hide a leaked cl_mem or cl_program of
// ours, so the test OpenCl.ObjectsReleaseWhatTheyTake checks our releases through the context's
// and the queue's reference counts instead. The hook is linked wherever a Context is (this
// file), and only in AddressSanitizer builds; LSAN_OPTIONS=suppressions=... can add more.
#if defined(__SANITIZE_ADDRESS__)
#define GNM_OPENCL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GNM_OPENCL_ASAN 1
#endif
#endif
#ifdef GNM_OPENCL_ASAN
extern "C" const char* __lsan_default_suppressions() { return "leak:libpocl.so\n"; }
#endif

namespace gnm::opencl {

struct Context::Impl {
  cl_context context = nullptr;
  cl_command_queue queue = nullptr;
  cl_device_id device = nullptr;
  DeviceInfo info;
  std::map<std::string, Program, std::less<>> programs;  // key: options, NUL, source

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    programs.clear();
    if (queue) (void)clReleaseCommandQueue(queue);
    if (context) (void)clReleaseContext(context);
  }
};

namespace detail {
cl_context Access::context(const Context& c) { return c.impl_->context; }
cl_command_queue Access::queue(const Context& c) { return c.impl_->queue; }
cl_device_id Access::device(const Context& c) { return c.impl_->device; }
}  // namespace detail

Context::Context() : Context(pick_device()) {}

Context::Context(const DeviceInfo& device) : impl_(std::make_unique<Impl>()) {
  impl_->info = device;
  impl_->device = detail::device_handle(device);
  cl_int rc = CL_SUCCESS;
  impl_->context = clCreateContext(nullptr, 1, &impl_->device, nullptr, nullptr, &rc);
  GNM_CL_CHECK_AS(rc, "clCreateContext(" + device.name + ")");
  // Profiling is on for every command, so that an Event can tell a kernel's device time; it
  // costs two timestamps per command.
  if (detail::version_number(device.version) >= 20) {
    const cl_queue_properties props[] = {CL_QUEUE_PROPERTIES, CL_QUEUE_PROFILING_ENABLE, 0};
    impl_->queue = clCreateCommandQueueWithProperties(impl_->context, impl_->device, props, &rc);
    GNM_CL_CHECK_AS(rc, "clCreateCommandQueueWithProperties");
  } else {
    impl_->queue =
        clCreateCommandQueue(impl_->context, impl_->device, CL_QUEUE_PROFILING_ENABLE, &rc);
    GNM_CL_CHECK_AS(rc, "clCreateCommandQueue");
  }
}

Context::Context(Context&& other) noexcept = default;
Context& Context::operator=(Context&& other) noexcept = default;
Context::~Context() = default;

const DeviceInfo& Context::device() const noexcept { return impl_->info; }

void Context::finish() const { GNM_CL_CHECK(clFinish(impl_->queue)); }

Context::ReferenceCounts Context::reference_counts() const {
  cl_uint context = 0, queue = 0;
  GNM_CL_CHECK(clGetContextInfo(impl_->context, CL_CONTEXT_REFERENCE_COUNT, sizeof context,
                                &context, nullptr));
  GNM_CL_CHECK(
      clGetCommandQueueInfo(impl_->queue, CL_QUEUE_REFERENCE_COUNT, sizeof queue, &queue, nullptr));
  return {context, queue};
}

const Program& Context::program(std::string_view source, std::string_view options) {
  std::string key;
  key.reserve(options.size() + 1 + source.size());
  key.append(options).push_back('\0');
  key.append(source);
  auto it = impl_->programs.find(key);
  if (it == impl_->programs.end()) {
    it =
        impl_->programs.emplace(std::move(key), Program::from_source(*this, source, options)).first;
  }
  return it->second;
}

// ---- Event ------------------------------------------------------------------------------------

Event::Event(Event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}

Event& Event::operator=(Event&& other) noexcept {
  if (this != &other) {
    if (event_) (void)clReleaseEvent(static_cast<cl_event>(event_));
    event_ = std::exchange(other.event_, nullptr);
  }
  return *this;
}

Event::~Event() {
  if (event_) (void)clReleaseEvent(static_cast<cl_event>(event_));
}

void Event::wait() const {
  if (!event_) return;
  cl_event e = static_cast<cl_event>(event_);
  GNM_CL_CHECK(clWaitForEvents(1, &e));
}

double Event::elapsed_ms() const {
  GNM_CHECK(event_ != nullptr, "elapsed_ms() of an empty Event");
  wait();
  cl_event e = static_cast<cl_event>(event_);
  cl_ulong start = 0, end = 0;
  GNM_CL_CHECK(
      clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_START, sizeof start, &start, nullptr));
  GNM_CL_CHECK(clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_END, sizeof end, &end, nullptr));
  return static_cast<double>(end - start) * 1e-6;  // nanoseconds → milliseconds
}

// ---- RawBuffer --------------------------------------------------------------------------------

namespace {
cl_mem_flags to_flags(Access access) {
  switch (access) {
    case Access::read_only: return CL_MEM_READ_ONLY;
    case Access::write_only: return CL_MEM_WRITE_ONLY;
    case Access::read_write: return CL_MEM_READ_WRITE;
  }
  return CL_MEM_READ_WRITE;
}
}  // namespace

RawBuffer::RawBuffer(Context& ctx, std::size_t bytes, Access access) : bytes_(bytes) {
  if (bytes == 0) return;  // OpenCL has no empty buffers (CL_INVALID_BUFFER_SIZE)
  cl_int rc = CL_SUCCESS;
  cl_mem mem = clCreateBuffer(detail::Access::context(ctx), to_flags(access), bytes, nullptr, &rc);
  GNM_CL_CHECK_AS(rc, "clCreateBuffer(" + std::to_string(bytes) + " bytes)");
  cl_command_queue queue = detail::Access::queue(ctx);
  rc = clRetainCommandQueue(queue);
  if (rc != CL_SUCCESS) (void)clReleaseMemObject(mem);  // the destructor will not run
  GNM_CL_CHECK_AS(rc, "clRetainCommandQueue");
  mem_ = mem;
  queue_ = queue;
}

RawBuffer::RawBuffer(RawBuffer&& other) noexcept
    : mem_(std::exchange(other.mem_, nullptr)),
      queue_(std::exchange(other.queue_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)) {}

RawBuffer& RawBuffer::operator=(RawBuffer&& other) noexcept {
  if (this != &other) {
    RawBuffer old(std::move(*this));
    mem_ = std::exchange(other.mem_, nullptr);
    queue_ = std::exchange(other.queue_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

RawBuffer::~RawBuffer() {
  if (mem_) (void)clReleaseMemObject(static_cast<cl_mem>(mem_));
  if (queue_) (void)clReleaseCommandQueue(static_cast<cl_command_queue>(queue_));
}

void RawBuffer::write(const void* host, std::size_t bytes) {
  GNM_CHECK_SHAPE(bytes == bytes_, "write size differs from the OpenCL buffer's", bytes, bytes_);
  if (bytes == 0) return;
  GNM_CL_CHECK(clEnqueueWriteBuffer(static_cast<cl_command_queue>(queue_),
                                    static_cast<cl_mem>(mem_), CL_TRUE, 0, bytes, host, 0, nullptr,
                                    nullptr));
}

void RawBuffer::read(void* host, std::size_t bytes) const {
  GNM_CHECK_SHAPE(bytes == bytes_, "read size differs from the OpenCL buffer's", bytes, bytes_);
  if (bytes == 0) return;
  GNM_CL_CHECK(clEnqueueReadBuffer(static_cast<cl_command_queue>(queue_), static_cast<cl_mem>(mem_),
                                   CL_TRUE, 0, bytes, host, 0, nullptr, nullptr));
}

}  // namespace gnm::opencl
