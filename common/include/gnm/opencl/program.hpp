/// \file
/// OpenCL programs (from OpenCL C source, SPIR-V or SPIR bitcode) and kernels (chapters 7.3, 7.4).
///
/// Three ways to hand a device its code:
/// - OpenCL C source, compiled by the implementation at run time (clBuildProgram), like NVRTC
///   for CUDA. Works everywhere; the first build of a kernel costs the compiler's time (PoCL
///   caches what it compiled in $HOME/.cache/pocl, so later runs skip most of it).
/// - SPIR-V (from_spirv): compiled offline (clang → LLVM bitcode → llvm-spirv), loaded with
///   clCreateProgramWithIL (OpenCL 2.1+ or cl_khr_il_program). The device must list SPIR-V in
///   CL_DEVICE_IL_VERSION; Debian's PoCL 3.1 lists nothing (it was built without SPIR-V support),
///   so there from_spirv throws gnm::NotImplemented saying so.
/// - SPIR 1.2 (from_spir): the older offline format, LLVM bitcode for the spir64 target, loaded
///   as a binary with "-x spir" (cl_khr_spir). PoCL takes it, so offline-compiled kernels do run
///   there. (The SPIR 1.2 specification fixes LLVM 3.2's bitcode; PoCL reads the bitcode of any
///   LLVM its own can read, such as clang-14's. Implementations that follow the letter of SPIR 1.2
///   would reject it with a BuildError.)
///
/// \code
/// auto program = gnm::opencl::Program::from_source(ctx, source, "-DGNM_TILE=16");
/// gnm::opencl::Kernel saxpy(program, "saxpy");
/// saxpy.set_arg(0, n); saxpy.set_arg(1, a); saxpy.set_arg(2, x); saxpy.set_arg(3, y);
/// double ms = saxpy.launch(gnm::opencl::Range(rounded_n), gnm::opencl::Range(64)).elapsed_ms();
/// \endcode
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "gnm/opencl/context.hpp"

namespace gnm::opencl {

/// A program built for a context's device. Move-only.
class Program {
 public:
  /// Compiles OpenCL C `source` with build `options` (e.g. "-cl-std=CL1.2 -DGNM_TILE=16").
  /// Throws BuildError with the compiler's log when it does not compile.
  static Program from_source(Context& ctx, std::string_view source, std::string_view options = {});
  /// Loads a SPIR-V module (clCreateProgramWithIL) and builds it with `options`. Throws
  /// gnm::NotImplemented naming the device when it accepts no SPIR-V (DeviceInfo::accepts_spirv),
  /// BuildError when it does not build, ShapeError for an empty or misaligned module.
  static Program from_spirv(Context& ctx, std::span<const std::byte> il,
                            std::string_view options = {});
  /// Loads SPIR 1.2 LLVM bitcode (target spir64) as a binary and builds it with "-x spir
  /// -spir-std=1.2" and `options`. Throws gnm::NotImplemented when the device lacks cl_khr_spir,
  /// BuildError when it does not build, ShapeError for an empty module.
  static Program from_spir(Context& ctx, std::span<const std::byte> bitcode,
                           std::string_view options = {});

  /// Takes ownership from `other`, which is left empty.
  Program(Program&& other) noexcept;
  /// Releases what this one holds, then takes ownership from `other`.
  Program& operator=(Program&& other) noexcept;
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  ~Program();

  /// The build log (warnings; usually empty for a clean build).
  const std::string& build_log() const noexcept { return log_; }
  /// The names of the kernels in the program, in the implementation's order.
  std::vector<std::string> kernel_names() const;

 private:
  friend struct detail::Access;
  Program() = default;
  void* program_ = nullptr;  // cl_program
  void* queue_ = nullptr;    // cl_command_queue (retained): where its kernels are launched
  void* device_ = nullptr;   // cl_device_id (root devices are not reference-counted)
  std::string log_;
};

/// One kernel of a program, with its arguments, launched on the program's queue. Move-only.
/// Arguments keep the value they were last set to, as in OpenCL: set them, launch, change some,
/// launch again.
class Kernel {
 public:
  /// The kernel `name` of `program`; ClError (CL_INVALID_KERNEL_NAME) when there is none.
  Kernel(const Program& program, std::string_view name);
  /// Takes ownership from `other`, which is left empty.
  Kernel(Kernel&& other) noexcept;
  /// Releases what this one holds, then takes ownership from `other`.
  Kernel& operator=(Kernel&& other) noexcept;
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;
  ~Kernel();

  /// Sets argument `index` to a scalar (int, float, ...). Its size must equal the parameter's:
  /// an `int` parameter takes int (std::int32_t), not std::int64_t (ClError CL_INVALID_ARG_SIZE).
  template <class T>
  requires std::is_arithmetic_v<T>
  void set_arg(unsigned index, T value) { set_arg_bytes(index, sizeof(T), &value); }
  /// Sets argument `index` to a buffer (a __global pointer parameter).
  void set_arg(unsigned index, const RawBuffer& buffer);
  /// Sets argument `index` to a typed buffer.
  template <class T>
  void set_arg(unsigned index, const Buffer<T>& buffer) {
    set_arg(index, buffer.raw());
  }
  /// Gives a __local pointer parameter `bytes` bytes of local memory per work-group.
  void set_local(unsigned index, std::size_t bytes);

  /// Enqueues the kernel over `global` work-items in work-groups of `local` (empty: the
  /// implementation chooses) and returns at once; the Event tells when it has run and how long it
  /// took. ShapeError when `local` is not empty and has other dimensions than `global`; ClError
  /// from the runtime otherwise (CL_INVALID_WORK_GROUP_SIZE when `local` does not divide `global`
  /// in OpenCL 1.2 or exceeds the kernel's limit, CL_INVALID_KERNEL_ARGS when one is unset).
  Event launch(Range global, Range local = {}) const;

  /// The kernel's name.
  const std::string& name() const noexcept { return name_; }
  /// Most work-items per work-group for this kernel on its device (CL_KERNEL_WORK_GROUP_SIZE).
  std::size_t max_work_group_size() const;

 private:
  friend struct detail::Access;
  void set_arg_bytes(unsigned index, std::size_t size, const void* value);
  void* kernel_ = nullptr;  // cl_kernel
  void* queue_ = nullptr;   // cl_command_queue (retained)
  void* device_ = nullptr;  // cl_device_id
  std::string name_;
};

}  // namespace gnm::opencl
