// Chapter 6.2: the SGEMM ladder. One product, nine CUDA kernels, each one step further down the
// memory hierarchy, all measured against cuBLAS (FP32, TF32 off).
//
//   rung 1 sgemm_naive          one thread per element of C; threadIdx.x runs along M (uncoalesced)
//   rung 2 sgemm_coalesced      threadIdx.x runs along N: a warp reads B and writes C in full lines
//   rung 3 sgemm_tiled          32×32 tiles of A and B staged in shared memory     — exercise 6.1
//   rung 4 sgemm_reg1d          each thread keeps a column of 8 results in registers
//   rung 5 sgemm_reg2d          each thread keeps an 8×8 block of results          — exercise 6.2
//   rung 6 sgemm_vec4           128-bit (float4) loads from global and shared memory
//   rung 7 sgemm_conflict_free  padded transposed A tile, interleaved thread tiles: no bank conflicts
//   rung 8 sgemm_double_buffer  two shared-memory stages: the next tile loads while this one computes
//   rung 9 sgemm_warptile       block tile → warp tiles → thread tiles (CUTLASS's hierarchy)
//   baseline CublasSgemm        cublasSgemm with CUBLAS_DEFAULT_MATH (plain FP32: no TF32)
//
// Every rung computes C = alpha · A · B + beta · C on row-major, contiguous f32 matrices:
//   A (M, K) row stride K,   B (K, N) row stride N,   C (M, N) row stride N,
// for any M, N, K ≥ 0, multiples of a tile or not. K == 0 gives C = beta · C. beta == 0 overwrites
// C without reading it (NaN in C does not propagate), as in BLAS. Nothing past C's M·N elements
// is written, and A and B are read only inside their M·K and K·N elements. C must not overlap A
// or B. Sizes above kMaxGemmDim are rejected.
//
// A launcher checks its arguments first (check_sgemm_args: gnm::ShapeError for a negative or too
// large size, gnm::Error for a null pointer to a non-empty matrix, naming the values), returns at
// once when M or N is 0, takes its launch from the rung's configuration function (grid, block,
// shared memory: host code, tested on the CPU), launches on `stream`, checks the launch with
// GNM_CUDA_CHECK_LAUNCH() and does not synchronize.
//
// Exercise 6.1 (shared-memory tiles): in exercises/ch06/sgemm_ladder.cpp write tiled_config();
//   in exercises/ch06/sgemm_ladder_kernels.cuh write the body of sgemm_tiled_kernel, and in
//   exercises/ch06/sgemm_ladder.cu the launcher sgemm_tiled().
// Exercise 6.2 (2-D register tiles): likewise reg2d_config(), sgemm_reg2d_kernel and sgemm_reg2d().
// The helpers you need are given: ceil_div, check_sgemm_sizes, check_sgemm_args,
// check_launch_limits (host), and store_c and load_tile (device, in the .cuh).
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch06 --output-on-failure
// The configuration tests and the emulated kernel tests (SgemmEmulated: your kernels' text run on
// the CPU by tests/emu/cuda_host_emulator.hpp) run everywhere; the GPU tests skip without a GPU.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#if GNM_HAVE_CUDA
#if defined(GNM_CUDA_HOST_EMULATOR)
// The emulated kernel tests include this header after tests/emu/cuda_host_emulator.hpp, whose
// dim3/float4 stand-ins clash with CUDA's headers. cudaStream_t is, as in driver_types.h, a
// pointer to the opaque CUstream_st, so every declaration below stays the same.
struct CUstream_st;
using cudaStream_t = CUstream_st*;
#else
#include <cuda_runtime_api.h>
#endif

struct cublasContext;  // cuBLAS's handle type (cublasHandle_t is cublasContext*)
#endif

