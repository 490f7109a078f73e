/// \file
/// Matrix transpose and device copy on the GPU: the kernels of the transpose ladder (chapter 6.4,
/// chapter 8.3) and the copy kernel that is their bandwidth ceiling.
///
/// A transpose reads and writes every element once, like a copy, so the best it can do is the copy
/// bandwidth. The ladder shows what stands in the way:
///  - naive:            each warp reads 32 neighbouring floats of a row (one 128-byte line) but
///                      writes them down a column: 32 lines touched for 128 useful bytes;
///  - tiled:            a 32 × 32 tile goes through shared memory, so the global reads and the
///                      global writes are both whole rows; reading the tile by columns hits one
///                      shared-memory bank 32 times (a 32-way bank conflict);
///  - tiled_padded:     the tile is 32 × 33: the extra column shifts each row by one bank, so a
///                      column read touches 32 different banks;
///  - tiled_padded_ilp: the same tile with 32 × 8 threads, each moving 4 elements: fewer threads
///                      per tile, several independent loads in flight per thread.
///
/// \code
/// gnm::cuda::DeviceBuffer<float> d_in(rows * cols), d_out(rows * cols);
/// gnm::cuda::transpose(d_in.data(), d_out.data(), rows, cols);  // (rows, cols) -> (cols, rows)
/// gnm::cuda::copy(d_in.data(), d_out.data(), rows * cols);
/// \endcode
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace gnm::cuda {

/// The rungs of the transpose ladder, slowest first.
enum class TransposeKernel {
  naive,             ///< Coalesced reads, strided writes (one element per thread, 32 × 8 blocks).
  tiled,             ///< Through a 32 × 32 shared tile: coalesced both ways, 32-way bank conflicts.
  tiled_padded,      ///< Through a 32 × 33 shared tile: no bank conflicts (32 × 32 threads).
  tiled_padded_ilp,  ///< 32 × 33 tile, 32 × 8 threads moving 4 elements each (the default).
};

/// "naive", "tiled", "tiled_padded" or "tiled_padded_ilp".
const char* transpose_kernel_name(TransposeKernel kernel);

/// Writes out = inᵀ: `in` is a (rows, cols) row-major matrix in device memory, `out` receives the
/// (cols, rows) row-major transpose, out[c * rows + r] = in[r * cols + c]. Any sizes work,
/// including 1, primes and sizes that are not multiples of the 32 × 32 tile; nothing outside the
/// rows × cols elements of `out` is written. Runs asynchronously on `stream`.
///
/// rows == 0 or cols == 0 launches nothing. Throws gnm::ShapeError for negative sizes or a
/// rows × cols that overflows, gnm::Error for a null pointer (with elements to move) or for `in`
/// and `out` overlapping (an in-place transpose needs a different algorithm), and
/// gnm::CudaError when the launch fails — each naming the values.
void transpose(const float* in, float* out, std::int64_t rows, std::int64_t cols,
               TransposeKernel kernel = TransposeKernel::tiled_padded_ilp,
               cudaStream_t stream = nullptr);

/// Copies `n` floats from `in` to `out` (device memory, not overlapping) with a grid-stride
/// kernel: float4 loads and stores when both pointers are 16-byte aligned, scalar ones for the
/// tail and for unaligned pointers. The bandwidth ceiling of the kernels that read and write each
/// element once (transposes, element-wise ops). Runs asynchronously on `stream`.
///
/// n == 0 launches nothing. Throws gnm::ShapeError for n < 0, gnm::Error for a null or
/// overlapping pointer (n > 0), gnm::CudaError when the launch fails.
void copy(const float* in, float* out, std::int64_t n, cudaStream_t stream = nullptr);

}  // namespace gnm::cuda
