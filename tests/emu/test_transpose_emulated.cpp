// The engine's transpose and copy kernels (common/src/cuda/transpose_kernels.cuh, the text nvcc
// compiles) run on the CPU through the host emulator: one std::thread per CUDA thread,
// __syncthreads() as a block-wide std::barrier. Every output is compared exactly with a CPU
// transpose or copy (a transpose moves bits, so the tolerance is zero), and each output buffer
// has a poisoned guard zone after it that must come back untouched. TSan runs these tests, so a
// missing barrier shows up as a shared-memory race; see cuda_host_emulator.hpp for the limits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "gnm/core/random.hpp"
#include "transpose_kernels.cuh"  // the real kernels (common/src/cuda), after the emulator

namespace {

using gnm::emu::emu_launch;
namespace td = gnm::cuda::transpose_detail;

constexpr float kPoison = -777.0f;  // outside the [-1, 1) inputs, so any stray write shows

// n floats plus `guard` poisoned floats after them, 16-byte aligned (for the float4 path).
class Buffer {
 public:
  Buffer(std::int64_t n, std::int64_t guard)
      : n_(n), storage_(static_cast<std::size_t>((n + guard + 3) / 4 + 1)) {
    std::fill(data(), data() + 4 * storage_.size(), kPoison);
  }
  float* data() { return &storage_[0].x; }
  const float* data() const { return &storage_[0].x; }
  std::span<float> values() { return {data(), static_cast<std::size_t>(n_)}; }
  // Index of the first element after the n values that is not poison, or -1.
  std::int64_t first_dirty_guard() const {
    const std::int64_t total = static_cast<std::int64_t>(4 * storage_.size());
    for (std::int64_t i = n_; i < total; ++i) {
      if (data()[i] != kPoison) return i;
    }
    return -1;
  }

 private:
  std::int64_t n_;
  std::vector<float4> storage_;
};

Buffer random_input(std::int64_t n, std::uint64_t seed) {
  Buffer in(n, 4);
  if (n > 0) gnm::fill_uniform(in.values(), seed, -1.0f, 1.0f);
  return in;
}

enum class Rung { naive, tiled, tiled_padded, tiled_padded_ilp };

// Mirrors the launch configuration of gnm::cuda::transpose (transpose.cu), except that gridDim.y
// may be capped below the hardware's 65535 to force the row-tile loop (Note [Tile loop]).
void emu_transpose(const float* in, float* out, std::int64_t rows, std::int64_t cols, Rung rung,
                   std::int64_t max_grid_y = td::kMaxGridY) {
  const std::int64_t col_tiles = td::ceil_div(cols, td::kTile);
  const bool short_blocks = rung == Rung::naive || rung == Rung::tiled_padded_ilp;
  const std::int64_t tile_rows = rung == Rung::naive ? td::kBlockRows : td::kTile;
  const std::int64_t row_tiles = td::ceil_div(rows, tile_rows);
  const dim3 grid(static_cast<unsigned>(col_tiles),
                  static_cast<unsigned>(std::min(row_tiles, max_grid_y)));
  const dim3 block(td::kTile, short_blocks ? td::kBlockRows : td::kTile);
  switch (rung) {
    case Rung::naive:
      emu_launch(grid, block, td::transpose_naive_kernel, in, out, rows, cols, row_tiles);
      break;
    case Rung::tiled:
      emu_launch(grid, block, td::transpose_tiled_kernel<0>, in, out, rows, cols, row_tiles);
      break;
    case Rung::tiled_padded:
      emu_launch(grid, block, td::transpose_tiled_kernel<1>, in, out, rows, cols, row_tiles);
      break;
    case Rung::tiled_padded_ilp:
      emu_launch(grid, block, td::transpose_padded_ilp_kernel, in, out, rows, cols, row_tiles);
      break;
  }
}

// Exact check of out = inᵀ plus the guard zone; returns the number of wrong elements.
std::int64_t count_wrong(const Buffer& in, const Buffer& out, std::int64_t rows,
                         std::int64_t cols) {
  std::int64_t wrong = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      if (out.data()[c * rows + r] != in.data()[r * cols + c]) ++wrong;
    }
  }
  return wrong;
}

