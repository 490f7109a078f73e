/// \file
/// The engine's single-precision GEMM on the CPU and its BLAS dispatch.
///
/// gnm::cpu::sgemm computes C = alpha · op(A) · op(B) + beta · C for row-major matrices, like
/// `cblas_sgemm(CblasRowMajor, …)`. The engine's own kernel is built the BLIS/GotoBLAS way
/// (chapter 2): panels of A and B are packed into contiguous, aligned buffers sized for the caches,
/// and a register micro-kernel computes tiles of C from them; the macro-tile loops are split over
/// a gnm::ThreadPool. The micro-kernel is chosen at run time (CpuKernel): 14×32 tiles with AVX-512
/// where the CPU and OS support it, 6×16 tiles with AVX2/FMA otherwise; `GNM_CPU_KERNEL` or
/// set_cpu_kernel() force one. `GNM_BLAS=openblas` (or set_blas_backend()) sends the same
/// calls to OpenBLAS instead, so a whole model can be run on either and compared.
///
/// \code
/// // C (M×N) = A (M×K) · Bᵀ where B is stored N×K, as in a Linear layer's y = x · Wᵀ.
/// gnm::cpu::sgemm(Transpose::No, Transpose::Yes, M, N, K, 1.0f, x, K, w, K, 0.0f, y, N);
/// \endcode
#pragma once

#include <cstdint>
#include <span>

#include "gnm/core/thread_pool.hpp"

