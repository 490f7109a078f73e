// Chapter 8's kernels (chapters/ch08_gpu_memory/kernels.cuh, the text nvcc compiles into the
// chapter program and ch08_chapter_gpu_tests; and solutions/ch08/pipeline_kernels.cuh, the work
// kernel of exercise 8.1b's pipeline, which the exercise gives and section 8.4 times) run on the CPU through the host emulator with the
// launch configurations of kernels.cu (grid_for, blocks of 256, gridDim.y = stride for the
// gather) and of launch_pipeline_work (pipeline_grid, blocks of 256).
// The strided gather and the offset copy move bits, so they are compared exactly; the affine
// kernel is one fmaf per element, correctly rounded on both sides, so exactly too. Outputs carry
// poisoned guard zones; grid-stride loops are forced with small grids (the capped grids of the
// real launches need millions of elements: thousands of emulated blocks for the same code path).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "emu_test_support.hpp"
#include "ch08/pipeline_kernels.cuh"       // exercise 8.1b's given work kernel
#include "ch08_gpu_memory/kernels.cuh"  // the real kernels, after the emulator
#include "gnm/core/random.hpp"

namespace {

using gnm::emu::test::kUnderTsan;
using gnm::emu::test::random_floats;

using gnm::emu::emu_launch;
namespace kd = chapter08::kernels_detail;

constexpr float kPoison = -777.0f;
constexpr std::int64_t kGuard = 64;

std::vector<float> poisoned(std::int64_t n) {
  return std::vector<float>(static_cast<std::size_t>(n + kGuard), kPoison);
}

bool guard_clean(const std::vector<float>& buf, std::size_t n) {
  return gnm::emu::test::guard_clean(buf, n, kPoison);
}

// The grid x size: kernels.cu's grid_for(n), or a smaller cap to force the grid-stride loop.
unsigned grid_x(std::int64_t work, unsigned cap) { return std::min(kd::grid_for(work), cap); }

constexpr unsigned kNoCap = 1u << 30;

// Independent statement of the gather (kernels.hpp): out[q·m + r] = in[r·stride + q].
void check_gather(std::int64_t n, int stride, unsigned cap) {
  const std::int64_t m = n / stride;
  const std::vector<float> in = random_floats(n, static_cast<std::uint64_t>(n * 1031 + stride));
  std::vector<float> out = poisoned(n);
  emu_launch(dim3(grid_x(m, cap), static_cast<unsigned>(stride)), dim3(kd::kBlock),
             kd::strided_gather_kernel, in.data(), out.data(), m, stride);
  std::int64_t wrong = 0;
  for (std::int64_t q = 0; q < stride; ++q) {
    for (std::int64_t r = 0; r < m; ++r) {
      if (out[static_cast<std::size_t>(q * m + r)] != in[static_cast<std::size_t>(r * stride + q)]) {
        ++wrong;
      }
    }
  }
  const std::string what = "n " + std::to_string(n) + ", stride " + std::to_string(stride) +
                           ", grid cap " + std::to_string(cap);
  EXPECT_EQ(wrong, 0) << what;
  EXPECT_TRUE(guard_clean(out, n)) << what;
}

TEST(Ch08KernelsEmulated, StridedGatherExact) {
  struct Case {
    std::int64_t m;
    int stride;
  };
  // m = 1, below a warp, around one block's 256 · 4 elements, primes; strides 1, 2, a prime, 32.
  const Case cases[] = {{1, 1}, {1, 7}, {5, 3}, {31, 32}, {1023, 2}, {1025, 1}, {257, 7}, {97, 32}};
  for (const Case c : cases) {
    if (kUnderTsan && c.m * c.stride > 1100) continue;  // the loop and the edges, not the bulk
    check_gather(c.m * c.stride, c.stride, kNoCap);
    check_gather(c.m * c.stride, c.stride, 1);  // one block per slice: the loop runs
  }
}

void check_offset_copy(std::int64_t n, int offset, unsigned cap) {
  const std::vector<float> in = random_floats(n + offset, static_cast<std::uint64_t>(n + 7 * offset));
  std::vector<float> out = poisoned(n);
  emu_launch(dim3(grid_x(n, cap)), dim3(kd::kBlock), kd::offset_copy_kernel, in.data(),
             out.data(), n, offset);
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (out[static_cast<std::size_t>(i)] != in[static_cast<std::size_t>(i + offset)]) ++wrong;
  }
  const std::string what = "n " + std::to_string(n) + ", offset " + std::to_string(offset) +
                           ", grid cap " + std::to_string(cap);
  EXPECT_EQ(wrong, 0) << what;
  EXPECT_TRUE(guard_clean(out, n)) << what;
}

TEST(Ch08KernelsEmulated, OffsetCopyExact) {
  for (const std::int64_t n : {1, 2, 31, 1024, 1025, 4099}) {
    if (kUnderTsan && (n == 2 || n == 1024)) continue;
    for (const int offset : {0, 1, 31, 1024}) {
      check_offset_copy(n, offset, kNoCap);
      if (n > 1024) check_offset_copy(n, offset, 2);  // 2 blocks: each thread loops
    }
  }
}

