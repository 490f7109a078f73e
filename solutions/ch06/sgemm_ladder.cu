// The SGEMM ladder's launchers (chapter 6.2) and the cuBLAS baseline. The kernels and their device
// helpers are in sgemm_ladder_kernels.cuh, which includes no CUDA header so that the tests also
// run that exact text on the CPU through the host emulator (tests/ch06/test_*_emulated.cpp).
// sgemm_ladder.hpp states the contract and lists the rungs; sgemm_ladder.cpp holds their launch
// configurations. Each launcher checks its arguments, takes grid and block from the rung's
// configuration function, picks the kernel instance (rungs 6–9: the float4 one when float4_ok),
// launches it on `stream` and checks the launch.
#include "sgemm_ladder.hpp"

#include <cublas_v2.h>

#include <string>
#include <utility>

#include "gnm/core/check.hpp"
#include "gnm/core/error.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/cublas.hpp"
#include "sgemm_ladder_kernels.cuh"

namespace gnm::ch06 {

namespace {

dim3 grid_of(const TiledConfig& c) {
  return dim3(static_cast<unsigned>(c.grid_x), static_cast<unsigned>(c.grid_y));
}
dim3 block_of(const TiledConfig& c) {
  return dim3(static_cast<unsigned>(c.block_x), static_cast<unsigned>(c.block_y));
}
// Sizes were checked against kMaxGemmDim (2^30): they fit an int.
int as_int(std::int64_t v) { return static_cast<int>(v); }

using KernelFn = void (*)(int, int, int, float, const float*, const float*, float, float*);

// Launches one of the rungs 4–9 (1-D blocks) with `cfg` and checks the launch.
void launch(KernelFn kernel, const TiledConfig& cfg, cudaStream_t stream, std::int64_t M,
            std::int64_t N, std::int64_t K, float alpha, const float* A, const float* B,
            float beta, float* C) {
  kernel<<<grid_of(cfg), block_of(cfg), 0, stream>>>(as_int(M), as_int(N), as_int(K), alpha, A, B,
                                                      beta, C);
  GNM_CUDA_CHECK_LAUNCH();
}

}  // namespace

// ---- rung 1: naive ----------------------------------------------------------------------------

void sgemm_naive(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                 const float* B, float beta, float* C, cudaStream_t stream) {
  check_sgemm_args("naive", M, N, K, A, B, C);
  const TiledConfig cfg = naive_config(M, N, K);
  if (cfg.empty()) return;
  sgemm_naive_kernel<<<grid_of(cfg), block_of(cfg), 0, stream>>>(as_int(M), as_int(N), as_int(K),
                                                                  alpha, A, B, beta, C);
  GNM_CUDA_CHECK_LAUNCH();
}

// ---- rung 2: coalesced ------------------------------------------------------------------------

void sgemm_coalesced(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                     const float* B, float beta, float* C, cudaStream_t stream) {
  check_sgemm_args("coalesced", M, N, K, A, B, C);
  const TiledConfig cfg = coalesced_config(M, N, K);
  if (cfg.empty()) return;
  sgemm_coalesced_kernel<<<grid_of(cfg), block_of(cfg), 0, stream>>>(
      as_int(M), as_int(N), as_int(K), alpha, A, B, beta, C);
  GNM_CUDA_CHECK_LAUNCH();
}

// ---- rung 3: shared-memory tiles (exercise 6.1) ------------------------------------------------

void sgemm_tiled(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                 const float* B, float beta, float* C, cudaStream_t stream) {
  // BEGIN SOLUTION("ex 6.1", "check_sgemm_args(\"tiled\", …); cfg = tiled_config(M, N, K); return if cfg.empty(); launch sgemm_tiled_kernel<kTiledTile><<<grid_of(cfg), block_of(cfg), 0, stream>>> with the sizes as int; then GNM_CUDA_CHECK_LAUNCH()")
  check_sgemm_args("tiled", M, N, K, A, B, C);
  const TiledConfig cfg = tiled_config(M, N, K);
  if (cfg.empty()) return;
  sgemm_tiled_kernel<kTiledTile><<<grid_of(cfg), block_of(cfg), 0, stream>>>(
      as_int(M), as_int(N), as_int(K), alpha, A, B, beta, C);
  GNM_CUDA_CHECK_LAUNCH();
  // END SOLUTION
}

// ---- rung 4: 1-D register tiles ---------------------------------------------------------------

void sgemm_reg1d(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                 const float* B, float beta, float* C, cudaStream_t stream) {
  check_sgemm_args("reg1d", M, N, K, A, B, C);
  const TiledConfig cfg = reg1d_config(M, N, K);
  if (cfg.empty()) return;
  launch(&sgemm_reg1d_kernel<kReg1dBM, kReg1dBN, kReg1dBK, kReg1dTM>, cfg, stream, M, N, K, alpha,
         A, B, beta, C);
}

// ---- rung 5: 2-D register tiles (exercise 6.2) -------------------------------------------------

void sgemm_reg2d(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                 const float* B, float beta, float* C, cudaStream_t stream) {
  // BEGIN SOLUTION("ex 6.2", "check_sgemm_args(\"reg2d\", …); cfg = reg2d_config(M, N, K); return if cfg.empty(); launch sgemm_reg2d_kernel<kReg2dBM, kReg2dBN, kReg2dBK, kReg2dTM, kReg2dTN><<<grid_of(cfg), block_of(cfg), 0, stream>>>; then GNM_CUDA_CHECK_LAUNCH()")
  check_sgemm_args("reg2d", M, N, K, A, B, C);
  const TiledConfig cfg = reg2d_config(M, N, K);
  if (cfg.empty()) return;
  sgemm_reg2d_kernel<kReg2dBM, kReg2dBN, kReg2dBK, kReg2dTM, kReg2dTN>
      <<<grid_of(cfg), block_of(cfg), 0, stream>>>(as_int(M), as_int(N), as_int(K), alpha, A, B,
                                                    beta, C);
  GNM_CUDA_CHECK_LAUNCH();
  // END SOLUTION
}

// ---- rung 6: float4 loads ---------------------------------------------------------------------

void sgemm_vec4(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                const float* B, float beta, float* C, cudaStream_t stream) {
  check_sgemm_args("vec4", M, N, K, A, B, C);
  const TiledConfig cfg = vec4_config(M, N, K);
  if (cfg.empty()) return;
  launch(float4_ok(N, K, A, B, C) ? &sgemm_vec4_kernel<kVecBM, kVecBN, kVecBK, true>
                                  : &sgemm_vec4_kernel<kVecBM, kVecBN, kVecBK, false>,
         cfg, stream, M, N, K, alpha, A, B, beta, C);
}

// ---- rung 7: no bank conflicts ----------------------------------------------------------------

void sgemm_conflict_free(std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                         const float* A, const float* B, float beta, float* C,
                         cudaStream_t stream) {
  check_sgemm_args("conflict_free", M, N, K, A, B, C);
  const TiledConfig cfg = conflict_free_config(M, N, K);
  if (cfg.empty()) return;
  launch(float4_ok(N, K, A, B, C) ? &sgemm_conflict_free_kernel<kVecBM, kVecBN, kVecBK, true>
                                  : &sgemm_conflict_free_kernel<kVecBM, kVecBN, kVecBK, false>,
         cfg, stream, M, N, K, alpha, A, B, beta, C);
}

// ---- rung 8: double buffering -----------------------------------------------------------------

void sgemm_double_buffer(std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                         const float* A, const float* B, float beta, float* C,
                         cudaStream_t stream) {
  check_sgemm_args("double_buffer", M, N, K, A, B, C);
  const TiledConfig cfg = double_buffer_config(M, N, K);
  if (cfg.empty()) return;
  launch(float4_ok(N, K, A, B, C) ? &sgemm_double_buffer_kernel<kVecBM, kVecBN, kVecBK, true>
                                  : &sgemm_double_buffer_kernel<kVecBM, kVecBN, kVecBK, false>,
         cfg, stream, M, N, K, alpha, A, B, beta, C);
}

// ---- rung 9: warp tiles -----------------------------------------------------------------------

void sgemm_warptile(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                    const float* B, float beta, float* C, cudaStream_t stream) {
  check_sgemm_args("warptile", M, N, K, A, B, C);
  const TiledConfig cfg = warptile_config(M, N, K);
  if (cfg.empty()) return;
  launch(float4_ok(N, K, A, B, C)
             ? &sgemm_warptile_kernel<kWarpBM, kWarpBN, kWarpBK, kWarpWM, kWarpWN, true>
             : &sgemm_warptile_kernel<kWarpBM, kWarpBN, kWarpBK, kWarpWM, kWarpWN, false>,
         cfg, stream, M, N, K, alpha, A, B, beta, C);
}

// ---- the baseline: cuBLAS ---------------------------------------------------------------------

CublasSgemm::CublasSgemm() {
  cublasHandle_t h = nullptr;
  GNM_CUBLAS_CHECK(cublasCreate(&h));
  // CUBLAS_DEFAULT_MATH: FP32 FMAs. TF32 (CUBLAS_TF32_TENSOR_OP_MATH) and BF16x9 emulation
  // (CUBLAS_FP32_EMULATED_BF16X9_MATH) would be faster and less accurate; both are opt-in.
  const cublasStatus_t mode = cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);
  if (mode != CUBLAS_STATUS_SUCCESS) {
    (void)cublasDestroy(h);
    GNM_CUBLAS_CHECK(mode);
  }
  handle_ = h;
}

