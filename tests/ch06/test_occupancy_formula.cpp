// Exercise 6.3: the occupancy formula against hand-worked H100 cases and against the engine's
// calculator (gnm::cuda::occupancy, itself tested against the toolkit's cuda_occupancy.h) on a
// sweep of every published architecture. CPU only.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/cuda/occupancy.hpp"
#include "occupancy_formula.hpp"

namespace {

using gnm::cuda::KernelResources;
using gnm::cuda::Limiter;
using gnm::cuda::SmLimits;
constexpr std::size_t kKiB = 1024;

const SmLimits& h100() {
  static const SmLimits sm = gnm::cuda::sm_limits_for(9, 0);
  return sm;
}

std::string describe(const SmLimits& sm, const KernelResources& k) {
  return "sm_" + std::to_string(sm.cc_major) + std::to_string(sm.cc_minor) + ", " +
         std::to_string(k.block_threads) + " threads, " + std::to_string(k.registers_per_thread) +
         " regs, " + std::to_string(k.static_shared_bytes) + " + " +
         std::to_string(k.dynamic_shared_bytes) + " B shared";
}

// A case worked by hand on the H100 (64 warps, 32 blocks, 64 K registers in 4 sub-partitions,
// 228 KiB = 233472 B shared per SM, 1 KiB reserved per block, 128 B allocation unit).
struct HandCase {
  KernelResources kernel;
  int blocks;
  Limiter limiter;
  const char* arithmetic;
};

const std::vector<HandCase>& hand_cases() {
  static const std::vector<HandCase> cases = {
      {{256, 32, 0, 0}, 8, Limiter::warps,
       "8 warps/block: 64/8 = 8; regs 1024/warp: 16 warps per sub-partition, 64/8 = 8 (ties)"},
      {{256, 64, 0, 0}, 4, Limiter::registers, "2048 regs/warp: 8 per sub-partition, 32/8 = 4"},
      {{256, 33, 0, 0}, 6, Limiter::registers,
       "33*32 = 1056 rounds up to 1280: 12 per sub-partition, 48/8 = 6 (not 7)"},
      {{96, 40, 0, 0}, 16, Limiter::registers,
       "1280/warp: 12 per sub-partition = 48 warps, 48/3 = 16 (the whole file would give 17)"},
      {{32, 16, 0, 0}, 32, Limiter::blocks, "1 warp/block: 64 by warps, capped at 32 blocks"},
      {{1, 0, 0, 0}, 32, Limiter::blocks, "a 1-thread block still takes a warp slot and a block"},
      {{1024, 64, 0, 0}, 1, Limiter::registers,
       "32 warps x 2048 = 64 K: exactly one block (warps would allow 2)"},
      {{33, 255, 0, 0}, 4, Limiter::registers,
       "2 warps; 8160 rounds to 8192/warp: 2 per sub-partition = 8 warps, 8/2 = 4"},
      {{128, 32, 48 * kKiB, 0}, 4, Limiter::shared_memory,
       "49 KiB = 50176 B/block: 233472/50176 = 4.65 -> 4"},
      {{256, 0, 0, 100 * kKiB}, 2, Limiter::shared_memory, "101 KiB/block: 228/101 -> 2"},
      {{64, 0, 0, 227 * kKiB}, 1, Limiter::shared_memory, "227 + 1 KiB fills the 228 KiB SM"},
      {{32, 0, 0, 45576}, 4, Limiter::shared_memory,
       "45576 + 1024 = 46600 rounds up to 46720: 233472/46720 = 4.997 -> 4 (5 without the "
       "reservation or the rounding)"},
      {{256, 40, 20 * kKiB, 0}, 6, Limiter::registers,
       "the worked example of solutions/ch06/occupancy_formula.cpp"},
  };
  return cases;
}

// `f` must throw gnm::Error, and not the stub's gnm::NotImplemented.
template <class F>
void expect_rejected(F&& f, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << what << ": accepted, but it cannot launch";
  } catch (const gnm::NotImplemented& e) {
    ADD_FAILURE() << "exercise not done yet: " << e.what();
  } catch (const gnm::Error&) {
  }
}

}  // namespace

