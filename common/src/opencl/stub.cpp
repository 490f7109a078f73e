// The OpenCL runtime layer in a build without OpenCL (the ICD loader or headers were missing at
// configure time): every entry point throws gnm::NotImplemented naming the packages, so code
// and tests that use the backend still compile and link, and fail (or skip) with a clear reason.
#include <exception>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/opencl/context.hpp"
#include "gnm/opencl/device.hpp"
#include "gnm/opencl/program.hpp"

namespace gnm::opencl {

namespace {
[[noreturn]] void no_opencl(const char* what) {
  throw gnm::NotImplemented(std::string(what) +
                            ": this build has no OpenCL (the ICD loader and headers were not "
                            "found at configure time). On Debian install " +
                            kOpenClPackages + ", then configure again.");
}
}  // namespace

std::vector<DeviceInfo> devices() { no_opencl("gnm::opencl::devices"); }
DeviceInfo pick_device() { no_opencl("gnm::opencl::pick_device"); }
DeviceInfo pick_device(std::string_view) { no_opencl("gnm::opencl::pick_device"); }

struct Context::Impl {};
Context::Context() { no_opencl("gnm::opencl::Context"); }
Context::Context(const DeviceInfo&) { no_opencl("gnm::opencl::Context"); }
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;
Context::~Context() = default;
const DeviceInfo& Context::device() const noexcept { std::terminate(); }  // no Context exists
void Context::finish() const { no_opencl("gnm::opencl::Context::finish"); }
Context::ReferenceCounts Context::reference_counts() const {
  no_opencl("gnm::opencl::Context::reference_counts");
}
const Program& Context::program(std::string_view, std::string_view) {
  no_opencl("gnm::opencl::Context::program");
}

Event::Event(Event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}
Event& Event::operator=(Event&& other) noexcept {
  event_ = std::exchange(other.event_, nullptr);
  return *this;
}
Event::~Event() = default;
void Event::wait() const {}
double Event::elapsed_ms() const { no_opencl("gnm::opencl::Event::elapsed_ms"); }

RawBuffer::RawBuffer(Context&, std::size_t, Access) { no_opencl("gnm::opencl::RawBuffer"); }
RawBuffer::RawBuffer(RawBuffer&&) noexcept {}
RawBuffer& RawBuffer::operator=(RawBuffer&&) noexcept { return *this; }
RawBuffer::~RawBuffer() = default;
void RawBuffer::write(const void*, std::size_t) { no_opencl("gnm::opencl::RawBuffer::write"); }
void RawBuffer::read(void*, std::size_t) const { no_opencl("gnm::opencl::RawBuffer::read"); }

Program Program::from_source(Context&, std::string_view, std::string_view) {
  no_opencl("gnm::opencl::Program::from_source");
}
Program Program::from_spirv(Context&, std::span<const std::byte>, std::string_view) {
  no_opencl("gnm::opencl::Program::from_spirv");
}
Program Program::from_spir(Context&, std::span<const std::byte>, std::string_view) {
  no_opencl("gnm::opencl::Program::from_spir");
}
Program::Program(Program&&) noexcept {}
Program& Program::operator=(Program&&) noexcept { return *this; }
Program::~Program() = default;
std::vector<std::string> Program::kernel_names() const {
  no_opencl("gnm::opencl::Program::kernel_names");
}

Kernel::Kernel(const Program&, std::string_view) { no_opencl("gnm::opencl::Kernel"); }
Kernel::Kernel(Kernel&&) noexcept {}
Kernel& Kernel::operator=(Kernel&&) noexcept { return *this; }
Kernel::~Kernel() = default;
void Kernel::set_arg_bytes(unsigned, std::size_t, const void*) {
  no_opencl("gnm::opencl::Kernel::set_arg");
}
void Kernel::set_arg(unsigned, const RawBuffer&) { no_opencl("gnm::opencl::Kernel::set_arg"); }
void Kernel::set_local(unsigned, std::size_t) { no_opencl("gnm::opencl::Kernel::set_local"); }
Event Kernel::launch(Range, Range) const { no_opencl("gnm::opencl::Kernel::launch"); }
std::size_t Kernel::max_work_group_size() const {
  no_opencl("gnm::opencl::Kernel::max_work_group_size");
}

}  // namespace gnm::opencl
