// Exercise 6.4 — the padded shared-memory transpose.
//
// out = inᵀ for a (rows, cols) row-major matrix of floats, through a 32 × 33 shared tile so that
// both the global reads and the global writes are coalesced and the column reads of the tile are
// free of bank conflicts. Blocks are 32 × 8 threads; each thread moves 4 elements of a tile.
// Write:
//   (a) in exercises/ch06/transpose.cpp, transpose_config(): the launch configuration (a CPU
//       function, tested everywhere);
//   (b) in exercises/ch06/padded_transpose_kernels.cuh, the body of transpose_padded_kernel, and
//       in exercises/ch06/transpose.cu, transpose_padded(), which checks its arguments and
//       launches it.
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch06 --output-on-failure
// The configuration tests and the emulated kernel tests (PaddedTransposeEmulated: your kernel's
// text run on the CPU by tests/emu/cuda_host_emulator.hpp) run everywhere; the GPU tests skip
// without a GPU. Chapter 6.4 times your kernel beside the engine's (gnm/cuda/transpose.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#if GNM_HAVE_CUDA
#if defined(GNM_CUDA_HOST_EMULATOR)
// The emulated kernel test includes this header after tests/emu/cuda_host_emulator.hpp, whose
// dim3 stand-in clashes with CUDA's headers. cudaStream_t is, as in driver_types.h, a pointer to
// the opaque CUstream_st, so the declaration below stays the same.
struct CUstream_st;
using cudaStream_t = CUstream_st*;
#else
#include <cuda_runtime_api.h>
#endif
#endif

namespace gnm::ch06 {

/// Side of the square tile a block transposes.
inline constexpr int kTransposeTile = 32;
/// Thread rows of a block: a block is kTransposeTile × kTransposeBlockRows threads, and each
/// thread moves kTransposeTile / kTransposeBlockRows elements of its tile.
inline constexpr int kTransposeBlockRows = 8;
/// The largest gridDim.y a launch accepts.
inline constexpr int kTransposeMaxGridY = 65535;

/// How the transpose of a (rows, cols) matrix is launched.
struct TransposeConfig {
  int grid_x = 0;               ///< Column tiles: ceil(cols / 32) (0 when there is nothing to do).
  int grid_y = 0;               ///< min(row_tiles, kTransposeMaxGridY); blocks loop over tiles.
  int block_x = 0;              ///< kTransposeTile.
  int block_y = 0;              ///< kTransposeBlockRows.
  std::int64_t row_tiles = 0;   ///< ceil(rows / 32).
  std::size_t shared_bytes = 0; ///< Bytes of the padded tile, 32 × 33 floats.
};

/// Ex 6.4a. The launch configuration for a (rows, cols) transpose (see TransposeConfig).
///
/// - rows == 0 or cols == 0: grid_x = grid_y = row_tiles = 0 (launch nothing); the block and
///   shared_bytes are filled in anyway.
/// - rows < 0 or cols < 0, or rows × cols above INT64_MAX / 4 (its byte count would overflow):
///   gnm::ShapeError naming rows and cols.
/// - more column tiles than a grid can have (2^31 − 1): gnm::Error naming cols.
TransposeConfig transpose_config(std::int64_t rows, std::int64_t cols);

#if GNM_HAVE_CUDA
/// Ex 6.4b. Writes out = inᵀ: `d_in` is (rows, cols) and `d_out` (cols, rows), both row-major in
/// device memory; nothing outside out's rows × cols elements is written. Launches the padded
/// kernel with transpose_config(rows, cols) on `stream` and checks the launch with
/// GNM_CUDA_CHECK_LAUNCH(); does not synchronize. Nothing to do (a zero size) launches nothing;
/// a null pointer with elements to move throws gnm::Error.
void transpose_padded(const float* d_in, float* d_out, std::int64_t rows, std::int64_t cols,
                      cudaStream_t stream = nullptr);
#endif

}  // namespace gnm::ch06