TEST(Ch06OccupancyFormula, WarpLimit) {
  EXPECT_EQ(gnm::ch06::warp_limit(h100(), 256), 8);
  EXPECT_EQ(gnm::ch06::warp_limit(h100(), 1024), 2);
  EXPECT_EQ(gnm::ch06::warp_limit(h100(), 33), 32) << "33 threads take 2 warp slots";
  EXPECT_EQ(gnm::ch06::warp_limit(h100(), 1), 64);
  EXPECT_EQ(gnm::ch06::warp_limit(gnm::cuda::sm_limits_for(8, 6), 1024), 1) << "48 warps per SM";
}

TEST(Ch06OccupancyFormula, RegisterLimitRoundsPerWarpAndSplitsIntoSubPartitions) {
  EXPECT_EQ(gnm::ch06::register_limit(h100(), 256, 32), 8);
  EXPECT_EQ(gnm::ch06::register_limit(h100(), 256, 33), 6) << "allocation unit of 256 per warp";
  EXPECT_EQ(gnm::ch06::register_limit(h100(), 256, 40), 6);
  EXPECT_EQ(gnm::ch06::register_limit(h100(), 96, 40), 16) << "sub-partitions hold whole warps";
  EXPECT_EQ(gnm::ch06::register_limit(h100(), 1024, 64), 1);
  EXPECT_EQ(gnm::ch06::register_limit(h100(), 128, 0), gnm::ch06::kNoLimit);
}

TEST(Ch06OccupancyFormula, SharedLimitAddsTheReservationAndRounds) {
  EXPECT_EQ(gnm::ch06::shared_limit(h100(), 0, 0), 228) << "1 KiB reserved per block";
  EXPECT_EQ(gnm::ch06::shared_limit(h100(), 48 * kKiB, 0), 4);
  EXPECT_EQ(gnm::ch06::shared_limit(h100(), 0, 45576), 4) << "rounded up to 128 B";
  EXPECT_EQ(gnm::ch06::shared_limit(h100(), 1, 0), 202) << "1025 B rounds to 1152";
  EXPECT_EQ(gnm::ch06::shared_limit(h100(), 20 * kKiB, 7 * kKiB), 8);
  // Volta reserves nothing and rounds to 256 B: no shared memory, no limit.
  EXPECT_EQ(gnm::ch06::shared_limit(gnm::cuda::sm_limits_for(7, 0), 0, 0), gnm::ch06::kNoLimit);
  EXPECT_EQ(gnm::ch06::shared_limit(gnm::cuda::sm_limits_for(7, 0), 0, 257), 192);
}

TEST(Ch06OccupancyFormula, HandWorkedH100Cases) {
  for (const HandCase& c : hand_cases()) {
    const auto got = gnm::ch06::blocks_per_sm(h100(), c.kernel);
    EXPECT_EQ(got.blocks, c.blocks) << describe(h100(), c.kernel) << ": " << c.arithmetic;
    EXPECT_EQ(got.limiter, c.limiter) << describe(h100(), c.kernel) << ": got "
                                      << gnm::cuda::limiter_name(got.limiter) << "; "
                                      << c.arithmetic;
    // The engine agrees with the hand arithmetic (if not, the case above is wrong).
    const auto engine = gnm::cuda::occupancy(h100(), c.kernel);
    EXPECT_EQ(engine.blocks_per_sm, c.blocks) << describe(h100(), c.kernel);
  }
}

