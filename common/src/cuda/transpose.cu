// The transpose ladder and the copy kernel (gnm/cuda/transpose.hpp).
//
// Napkin math (H100 SXM: HBM3 3.35 TB/s on the datasheet, ~3.0 TB/s for a device copy): a
// transpose of 8192 × 8192 floats reads 256 MiB and writes 256 MiB, so it cannot take less than
// 537 MB / 3.0 TB/s ≈ 0.18 ms. The naive kernel writes each 4-byte element into a different
// 32-byte sector, so its writes move 8× the useful bytes; the tiled kernels move only whole lines.
//
// Note [Tile loop]: blockIdx.x walks the column tiles (gridDim.x may be up to 2^31 − 1) and
// blockIdx.y the row tiles, but gridDim.y is capped at 65535, so each block loops over the row
// tiles t = blockIdx.y, blockIdx.y + gridDim.y, … . The trip count depends on blockIdx only:
// every thread of a block reaches the same __syncthreads() calls, as the barrier requires.
//
// Note [Edge tiles]: a thread loads tile[ty][tx] only when (r0 + ty, c0 + tx) is inside the
// matrix, and later reads tile[tx][ty] only when (c0 + ty, r0 + tx) is inside the transpose —
// the same condition with the roles swapped — so it never reads a tile element that no thread
// wrote, and never writes outside out's rows × cols elements.
#include "gnm/cuda/transpose.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <limits>

#include "gnm/core/check.hpp"
#include "gnm/cuda/check.hpp"

namespace gnm::cuda {
namespace {

constexpr int kTile = 32;         // tile side: one warp spans one tile row
constexpr int kBlockRows = 8;     // thread rows of the 32 × 8 blocks
constexpr int kMaxGridY = 65535;  // hardware limit of gridDim.y
constexpr int kCopyBlock = 256;
constexpr std::int64_t kMaxCopyBlocks = std::int64_t{1} << 20;  // grid-stride loop beyond this

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

//! [transpose naive]
// One element per thread: a warp reads 32 consecutive floats of row r (one 128-byte line) and
// writes them to 32 different rows of out, 4·rows bytes apart.
__global__ void transpose_naive_kernel(const float* __restrict__ in, float* __restrict__ out,
                                       std::int64_t rows, std::int64_t cols,
                                       std::int64_t row_tiles) {
  const std::int64_t c = static_cast<std::int64_t>(blockIdx.x) * kTile + threadIdx.x;
  if (c >= cols) return;  // no barrier in this kernel, so threads may leave early
  for (std::int64_t t = blockIdx.y; t < row_tiles; t += gridDim.y) {
    const std::int64_t r = t * kBlockRows + threadIdx.y;
    if (r < rows) out[c * rows + r] = in[r * cols + c];
  }
}
//! [transpose naive]

//! [transpose tiled]
// 32 × 32 threads, one element each, through a shared tile (kPad = 0: 32-way bank conflicts on
// the column reads; kPad = 1: none). See Note [Tile loop] and Note [Edge tiles].
template <int kPad>
__global__ void transpose_tiled_kernel(const float* __restrict__ in, float* __restrict__ out,
                                       std::int64_t rows, std::int64_t cols,
                                       std::int64_t row_tiles) {
  __shared__ float tile[kTile][kTile + kPad];
  const int tx = static_cast<int>(threadIdx.x);
  const int ty = static_cast<int>(threadIdx.y);
  const std::int64_t c0 = static_cast<std::int64_t>(blockIdx.x) * kTile;
  for (std::int64_t t = blockIdx.y; t < row_tiles; t += gridDim.y) {
    const std::int64_t r0 = t * kTile;
    if (r0 + ty < rows && c0 + tx < cols) tile[ty][tx] = in[(r0 + ty) * cols + c0 + tx];
    __syncthreads();
    // Thread (tx, ty) writes row c0 + ty of out, column r0 + tx: a warp writes 32 neighbours,
    // reading them down column ty of the tile (bank (tx * (32 + kPad) + ty) mod 32).
    if (c0 + ty < cols && r0 + tx < rows) out[(c0 + ty) * rows + r0 + tx] = tile[tx][ty];
    __syncthreads();  // the next trip overwrites the tile
  }
}
//! [transpose tiled]

//! [transpose ilp]
// The padded tile with 32 × 8 threads: each thread moves rows ty, ty + 8, ty + 16, ty + 24, so
// four independent loads are in flight per thread before the barrier.
__global__ void transpose_padded_ilp_kernel(const float* __restrict__ in, float* __restrict__ out,
                                            std::int64_t rows, std::int64_t cols,
                                            std::int64_t row_tiles) {
  __shared__ float tile[kTile][kTile + 1];
  const int tx = static_cast<int>(threadIdx.x);
  const int ty = static_cast<int>(threadIdx.y);
  const std::int64_t c0 = static_cast<std::int64_t>(blockIdx.x) * kTile;
  for (std::int64_t t = blockIdx.y; t < row_tiles; t += gridDim.y) {
    const std::int64_t r0 = t * kTile;
#pragma unroll
    for (int j = 0; j < kTile; j += kBlockRows) {
      if (r0 + ty + j < rows && c0 + tx < cols) {
        tile[ty + j][tx] = in[(r0 + ty + j) * cols + c0 + tx];
      }
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < kTile; j += kBlockRows) {
      if (c0 + ty + j < cols && r0 + tx < rows) {
        out[(c0 + ty + j) * rows + r0 + tx] = tile[tx][ty + j];
      }
    }
    __syncthreads();
  }
}
//! [transpose ilp]

//! [copy kernel]
// Grid-stride float4 copy; the first `tail` threads of the grid also copy the 0–3 floats after
// the last whole float4.
__global__ void copy_vec4_kernel(const float4* __restrict__ in, float4* __restrict__ out,
                                 std::int64_t n4, const float* __restrict__ in_tail,
                                 float* __restrict__ out_tail, int tail) {
  const std::int64_t start = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = start; i < n4; i += stride) out[i] = in[i];
  if (start < tail) out_tail[start] = in_tail[start];
}
//! [copy kernel]

__global__ void copy_scalar_kernel(const float* __restrict__ in, float* __restrict__ out,
                                   std::int64_t n) {
  const std::int64_t start = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = start; i < n; i += stride) out[i] = in[i];
}

