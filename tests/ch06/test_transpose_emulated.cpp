// Exercise 6.4b (transpose_padded_kernel) on the CPU: the kernel text of the build's
// padded_transpose_kernels.cuh — solutions/ch06, the generated stub, or the learner's
// exercises/ch06 — compiled by g++ and run by the host emulator (tests/emu/cuda_host_emulator.hpp:
// one std::thread per CUDA thread, blocks one after another, __syncthreads() a real barrier).
// No GPU needed, so the stub check fails these tests on every machine: the stub kernel leaves the
// output poisoned, and the stub's transpose_config throws NotImplemented.
//
// A transpose moves bits, so every element is compared exactly (memcmp) with a CPU transpose.
// The output sits between poisoned guard zones that must come back untouched (nothing outside
// its rows·cols elements is written); the input is allocated at its exact size, so
// AddressSanitizer sees a read past it, and ThreadSanitizer a missing barrier (a second tile on
// the same block reuses the shared tile: the capped-grid cases).
// Run: ctest --test-dir build -L exercise -R PaddedTransposeEmulated --output-on-failure
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "padded_transpose_kernels.cuh"  // this build's kernel (include path set per build)
#include "gnm/core/random.hpp"
#include "transpose.hpp"

namespace {

namespace ch06 = gnm::ch06;
using gnm::emu::emu_launch;

// out (cols × rows) from in (rows × cols), both row-major; the launcher under test.
using Launcher =
    std::function<void(const float* in, float* out, std::int64_t rows, std::int64_t cols)>;

constexpr float kPoison = -12345.0f;  // outside the inputs' range [-2, 2), so a stray write shows
constexpr std::size_t kFrontGuard = 37, kTailGuard = 61;

// transpose_padded of transpose.cu on the emulator: the same configuration, grid, block and
// arguments, without the stream.
void emu_transpose_padded(const float* in, float* out, std::int64_t rows, std::int64_t cols) {
  const ch06::TransposeConfig cfg = ch06::transpose_config(rows, cols);
  if (cfg.grid_x == 0) return;
  const dim3 grid(static_cast<unsigned>(cfg.grid_x), static_cast<unsigned>(cfg.grid_y));
  const dim3 block(static_cast<unsigned>(cfg.block_x), static_cast<unsigned>(cfg.block_y));
  emu_launch(grid, block, &ch06::transpose_padded_kernel, in, out, rows, cols, cfg.row_tiles);
}

// The kernel alone, launched as transpose.hpp documents the configuration (32 × 8 blocks,
// ceil(cols / 32) × grid_y blocks, row_tiles = ceil(rows / 32)) but with a chosen grid_y (0: one
// block row per row tile). transpose_config has no cap parameter (it caps grid_y at the constant
// kTransposeMaxGridY = 65535, far beyond what an emulated test can run), so the row-tile loop is
// turned by launching a smaller grid.y here directly. A learner gets the kernel checked before
// the configuration is written.
Launcher kernel_alone(unsigned grid_y) {
  return [grid_y](const float* in, float* out, std::int64_t rows, std::int64_t cols) {
    if (rows == 0 || cols == 0) return;
    const std::int64_t tile = ch06::kTransposeTile;
    const std::int64_t row_tiles = (rows + tile - 1) / tile;
    const dim3 grid(static_cast<unsigned>((cols + tile - 1) / tile),
                    grid_y == 0 ? static_cast<unsigned>(row_tiles) : grid_y);
    const dim3 block(ch06::kTransposeTile, ch06::kTransposeBlockRows);
    emu_launch(grid, block, &ch06::transpose_padded_kernel, in, out, rows, cols, row_tiles);
  };
}

std::string shape(std::int64_t rows, std::int64_t cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

// Runs `launch` on a random rows × cols matrix; returns "" when the output is the exact transpose
// and both guard zones are untouched, else what went wrong.
std::string run_case(const Launcher& launch, std::int64_t rows, std::int64_t cols) {
  const auto n = static_cast<std::size_t>(rows * cols);
  std::vector<float> in(n);
  if (n > 0) gnm::fill_uniform(in, static_cast<std::uint64_t>(rows * 7919 + cols), -2.0f, 2.0f);
  std::vector<float> buf(kFrontGuard + n + kTailGuard, kPoison);
  float* out = buf.data() + kFrontGuard;
  launch(in.data(), out, rows, cols);

  std::string report;
  std::int64_t wrong = 0, dirty = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const float got = out[c * rows + r];
      const float want = in[static_cast<std::size_t>(r * cols + c)];
      if (std::memcmp(&got, &want, sizeof got) != 0 && wrong++ < 3) {
        report += "\n  out[" + std::to_string(c) + "][" + std::to_string(r) + "] = " +
                  std::to_string(got) + ", want in[" + std::to_string(r) + "][" +
                  std::to_string(c) + "] = " + std::to_string(want);
      }
    }
  }
  for (std::size_t i = 0; i < buf.size(); ++i) {
    const bool in_out = i >= kFrontGuard && i < kFrontGuard + n;
    if (!in_out && std::memcmp(&buf[i], &kPoison, sizeof(float)) != 0) ++dirty;
  }
  if (wrong > 0) report += "\n  " + std::to_string(wrong) + " wrong elements";
  if (dirty > 0) report += "\n  " + std::to_string(dirty) + " guard floats written";
  return report.empty() ? report : shape(rows, cols) + ":" + report;
}

