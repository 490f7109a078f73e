// Chapter 7.5: the launchers of the Hopper bf16 GEMM with wgmma and TMA (see wgmma_gemm.hpp for
// the contract). The kernels are in wgmma_kernels.cuh (its comment explains the design), which
// tests/emu/test_ch07_wgmma_emulated.cpp also runs on the CPU; the tile, shared-memory and
// tensor-map arithmetic both use is in wgmma_config.hpp.
//
// Napkin math (H100 SXM): 2·8192³ = 1.1 TFLOP; at the ~989 TFLOP/s dense bf16 peak that is
// 1.1 ms. Per block and stage the consumers do 2·128·256·64 = 4.2 MFLOP against 48 KiB of TMA
// traffic: 85 FLOP per byte of shared memory filled, and 128·256 tiles read each A row 32 times
// and each B row 64 times at 8192 (from L2, mostly).
#include "wgmma_gemm.hpp"

#include <cublas_v2.h>
#include <cuda.h>  // CUtensorMap and its enums (types only: nothing here links libcuda)
#include <cudaTypedefs.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>

#include "gnm/core/check.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/cublas.hpp"
#include "gnm/cuda/driver.hpp"
#include "wgmma_config.hpp"
#include "wgmma_kernels.cuh"

namespace gnm::ch07 {
namespace {

// ---- host side ---------------------------------------------------------------------------

// Tile arithmetic is in int: keep row + 255 and col + 255 representable.
constexpr int kMaxRowsOrCols = INT_MAX - 2 * kBN;

bool is_aligned(const void* p, std::size_t bytes) {
  return reinterpret_cast<std::uintptr_t>(p) % bytes == 0;
}

void check_sizes(int M, int N, int K) {
  GNM_CHECK_SHAPE(M >= 0 && N >= 0 && K >= 0, "GEMM sizes must be non-negative", M, N, K);
}

// Null pointers are allowed only where nothing is read or written.
void check_pointers(const void* A, const void* B, const void* C, int M, int N, int K) {
  if (M == 0 || N == 0) return;
  GNM_CHECK(C != nullptr, "C must not be null for a non-empty product", M, N);
  if (K == 0) return;
  GNM_CHECK(A != nullptr && B != nullptr, "A and B must not be null when K > 0", A, B, K);
}

struct DeviceInfo {
  int device = 0;
  int major = 0;
  int minor = 0;
};

// cudaDeviceGetAttribute: the two fields of cudaGetDeviceProperties we need, without its cost
// (cudaGetDeviceProperties fills ~100 fields and can take milliseconds; this runs per launch).
DeviceInfo current_device() {
  DeviceInfo d;
  GNM_CUDA_CHECK(cudaGetDevice(&d.device));
  GNM_CUDA_CHECK(cudaDeviceGetAttribute(&d.major, cudaDevAttrComputeCapabilityMajor, d.device));
  GNM_CUDA_CHECK(cudaDeviceGetAttribute(&d.minor, cudaDevAttrComputeCapabilityMinor, d.device));
  return d;
}

void require_sm90(const char* who) {
  const DeviceInfo d = current_device();
  if (d.major == 9 && d.minor == 0) return;
  throw NotImplemented(std::string(who) +
                           " needs a compute capability 9.0 device (H100/H200): it is built "
                           "for sm_90a, whose wgmma and setmaxnreg no other GPU has; device " +
                           std::to_string(d.device) + " is compute capability " +
                           std::to_string(d.major) + "." + std::to_string(d.minor),
                       __FILE__, __LINE__);
}

// The register-pool static_assert trusts ptxas to give the kernel every register its launch bounds
// allow (it does for a kernel with setmaxnreg: cuobjdump -res-usage shows REG:168). Had it given
// fewer, setmaxnreg.inc would hang the GPU rather than fail, so check the compiled kernel once.
void check_register_pool() {
  static const int regs = [] {
    cudaFuncAttributes attributes{};
    GNM_CUDA_CHECK(cudaFuncGetAttributes(&attributes, wgmma_gemm_kernel));
    return attributes.numRegs;
  }();
  GNM_CHECK(regs * kWgmmaThreads >= 128 * kProducerRegs + 256 * kConsumerRegs,
            "wgmma_gemm_kernel was compiled with too few registers per thread for its setmaxnreg "
            "split (it would deadlock)",
            regs, kProducerRegs, kConsumerRegs);
}

//! [tensor_map]
// cuTensorMapEncodeTiled is a driver function. Nothing may link libcuda (every binary must start
// without a driver), so ask the runtime for the driver's entry point at run time instead.
PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static std::mutex mutex;
  static PFN_cuTensorMapEncodeTiled_v12000 encode = nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  if (encode == nullptr) {
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
    GNM_CUDA_CHECK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000,
                                                    cudaEnableDefault, &found));
    GNM_CHECK(found == cudaDriverEntryPointSuccess && fn != nullptr,
              "the CUDA driver has no cuTensorMapEncodeTiled (it needs CUDA 12.0 or later)",
              static_cast<int>(found));
    encode = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
  }
  return encode;
}

