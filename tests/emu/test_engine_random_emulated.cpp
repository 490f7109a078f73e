// The engine's Philox fill kernel (common/src/cuda/random_kernels.cuh — the exact text nvcc
// compiles for gnm::cuda::fill_{bits,uniform,normal}_device) runs on the CPU through the host
// emulator, launched as random.cu launches it (kThreads-thread blocks, fill_grid's grid), and must
// reproduce the host streams BIT FOR BIT: PhiloxRng::bits, gnm::fill_uniform and gnm::fill_normal
// with the same seed and subsequence. That is the engine's promise that CPU and GPU random streams
// agree (for normal() on a real GPU, up to the few ulps by which CUDA's logf/sinf/cosf differ
// from glibc's; here both sides call the host's, so the test demands equality). Lengths: 0, 1,
// 3, 4, 5 (a partial and a full Philox block and one past), 1023 and 4099 (several CUDA blocks, a
// partial last one), and a capped grid so the grid-stride loop gives threads several Philox
// blocks. Outputs sit between poisoned guard zones that must stay untouched.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/core/random.hpp"
#include "random_kernels.cuh"  // the real kernel (common/src/cuda), after the emulator

namespace {

namespace rk = gnm::cuda::random_kernels;
using gnm::PhiloxRng;

constexpr std::size_t kGuard = 67;  // poisoned elements before and after the output

// launch_fill of random.cu on the emulator: nothing for n == 0, else philox_fill_kernel with
// fill_grid(n, max_grid) blocks of kThreads threads (random.cu uses the default cap, kMaxGrid).
template <class T, class BlockValues>
void emu_fill(T* out, std::int64_t n, BlockValues block_values,
              std::int64_t max_grid = rk::kMaxGrid) {
  if (n == 0) return;
  const std::int64_t grid = rk::fill_grid(n, max_grid);
  gnm::emu::emu_launch(dim3(static_cast<unsigned>(grid)), dim3(rk::kThreads),
                       &rk::philox_fill_kernel<T, BlockValues>, out, n, block_values);
}

// Runs `fill` on n elements between guard zones of `poison`; returns "" when the result equals
// `want` bit for bit and the guards are untouched, else what differs.
template <class T, class Fill>
std::string check_fill(const std::vector<T>& want, T poison, Fill fill) {
  const std::size_t n = want.size();
  std::vector<T> buf(kGuard + n + kGuard, poison);
  fill(buf.data() + kGuard, static_cast<std::int64_t>(n));
  std::string report;
  std::size_t wrong = 0, dirty = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::memcmp(&buf[kGuard + i], &want[i], sizeof(T)) != 0 && wrong++ == 0) {
      report += "first mismatch at " + std::to_string(i) + ": " + std::to_string(buf[kGuard + i]) +
                " vs " + std::to_string(want[i]) + "; ";
    }
  }
  for (std::size_t i = 0; i < buf.size(); ++i) {
    const bool inside = i >= kGuard && i < kGuard + n;
    if (!inside && std::memcmp(&buf[i], &poison, sizeof(T)) != 0) ++dirty;
  }
  if (wrong > 0) report += std::to_string(wrong) + " of " + std::to_string(n) + " differ; ";
  if (dirty > 0) report += std::to_string(dirty) + " guard elements written; ";
  return report;
}

std::vector<std::uint32_t> host_bits(std::size_t n, std::uint64_t seed, std::uint64_t sub) {
  const PhiloxRng rng(seed, sub);
  std::vector<std::uint32_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = rng.bits(i);
  return v;
}
std::vector<float> host_uniform(std::size_t n, std::uint64_t seed, float lo, float hi,
                                std::uint64_t sub) {
  std::vector<float> v(n);
  gnm::fill_uniform(v, seed, lo, hi, sub);
  return v;
}
std::vector<float> host_normal(std::size_t n, std::uint64_t seed, float mean, float stddev,
                               std::uint64_t sub) {
  std::vector<float> v(n);
  gnm::fill_normal(v, seed, mean, stddev, sub);
  return v;
}

constexpr std::uint32_t kPoisonBits = 0xDEADBEEFu;
constexpr float kPoisonFloat = -777.0f;  // outside every range drawn here (normals: |z| ≤ 5.77)

// Streams: seed 0 / subsequence 0; a seed over 2^32 (both key words) with subsequence 1; a
// subsequence over 2^32 (both counter words).
struct Stream {
  std::uint64_t seed, sub;
};
constexpr Stream kStreams[] = {{0, 0}, {0x1234567890ABCDEFull, 1}, {42, 0x100000003ull}};

std::vector<std::int64_t> lengths() {
#if defined(__SANITIZE_THREAD__)
  return {0, 1, 5, 1023, 4099};
#else
  return {0, 1, 3, 4, 5, 1023, 4099};
#endif
}