CublasSgemm::CublasSgemm(CublasSgemm&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)) {}

CublasSgemm& CublasSgemm::operator=(CublasSgemm&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) (void)cublasDestroy(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

CublasSgemm::~CublasSgemm() {
  if (handle_ != nullptr) (void)cublasDestroy(handle_);
}

//! [cublas]
void CublasSgemm::run(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                      const float* B, float beta, float* C, cudaStream_t stream) const {
  check_sgemm_args("cublas", M, N, K, A, B, C);
  if (M == 0 || N == 0) return;
  GNM_CHECK(handle_ != nullptr, "this CublasSgemm was moved from");
  GNM_CUBLAS_CHECK(cublasSetStream(handle_, stream));
  // cuBLAS is column-major. Our row-major C (M × N) is, byte for byte, the column-major Cᵀ
  // (N × M), and C = A · B ⇔ Cᵀ = Bᵀ · Aᵀ, where B's bytes are the column-major Bᵀ (N × K,
  // leading dimension N) and A's are Aᵀ (K × M, leading dimension K): swap the operands, no copies.
  const int ldb = as_int(N), lda = as_int(K > 0 ? K : 1), ldc = as_int(N);
  GNM_CUBLAS_CHECK(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, as_int(N), as_int(M),
                                    as_int(K), &alpha, B, ldb, A, lda, &beta, C, ldc));
}
//! [cublas]

}  // namespace gnm::ch06