TEST(Ch06OccupancyFormula, MatchesTheEngineOnASweepOfEveryArchitecture) {
  const int ccs[][2] = {{7, 0}, {7, 5}, {8, 0}, {8, 6}, {8, 7}, {8, 9}, {9, 0}};
  const int block_sizes[] = {1, 31, 32, 33, 64, 96, 128, 160, 192, 256, 288, 384,
                             416, 512, 640, 768, 896, 928, 1000, 1024};
  const int regs[] = {0, 1, 16, 24, 32, 33, 40, 41, 48, 56, 64, 65, 72, 96, 128, 168, 200, 255};
  const std::size_t statics[] = {0, 1, 1000, 16 * kKiB, 48 * kKiB};
  const std::size_t dynamics[] = {0, 100, 4 * kKiB, 45576, 63 * kKiB, 99 * kKiB, 160 * kKiB};
  long compared = 0, rejected = 0;
  for (const auto& cc : ccs) {
    const SmLimits sm = gnm::cuda::sm_limits_for(cc[0], cc[1]);
    for (int b : block_sizes) {
      for (int r : regs) {
        for (std::size_t st : statics) {
          for (std::size_t dyn : dynamics) {
            const KernelResources k{b, r, st, dyn};
            gnm::cuda::Occupancy want;
            try {
              want = gnm::cuda::occupancy(sm, k);
            } catch (const gnm::Error&) {
              expect_rejected([&] { (void)gnm::ch06::blocks_per_sm(sm, k); }, describe(sm, k));
              ++rejected;
              continue;
            }
            const auto got = gnm::ch06::blocks_per_sm(sm, k);
            ASSERT_EQ(got.blocks, want.blocks_per_sm) << describe(sm, k);
            ASSERT_EQ(got.by_warps, want.blocks_by_warps) << describe(sm, k);
            ASSERT_EQ(got.by_blocks, want.blocks_by_blocks) << describe(sm, k);
            ASSERT_EQ(got.by_registers, want.blocks_by_registers) << describe(sm, k);
            ASSERT_EQ(got.by_shared, want.blocks_by_shared) << describe(sm, k);
            ASSERT_EQ(got.limiter, want.limiter) << describe(sm, k);
            ++compared;
          }
        }
      }
    }
  }
  EXPECT_GT(compared, 20000);
  EXPECT_GT(rejected, 100);  // the sweep reaches the launch limits too
}

TEST(Ch06OccupancyFormula, RejectsWhatCannotLaunch) {
  const SmLimits& sm = h100();
  expect_rejected([&] { (void)gnm::ch06::blocks_per_sm(sm, {0, 32, 0, 0}); }, "0 threads");
  expect_rejected([&] { (void)gnm::ch06::blocks_per_sm(sm, {1025, 32, 0, 0}); }, "1025 threads");
  expect_rejected([&] { (void)gnm::ch06::blocks_per_sm(sm, {128, 256, 0, 0}); }, "256 registers");
  expect_rejected([&] { (void)gnm::ch06::blocks_per_sm(sm, {128, -1, 0, 0}); }, "-1 registers");
  expect_rejected([&] { (void)gnm::ch06::blocks_per_sm(sm, {128, 0, 49 * kKiB, 0}); },
                  "49 KiB static");
  expect_rejected([&] { (void)gnm::ch06::blocks_per_sm(sm, {128, 0, 16 * kKiB, 212 * kKiB}); },
                  "228 KiB static + dynamic");
  // 1024 threads x 65 registers: 2080 -> 2304 per warp x 32 warps = 73728 > 65536.
  expect_rejected([&] { (void)gnm::ch06::blocks_per_sm(sm, {1024, 65, 0, 0}); },
                  "1024 threads x 65 registers");
  // 993 threads = 32 warps (not rounded further) x 2048 = 65536: fits exactly.
  EXPECT_EQ(gnm::ch06::blocks_per_sm(sm, {993, 64, 0, 0}).blocks, 1);
  // 800 threads = 25 warps x 2560 = 64000 would fit, but the launch check counts 28 warps (a
  // multiple of the 4 sub-partitions): 28 x 2560 = 71680 > 65536, rejected.
  expect_rejected([&] { (void)gnm::ch06::blocks_per_sm(sm, {800, 80, 0, 0}); },
                  "800 threads x 80 registers (warps rounded up to the sub-partitions)");
}