namespace gnm::ch06 {

/// Largest M, N or K the ladder accepts (2^30): kernels index rows and columns with 32-bit ints
/// (element offsets with 64-bit ones), and 2^30 leaves room for a tile's overshoot past K.
inline constexpr std::int64_t kMaxGemmDim = std::int64_t{1} << 30;
/// Most threads in one block on every CUDA GPU.
inline constexpr int kMaxThreadsPerBlock = 1024;
/// Most blocks along x of a grid (2^31 − 1).
inline constexpr std::int64_t kMaxGridX = 2147483647;
/// Most blocks along y (and z) of a grid.
inline constexpr std::int64_t kMaxGridY = 65535;
/// Most static shared memory per block (more needs cudaFuncSetAttribute's opt-in).
inline constexpr std::int64_t kMaxStaticSmemBytes = 48 * 1024;

/// Rungs 1–2: blocks of kSimpleBlockX × kSimpleBlockY threads, one element of C per thread.
inline constexpr int kSimpleBlockX = 32;
/// Rungs 1–2: threads per block along y (see kSimpleBlockX).
inline constexpr int kSimpleBlockY = 8;
/// Rung 3 (ex 6.1): C tile, K step and thread block are all kTiledTile × kTiledTile.
inline constexpr int kTiledTile = 32;
/// Rung 4: a block computes a kReg1dBM × kReg1dBN tile of C in K steps of kReg1dBK; each of its
/// (kReg1dBM / kReg1dTM) · kReg1dBN threads computes kReg1dTM rows of one column.
inline constexpr int kReg1dBM = 64;
/// Rung 4: columns of C per block (see kReg1dBM).
inline constexpr int kReg1dBN = 64;
/// Rung 4: K step (see kReg1dBM).
inline constexpr int kReg1dBK = 8;
/// Rung 4: rows of C per thread (see kReg1dBM).
inline constexpr int kReg1dTM = 8;
/// Rung 5 (ex 6.2): a block computes a kReg2dBM × kReg2dBN tile of C in K steps of kReg2dBK;
/// each of its (kReg2dBM / kReg2dTM) · (kReg2dBN / kReg2dTN) threads computes a kReg2dTM ×
/// kReg2dTN block.
inline constexpr int kReg2dBM = 128;
/// Rung 5: columns of C per block (see kReg2dBM).
inline constexpr int kReg2dBN = 128;
/// Rung 5: K step (see kReg2dBM).
inline constexpr int kReg2dBK = 8;
/// Rung 5: rows of C per thread (see kReg2dBM).
inline constexpr int kReg2dTM = 8;
/// Rung 5: columns of C per thread (see kReg2dBM).
inline constexpr int kReg2dTN = 8;
/// Rungs 6–8: block tile kVecBM × kVecBN, K step kVecBK, 8 × 8 results per thread.
inline constexpr int kVecBM = 128;
/// Rungs 6–8: columns of C per block (see kVecBM).
inline constexpr int kVecBN = 128;
/// Rungs 6–8: K step (see kVecBM).
inline constexpr int kVecBK = 8;
/// Rungs 7–9: floats of padding per row of the transposed A tile (keeps rows 16-byte aligned and
/// moves consecutive k rows 4 banks apart: see Note [Bank conflicts] in
/// sgemm_ladder_kernels.cuh).
inline constexpr int kPadA = 4;
/// Rung 9: block tile kWarpBM × kWarpBN, K step kWarpBK, warp tiles kWarpWM × kWarpWN, 8 × 8
/// results per thread.
inline constexpr int kWarpBM = 128;
/// Rung 9: columns of C per block (see kWarpBM).
inline constexpr int kWarpBN = 128;
/// Rung 9: K step (see kWarpBM).
inline constexpr int kWarpBK = 16;
/// Rung 9: rows of C per warp (see kWarpBM).
inline constexpr int kWarpWM = 64;
/// Rung 9: columns of C per warp (see kWarpBM).
inline constexpr int kWarpWN = 32;

/// How one rung is launched: a grid of blocks over C, the threads of a block, the tile each
/// block and each thread computes, and the block's static shared memory. Host-only arithmetic.
struct TiledConfig {
  std::int64_t grid_x = 0;      ///< Blocks along x: along N, except rung 1 (grid_x_along_m).
  std::int64_t grid_y = 0;      ///< Blocks along y: along M, except rung 1.
  int block_x = 0;              ///< Threads per block along x.
  int block_y = 1;              ///< Threads per block along y (1 for a 1-D block).
  int tile_m = 0;               ///< Rows of C one block computes.
  int tile_n = 0;               ///< Columns of C one block computes.
  int tile_k = 0;               ///< Depth of the A and B tiles staged per step (0: none).
  int thread_m = 1;             ///< Rows of C one thread computes.
  int thread_n = 1;             ///< Columns of C one thread computes.
  std::int64_t smem_bytes = 0;  ///< Static shared memory per block in bytes.
  bool grid_x_along_m = false;  ///< True when blockIdx.x walks along M (rung 1 only).

