/// \file
/// An OpenCL context with one in-order, profiling queue; buffers; events (chapter 7.3).
///
/// The OpenCL objects are reference-counted by the runtime (clRetain*/clRelease*); the classes
/// here own exactly one reference each and are move-only, so nothing leaks and nothing is
/// released twice (STYLE habit 14: the raw handles live in common/src/opencl and nowhere else).
/// A Buffer, Program, Kernel or Event keeps the runtime objects it needs alive by itself, so it
/// may outlive the Context it came from.
///
/// \code
/// gnm::opencl::Context ctx;                             // pick_device(): a GPU, else PoCL
/// gnm::opencl::Buffer<float> x(ctx, host_x);            // create and copy in
/// auto y = x.to_vector();                               // copy out (blocking)
/// \endcode
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "gnm/core/check.hpp"
#include "gnm/opencl/device.hpp"

namespace gnm::opencl {

class Program;

namespace detail {
struct Access;  // the .cpp files' way to the raw handles (common/src/opencl/cl_api.hpp)
}  // namespace detail

/// A completed or pending command (a kernel launch); wait() blocks until it has run.
/// Move-only; an empty Event (default or moved-from) waits for nothing and has no times.
class Event {
 public:
  /// An empty Event.
  Event() = default;
  /// Takes ownership from `other`, which is left empty.
  Event(Event&& other) noexcept;
  /// Releases what this one holds, then takes ownership from `other`.
  Event& operator=(Event&& other) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event();

  /// Blocks until the command has finished; throws ClError when it failed.
  void wait() const;
  /// Device time of the command, from its profiling counters (CL_PROFILING_COMMAND_START to
  /// _END), in milliseconds; waits first. Throws gnm::Error for an empty Event.
  double elapsed_ms() const;
  /// True when the Event refers to no command.
  bool empty() const noexcept { return event_ == nullptr; }

 private:
  friend struct detail::Access;
  void* event_ = nullptr;  // cl_event
};

/// Up to three work sizes (OpenCL's NDRange): Range(n), Range(x, y), Range(x, y, z). A
/// default-constructed Range is empty: as a local size it lets the implementation choose.
struct Range {
  std::array<std::size_t, 3> sizes{1, 1, 1};  ///< Size per dimension (unused ones are 1).
  unsigned dims = 0;                          ///< 0 (empty), 1, 2 or 3.

  /// The empty Range.
  Range() = default;
  /// A 1-D range of x.
  explicit Range(std::size_t x) : sizes{x, 1, 1}, dims(1) {}
  /// A 2-D range x × y (x varies fastest: get_global_id(0)).
  Range(std::size_t x, std::size_t y) : sizes{x, y, 1}, dims(2) {}
  /// A 3-D range x × y × z.
  Range(std::size_t x, std::size_t y, std::size_t z) : sizes{x, y, z}, dims(3) {}
  /// True for the empty Range.
  bool empty() const noexcept { return dims == 0; }
};

/// A context on one device with one in-order command queue whose commands are profiled (so an
/// Event knows the kernel's device time). Move-only; a moved-from Context may only be destroyed
/// or assigned to. Programs compiled through program() are cached for the life of the context.
/// Not thread-safe: use one Context per thread (or guard it), as the program cache is unguarded.
class Context {
 public:
  /// A context on pick_device().
  Context();
  /// A context on `device` (an element of devices()). Throws ClError when it cannot be created,
  /// NotImplemented in a build without OpenCL.
  explicit Context(const DeviceInfo& device);
  /// Takes ownership from `other`, which is left empty.
  Context(Context&& other) noexcept;
  /// Releases what this one holds, then takes ownership from `other`.
  Context& operator=(Context&& other) noexcept;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context();

  /// The device this context runs on.
  const DeviceInfo& device() const noexcept;
  /// Blocks until every queued command has finished (clFinish).
  void finish() const;
  /// The runtime's reference counts of the context and of its queue.
  struct ReferenceCounts {
    std::uint32_t context = 0;  ///< CL_CONTEXT_REFERENCE_COUNT (queues, buffers may hold some).
    std::uint32_t queue = 0;    ///< CL_QUEUE_REFERENCE_COUNT (buffers, programs, kernels hold one).
  };
  /// The reference counts now. The specification offers them for finding leaks; a test uses them
  /// to check that every object releases what it took.
  ReferenceCounts reference_counts() const;