// The TMA descriptor of a row-major (rows, K) bf16 matrix read in boxes of `box_rows` rows × 64
// columns, as wgmma_tensor_map_spec (wgmma_config.hpp) describes it: the emulated test builds its
// model of the map from the same function, so it checks what is encoded here.
CUtensorMap make_tensor_map(const __nv_bfloat16* m, int rows, int K, int box_rows) {
  const WgmmaTensorMapSpec spec = wgmma_tensor_map_spec(rows, K, box_rows);
  GNM_CHECK(spec.element_bytes == sizeof(__nv_bfloat16) && spec.swizzle_128b &&
                spec.oob_zero_fill,
            "wgmma_tensor_map_spec describes a map this encoder does not make",
            spec.element_bytes);
  CUtensorMap map;
  std::memset(&map, 0, sizeof map);
  const cuuint64_t dims[2] = {spec.dims[0], spec.dims[1]};
  const cuuint64_t strides[1] = {spec.row_stride_bytes};  // bytes, of every dimension but the first
  const cuuint32_t box[2] = {spec.box[0], spec.box[1]};
  const cuuint32_t element_strides[2] = {spec.element_strides[0], spec.element_strides[1]};
  const CUresult status = tensor_map_encoder()(
      &map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, const_cast<__nv_bfloat16*>(m), dims, strides, box,
      element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  gnm::cuda::driver::check(status, "cuTensorMapEncodeTiled", __FILE__, __LINE__);
  return map;
}
//! [tensor_map]


}  // namespace

void check_wgmma_args(const __nv_bfloat16* A, const __nv_bfloat16* B, const float* C, int M,
                      int N, int K) {
  check_sizes(M, N, K);
  GNM_CHECK_SHAPE(M <= kMaxRowsOrCols && N <= kMaxRowsOrCols,
                  "wgmma_gemm_bf16: M and N must be below 2^31 - 512", M, N);
  GNM_CHECK_SHAPE(K % 8 == 0,
                  "wgmma_gemm_bf16 needs K to be a multiple of 8 (TMA: every row of A and B must "
                  "start on a 16-byte boundary); pad K with zeros or use cublas_gemm_bf16",
                  K);
  check_pointers(A, B, C, M, N, K);
  if (M == 0 || N == 0 || K == 0) return;
  GNM_CHECK(is_aligned(A, 16), "wgmma_gemm_bf16: A must be 16-byte aligned (TMA)",
            static_cast<const void*>(A));
  GNM_CHECK(is_aligned(B, 16), "wgmma_gemm_bf16: B must be 16-byte aligned (TMA)",
            static_cast<const void*>(B));
  GNM_CHECK(is_aligned(C, alignof(float)), "wgmma_gemm_bf16: C must be 4-byte aligned",
            static_cast<const void*>(C));
}

bool wgmma_device_supported() {
  const DeviceInfo d = current_device();
  return d.major == 9 && d.minor == 0;
}