  /// Threads per block.
  int threads() const noexcept { return block_x * block_y; }
  /// True when there is nothing to launch (M or N is 0).
  bool empty() const noexcept { return grid_x == 0 || grid_y == 0; }
};

/// ceil(a / b) for a ≥ 0, b > 0: the number of tiles of size b that cover a elements.
constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) noexcept { return (a + b - 1) / b; }

/// Throws gnm::ShapeError naming `rung`, M, N and K unless 0 ≤ M, N, K ≤ kMaxGemmDim.
void check_sgemm_sizes(const char* rung, std::int64_t M, std::int64_t N, std::int64_t K);

/// check_sgemm_sizes, then gnm::Error naming the sizes when a matrix with elements has a null
/// pointer (A when M·K > 0, B when K·N > 0, C when M·N > 0).
void check_sgemm_args(const char* rung, std::int64_t M, std::int64_t N, std::int64_t K,
                      const float* A, const float* B, const float* C);

/// Throws gnm::Error naming `rung` and the value unless `cfg` fits the hardware: grid_x ≤
/// kMaxGridX, grid_y ≤ kMaxGridY, 1 ≤ threads ≤ kMaxThreadsPerBlock and a multiple of 32,
/// smem_bytes ≤ kMaxStaticSmemBytes.
void check_launch_limits(const char* rung, const TiledConfig& cfg);

/// Rung 1: blocks of kSimpleBlockX (along M) × kSimpleBlockY (along N) threads.
TiledConfig naive_config(std::int64_t M, std::int64_t N, std::int64_t K);
/// Rung 2: blocks of kSimpleBlockX (along N) × kSimpleBlockY (along M) threads.
TiledConfig coalesced_config(std::int64_t M, std::int64_t N, std::int64_t K);

/// Ex 6.1. The launch of rung 3: one block of kTiledTile × kTiledTile threads (x along N, y along
/// M) per kTiledTile × kTiledTile tile of C, grid_x = ceil(N / kTiledTile), grid_y =
/// ceil(M / kTiledTile); K steps of kTiledTile; shared memory for one tile of A and one of B
/// (2 · 32 · 32 · 4 B = 8 KiB). Check the sizes first (check_sgemm_sizes) and the result last
/// (check_launch_limits). M or N == 0 gives an empty grid; K == 0 does not (C = beta · C).
TiledConfig tiled_config(std::int64_t M, std::int64_t N, std::int64_t K);

/// Rung 4: 1-D blocks of (kReg1dBM / kReg1dTM) · kReg1dBN threads per kReg1dBM × kReg1dBN tile.
TiledConfig reg1d_config(std::int64_t M, std::int64_t N, std::int64_t K);

/// Ex 6.2. The launch of rung 5: one 1-D block of (kReg2dBM / kReg2dTM) · (kReg2dBN / kReg2dTN)
/// = 256 threads per kReg2dBM × kReg2dBN tile of C (grid_x along N, grid_y along M), each thread
/// computing kReg2dTM × kReg2dTN results; K steps of kReg2dBK; shared memory for one
/// kReg2dBM × kReg2dBK tile of A and one kReg2dBK × kReg2dBN tile of B. Checks as tiled_config.
TiledConfig reg2d_config(std::int64_t M, std::int64_t N, std::int64_t K);

