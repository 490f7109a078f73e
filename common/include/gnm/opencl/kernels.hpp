/// \file
/// The OpenCL backend's kernels — saxpy and two SGEMMs — and host functions that run them on
/// host data (chapter 7.3), plus the kernels compiled offline to SPIR and SPIR-V (chapter 7.4).
///
/// The kernels are OpenCL C files in common/src/opencl/kernels/ (vector.cl, sgemm.cl), readable
/// sources that the build embeds into the library as text. When the build machine has clang and
/// the matching llvm-spirv (Debian: clang-14 llvm-spirv-14), the build also compiles each file
/// offline to LLVM bitcode for the spir64 target (SPIR) and translates that to SPIR-V, and embeds
/// both; embedded_kernel() returns all three forms.
///
/// The host functions copy their inputs into fresh buffers, launch, wait and copy the result
/// back: simple, and honest about what an offload costs (Timing has both the kernel's device time
/// and the whole call's). Their programs are compiled once per Context (Context::program).
///
/// \code
/// gnm::opencl::Context ctx;
/// auto t = gnm::opencl::sgemm(ctx, gnm::opencl::SgemmVariant::tiled, M, N, K, 1.0f, a, b, 0.0f,
/// c); std::printf("%.1f GFLOP/s in the kernel\n", 2.0 * M * N * K / (t.kernel_ms * 1e6)); \endcode
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "gnm/opencl/context.hpp"

namespace gnm::opencl {

/// One kernel file of the library, in every form the build produced.
struct EmbeddedKernel {
  std::string_view name;             ///< The file's stem: "vector" or "sgemm".
  std::string_view source;           ///< The OpenCL C text of the file (kernels/sgemm.cl, ...).
  std::span<const std::byte> spir;   ///< SPIR LLVM bitcode (spir64); empty without the toolchain.
  std::span<const std::byte> spirv;  ///< SPIR-V 1.0 module; empty without the toolchain.
};

/// Every embedded kernel file, sorted by name.
std::span<const EmbeddedKernel> embedded_kernels() noexcept;

/// The embedded kernel file `name`; gnm::Error listing the names when there is none.
const EmbeddedKernel& embedded_kernel(std::string_view name);

/// Build options the offline (SPIR, SPIR-V) forms were compiled with, e.g. "-cl-std=CL1.2
/// -DGNM_TILE=16"; the host functions compile the source with the same ones.
std::string_view kernel_build_options() noexcept;

/// Side of the square work-group (and of the local-memory tiles) of the SGEMM kernels: 16, so a
/// work-group has 256 work-items — a multiple of NVIDIA's 32-wide warps and of PoCL's 8- or
/// 16-wide SIMD, and within every device's limit (OpenCL guarantees at least 1 work-item, GPUs
/// give 1024, PoCL 4096).
inline constexpr int kSgemmTile = 16;

/// Work-items per work-group of saxpy (the global size is rounded up to a multiple of it).
inline constexpr int kSaxpyGroup = 64;

/// The SGEMM kernels, in the order of chapter 6's ladder.
enum class SgemmVariant {
  naive,  ///< One work-item per element of C, operands read from global memory.
  tiled,  ///< kSgemmTile² tiles of A and B staged in __local memory.
};

/// "naive" or "tiled".
const char* sgemm_variant_name(SgemmVariant variant) noexcept;

/// Where the time of a host call went, in milliseconds.
struct Timing {
  double kernel_ms = 0.0;  ///< The kernel on the device (profiling counters); 0 when none ran.
  double total_ms = 0.0;   ///< The whole call: buffers, copies in and out, launch, wait.
};

/// y = a · x + y on the context's device. ShapeError naming both sizes unless x and y have the
/// same size, or when it exceeds INT_MAX (the kernel indexes with int). Empty spans do nothing.
Timing saxpy(Context& ctx, float a, std::span<const float> x, std::span<float> y);

/// C = alpha · A · B + beta · C on the context's device, for dense row-major A (M×K), B (K×N)
/// and C (M×N) — the contract of gnm::cpu::sgemm with no transposes and no padding: beta == 0
/// overwrites C without reading it; M, N or K may be 0 (K == 0 gives C = beta · C).
///
/// Throws gnm::ShapeError naming the values when a dimension is negative, when a span's size is
/// not M·K, K·N or M·N, or when a matrix has more than INT_MAX elements (the kernels index with
/// int); ClError or BuildError from the runtime.
///
/// Accuracy: every element is alpha times a K-term fp32 dot product accumulated with fma() in
/// index order, plus beta · c: |error| ≤ (K + 3) · u · (|alpha| Σ_k |a_ik b_kj| + |beta c_ij|)
/// with u = 2⁻²⁴, on any device.
Timing sgemm(Context& ctx, SgemmVariant variant, std::int64_t M, std::int64_t N, std::int64_t K,
             float alpha, std::span<const float> A, std::span<const float> B, float beta,
             std::span<float> C);

}  // namespace gnm::opencl
