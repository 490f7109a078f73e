// Chapter 1's GPU kernels (chapters/ch01_gpu_native_ml/gpu_roofline_kernels.cuh, the text nvcc
// compiles into the chapter program) run on the CPU through the host emulator with the chapter's
// 256-thread blocks: the FMA chains exact against the closed form the chapter checks on the
// device, the index fill (the copy's source; the chapter verifies the copy word by word against
// it) exact with a small grid so the grid-stride loop turns, odd sizes and guard zones, and the
// empty kernel launches. Plus a negative control.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "emu_test_support.hpp"
#include "ch01_gpu_native_ml/gpu_roofline_kernels.cuh"  // the real kernels, after the emulator

namespace {

using gnm::emu::test::kUnderTsan;

using gnm::emu::emu_launch;
namespace rk = gnm::ch01::roofline_kernels;

constexpr int kBlock = 256;  // the chapter's block size
constexpr std::size_t kGuard = 41;
constexpr float kPoison = -777.0f;
constexpr std::uint32_t kWordPoison = 0xDEADBEEFu;

TEST(Ch01RooflineEmulated, FmaChainsMatchClosedForm) {
  // a = 1, b = 2^-10 as the chapter launches it, with its --quick iteration count (4096) on 2
  // blocks (the device runs SMs × 16): every step is exact, so each thread's sum is exactly
  // Σ_c (0.25 c + iterations · 2^-10) (≤ 46, a multiple of 2^-10: 16 significant bits).
  for (const int iterations : {0, 1, 7, kUnderTsan ? 64 : 4096}) {
    const unsigned grid = 2;
    std::vector<float> out(grid * kBlock + kGuard, kPoison);
    emu_launch(dim3(grid), dim3(kBlock), rk::fma_kernel, 1.0f, 0x1p-10f, iterations, out.data());
    double expected = 0;
    for (int c = 0; c < rk::kGpuChains; ++c) expected += 0.25 * c + iterations * 0x1p-10;
    for (std::size_t i = 0; i < grid * kBlock; ++i)
      EXPECT_EQ(static_cast<double>(out[i]), expected) << "iterations " << iterations << ", " << i;
    EXPECT_TRUE(std::all_of(out.begin() + grid * kBlock, out.end(),
                            [](float v) { return v == kPoison; }));
  }
  // a = -1/2, b = 1/3 (rounded): fmaf rounds once on both sides, so std::fma in float
  // reproduces each chain bit for bit.
  std::vector<float> out(kBlock, kPoison);
  const float a = -0.5f, b = 1.0f / 3.0f;
  emu_launch(dim3(1), dim3(kBlock), rk::fma_kernel, a, b, 50, out.data());
  float expect = 0.0f;
  for (int c = 0; c < rk::kGpuChains; ++c) {
    float x = 0.25f * static_cast<float>(c);
    for (int i = 0; i < 50; ++i) x = std::fma(x, a, b);
    expect += x;
  }
  for (const float v : out) EXPECT_EQ(v, expect);
}

// Runs an iota-like kernel over n words with `grid` blocks; returns wrong words + dirty guards.
template <class Kernel>
std::size_t iota_errors(Kernel kernel, std::size_t n, unsigned grid) {
  std::vector<std::uint32_t> p(n + kGuard, kWordPoison);
  emu_launch(dim3(grid), dim3(kBlock), kernel, p.data(), n);
  std::size_t errors = 0;
  for (std::size_t i = 0; i < n; ++i) {
    // The low 32 bits of the 64-bit product, as the chapter's host check computes them.
    errors += p[i] != static_cast<std::uint32_t>(static_cast<std::uint64_t>(i) * 2654435761u);
  }
  for (std::size_t i = n; i < p.size(); ++i) errors += p[i] != kWordPoison;
  return errors;
}

TEST(Ch01RooflineEmulated, IotaFillsEveryWordOnce) {
  const std::vector<std::size_t> sizes =
      kUnderTsan ? std::vector<std::size_t>{1, 257, 3001}
                 : std::vector<std::size_t>{0, 1, 255, 256, 257, 3001, 20011};
  for (const std::size_t n : sizes) {
    const auto per_word =
        static_cast<unsigned>(std::max<std::size_t>(1, (n + kBlock - 1) / kBlock));
    for (const unsigned grid : {1u, 3u, per_word}) {
      EXPECT_EQ(iota_errors(rk::iota_kernel, n, grid), 0u) << n << " words, grid " << grid;
    }
  }
}

TEST(Ch01RooflineEmulated, EmptyKernelLaunches) {
  emu_launch(dim3(2), dim3(kBlock), rk::empty_kernel);
  SUCCEED();
}

// Negative control: the fill with an off-by-one bound (i <= n): the last thread to reach n writes
// one word past the end, into the guard zone, and the check must say so.
__global__ void iota_off_by_one_kernel(std::uint32_t* p, std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i <= n;  // BUG: <
       i += std::size_t{gridDim.x} * blockDim.x) {
    p[i] = static_cast<std::uint32_t>(i * 2654435761u);
  }
}

TEST(Ch01RooflineEmulated, NegativeControlCatchesOffByOneBound) {
  EXPECT_GT(iota_errors(iota_off_by_one_kernel, 1031, 3), 0u) << "the harness missed it";
  EXPECT_EQ(iota_errors(rk::iota_kernel, 1031, 3), 0u);
}

}  // namespace