  /// The program built from `source` with `options`, compiled on the first call and cached
  /// (keyed by both texts) for later ones. Throws as Program::from_source.
  const Program& program(std::string_view source, std::string_view options = {});

 private:
  friend struct detail::Access;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// How kernels use a buffer (a hint to the implementation; OpenCL does not enforce it on every
/// device).
enum class Access {
  read_write,  ///< Kernels read and write it.
  read_only,   ///< Kernels only read it (inputs).
  write_only,  ///< Kernels only write it (outputs).
};

/// Untyped global memory of a context: `bytes` bytes, copied to and from the host with blocking
/// calls. Move-only. A buffer of 0 bytes makes no OpenCL call (OpenCL forbids empty buffers);
/// passed to a kernel it is a null pointer.
class RawBuffer {
 public:
  /// An empty buffer (0 bytes).
  RawBuffer() = default;
  /// Allocates `bytes` bytes in `ctx` (CL_MEM_READ_WRITE etc. from `access`).
  RawBuffer(Context& ctx, std::size_t bytes, Access access = Access::read_write);
  /// Takes ownership from `other`, which is left empty.
  RawBuffer(RawBuffer&& other) noexcept;
  /// Releases what this one holds, then takes ownership from `other`.
  RawBuffer& operator=(RawBuffer&& other) noexcept;
  RawBuffer(const RawBuffer&) = delete;
  RawBuffer& operator=(const RawBuffer&) = delete;
  ~RawBuffer();

  /// Copies `bytes` bytes from `host` to the start of the buffer and waits; ShapeError unless
  /// `bytes` equals size_bytes().
  void write(const void* host, std::size_t bytes);
  /// Copies the whole buffer to `host` (`bytes` bytes) and waits; ShapeError unless `bytes`
  /// equals size_bytes().
  void read(void* host, std::size_t bytes) const;
  /// The size in bytes.
  std::size_t size_bytes() const noexcept { return bytes_; }

 private:
  friend struct detail::Access;
  void* mem_ = nullptr;    // cl_mem, null for 0 bytes
  void* queue_ = nullptr;  // cl_command_queue (retained) for the copies
  std::size_t bytes_ = 0;
};

/// An array of `T` (a trivially copyable type) in a context's global memory.
template <class T>
class Buffer {
  static_assert(std::is_trivially_copyable_v<T>, "OpenCL buffers hold plain bytes");

 public:
  /// `count` uninitialised elements.
  Buffer(Context& ctx, std::size_t count, Access access = Access::read_write)
      : raw_(ctx, count * sizeof(T), access), count_(count) {}
  /// A buffer holding a copy of `host`.
  Buffer(Context& ctx, std::span<const T> host, Access access = Access::read_write)
      : Buffer(ctx, host.size(), access) {
    write(host);
  }

  /// Copies `host` into the buffer and waits; ShapeError naming both sizes unless they match.
  void write(std::span<const T> host) {
    GNM_CHECK_SHAPE(host.size() == count_, "host span and OpenCL buffer sizes differ", host.size(),
                    count_);
    raw_.write(host.data(), host.size_bytes());
  }
  /// Copies the buffer into `host` and waits; ShapeError naming both sizes unless they match.
  void read(std::span<T> host) const {
    GNM_CHECK_SHAPE(host.size() == count_, "host span and OpenCL buffer sizes differ", host.size(),
                    count_);
    raw_.read(host.data(), host.size_bytes());
  }
  /// A copy of the buffer's contents.
  std::vector<T> to_vector() const {
    std::vector<T> out(count_);
    read(out);
    return out;
  }
  /// Number of elements.
  std::size_t size() const noexcept { return count_; }
  /// The untyped buffer (for Kernel::set_arg).
  const RawBuffer& raw() const noexcept { return raw_; }

 private:
  RawBuffer raw_;
  std::size_t count_ = 0;
};

}  // namespace gnm::opencl
