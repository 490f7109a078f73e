// Exercise 0.4b (saxpy_kernel) on the CPU: the kernel text of the build's saxpy_kernels.cuh —
// solutions/ch00, the generated stub, or the learner's exercises/ch00 — compiled by g++ and run by
// the host emulator (tests/emu/cuda_host_emulator.hpp: one std::thread per CUDA thread). No GPU
// needed, so the stub check fails these tests on every machine: the stub kernel leaves y as it was.
//
// Each result is compared with the double-precision reference gnm::cpu::saxpy_reference within
// gnm::cpu::saxpy_tolerance(a): a·x + y is one rounding (contracted to an FMA) or two, of terms no
// larger than |a| + 1, so the error is at most 2·eps·(|a| + 1) — far below the change of one
// missed element (|a·x| is typically 0.5·|a|). y sits between poisoned guard zones that must stay
// untouched; x is allocated at its exact size, so AddressSanitizer sees a read past it.
// Run: ctest --test-dir build -L exercise -R SaxpyEmulated --output-on-failure
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "saxpy_kernels.cuh"  // this build's kernel (include path set per build)
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/vector.hpp"
#include "saxpy.hpp"

namespace {

namespace ch00 = gnm::ch00;
using gnm::emu::emu_launch;

// y <- a·x + y over n elements; the launcher under test.
using Launcher = std::function<void(std::int64_t n, float a, const float* x, float* y)>;

constexpr float kPoison = -12345.0f;  // outside the values' range, so a stray write shows
constexpr std::size_t kGuard = 45;    // poisoned floats before and after y

// saxpy_cuda of saxpy.cu on the emulator: the same configuration, grid, block and arguments.
Launcher through_config(int block, std::int64_t max_grid = ch00::kDefaultMaxGrid) {
  return [=](std::int64_t n, float a, const float* x, float* y) {
    const ch00::LaunchConfig cfg = ch00::saxpy_launch_config(n, block, max_grid);
    if (cfg.grid == 0) return;
    emu_launch(dim3(static_cast<unsigned>(cfg.grid)), dim3(static_cast<unsigned>(cfg.block)),
               &ch00::saxpy_kernel, n, a, x, y);
  };
}

// The kernel alone with an explicit grid (0: ceil(n / block), the uncapped grid), so a learner
// gets the kernel checked before the configuration is written, and a small grid makes the
// grid-stride loop turn.
Launcher kernel_alone(int block, std::int64_t grid = 0) {
  return [=](std::int64_t n, float a, const float* x, float* y) {
    const std::int64_t g = grid != 0 ? grid : (n + block - 1) / block;
    emu_launch(dim3(static_cast<unsigned>(g)), dim3(static_cast<unsigned>(block)),
               &ch00::saxpy_kernel, n, a, x, y);
  };
}

// Runs `launch` on random x, y in [-1, 1); returns "" when y matches the reference and the guards
// are untouched, else what went wrong.
std::string run_case(const Launcher& launch, std::int64_t n, float a) {
  const auto un = static_cast<std::size_t>(n);
  std::vector<float> x(un), y0(un);
  if (n > 0) {
    gnm::fill_uniform(x, 1000 + static_cast<std::uint64_t>(n), -1.0f, 1.0f);
    gnm::fill_uniform(y0, 2000 + static_cast<std::uint64_t>(n), -1.0f, 1.0f);
  }
  std::vector<double> ref(un);
  gnm::cpu::saxpy_reference(a, x, y0, ref);
  std::vector<float> buf(kGuard + un + kGuard, kPoison);
  std::copy(y0.begin(), y0.end(), buf.begin() + kGuard);
  launch(n, a, x.data(), buf.data() + kGuard);

  std::string report;
  const auto r = gnm::compare(std::span<const float>(buf).subspan(kGuard, un), ref,
                              gnm::cpu::saxpy_tolerance(a));
  if (!r.ok) report += "\n  " + r.report;
  std::size_t dirty = 0;
  for (std::size_t i = 0; i < buf.size(); ++i) {
    const bool inside = i >= kGuard && i < kGuard + un;
    if (!inside && std::memcmp(&buf[i], &kPoison, sizeof(float)) != 0) ++dirty;
  }
  if (dirty > 0) report += "\n  " + std::to_string(dirty) + " guard floats written";
  return report.empty() ? report : "n = " + std::to_string(n) + ":" + report;
}

// Odd lengths: one element, a short warp, one past a warp and a block, a prime over 16 blocks.
std::vector<std::int64_t> lengths() {
#if defined(__SANITIZE_THREAD__)
  return {1, 33, 4099};
#else
  return {1, 31, 33, 257, 4099};
#endif
}

TEST(SaxpyEmulated, KernelAloneOddSizes) {
  for (const std::int64_t n : lengths()) {
    EXPECT_EQ(run_case(kernel_alone(256), n, 2.5f), "") << "ex 0.4 saxpy_kernel";
  }
}

// Fewer threads than elements: 3 blocks of 128 threads over 4099 elements (each thread 10 or 11
// elements), one warp-sized block over 1000.
TEST(SaxpyEmulated, KernelAloneCappedGridStrideLoop) {
  EXPECT_EQ(run_case(kernel_alone(128, 3), 4099, 1.5f), "") << "grid 3 x 128";
  EXPECT_EQ(run_case(kernel_alone(32, 1), 1000, -3.0f), "") << "grid 1 x 32";
}

// Through saxpy_launch_config, as saxpy_cuda launches: several block sizes, a capped grid, n = 0.
TEST(SaxpyEmulated, ThroughLaunchConfig) {
  for (const std::int64_t n : lengths()) {
    EXPECT_EQ(run_case(through_config(256), n, -0.75f), "") << "ex 0.4 saxpy_cuda, block 256";
  }
  EXPECT_EQ(run_case(through_config(64, 5), 4099, 0.5f), "") << "block 64, grid capped at 5";
  EXPECT_EQ(run_case(through_config(32), 100, 1.0f), "") << "block 32";
#if !defined(__SANITIZE_THREAD__)
  EXPECT_EQ(run_case(through_config(1024), 4099, 2.0f), "") << "block 1024";
#endif
  EXPECT_EQ(run_case(through_config(256), 0, 2.0f), "") << "n = 0 launches nothing";
}

// Negative controls: the harness must see a missed last element and a write past the end. Each
// starts from the build's kernel, which must pass first, so this test also fails for the stub.
TEST(SaxpyEmulated, NegativeControlHarnessCatchesFaults) {
  const Launcher good = kernel_alone(64);
  ASSERT_EQ(run_case(good, 257, 2.5f), "") << "the kernel itself must pass first";
  const Launcher short_by_one = [&](std::int64_t n, float a, const float* x, float* y) {
    good(n - 1, a, x, y);
  };
  const Launcher past_end = [&](std::int64_t n, float a, const float* x, float* y) {
    good(n, a, x, y);
    y[n] = 0.0f;  // one element past y: in the tail guard
  };
  EXPECT_NE(run_case(short_by_one, 257, 2.5f), "");
  EXPECT_NE(run_case(past_end, 257, 2.5f).find("1 guard floats written"), std::string::npos);
}

}  // namespace