// 1 × 1; a single row and a single column over three tiles (the edge tiles are 6 wide); sizes no
// multiple of 32 on either side (31 × 33: one ragged tile row, two tile columns; 33 × 65 and
// 97 × 13: a second and a fourth row tile with one row in it). Under ThreadSanitizer, whose
// barriers cost milliseconds with 256 threads, the subset with two or more row tiles.
struct Shape {
  std::int64_t rows, cols;
};
std::vector<Shape> shapes() {
#if defined(__SANITIZE_THREAD__)
  return {{1, 1}, {31, 33}, {97, 13}};
#else
  return {{1, 1}, {1, 70}, {70, 1}, {31, 33}, {33, 65}, {97, 13}};
#endif
}

TEST(PaddedTransposeEmulated, KernelAloneOddShapes) {
  for (const Shape& s : shapes()) {
    EXPECT_EQ(run_case(kernel_alone(0), s.rows, s.cols), "") << "ex 6.4 transpose_padded_kernel";
  }
}

// grid.y < row_tiles: each block row handles tiles y, y + grid.y, …, reusing the shared tile (the
// second __syncthreads() guards that reuse). 97 × 13 has 4 row tiles, 200 × 45 has 7.
TEST(PaddedTransposeEmulated, KernelAloneCappedGridY) {
  EXPECT_EQ(run_case(kernel_alone(1), 97, 13), "") << "grid.y = 1 (4 tiles per block)";
  EXPECT_EQ(run_case(kernel_alone(3), 97, 13), "") << "grid.y = 3 (uneven: 2, 1, 1 tiles)";
#if !defined(__SANITIZE_THREAD__)
  EXPECT_EQ(run_case(kernel_alone(2), 200, 45), "") << "grid.y = 2 (7 tiles over 2 block rows)";
  EXPECT_EQ(run_case(kernel_alone(1), 33, 65), "") << "grid.y = 1 (2 tiles per block)";
#endif
}

// Through transpose_config, exactly as transpose_padded launches; a zero size launches nothing.
TEST(PaddedTransposeEmulated, ThroughConfigEveryShape) {
  for (const Shape& s : shapes()) {
    EXPECT_EQ(run_case(&emu_transpose_padded, s.rows, s.cols), "") << "ex 6.4 transpose_padded";
  }
  EXPECT_EQ(run_case(&emu_transpose_padded, 0, 5), "");
  EXPECT_EQ(run_case(&emu_transpose_padded, 5, 0), "");
}

// Negative controls: the harness must see a wrong element, a write past the end and an untouched
// output. Each starts from the build's kernel on 31 × 33 and must first pass, so this test also
// fails for the stub (it cannot pass vacuously in the stub check).
TEST(PaddedTransposeEmulated, NegativeControlHarnessCatchesFaults) {
  const Launcher good = kernel_alone(0);
  ASSERT_EQ(run_case(good, 31, 33), "") << "the kernel itself must pass first";
  const Launcher swapped = [&](const float* in, float* out, std::int64_t rows, std::int64_t cols) {
    good(in, out, rows, cols);
    std::swap(out[0], out[rows * cols - 1]);
  };
  const Launcher past_end = [&](const float* in, float* out, std::int64_t rows, std::int64_t cols) {
    good(in, out, rows, cols);
    out[rows * cols] = 0.0f;  // one element past the output: in the tail guard
  };
  const Launcher nothing = [](const float*, float*, std::int64_t, std::int64_t) {};
  EXPECT_NE(run_case(swapped, 31, 33).find("2 wrong elements"), std::string::npos);
  EXPECT_NE(run_case(past_end, 31, 33).find("1 guard floats written"), std::string::npos);
  EXPECT_NE(run_case(nothing, 31, 33).find("1023 wrong elements"), std::string::npos);
}

}  // namespace