struct Shape {
  std::int64_t rows, cols;
};

// Odd shapes: single elements, single rows/columns, one short of and one past the 32 × 32 tile,
// primes, and a tall matrix with many row tiles. Under ThreadSanitizer, whose barrier phases with
// 1024 threads cost tens of milliseconds, a subset that still has partial tiles on both edges and
// several tiles per block: races need a second tile, not a big matrix.
#if defined(__SANITIZE_THREAD__)
constexpr bool kUnderTsan = true;
const Shape kShapes[] = {{1, 1}, {31, 33}, {33, 65}, {97, 13}};
#else
constexpr bool kUnderTsan = false;
const Shape kShapes[] = {{1, 1},   {1, 70},  {70, 1},  {31, 33},
                         {32, 32}, {33, 65}, {97, 13}, {1000, 3}};
#endif
const Rung kRungs[] = {Rung::naive, Rung::tiled, Rung::tiled_padded, Rung::tiled_padded_ilp};

std::string describe(Rung rung, Shape s, std::int64_t grid_y) {
  return "rung " + std::to_string(static_cast<int>(rung)) + ", " + std::to_string(s.rows) + " x " +
         std::to_string(s.cols) + ", gridDim.y cap " + std::to_string(grid_y);
}

void check_transpose(Rung rung, Shape s, std::int64_t max_grid_y) {
  const std::int64_t n = s.rows * s.cols;
  const Buffer in = random_input(n, static_cast<std::uint64_t>(1000 * s.rows + s.cols));
  Buffer out(n, 64);
  emu_transpose(in.data(), out.data(), s.rows, s.cols, rung, max_grid_y);
  EXPECT_EQ(count_wrong(in, out, s.rows, s.cols), 0) << describe(rung, s, max_grid_y);
  EXPECT_EQ(out.first_dirty_guard(), -1) << describe(rung, s, max_grid_y);
}

TEST(TransposeEmulated, EveryRungEveryShapeExact) {
  for (const Rung rung : kRungs) {
    for (const Shape s : kShapes) check_transpose(rung, s, td::kMaxGridY);
  }
}

TEST(TransposeEmulated, RowTileLoopWithCappedGridY) {
  // 97 rows are 4 row tiles of 32 (13 of 8 for naive); gridDim.y = 1 or 3 makes each block loop,
  // with an uneven trip count for gridDim.y = 3.
  for (const Rung rung : kRungs) {
    for (const std::int64_t grid_y : {1, 3}) {
      if (kUnderTsan && grid_y == 1) continue;  // gridDim.y = 3 loops too, unevenly
      check_transpose(rung, {97, 45}, grid_y);
    }
  }
}

// Mirrors gnm::cuda::copy's launch (transpose.cu); `max_blocks` may force the grid-stride loop.
void emu_copy(const float* in, float* out, std::int64_t n, std::int64_t max_blocks,
              unsigned block = td::kCopyBlock) {
  const bool aligned = reinterpret_cast<std::uintptr_t>(in) % 16 == 0 &&
                       reinterpret_cast<std::uintptr_t>(out) % 16 == 0;
  if (aligned) {
    const std::int64_t n4 = n / 4;
    const int tail = static_cast<int>(n - 4 * n4);
    const std::int64_t work = std::max<std::int64_t>(n4, tail);
    const auto blocks = std::min(td::ceil_div(work, block), max_blocks);
    emu_launch(dim3(static_cast<unsigned>(blocks)), dim3(block), td::copy_vec4_kernel,
               reinterpret_cast<const float4*>(in), reinterpret_cast<float4*>(out), n4,
               in + 4 * n4, out + 4 * n4, tail);
  } else {
    const auto blocks = std::min(td::ceil_div(n, block), max_blocks);
    emu_launch(dim3(static_cast<unsigned>(blocks)), dim3(block), td::copy_scalar_kernel, in, out,
               n);
  }
}