std::string where(const char* what, std::int64_t n, const Stream& s, std::int64_t max_grid) {
  return std::string(what) + ", n = " + std::to_string(n) + ", seed " + std::to_string(s.seed) +
         ", subsequence " + std::to_string(s.sub) + ", grid cap " + std::to_string(max_grid);
}

// Every transform on every stream and length with the launcher's grid (cap kMaxGrid), then with
// grids capped at 1 and 3 blocks (4099 elements = 1025 Philox blocks: 5 blocks uncapped; one
// block's 256 threads take 4 or 5 Philox blocks each; three blocks an uneven share).
void expect_all_match(std::int64_t max_grid, const std::vector<std::int64_t>& ns) {
  for (const Stream& s : kStreams) {
    for (const std::int64_t n : ns) {
      const auto un = static_cast<std::size_t>(n);
      EXPECT_EQ(check_fill(host_bits(un, s.seed, s.sub), kPoisonBits,
                           [&](std::uint32_t* out, std::int64_t m) {
                             emu_fill(out, m, rk::BitsBlock{PhiloxRng(s.seed, s.sub)}, max_grid);
                           }),
                "")
          << where("bits", n, s, max_grid);
      EXPECT_EQ(check_fill(host_uniform(un, s.seed, -0.5f, 2.5f, s.sub), kPoisonFloat,
                           [&](float* out, std::int64_t m) {
                             emu_fill(out, m,
                                      rk::UniformBlock{PhiloxRng(s.seed, s.sub), -0.5f, 2.5f},
                                      max_grid);
                           }),
                "")
          << where("uniform [-0.5, 2.5)", n, s, max_grid);
      EXPECT_EQ(check_fill(host_normal(un, s.seed, 1.5f, 0.25f, s.sub), kPoisonFloat,
                           [&](float* out, std::int64_t m) {
                             emu_fill(out, m,
                                      rk::NormalBlock{PhiloxRng(s.seed, s.sub), 1.5f, 0.25f},
                                      max_grid);
                           }),
                "")
          << where("normal(1.5, 0.25)", n, s, max_grid);
    }
  }
}

TEST(RandomFillEmulated, BitsUniformNormalMatchHostBitForBit) {
  expect_all_match(rk::kMaxGrid, lengths());
}

TEST(RandomFillEmulated, CappedGridGridStrideLoop) {
  EXPECT_EQ(rk::fill_grid(4099), 5);  // 1025 Philox blocks / 256 threads, rounded up
  expect_all_match(1, {4099});
#if !defined(__SANITIZE_THREAD__)
  expect_all_match(3, {1023, 4099});
#endif
}

// The launcher's configuration: one thread per Philox block, capped at kMaxGrid blocks.
TEST(RandomFillEmulated, LaunchGrid) {
  EXPECT_EQ(rk::philox_blocks(1), 1);
  EXPECT_EQ(rk::philox_blocks(4), 1);
  EXPECT_EQ(rk::philox_blocks(5), 2);
  EXPECT_EQ(rk::fill_grid(1), 1);
  EXPECT_EQ(rk::fill_grid(4 * 256), 1);
  EXPECT_EQ(rk::fill_grid(4 * 256 + 1), 2);
  EXPECT_EQ(rk::fill_grid(std::int64_t{1} << 40), rk::kMaxGrid);
}

// A block functor with a planted bug: Philox block b + 1 instead of b (elements shifted by four).
struct ShiftedBitsBlock {
  PhiloxRng rng;
  gnm::U32x4 operator()(std::uint64_t b) const { return rng.block(b + 1); }
};

// Negative controls: the harness must see a stream shifted by one Philox block, another
// subsequence, and a write past the end.
TEST(RandomFillEmulated, NegativeControlHarnessCatchesWrongStreams) {
  const std::vector<std::uint32_t> want = host_bits(1023, 7, 0);
  ASSERT_EQ(check_fill(want, kPoisonBits,
                       [](std::uint32_t* out, std::int64_t n) {
                         emu_fill(out, n, rk::BitsBlock{PhiloxRng(7, 0)});
                       }),
            "");
  EXPECT_NE(check_fill(want, kPoisonBits,
                       [](std::uint32_t* out, std::int64_t n) {
                         emu_fill(out, n, ShiftedBitsBlock{PhiloxRng(7, 0)});
                       }),
            "");
  EXPECT_NE(check_fill(want, kPoisonBits,
                       [](std::uint32_t* out, std::int64_t n) {
                         emu_fill(out, n, rk::BitsBlock{PhiloxRng(7, 1)});
                       }),
            "");
  const std::string past_end =
      check_fill(want, kPoisonBits, [](std::uint32_t* out, std::int64_t n) {
        emu_fill(out, n + 1, rk::BitsBlock{PhiloxRng(7, 0)});  // one element too many
      });
  EXPECT_NE(past_end.find("1 guard elements written"), std::string::npos) << past_end;
}

}  // namespace