// out = fmaf(in, a, b), out of place and in place (the kernel has no __restrict__ for that).
void check_affine(std::int64_t n, unsigned cap, bool in_place) {
  const float a = 1.0f + 0x1p-12f, b = -0.375f;
  const std::vector<float> in = random_floats(n, static_cast<std::uint64_t>(n + 99));
  std::vector<float> out = poisoned(n);
  const float* src = in.data();
  if (in_place) {
    std::copy(in.begin(), in.end(), out.begin());
    src = out.data();
  }
  emu_launch(dim3(grid_x(n, cap)), dim3(kd::kBlock), kd::affine_kernel, src, out.data(), n, a, b);
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    if (out[k] != std::fma(in[k], a, b)) ++wrong;
  }
  const std::string what = "n " + std::to_string(n) + ", grid cap " + std::to_string(cap) +
                           (in_place ? ", in place" : "");
  EXPECT_EQ(wrong, 0) << what;
  EXPECT_TRUE(guard_clean(out, n)) << what;
}

TEST(Ch08KernelsEmulated, AffineExactInAndOutOfPlace) {
  for (const std::int64_t n : {1, 3, 255, 1024, 1025, 5003}) {
    if (kUnderTsan && n != 1 && n != 1025) continue;
    for (const bool in_place : {false, true}) {
      check_affine(n, kNoCap, in_place);
      check_affine(n, 3, in_place);
    }
  }
}

TEST(Ch08KernelsEmulated, GridForArithmetic) {
  EXPECT_EQ(kd::grid_for(0), 1u);  // never a zero-block launch
  EXPECT_EQ(kd::grid_for(1), 1u);
  EXPECT_EQ(kd::grid_for(1024), 1u);  // 256 threads × 4 elements
  EXPECT_EQ(kd::grid_for(1025), 2u);
  EXPECT_EQ(kd::grid_for(std::int64_t{1} << 40), 4096u);  // capped: the loop does the rest
}

// Negative control: the offset copy with a realistic slip, the `i < n` checks dropped (the
// loop condition base < n only covers k = 0). With n = 300 and one block of 256 threads the
// stores for k = 1, 2, 3 reach out[256 … 1023]: past n, into the guard.
__global__ void buggy_offset_copy_kernel(const float* __restrict__ in, float* __restrict__ out,
                                         std::int64_t n, int offset) {
  const std::int64_t threads = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       base < n; base += threads * kd::kUnroll) {
    for (int k = 0; k < kd::kUnroll; ++k) {
      const std::int64_t i = base + k * threads;
      out[i] = in[i + offset];  // BUG: no i < n check
    }
  }
}

TEST(Ch08KernelsEmulated, NegativeControlCatchesMissingBoundCheck) {
  // Buffers of 4 · 256 floats, so the stray accesses stay in memory we own.
  const std::int64_t n = 300;
  std::vector<float> in(static_cast<std::size_t>(4 * 256 + 1), 1.0f);
  std::vector<float> out(static_cast<std::size_t>(4 * 256), kPoison);
  emu_launch(dim3(1), dim3(kd::kBlock), buggy_offset_copy_kernel, in.data(), out.data(), n, 1);
  EXPECT_FALSE(std::all_of(out.begin() + n, out.end(), [](float v) { return v == kPoison; }))
      << "the guard check missed writes past n";
}

// ---- exercise 8.1b's work kernel ----

// x[i] ← iters dependent fmaf(x, a, b): the same correctly rounded FMAs as std::fma, so exact.
void check_pipeline_work(std::int64_t n, int iters, unsigned cap) {
  namespace pd = gnm::ch08::pipeline_detail;
  const float a = 0.9999f, b = 1e-4f;  // the exercise test's constants
  const std::vector<float> in = random_floats(n, static_cast<std::uint64_t>(n + 800));
  std::vector<float> x = poisoned(n);
  std::copy(in.begin(), in.end(), x.begin());
  emu_launch(dim3(std::min(pd::pipeline_grid(n), cap)), dim3(pd::kBlock), pd::pipeline_work_kernel,
             x.data(), n, a, b, iters);
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    float want = in[static_cast<std::size_t>(i)];
    for (int r = 0; r < iters; ++r) want = std::fma(want, a, b);
    if (x[static_cast<std::size_t>(i)] != want) ++wrong;
  }
  const std::string what = "n " + std::to_string(n) + ", iters " + std::to_string(iters) +
                           ", grid cap " + std::to_string(cap);
  EXPECT_EQ(wrong, 0) << what;
  EXPECT_TRUE(guard_clean(x, n)) << what;
}

TEST(Ch08KernelsEmulated, PipelineWorkKernelExact) {
  for (const std::int64_t n : {1, 7, 255, 256, 257, 3001}) {
    if (kUnderTsan && n != 1 && n != 257) continue;
    for (const int iters : {0, 1, 9}) {
      check_pipeline_work(n, iters, kNoCap);
      if (n > 256) check_pipeline_work(n, iters, 2);  // 2 blocks: the grid-stride loop runs
    }
  }
}

TEST(Ch08KernelsEmulated, PipelineGridArithmetic) {
  namespace pd = gnm::ch08::pipeline_detail;
  EXPECT_EQ(pd::pipeline_grid(1), 1u);
  EXPECT_EQ(pd::pipeline_grid(256), 1u);
  EXPECT_EQ(pd::pipeline_grid(257), 2u);
  EXPECT_EQ(pd::pipeline_grid(std::int64_t{1} << 40), 1056u);  // 132 SMs × 8
}

}  // namespace