// Throws unless [a, a + n) and [b, b + n) are disjoint (n floats each, n * 4 cannot overflow).
void check_disjoint(const float* a, const float* b, std::int64_t n, const char* what) {
  const auto pa = reinterpret_cast<std::uintptr_t>(a);
  const auto pb = reinterpret_cast<std::uintptr_t>(b);
  const auto bytes = static_cast<std::uintptr_t>(n) * sizeof(float);
  GNM_CHECK(pa + bytes <= pb || pb + bytes <= pa, what, static_cast<const void*>(a),
            static_cast<const void*>(b), n);
}

}  // namespace

const char* transpose_kernel_name(TransposeKernel kernel) {
  switch (kernel) {
    case TransposeKernel::naive: return "naive";
    case TransposeKernel::tiled: return "tiled";
    case TransposeKernel::tiled_padded: return "tiled_padded";
    case TransposeKernel::tiled_padded_ilp: return "tiled_padded_ilp";
  }
  return "unknown";
}

void transpose(const float* in, float* out, std::int64_t rows, std::int64_t cols,
               TransposeKernel kernel, cudaStream_t stream) {
  GNM_CHECK_SHAPE(rows >= 0 && cols >= 0, "transpose sizes must not be negative", rows, cols);
  if (rows == 0 || cols == 0) return;
  constexpr std::int64_t kMaxElements = std::numeric_limits<std::int64_t>::max() / 4;
  GNM_CHECK_SHAPE(rows <= kMaxElements / cols, "rows * cols overflows", rows, cols);
  GNM_CHECK(in != nullptr && out != nullptr, "transpose needs device pointers", rows, cols,
            static_cast<const void*>(in), static_cast<const void*>(out));
  check_disjoint(in, out, rows * cols,
                 "transpose: in and out overlap (an in-place transpose is not supported)");

  const std::int64_t col_tiles = ceil_div(cols, kTile);
  GNM_CHECK(col_tiles <= INT_MAX, "too many columns for one grid", cols, col_tiles);
  const bool short_blocks =
      kernel == TransposeKernel::naive || kernel == TransposeKernel::tiled_padded_ilp;
  const std::int64_t tile_rows = kernel == TransposeKernel::naive ? kBlockRows : kTile;
  const std::int64_t row_tiles = ceil_div(rows, tile_rows);
  const dim3 grid(static_cast<unsigned>(col_tiles),
                  static_cast<unsigned>(std::min<std::int64_t>(row_tiles, kMaxGridY)));
  const dim3 block(kTile, short_blocks ? kBlockRows : kTile);
  switch (kernel) {
    case TransposeKernel::naive:
      transpose_naive_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols, row_tiles);
      break;
    case TransposeKernel::tiled:
      transpose_tiled_kernel<0><<<grid, block, 0, stream>>>(in, out, rows, cols, row_tiles);
      break;
    case TransposeKernel::tiled_padded:
      transpose_tiled_kernel<1><<<grid, block, 0, stream>>>(in, out, rows, cols, row_tiles);
      break;
    case TransposeKernel::tiled_padded_ilp:
      transpose_padded_ilp_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols, row_tiles);
      break;
    default:
      GNM_CHECK(false, "unknown TransposeKernel", static_cast<int>(kernel));
  }
  GNM_CUDA_CHECK_LAUNCH();
}

void copy(const float* in, float* out, std::int64_t n, cudaStream_t stream) {
  GNM_CHECK_SHAPE(n >= 0, "copy size must not be negative", n);
  if (n == 0) return;
  GNM_CHECK_SHAPE(n <= std::numeric_limits<std::int64_t>::max() / 4, "copy size overflows", n);
  GNM_CHECK(in != nullptr && out != nullptr, "copy needs device pointers", n,
            static_cast<const void*>(in), static_cast<const void*>(out));
  check_disjoint(in, out, n, "copy: in and out overlap");
  const bool aligned = reinterpret_cast<std::uintptr_t>(in) % 16 == 0 &&
                       reinterpret_cast<std::uintptr_t>(out) % 16 == 0;
  if (aligned) {
    const std::int64_t n4 = n / 4;
    const int tail = static_cast<int>(n - 4 * n4);
    const std::int64_t work = std::max<std::int64_t>(n4, tail);
    const auto blocks = std::min(ceil_div(work, kCopyBlock), kMaxCopyBlocks);
    copy_vec4_kernel<<<static_cast<unsigned>(blocks), kCopyBlock, 0, stream>>>(
        reinterpret_cast<const float4*>(in), reinterpret_cast<float4*>(out), n4, in + 4 * n4,
        out + 4 * n4, tail);
  } else {
    const auto blocks = std::min(ceil_div(n, kCopyBlock), kMaxCopyBlocks);
    copy_scalar_kernel<<<static_cast<unsigned>(blocks), kCopyBlock, 0, stream>>>(in, out, n);
  }
  GNM_CUDA_CHECK_LAUNCH();
}

}  // namespace gnm::cuda
