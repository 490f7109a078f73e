// Chapter 6's device probes (chapters/ch06_gpu_architecture/occupancy_kernels.cuh and
// roofline_kernels.cuh, the text nvcc compiles into the chapter program) run on the CPU through
// the host emulator: 6.5's stream kernel with the sweep's 256-thread blocks and a small grid (so
// the grid-stride loop turns), odd float4 counts and guard zones, exact (×2 is exact); the three
// occupancy kernels the chapter only queries, each against its closed form; 6.6's FMA chains,
// exact against the closed form the chapter checks on the device. Plus a negative control.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "emu_test_support.hpp"
#include "ch06_gpu_architecture/occupancy_kernels.cuh"  // the real kernels, after the emulator
#include "ch06_gpu_architecture/roofline_kernels.cuh"
#include "gnm/core/random.hpp"

namespace {

using gnm::emu::test::kUnderTsan;
using gnm::emu::test::random_floats;

using gnm::emu::emu_launch;
namespace ok = chapter06::occupancy_kernels;
namespace rk = chapter06::roofline_kernels;

constexpr float kPoison = -777.0f;
constexpr std::size_t kGuard = 37;
constexpr int kBlock = 256;  // the chapter's block size (sweep and FMA ceiling)

std::size_t guard_dirty(const std::vector<float>& buf, std::size_t n) {
  return static_cast<std::size_t>(std::count_if(buf.begin() + static_cast<std::ptrdiff_t>(n),
                                                buf.end(), [](float v) { return v != kPoison; }));
}

// ---- 6.5 stream kernel: out = 2 in, float4 at a time ----

// Runs `kernel` over n4 float4s with `grid` blocks of 256; returns the number of wrong outputs
// plus written guard floats.
template <class Kernel>
std::size_t stream_errors(Kernel kernel, std::int64_t n4, unsigned grid) {
  const std::size_t n = static_cast<std::size_t>(n4) * 4;
  const std::vector<float> in = random_floats(n, static_cast<std::uint64_t>(n4) + 11);
  std::vector<float4> d_in(static_cast<std::size_t>(n4));
  std::vector<float4> d_out(static_cast<std::size_t>(n4) + kGuard);
  std::copy(in.begin(), in.end(), reinterpret_cast<float*>(d_in.data()));
  std::fill_n(reinterpret_cast<float*>(d_out.data()), d_out.size() * 4, kPoison);
  emu_launch(dim3(grid), dim3(kBlock), kernel, static_cast<const float4*>(d_in.data()),
             d_out.data(), n4);
  const float* out = reinterpret_cast<const float*>(d_out.data());
  std::size_t errors = 0;
  for (std::size_t i = 0; i < n; ++i) errors += out[i] != 2.0f * in[i];  // ×2 is exact
  for (std::size_t i = n; i < d_out.size() * 4; ++i) errors += out[i] != kPoison;
  return errors;
}

TEST(Ch06ProbesEmulated, StreamKernelDoublesEveryFloat4) {
  // Grids of 1 and 3 blocks (the loop turns many times) and one block per float4 group.
  const std::vector<std::int64_t> sizes =
      kUnderTsan ? std::vector<std::int64_t>{1, 257, 1031}
                 : std::vector<std::int64_t>{1, 7, 255, 256, 257, 1031, 5003};
  for (const std::int64_t n4 : sizes) {
    for (const unsigned grid : {1u, 3u, static_cast<unsigned>((n4 + kBlock - 1) / kBlock)}) {
      EXPECT_EQ(stream_errors(ok::occ_stream_kernel, n4, grid), 0u)
          << n4 << " float4s, grid " << grid;
    }
  }
  EXPECT_EQ(stream_errors(ok::occ_stream_kernel, 0, 2), 0u) << "empty";
}

// Negative control: the stream kernel without its grid-stride loop (one float4 per thread). With
// fewer threads than float4s it leaves outputs poisoned, and the check must say so.
__global__ void stream_no_loop_kernel(const float4* __restrict__ in, float4* __restrict__ out,
                                      std::int64_t n4) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n4) {
    const float4 v = in[i];
    out[i] = make_float4(2.0f * v.x, 2.0f * v.y, 2.0f * v.z, 2.0f * v.w);
  }
}

TEST(Ch06ProbesEmulated, NegativeControlCatchesMissingGridStride) {
  EXPECT_GT(stream_errors(stream_no_loop_kernel, 1031, 3), 0u) << "the harness missed it";
  EXPECT_EQ(stream_errors(stream_no_loop_kernel, 1031, 5), 0u) << "one thread per float4 is right";
  EXPECT_EQ(stream_errors(ok::occ_stream_kernel, 1031, 3), 0u);
}

// ---- 6.5's queried kernels, run anyway: each against its closed form ----

TEST(Ch06ProbesEmulated, LightKernelIsTwoXPlusOne) {
  for (const int n : {1, 255, 257, 1000}) {
    const std::vector<float> x =
        random_floats(static_cast<std::size_t>(n), 5 + static_cast<std::uint64_t>(n));
    const unsigned grid = static_cast<unsigned>((n + kBlock - 1) / kBlock);
    std::vector<float> y(grid * kBlock + kGuard, kPoison);
    emu_launch(dim3(grid), dim3(kBlock), ok::occ_light_kernel, x.data(), y.data(), n);
    // 2x is exact, so 2x + 1 rounds once whether or not the GPU fuses it into an FMA.
    for (int i = 0; i < n; ++i)
      EXPECT_EQ(y[static_cast<std::size_t>(i)], 2.0f * x[static_cast<std::size_t>(i)] + 1.0f)
          << "n " << n << ", i " << i;
    EXPECT_EQ(guard_dirty(y, static_cast<std::size_t>(n)), 0u) << "n " << n;
  }
}