TEST(TransposeEmulated, CopyAlignedUnalignedAndGridStride) {
  for (const std::int64_t n : {1, 2, 3, 4, 5, 7, 8, 255, 256, 257, 1027}) {
    if (kUnderTsan && n != 5 && n != 1027) continue;  // a tail, and a grid-stride loop
    for (const std::int64_t offset : {0, 1}) {  // 1 float off: the scalar kernel
      for (const std::int64_t max_blocks : {td::kMaxCopyBlocks, std::int64_t{1}}) {
        for (const unsigned block : {unsigned{td::kCopyBlock}, 32u}) {
          const Buffer in = random_input(n + offset, static_cast<std::uint64_t>(n));
          Buffer out(n + offset, 32);
          emu_copy(in.data() + offset, out.data() + offset, n, max_blocks, block);
          std::int64_t wrong = 0;
          for (std::int64_t i = offset; i < n + offset; ++i) {
            if (out.data()[i] != in.data()[i]) ++wrong;
          }
          const std::string what = "n " + std::to_string(n) + ", offset " +
                                   std::to_string(offset) + ", max blocks " +
                                   std::to_string(max_blocks) + ", block " + std::to_string(block);
          EXPECT_EQ(wrong, 0) << what;
          EXPECT_EQ(out.first_dirty_guard(), -1) << what;
          if (offset == 1) {
            EXPECT_EQ(out.data()[0], kPoison) << what;
          }
        }
      }
    }
  }
}

// Negative control: the padded tiled kernel with one realistic bug — the store checks the column
// with tx where it must use ty (c0 + tx < cols instead of c0 + ty < cols). Otherwise the text of
// transpose_tiled_kernel<1>. On a 40 × 20 matrix thread (tx = 0, ty = 20) writes out[20 · 40],
// just past out's 800 elements, and the threads with tx ≥ 20 skip elements they own. Both
// outcomes are deterministic (each element has one writer), so the harness must see them on every
// run. (A removed second __syncthreads() is caught too, but as a race: only TSan sees it for sure,
// in RowTileLoopWithCappedGridY, where blocks do more than one tile.)
__global__ void buggy_transpose_kernel(const float* __restrict__ in, float* __restrict__ out,
                                       std::int64_t rows, std::int64_t cols,
                                       std::int64_t row_tiles) {
  __shared__ float tile[td::kTile][td::kTile + 1];
  const int tx = static_cast<int>(threadIdx.x);
  const int ty = static_cast<int>(threadIdx.y);
  const std::int64_t c0 = static_cast<std::int64_t>(blockIdx.x) * td::kTile;
  for (std::int64_t t = blockIdx.y; t < row_tiles; t += gridDim.y) {
    const std::int64_t r0 = t * td::kTile;
    if (r0 + ty < rows && c0 + tx < cols) tile[ty][tx] = in[(r0 + ty) * cols + c0 + tx];
    __syncthreads();
    if (c0 + tx < cols && r0 + tx < rows) out[(c0 + ty) * rows + r0 + tx] = tile[tx][ty];  // BUG
    __syncthreads();
  }
}

TEST(TransposeEmulated, NegativeControlCatchesSwappedBoundCheck) {
  const std::int64_t rows = 40, cols = 20;
  const Buffer in = random_input(rows * cols, 7);
  // The guard covers every address the bug can reach, (c0 + 31) · rows + r0 + 31, so the stray
  // writes land in poisoned memory we own (AddressSanitizer stays quiet, the guard check trips).
  Buffer out(rows * cols, 32 * (rows + 1));
  const std::int64_t row_tiles = td::ceil_div(rows, td::kTile);
  emu_launch(dim3(1, static_cast<unsigned>(row_tiles)), dim3(td::kTile, td::kTile),
             buggy_transpose_kernel, in.data(), out.data(), rows, cols, row_tiles);
  EXPECT_GT(count_wrong(in, out, rows, cols), 0) << "the harness missed skipped elements";
  EXPECT_EQ(out.first_dirty_guard(), rows * cols) << "the harness missed the out-of-bounds write";
  // And the real kernel passes the same case.
  check_transpose(Rung::tiled_padded, {rows, cols}, td::kMaxGridY);
}

}  // namespace
