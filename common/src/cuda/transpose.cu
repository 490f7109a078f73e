// The transpose ladder and the copy kernel (gnm/cuda/transpose.hpp).
//
// Napkin math (H100 SXM: HBM3 3.35 TB/s on the datasheet, ~3.0 TB/s for a device copy): a
// transpose of 8192 × 8192 floats reads 256 MiB and writes 256 MiB, so it cannot take less than
// 537 MB / 3.0 TB/s ≈ 0.18 ms. The naive kernel writes each 4-byte element into a different
// 32-byte sector, so its writes move 8× the useful bytes; the tiled kernels move only whole lines.
//
// The kernels and Note [Tile loop] / Note [Edge tiles] live in transpose_kernels.cuh, which
// tests/emu also compiles for the CPU with a host emulator.
#include "gnm/cuda/transpose.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <limits>

#include "gnm/core/check.hpp"
#include "gnm/cuda/check.hpp"
#include "transpose_kernels.cuh"

namespace gnm::cuda {
namespace {

// The kernels and their constants (kTile, kBlockRows, ...) come from transpose_kernels.cuh.
using namespace transpose_detail;  // NOLINT(google-build-using-namespace)

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