TEST(Ch06ProbesEmulated, SmemKernelReadsTheSlotItsNeighbourWrote) {
  // Slot k holds the element of the block's thread k mod blockDim (0 past the end); thread t
  // reads slot 17t mod 4096. Block sizes 64 and 256, n not a multiple of either.
  for (const int block : {64, kBlock}) {
    for (const int n : {1, 300, 1000}) {
      if (kUnderTsan && n == 1000) continue;
      const std::vector<float> x = random_floats(static_cast<std::size_t>(n), 17);
      const int grid = (n + block - 1) / block;
      std::vector<float> y(static_cast<std::size_t>(n) + kGuard, kPoison);
      emu_launch(dim3(static_cast<unsigned>(grid)), dim3(static_cast<unsigned>(block)),
                 ok::occ_smem_kernel, x.data(), y.data(), n);
      for (int i = 0; i < n; ++i) {
        const int t = i % block, base = i - t;
        const int src = base + (t * 17 % 4096) % block;
        const float expect = src < n ? x[static_cast<std::size_t>(src)] : 0.0f;
        EXPECT_EQ(y[static_cast<std::size_t>(i)], expect) << "block " << block << ", n " << n
                                                          << ", i " << i;
      }
      EXPECT_EQ(guard_dirty(y, static_cast<std::size_t>(n)), 0u) << "block " << block;
    }
  }
}

TEST(Ch06ProbesEmulated, HeavyKernelMatchesItsRecurrence) {
  // The same recurrence in float, operation by operation. Exact here (the emulated tests build
  // with -ffp-contract=off, so a·b + x rounds twice on both sides); on the GPU nvcc contracts it
  // into an FMA, so only this CPU run is bit-exact. Inputs in [-1/4, 1/4] keep |acc| <= 1/2
  // (a² + 1/4 <= a for a = 1/2): nothing overflows.
  constexpr int kAcc = 64;
  for (const int n : {1, 5, 33}) {
    const std::vector<float> x = random_floats(static_cast<std::size_t>(n), 23, -0.25f, 0.25f);
    const int grid = 2;
    std::vector<float> y(static_cast<std::size_t>(grid * kBlock) + kGuard, kPoison);
    emu_launch(dim3(grid), dim3(kBlock), ok::occ_heavy_kernel<kAcc>, x.data(), y.data(), n);
    for (int i = 0; i < grid * kBlock; ++i) {
      const int t = i % kBlock;
      float acc[kAcc];
      for (int j = 0; j < kAcc; ++j) acc[j] = x[static_cast<std::size_t>((t + j) % n)];
      for (int it = 0; it < n; ++it) {
        for (int j = 0; j < kAcc; ++j) {
          const float p = acc[j] * acc[(j + 1) % kAcc];
          acc[j] = p + x[static_cast<std::size_t>((it + j) % n)];
        }
      }
      float s = 0.0f;
      for (int j = 0; j < kAcc; ++j) s += acc[j];
      EXPECT_EQ(y[static_cast<std::size_t>(i)], s) << "n " << n << ", thread " << i;
    }
    EXPECT_EQ(guard_dirty(y, static_cast<std::size_t>(grid * kBlock)), 0u) << "n " << n;
  }
}

// ---- 6.6 FMA chains ----

TEST(Ch06ProbesEmulated, FmaPeakMatchesClosedForm) {
  // The chapter's launch: 256-thread blocks, a = 1, b = 2^-10, its --quick iteration count
  // (2048) on 3 blocks (the device runs SMs × 16 of them). Every step is exact, so each thread's
  // sum is exactly Σ_c (0.25 c + iterations · 2^-10).
  for (const int iterations : {0, 1, 2048}) {
    const unsigned grid = 3;
    std::vector<float> out(grid * kBlock + kGuard, kPoison);
    emu_launch(dim3(grid), dim3(kBlock), rk::fma_peak_kernel, 1.0f, 0x1p-10f, iterations,
               out.data());
    double expected = 0;
    for (int c = 0; c < rk::kChains; ++c) expected += 0.25 * c + iterations * 0x1p-10;
    for (std::size_t i = 0; i < grid * kBlock; ++i)
      EXPECT_EQ(static_cast<double>(out[i]), expected) << "iterations " << iterations << ", " << i;
    EXPECT_EQ(guard_dirty(out, grid * kBlock), 0u);
  }
  // A contracting map (a = 1/2, b = 1/4): not exact per step, but fmaf rounds once on both
  // sides, so the float recurrence with std::fma reproduces it bit for bit.
  std::vector<float> out(kBlock, kPoison);
  emu_launch(dim3(1), dim3(kBlock), rk::fma_peak_kernel, 0.5f, 0.25f, 100, out.data());
  float expect = 0.0f;
  for (int c = 0; c < rk::kChains; ++c) {
    float x = 0.25f * static_cast<float>(c);
    for (int i = 0; i < 100; ++i) x = std::fma(x, 0.5f, 0.25f);
    expect += x;
  }
  for (const float v : out) EXPECT_EQ(v, expect);
}

}  // namespace