namespace gnm::cpu {

/// Whether a GEMM operand is used as stored (No) or transposed (Yes).
enum class Transpose { No, Yes };

/// Single-precision GEMM on row-major matrices: C = alpha · op(A) · op(B) + beta · C.
///
/// - op(A) is M×K: A is stored M×K (row stride `lda` ≥ K) when `ta` is No, K×M (`lda` ≥ M) when
///   Yes. Likewise op(B) is K×N: B is stored K×N (`ldb` ≥ N) or N×K (`ldb` ≥ K). C is M×N with
///   `ldc` ≥ N. Every leading dimension is also at least 1, as in BLAS.
/// - M, N or K may be 0. K == 0 or alpha == 0 gives C = beta · C without reading A or B.
/// - beta == 0 overwrites C without reading it (NaN or garbage in C does not propagate), as BLAS.
/// - C must not overlap A or B. Elements of C beyond column N (the `ldc` padding) are untouched.
/// - `pool` runs the macro-tile loops; nullptr uses gnm::default_thread_pool(). Called from inside
///   a job of `pool`, sgemm runs on the calling thread alone. The OpenBLAS backend ignores `pool`
///   (OpenBLAS has its own threads; OPENBLAS_NUM_THREADS sets them).
///
/// Throws gnm::ShapeError naming the values when a dimension is negative or a leading dimension
/// is too small, and gnm::Error when a pointer needed for a non-empty product is null.
///
/// Accuracy: each element is a K-term fp32 dot product accumulated with FMAs in blocks of KC
/// terms, so |error| ≤ ~K · eps · Σ_k |a_ik · b_kj| in the worst case and ~√K · eps typically.
void sgemm(Transpose ta, Transpose tb, std::int64_t M, std::int64_t N, std::int64_t K,
           float alpha, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
           float beta, float* C, std::int64_t ldc, ThreadPool* pool = nullptr);

/// The engine's own GEMM, whatever blas_backend() says (same contract as sgemm()). Benchmarks and
/// tests call it to compare the engine with OpenBLAS inside one process.
void sgemm_engine(Transpose ta, Transpose tb, std::int64_t M, std::int64_t N, std::int64_t K,
                  float alpha, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
                  float beta, float* C, std::int64_t ldc, ThreadPool* pool = nullptr);

/// Which implementation sgemm() runs.
enum class Backend {
  Engine,    ///< The engine's packed kernel (always available; see CpuKernel).
  OpenBlas,  ///< cblas_sgemm from OpenBLAS (only in builds with GNM_HAVE_OPENBLAS).
};

/// The backend sgemm() uses now. The first call reads the environment variable `GNM_BLAS`
/// (`engine` or `openblas`; unset or empty means engine) and throws gnm::Error naming the value
/// when it is anything else, or gnm::NotImplemented when it asks for OpenBLAS in a build without it.
Backend blas_backend();

/// Selects the backend for every later sgemm() call in the process (thread-safe); overrides
/// `GNM_BLAS`. Throws gnm::NotImplemented for Backend::OpenBlas in a build without OpenBLAS.
void set_blas_backend(Backend backend);

/// Parses a `GNM_BLAS` value: "engine" or "openblas" (lower case). Throws gnm::Error naming the
/// text otherwise. Exposed so that tests can check the messages without changing the environment.
Backend parse_blas_backend(const char* text);

/// The engine's register micro-kernels (each with its own tile and cache-block sizes).
enum class CpuKernel {
  Auto,      ///< The best one this CPU supports: Avx512, else Avx2, else Portable.
  Portable,  ///< Plain C++ 6×16 kernel (any CPU; a reference, not fast).
  Avx2,      ///< 6×16 tiles in ymm registers with FMA (x86-64-v3 builds on AVX2+FMA CPUs).
  Avx512,    ///< 14×32 tiles in zmm registers (CPUs with AVX-512F whose OS enables ZMM state).
};

/// Parses a `GNM_CPU_KERNEL` value: "auto", "avx512", "avx2" or "portable" (lower case). Throws
/// gnm::Error naming the text otherwise.
CpuKernel parse_cpu_kernel(const char* text);

/// The kernel's name as sgemm_config() reports it: "auto", "portable", "avx2-fma" or "avx512".
const char* cpu_kernel_name(CpuKernel kernel);

/// Whether `kernel` can run in this build on this CPU (Auto and Portable: always).
bool cpu_kernel_supported(CpuKernel kernel);

/// The micro-kernel the engine uses now (never Auto). The first call reads `GNM_CPU_KERNEL`
/// (unset or empty means auto) and throws gnm::Error for an invalid value, or gnm::NotImplemented
/// naming what this CPU or build lacks when the requested kernel cannot run here.
CpuKernel cpu_kernel();

/// Selects the micro-kernel for every later engine GEMM in the process (thread-safe; a GEMM
/// already running keeps its kernel); overrides `GNM_CPU_KERNEL`. Auto picks the best supported.
/// Throws gnm::NotImplemented naming what is missing when `kernel` cannot run here.
void set_cpu_kernel(CpuKernel kernel);

/// The engine kernel's tile and cache-block sizes, for the book and for benchmarks to print.
struct GemmConfig {
  std::int64_t mr = 0;      ///< Rows of the register tile of C (micro-kernel).
  std::int64_t nr = 0;      ///< Columns of the register tile of C.
  std::int64_t mc = 0;      ///< Largest block of rows of A packed at once (lives in L2).
  std::int64_t kc = 0;      ///< Depth of the packed panels (a KC×NR micro-panel of B is reused).
  std::int64_t nc = 0;      ///< Largest block of columns of B packed at once (lives in L3).
  const char* kernel = "";  ///< "avx512", "avx2-fma" or "portable" (cpu_kernel_name()).
};

/// The configuration of the kernel the engine uses now (cpu_kernel()); throws as cpu_kernel().
GemmConfig sgemm_config();

/// The configuration of `kernel` (Auto: the best supported); gnm::NotImplemented when it cannot
/// run here.
GemmConfig sgemm_config(CpuKernel kernel);

/// The reference for checking any fp32 GEMM: C = A · B (row-major, A M×K with row stride `lda`,
/// B K×N with row stride `ldb`) in double precision, written densely into `c` (M·N), together
/// with `mass` (M·N) = Σ_k |a_ik · b_kj|, the scale of each element's rounding error: an fp32
/// K-term dot product errs by at most about K · eps · mass (Higham, Thm 3.1). Throws
/// gnm::ShapeError when a size or leading dimension does not fit. O(M·N·K): for tests and checks.
void sgemm_reference(std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
                     std::int64_t lda, const float* B, std::int64_t ldb, std::span<double> c,
                     std::span<double> mass);

}  // namespace gnm::cpu