/// Rung 6: rung 5's tiling (kVecBM × kVecBN × kVecBK, 8 × 8 per thread) with float4 loads.
TiledConfig vec4_config(std::int64_t M, std::int64_t N, std::int64_t K);
/// Rung 7: as rung 6 with the A tile padded by kPadA floats per row.
TiledConfig conflict_free_config(std::int64_t M, std::int64_t N, std::int64_t K);
/// Rung 8: as rung 7 with two shared-memory stages.
TiledConfig double_buffer_config(std::int64_t M, std::int64_t N, std::int64_t K);
/// Rung 9: kWarpBM × kWarpBN block tiles of (kWarpBM / kWarpWM) · (kWarpBN / kWarpWN) warps,
/// K steps of kWarpBK, two stages.
TiledConfig warptile_config(std::int64_t M, std::int64_t N, std::int64_t K);

/// Whether rungs 6–9 may use 128-bit loads and stores: K and N multiples of 4 (so a float4
/// never straddles a row end) and A, B, C 16-byte aligned. Otherwise they take their scalar path
/// (same tiling, element-wise bounds checks): correct for every size, somewhat slower.
bool float4_ok(std::int64_t N, std::int64_t K, const void* A, const void* B, const void* C) noexcept;

/// Note [SGEMM error bound]. A bound on |computed − exact| for one element of
/// C = alpha · A · B + beta · C0 in fp32, where mass = Σ_k |a_ik · b_kj|.
///
/// The worst case of a K-term fp32 dot product is K · eps · mass (Higham, Thm 3.1); with random
/// rounding errors it is about √K · eps · mass (Higham & Mary 2019), and for inputs of random sign
/// the errors we see are smaller still. The ladder uses 4 · √K · eps · mass: far above the
/// rounding noise of any summation order (sequential in a thread, split over K in cuBLAS), yet, for
/// uniform inputs in [−1, 1] at K = 4096, about 30× below the typical error of one K tile of 8
/// terms lost or counted twice. Plus 2 · eps for the final scaling by alpha and beta:
///   |alpha| · mass · eps · (4 · √max(K, 1) + 2) + 2 · eps · |beta · c0|   (beta == 0: no c0 term).
double sgemm_error_bound(std::int64_t K, float alpha, float beta, double mass, double c0) noexcept;

/// The double-precision reference of some rows of C = alpha · A · B + beta · C0, with each
/// element's sgemm_error_bound.
struct SgemmReference {
  std::int64_t M = 0, N = 0, K = 0;  ///< The problem.
  std::vector<std::int64_t> rows;    ///< Rows of C covered (strictly increasing).
  std::vector<double> value;         ///< (rows.size(), N): the reference values.
  std::vector<double> bound;         ///< (rows.size(), N): each element's error bound.
};

/// The reference for `rows` of C (all rows when empty) from host copies of A (M·K), B (K·N) and
/// C0 (at least M·N; unread when beta == 0). O(rows · N · K). Throws gnm::ShapeError when a span
/// is too short or a row is out of range or out of order.
SgemmReference sgemm_reference(std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                               std::span<const float> A, std::span<const float> B, float beta,
                               std::span<const float> C0, std::span<const std::int64_t> rows = {});

/// Outcome of check_sgemm.
struct SgemmCheck {
  bool ok = true;                 ///< Every checked element within its bound.
  std::int64_t checked = 0;       ///< Elements compared.
  std::int64_t mismatches = 0;    ///< Elements outside their bound (or not finite).
  double max_abs_error = 0;       ///< Largest |got − reference|.
  double max_error_ratio = 0;     ///< Largest |got − reference| / bound (≤ 1 when ok).
  std::string report;             ///< One line, then the first five mismatches (row, col, values).
};

/// Compares the reference's rows of `C` (the GPU result, at least M·N floats) with `ref`.
SgemmCheck check_sgemm(const SgemmReference& ref, std::span<const float> C);

/// One rung of the ladder: its number and name, a one-line description, its configuration
/// function and (in CUDA builds) its launcher.
struct Rung {
  int number = 0;                    ///< 1 … 9.
  const char* name = "";             ///< Short name ("naive", …, "warptile").
  const char* description = "";      ///< What this rung changes.
  TiledConfig (*config)(std::int64_t M, std::int64_t N, std::int64_t K) = nullptr;  ///< Its launch.
#if GNM_HAVE_CUDA
  /// Its launcher: C = alpha · A · B + beta · C on `stream` (device pointers; see the file comment).
  void (*launch)(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                 const float* B, float beta, float* C, cudaStream_t stream) = nullptr;
#endif
};

