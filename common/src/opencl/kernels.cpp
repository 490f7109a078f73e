// The embedded kernel files and the host functions saxpy() and sgemm(). Written against the
// public RAII layer only, so this file builds with or without OpenCL (without it, creating the
// Context already throws gnm::NotImplemented).
#include "gnm/opencl/kernels.hpp"

#include <array>
#include <chrono>
#include <climits>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "gnm/core/check.hpp"
#include "gnm/opencl/program.hpp"

namespace gnm::opencl {

namespace {

template <std::size_t N>
constexpr std::string_view text(const char (&s)[N]) {
  return {s, N - 1};  // without the terminating NUL
}

template <std::size_t N>
std::span<const std::byte> bytes(const unsigned char (&b)[N]) {
  return std::as_bytes(std::span<const unsigned char, N>(b));
}

// Defines kKernelFiles (the kernels as raw strings and byte arrays), kBuildOptions and kTile;
// generated at build time from kernels/*.cl by embed_kernels.cmake.
#include "gnm_opencl_embedded.inc"

static_assert(kTile == kSgemmTile, "kernels.hpp and the offline build disagree on the tile");

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

std::size_t round_up(std::int64_t n, int multiple) {
  return static_cast<std::size_t>((n + multiple - 1) / multiple * multiple);
}

}  // namespace

std::span<const EmbeddedKernel> embedded_kernels() noexcept {
  static const auto files = kernel_files();
  return files;
}

const EmbeddedKernel& embedded_kernel(std::string_view name) {
  for (const auto& k : embedded_kernels()) {
    if (k.name == name) return k;
  }
  std::string names;
  for (const auto& k : embedded_kernels()) names.append(names.empty() ? "" : ", ").append(k.name);
  throw gnm::Error("no embedded OpenCL kernel file '" + std::string(name) +
                   "'; there are: " + names);
}

std::string_view kernel_build_options() noexcept { return kBuildOptions; }

//! [host_saxpy]
Timing saxpy(Context& ctx, float a, std::span<const float> x, std::span<float> y) {
  GNM_CHECK_SHAPE(x.size() == y.size(), "saxpy needs x and y of the same size", x.size(), y.size());
  GNM_CHECK_SHAPE(x.size() <= static_cast<std::size_t>(INT_MAX),
                  "the saxpy kernel indexes with int", x.size());
  const auto start = std::chrono::steady_clock::now();
  if (x.empty()) return {};
  const int n = static_cast<int>(x.size());
  Kernel kernel(ctx.program(embedded_kernel("vector").source, kernel_build_options()), "saxpy");
  Buffer<float> dx(ctx, x, Access::read_only);
  Buffer<float> dy(ctx, std::span<const float>(y));
  kernel.set_arg(0, n);
  kernel.set_arg(1, a);
  kernel.set_arg(2, dx);
  kernel.set_arg(3, dy);
  // A fixed work-group size: PoCL compiles one version of a kernel per work-group size, so
  // letting the implementation choose (it picks a divisor of n) would recompile for every n.
  const Event done = kernel.launch(Range(round_up(n, kSaxpyGroup)), Range(kSaxpyGroup));
  Timing t;
  t.kernel_ms = done.elapsed_ms();
  dy.read(y);
  t.total_ms = ms_since(start);
  return t;
}
//! [host_saxpy]

//! [host_sgemm]
Timing sgemm(Context& ctx, SgemmVariant variant, std::int64_t M, std::int64_t N, std::int64_t K,
             float alpha, std::span<const float> A, std::span<const float> B, float beta,
             std::span<float> C) {
  constexpr std::int64_t kIntMax = INT_MAX;
  GNM_CHECK_SHAPE(M >= 0 && N >= 0 && K >= 0, "GEMM dimensions must not be negative", M, N, K);
  GNM_CHECK_SHAPE(M <= kIntMax && N <= kIntMax && K <= kIntMax && M * K <= kIntMax &&
                      K * N <= kIntMax && M * N <= kIntMax,
                  "the OpenCL SGEMM kernels index with int: a matrix is too large", M, N, K);
  GNM_CHECK_SHAPE(A.size() == static_cast<std::size_t>(M * K), "A must hold M·K elements", A.size(),
                  M, K);
  GNM_CHECK_SHAPE(B.size() == static_cast<std::size_t>(K * N), "B must hold K·N elements", B.size(),
                  K, N);
  GNM_CHECK_SHAPE(C.size() == static_cast<std::size_t>(M * N), "C must hold M·N elements", C.size(),
                  M, N);
  const auto start = std::chrono::steady_clock::now();
  if (M == 0 || N == 0) return {};

  const char* name = variant == SgemmVariant::naive ? "sgemm_naive" : "sgemm_tiled";
  Kernel kernel(ctx.program(embedded_kernel("sgemm").source, kernel_build_options()), name);
  Buffer<float> da(ctx, A, Access::read_only);  // empty when K == 0: a null pointer, never read
  Buffer<float> db(ctx, B, Access::read_only);
  Buffer<float> dc(ctx, C.size());
  if (beta != 0.0f) dc.write(C);  // beta == 0: C is write-only, its old contents never matter
  kernel.set_arg(0, static_cast<int>(M));
  kernel.set_arg(1, static_cast<int>(N));
  kernel.set_arg(2, static_cast<int>(K));
  kernel.set_arg(3, alpha);
  kernel.set_arg(4, da);
  kernel.set_arg(5, db);
  kernel.set_arg(6, beta);
  kernel.set_arg(7, dc);
  // Dimension 0 runs along the columns of C (see sgemm.cl). Both variants use kSgemmTile² groups
  // and a global size rounded up to whole groups; the kernels guard the edges.
  const Range global(round_up(N, kSgemmTile), round_up(M, kSgemmTile));
  const Event done = kernel.launch(global, Range(kSgemmTile, kSgemmTile));
  Timing t;
  t.kernel_ms = done.elapsed_ms();
  dc.read(C);
  t.total_ms = ms_since(start);
  return t;
}
//! [host_sgemm]

}  // namespace gnm::opencl
