// Chapter 7.5: the host arithmetic of the wgmma GEMM, with no CUDA header, so that nvcc (the
// launchers in wgmma_gemm.cu, the kernel in wgmma_kernels.cuh) and g++ (the emulated test,
// tests/emu/test_ch07_wgmma_emulated.cpp) use the same numbers: tile sizes, the shared-memory
// budget, the block → tile order, the launch configuration, and the parameters of the two TMA
// tensor maps (which the launcher hands to cuTensorMapEncodeTiled and the test to its model).
#pragma once

#include <cstddef>
#include <cstdint>

#include "gnm/core/check.hpp"
#include "gnm/core/macros.hpp"

namespace gnm::ch07 {

/// Rows of C per thread block (two consumer warpgroups of 64 rows each).
inline constexpr int kWgmmaTileM = 128;
/// Columns of C per thread block (one wgmma m64n256k16 covers them).
inline constexpr int kWgmmaTileN = 256;
/// K per pipeline stage: 64 bf16 = 128 bytes, one 128-byte swizzle row.
inline constexpr int kWgmmaTileK = 64;
/// Stages of the shared-memory ring (4 × 48 KiB = 192 KiB of the 227 KiB a block may use).
inline constexpr int kWgmmaStages = 4;
/// Threads per block: one producer warpgroup (one thread issues TMA) and two consumer warpgroups.
inline constexpr int kWgmmaThreads = 3 * 128;
/// Tile rows per group of the block order (see wgmma_tile_of_block).
inline constexpr int kWgmmaGroupM = 16;
/// Bytes of one stage of A in shared memory (128 × 64 bf16 = 16 KiB).
inline constexpr std::uint32_t kWgmmaStageBytesA = kWgmmaTileM * kWgmmaTileK * 2;
/// Bytes of one stage of B in shared memory (256 × 64 bf16 = 32 KiB).
inline constexpr std::uint32_t kWgmmaStageBytesB = kWgmmaTileN * kWgmmaTileK * 2;
/// Bytes one stage's two TMA copies deliver: the expect_tx count of its `full` barrier.
inline constexpr std::uint32_t kWgmmaStageBytes = kWgmmaStageBytesA + kWgmmaStageBytesB;
/// Dynamic shared memory per block: the ring, 2 mbarriers (8 bytes) per stage, and 1024 bytes of
/// slack to round the start up to the 1024-byte period of the 128-byte swizzle.
inline constexpr std::size_t kWgmmaSharedBytes =
    kWgmmaStages * std::size_t{kWgmmaStageBytes} + 2 * kWgmmaStages * 8 + 1024;

/// The launch of wgmma_gemm_bf16 for one problem size (host arithmetic, no CUDA call).
struct WgmmaLaunch {
  int tiles_m = 0;               ///< ceil(M / kWgmmaTileM).
  int tiles_n = 0;               ///< ceil(N / kWgmmaTileN).
  int k_tiles = 0;               ///< ceil(K / kWgmmaTileK): iterations of the main loop.
  int blocks = 0;                ///< tiles_m · tiles_n (one output tile per block).
  int threads = kWgmmaThreads;   ///< Threads per block.
  std::size_t shared_bytes = 0;  ///< Dynamic shared memory per block (ring + barriers + slack).
};

/// The grid, block and shared memory wgmma_gemm_bf16 launches for M×N×K (sizes must already be
/// valid: see check_wgmma_args). Throws gnm::ShapeError for negative sizes and when the grid
/// would exceed 2^31 − 1 blocks.
inline WgmmaLaunch wgmma_launch_config(int M, int N, int K) {
  GNM_CHECK_SHAPE(M >= 0 && N >= 0 && K >= 0, "GEMM sizes must be non-negative", M, N, K);
  WgmmaLaunch l;
  l.tiles_m = static_cast<int>((std::int64_t{M} + kWgmmaTileM - 1) / kWgmmaTileM);
  l.tiles_n = static_cast<int>((std::int64_t{N} + kWgmmaTileN - 1) / kWgmmaTileN);
  l.k_tiles = static_cast<int>((std::int64_t{K} + kWgmmaTileK - 1) / kWgmmaTileK);
  const std::int64_t blocks = std::int64_t{l.tiles_m} * l.tiles_n;
  GNM_CHECK_SHAPE(blocks <= INT32_MAX, "too many 128x256 output tiles for one grid", M, N, blocks);
  l.blocks = static_cast<int>(blocks);
  l.shared_bytes = kWgmmaSharedBytes;
  return l;
}

/// Whether the epilogue may store pairs of floats as one 8-byte store: N even (so every pair
/// starts at an even column) and C 8-byte aligned.
inline bool wgmma_vector_store(int N, const void* C) {
  return N % 2 == 0 && reinterpret_cast<std::uintptr_t>(C) % 8 == 0;
}

/// A tile of C, in tile units: rows [m·kWgmmaTileM, …), columns [n·kWgmmaTileN, …).
struct WgmmaTile {
  int m = 0;  ///< Tile row.
  int n = 0;  ///< Tile column.
};

/// The tile that block `block` computes. Blocks are taken in groups of `group_m` tile rows; inside
/// a group the tile row changes fastest, so the ~132 blocks resident at once cover a roughly
/// square patch of C (16 × 8 tiles = 2048 × 2048 elements) and share its rows of A and of B in
/// L2 instead of streaming all of B for every row of tiles. A bijection of [0, tiles_m·tiles_n)
/// onto the tiles (tested on the CPU).
GNM_HOST_DEVICE inline WgmmaTile wgmma_tile_of_block(int block, int tiles_m, int tiles_n,
                                                     int group_m) {
  const int per_group = group_m * tiles_n;
  const int group = block / per_group;
  const int first_m = group * group_m;
  const int rows = tiles_m - first_m < group_m ? tiles_m - first_m : group_m;  // last group
  const int in_group = block - group * per_group;
  return {first_m + in_group % rows, in_group / rows};
}

/// What the kernel needs a TMA tensor map of a row-major (rows, K) bf16 operand to say: the
/// arguments of cuTensorMapEncodeTiled other than the data type, rank and pointer.
struct WgmmaTensorMapSpec {
  std::uint64_t dims[2] = {};             ///< {K, rows}: innermost (contiguous) dimension first.
  std::uint64_t row_stride_bytes = 0;     ///< Bytes between consecutive rows (K · 2).
  std::uint32_t box[2] = {};              ///< {kWgmmaTileK, box_rows}: the box one copy moves.
  std::uint32_t element_strides[2] = {};  ///< {1, 1}: every element of the box.
  std::uint32_t element_bytes = 2;        ///< bf16.
  bool swizzle_128b = true;               ///< CU_TENSOR_MAP_SWIZZLE_128B (else no swizzle).
  bool oob_zero_fill = true;              ///< CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE: zeros outside.
};

/// The tensor map of a row-major (rows, K) bf16 matrix read in boxes of `box_rows` rows × 64
/// columns (128 bytes: the inner box dimension may not exceed the 128-byte swizzle span). Boxes
/// that leave the matrix are filled with zeros, so edge tiles need no special case in the kernel.
inline WgmmaTensorMapSpec wgmma_tensor_map_spec(int rows, int K, int box_rows) {
  WgmmaTensorMapSpec s;
  s.dims[0] = static_cast<std::uint64_t>(K);
  s.dims[1] = static_cast<std::uint64_t>(rows);
  s.row_stride_bytes = static_cast<std::uint64_t>(K) * 2;
  s.box[0] = static_cast<std::uint32_t>(kWgmmaTileK);
  s.box[1] = static_cast<std::uint32_t>(box_rows);
  s.element_strides[0] = 1;
  s.element_strides[1] = 1;
  return s;
}

}  // namespace gnm::ch07