/// The nine rungs in order.
std::span<const Rung> ladder();

#if GNM_HAVE_CUDA
/// Rung 1. One thread per element of C, threadIdx.x along M: a warp's loads of A are K floats
/// apart and its stores to C N floats apart, so every access of the warp is 32 transactions.
void sgemm_naive(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                 const float* B, float beta, float* C, cudaStream_t stream = nullptr);
/// Rung 2. One thread per element of C, threadIdx.x along N: a warp reads 32 consecutive floats
/// of B, broadcasts one float of A, and writes 32 consecutive floats of C.
void sgemm_coalesced(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                     const float* B, float beta, float* C, cudaStream_t stream = nullptr);
/// Ex 6.1. Rung 3. Each block stages a kTiledTile × kTiledTile tile of A and one of B in shared
/// memory per K step (zeros outside the matrices), synchronizes, and each thread accumulates its
/// element of C from shared memory: every float loaded from global memory is used kTiledTile
/// times. Launch from tiled_config().
void sgemm_tiled(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                 const float* B, float beta, float* C, cudaStream_t stream = nullptr);
/// Rung 4. Each thread computes kReg1dTM elements of a column of C, reusing one value of B from
/// a register kReg1dTM times.
void sgemm_reg1d(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                 const float* B, float beta, float* C, cudaStream_t stream = nullptr);
/// Ex 6.2. Rung 5. Each thread computes a kReg2dTM × kReg2dTN block of C: per k it loads
/// kReg2dTM values of A and kReg2dTN of B from shared memory into registers and does
/// kReg2dTM · kReg2dTN FMAs with them. Launch from reg2d_config().
void sgemm_reg2d(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                 const float* B, float beta, float* C, cudaStream_t stream = nullptr);
/// Rung 6. Rung 5 with 128-bit loads: float4 from global memory, the A tile stored transposed so
/// that a thread's 8 values of A are contiguous in shared memory and load as two float4.
void sgemm_vec4(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                const float* B, float beta, float* C, cudaStream_t stream = nullptr);
/// Rung 7. Rung 6 without shared-memory bank conflicts: the transposed A tile is padded and each
/// thread's 8 × 8 results are two 4-wide slices half a tile apart.
void sgemm_conflict_free(std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                         const float* A, const float* B, float beta, float* C,
                         cudaStream_t stream = nullptr);
/// Rung 8. Rung 7 with two shared-memory stages: the global loads of the next K tile are issued
/// before the FMAs on this one, and one barrier per K step instead of two.
void sgemm_double_buffer(std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                         const float* A, const float* B, float beta, float* C,
                         cudaStream_t stream = nullptr);
/// Rung 9. Warp tiling: the block tile is split into warp tiles and each warp's tile into its
/// threads' 4 × 4 fragments; deeper K steps (kWarpBK), two stages.
void sgemm_warptile(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                    const float* B, float beta, float* C, cudaStream_t stream = nullptr);

/// The baseline: cuBLAS SGEMM on our row-major matrices, with CUBLAS_DEFAULT_MATH, i.e. plain FP32
/// (TF32 tensor cores and BF16×9 emulation are opt-in math modes, never set here). Owns a cuBLAS
/// handle; move-only.
class CublasSgemm {
 public:
  /// Creates the handle (gnm::CudaError without a usable device).
  CublasSgemm();
  CublasSgemm(const CublasSgemm&) = delete;
  CublasSgemm& operator=(const CublasSgemm&) = delete;
  /// Takes the handle from `other`.
  CublasSgemm(CublasSgemm&& other) noexcept;
  /// Destroys this handle, then takes `other`'s.
  CublasSgemm& operator=(CublasSgemm&& other) noexcept;
  ~CublasSgemm();
  /// C = alpha · A · B + beta · C on `stream`, same contract and checks as the rungs.
  void run(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
           const float* B, float beta, float* C, cudaStream_t stream = nullptr) const;

 private:
  cublasContext* handle_ = nullptr;
};
#endif

}  // namespace gnm::ch06