//! [wgmma_launch]
void wgmma_gemm_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N,
                     int K, cudaStream_t stream) {
  check_wgmma_args(A, B, C, M, N, K);  // before any CUDA call
  if (M == 0 || N == 0) return;
  require_sm90("wgmma_gemm_bf16");
  if (K == 0) {  // an empty sum
    GNM_CUDA_CHECK(cudaMemsetAsync(C, 0, sizeof(float) * static_cast<std::size_t>(M) * N, stream));
    return;
  }
  check_register_pool();
  const WgmmaLaunch l = wgmma_launch_config(M, N, K);
  const CUtensorMap map_a = make_tensor_map(A, M, K, kBM);
  const CUtensorMap map_b = make_tensor_map(B, N, K, kBN);
  const int vector_store = wgmma_vector_store(N, C) ? 1 : 0;
  // More than 48 KiB of dynamic shared memory must be asked for (H100: up to 227 KiB).
  GNM_CUDA_CHECK(cudaFuncSetAttribute(wgmma_gemm_kernel,
                                      cudaFuncAttributeMaxDynamicSharedMemorySize,
                                      static_cast<int>(l.shared_bytes)));
  wgmma_gemm_kernel<<<l.blocks, l.threads, l.shared_bytes, stream>>>(map_a, map_b, C, M, N, K,
                                                                      vector_store);
  GNM_CUDA_CHECK_LAUNCH();
}
//! [wgmma_launch]

//! [cublas_call]
void cublas_gemm_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N,
                      int K, cudaStream_t stream) {
  check_sizes(M, N, K);
  check_pointers(A, B, C, M, N, K);
  if (M == 0 || N == 0) return;
  if (K == 0) {
    GNM_CUDA_CHECK(cudaMemsetAsync(C, 0, sizeof(float) * static_cast<std::size_t>(M) * N, stream));
    return;
  }
  // cuBLAS is column-major: our row-major C (M, N) is its Cᵀ (N, M), and Cᵀ = B · Aᵀ. Our B
  // (N, K) row-major is, to cuBLAS, a K×N matrix (ld K), so it is used transposed (OP_T); our A
  // (M, K) row-major is the K×M matrix Aᵀ (ld K), used as it is (OP_N).
  // The engine's per-device handle (CUBLAS_DEFAULT_MATH still uses tensor cores for bf16).
  cublasHandle_t h = gnm::cuda::cublas_handle();
  GNM_CUBLAS_CHECK(cublasSetStream(h, stream));
  const float alpha = 1.0f, beta = 0.0f;
  GNM_CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &alpha, B, CUDA_R_16BF, K,
                                A, CUDA_R_16BF, K, &beta, C, CUDA_R_32F, N, CUBLAS_COMPUTE_32F,
                                CUBLAS_GEMM_DEFAULT));
}
//! [cublas_call]

void naive_gemm_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N,
                     int K, cudaStream_t stream) {
  check_sizes(M, N, K);
  check_pointers(A, B, C, M, N, K);
  if (M == 0 || N == 0) return;
  require_sm90("naive_gemm_bf16");
  constexpr int kThreads = 256;
  const std::int64_t total = std::int64_t{M} * N;
  const std::int64_t wanted = (total + kThreads - 1) / kThreads;
  const int blocks = static_cast<int>(std::min<std::int64_t>(wanted, 1 << 16));  // grid-stride
  naive_gemm_kernel<<<blocks, kThreads, 0, stream>>>(A, B, C, M, N, K);
  GNM_CUDA_CHECK_LAUNCH();
}

double gemm_bf16_error_bound(int K, double max_norm_a, double max_norm_b) {
  return static_cast<double>(K) * std::ldexp(1.0, -22) * max_norm_a * max_norm_b;
}

double max_row_norm(const __nv_bfloat16* m, int rows, int K) {
  double worst = 0.0;
  for (std::int64_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (std::int64_t k = 0; k < K; ++k) {
      const double v = static_cast<double>(__bfloat162float(m[r * K + k]));
      sum += v * v;
    }
    worst = std::max(worst, std::sqrt(sum));
  }
  return worst;
}

}  // namespace gnm::ch07
