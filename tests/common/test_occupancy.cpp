// The occupancy calculator against hand-computed cases on the H100's published limits (sm_90:
// 64 warps, 32 blocks, 64 K registers = 16 K per sub-partition, 228 KiB shared per SM, 227 KiB per
// block, 1 KiB reserved per block, shared in units of 128 B). Each case shows its arithmetic.
// tests/gpu/test_occupancy_gpu.cu checks the same rules against the CUDA runtime on a device.
#include "gnm/cuda/occupancy.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <string>

#include "gnm/core/error.hpp"

namespace {

using gnm::cuda::KernelResources;
using gnm::cuda::Limiter;
using gnm::cuda::Occupancy;
using gnm::cuda::SmLimits;

constexpr std::size_t kKiB = 1024;

Occupancy h100(int threads, int regs, std::size_t static_shared = 0, std::size_t dynamic = 0) {
  return gnm::cuda::occupancy(gnm::cuda::sm_limits_for(9, 0),
                              KernelResources{threads, regs, static_shared, dynamic});
}

// Expects a gnm::Error whose message contains every string of `needles`.
template <class F>
void expect_error_naming(F&& f, std::initializer_list<std::string> needles) {
  try {
    f();
    ADD_FAILURE() << "expected gnm::Error";
  } catch (const gnm::Error& e) {
    const std::string what = e.what();
    for (const auto& n : needles) EXPECT_NE(what.find(n), std::string::npos) << n << " in " << what;
  }
}

TEST(Occupancy, H100PublishedLimits) {
  const SmLimits sm = gnm::cuda::sm_limits_for(9, 0);
  EXPECT_EQ(sm.max_threads_per_sm, 2048);
  EXPECT_EQ(sm.max_warps_per_sm, 64);
  EXPECT_EQ(sm.max_blocks_per_sm, 32);
  EXPECT_EQ(sm.registers_per_sm, 65536);
  EXPECT_EQ(sm.registers_per_block, 65536);
  EXPECT_EQ(sm.max_registers_per_thread, 255);
  EXPECT_EQ(sm.shared_per_sm, 228 * kKiB);
  EXPECT_EQ(sm.shared_per_block_optin, 227 * kKiB);
  EXPECT_EQ(sm.reserved_shared_per_block, 1 * kKiB);
  EXPECT_EQ(sm.shared_allocation_unit, 128u);
  EXPECT_EQ(sm.register_allocation_unit, 256);
  EXPECT_EQ(sm.sub_partitions, 4);
}

TEST(Occupancy, WarpLimited) {
  // 1024 threads = 32 warps: 64 / 32 = 2 blocks. Registers 16 * 32 = 512 per warp, 16384 / 512 =
  // 32 warps per sub-partition = 128 per SM = 4 blocks. Shared: 1 KiB reservation -> 228 blocks.
  const Occupancy o = h100(1024, 16);
  EXPECT_EQ(o.blocks_per_sm, 2);
  EXPECT_EQ(o.active_warps, 64);
  EXPECT_DOUBLE_EQ(o.fraction, 1.0);
  EXPECT_EQ(o.limiter, Limiter::warps);
  EXPECT_EQ(o.blocks_by_registers, 4);
  EXPECT_EQ(o.blocks_by_shared, 228);
  EXPECT_FALSE(o.limits(Limiter::registers));
}

TEST(Occupancy, BlockLimited) {
  // 32 threads = 1 warp: warps allow 64 blocks, but at most 32 are resident -> half the warps.
  const Occupancy o = h100(32, 16);
  EXPECT_EQ(o.blocks_per_sm, 32);
  EXPECT_EQ(o.active_warps, 32);
  EXPECT_DOUBLE_EQ(o.fraction, 0.5);
  EXPECT_EQ(o.limiter, Limiter::blocks);
  EXPECT_EQ(o.blocks_by_warps, 64);
}

TEST(Occupancy, RegisterLimited) {
  // 64 regs * 32 = 2048 per warp; 16384 / 2048 = 8 warps per sub-partition = 32 per SM; 256
  // threads = 8 warps -> 4 blocks = 32 warps = 50 %.
  const Occupancy o = h100(256, 64);
  EXPECT_EQ(o.blocks_per_sm, 4);
  EXPECT_EQ(o.registers_per_warp, 2048);
  EXPECT_DOUBLE_EQ(o.fraction, 0.5);
  EXPECT_EQ(o.limiter, Limiter::registers);
  // 128 regs: 4096 per warp, 4 warps per sub-partition = 16 per SM; 128 threads = 4 warps -> 4.
  EXPECT_EQ(h100(128, 128).blocks_per_sm, 4);
  EXPECT_DOUBLE_EQ(h100(128, 128).fraction, 0.25);
}

TEST(Occupancy, RegistersRoundUpTo256PerWarp) {
  // 33 regs * 32 = 1056 -> 1280; 16384 / 1280 = 12.8 -> 12 warps per sub-partition = 48 per SM.
  // 40 regs gives exactly 1280 too, so the same occupancy; 41 regs = 1312 -> 1536, 10 warps/sub.
  EXPECT_EQ(h100(256, 33).registers_per_warp, 1280);
  EXPECT_EQ(h100(256, 33).blocks_per_sm, 6);  // 48 / 8
  EXPECT_EQ(h100(256, 40).blocks_per_sm, 6);
  EXPECT_EQ(h100(256, 41).registers_per_warp, 1536);
  EXPECT_EQ(h100(256, 41).blocks_per_sm, 5);  // 40 / 8
  EXPECT_DOUBLE_EQ(h100(256, 41).fraction, 40.0 / 64.0);
}

TEST(Occupancy, RegistersArePerSubPartition) {
  // 64 threads (2 warps), 33 regs: 1280 per warp. The whole file would hold 65536 / 1280 = 51
  // warps, but each sub-partition holds 12, so 48 warps = 24 blocks, not 25.
  const Occupancy o = h100(64, 33);
  EXPECT_EQ(o.blocks_by_registers, 24);
  EXPECT_EQ(o.blocks_per_sm, 24);
  EXPECT_EQ(o.limiter, Limiter::registers);
}

TEST(Occupancy, ZeroRegistersNeverLimit) {
  const Occupancy o = h100(64, 0);
  EXPECT_EQ(o.blocks_by_registers, INT_MAX);
  EXPECT_EQ(o.blocks_per_sm, 32);
}

TEST(Occupancy, SharedMemoryLimited) {
  // 48 KiB dynamic + 1 KiB reserved = 50176 B per block; 233472 / 50176 = 4.65 -> 4 blocks.
  const Occupancy o = h100(256, 32, 0, 48 * kKiB);
  EXPECT_EQ(o.shared_per_block, 50176u);
  EXPECT_EQ(o.blocks_per_sm, 4);
  EXPECT_EQ(o.limiter, Limiter::shared_memory);
  EXPECT_DOUBLE_EQ(o.fraction, 0.5);
  // Static and dynamic add up: 1000 + 0 + 1024 = 2024 -> 2048 B -> 114 blocks by shared memory.
  EXPECT_EQ(h100(32, 16, 1000, 0).blocks_by_shared, 114);
}

TEST(Occupancy, SharedMemoryExactlyAtALimitAndOneOver) {
  // Two blocks fill 228 KiB exactly when each takes 114 KiB = 115712 + 1024 reserved.
  EXPECT_EQ(h100(128, 32, 0, 115712).blocks_per_sm, 2);
  // One byte more rounds up by 128 B per block: 233472 / 116864 = 1.99 -> 1 block.
  EXPECT_EQ(h100(128, 32, 0, 115713).shared_per_block, 116864u);
  EXPECT_EQ(h100(128, 32, 0, 115713).blocks_per_sm, 1);
  // One byte of dynamic shared memory costs a whole unit plus the reservation: 1152 B.
  EXPECT_EQ(h100(32, 16, 0, 1).shared_per_block, 1152u);
  // The largest block: 227 KiB + 1 KiB reserved = 228 KiB, exactly one per SM.
  const Occupancy big = h100(1024, 32, 0, 227 * kKiB);
  EXPECT_EQ(big.blocks_per_sm, 1);
  EXPECT_EQ(big.limiter, Limiter::shared_memory);
  EXPECT_EQ(h100(1024, 32, 48 * kKiB, 179 * kKiB).blocks_per_sm, 1);
}

TEST(Occupancy, OddBlockSizesRoundUpToWholeWarps) {
  // 33 threads take 2 warp slots: 64 / 2 = 32 blocks, also the block cap (a tie; enum order
  // reports warps first).
  const Occupancy o33 = h100(33, 16);
  EXPECT_EQ(o33.warps_per_block, 2);
  EXPECT_EQ(o33.blocks_per_sm, 32);
  EXPECT_EQ(o33.limiter, Limiter::warps);
  EXPECT_TRUE(o33.limits(Limiter::blocks));
  // 96 threads = 3 warps: 64 / 3 = 21 blocks, 63 warps.
  const Occupancy o96 = h100(96, 16);
  EXPECT_EQ(o96.blocks_per_sm, 21);
  EXPECT_EQ(o96.active_warps, 63);
  EXPECT_DOUBLE_EQ(o96.fraction, 63.0 / 64.0);
  // 1000 threads = 32 warps (31.25 rounded up): 2 blocks.
  EXPECT_EQ(h100(1000, 32).warps_per_block, 32);
  EXPECT_EQ(h100(1000, 32).blocks_per_sm, 2);
  // 1 thread is a whole warp; the block cap stops it at 32 warps.
  EXPECT_EQ(h100(1, 8).blocks_per_sm, 32);
}

TEST(Occupancy, TiesReportEveryBindingResource) {
  // 256 threads, 32 regs: warps 64 / 8 = 8; registers 1024 per warp, 16 warps/sub = 64 -> 8.
  const Occupancy o = h100(256, 32);
  EXPECT_EQ(o.blocks_per_sm, 8);
  EXPECT_EQ(o.limiter, Limiter::warps);
  EXPECT_TRUE(o.limits(Limiter::warps));
  EXPECT_TRUE(o.limits(Limiter::registers));
  EXPECT_FALSE(o.limits(Limiter::blocks));
  EXPECT_FALSE(o.limits(Limiter::shared_memory));
}

TEST(Occupancy, BlockSizeOutOfRangeIsAnError) {
  expect_error_naming([] { h100(0, 32); }, {"block size", "= 0", "1024"});
  expect_error_naming([] { h100(1025, 32); }, {"= 1025"});
  expect_error_naming([] { h100(-32, 32); }, {"= -32"});
  EXPECT_NO_THROW(h100(1024, 32));
}

TEST(Occupancy, TooManyRegistersIsAnError) {
  expect_error_naming([] { h100(32, 256); }, {"registers per thread", "= 256", "= 255"});
  expect_error_naming([] { h100(32, -1); }, {"= -1"});
  EXPECT_NO_THROW(h100(32, 255));
  // 1024 threads * 64 regs = 65536: exactly the per-block limit, 1 block.
  EXPECT_EQ(h100(1024, 64).blocks_per_sm, 1);
  // 65 regs round to 2304 per warp * 32 warps = 73728 > 65536: cannot launch.
  expect_error_naming([] { h100(1024, 65); }, {"cannot launch", "= 73728", "= 65536"});
}

TEST(Occupancy, LaunchCheckRoundsWarpsToSubPartitions) {
  // 136 regs = 4352 per warp. 13 warps (416 threads) need 56576 <= 65536, but the launch check
  // counts 16 warps (a multiple of 4): 69632 > 65536, so the block cannot launch.
  expect_error_naming([] { h100(416, 136); }, {"cannot launch", "= 69632"});
  // 12 warps: 52224 fits; 16384 / 4352 = 3 warps per sub-partition = 12 per SM -> 1 block.
  EXPECT_EQ(h100(384, 136).blocks_per_sm, 1);
}

TEST(Occupancy, TooMuchSharedMemoryIsAnError) {
  expect_error_naming([] { h100(32, 16, 0, 227 * kKiB + 1); }, {"shared", "= 232449", "= 232448"});
  expect_error_naming([] { h100(32, 16, 48 * kKiB + 1, 0); }, {"static", "= 49153", "= 49152"});
  expect_error_naming([] { h100(32, 16, 48 * kKiB, 179 * kKiB + 1); }, {"static + dynamic"});
}

TEST(Occupancy, UnknownArchitectureIsAnError) {
  expect_error_naming([] { gnm::cuda::sm_limits_for(10, 0); }, {"major = 10", "minor = 0"});
  expect_error_naming([] { gnm::cuda::sm_limits_for(6, 1); }, {"major = 6"});
  expect_error_naming([] { gnm::cuda::occupancy(SmLimits{}, KernelResources{32, 0, 0, 0}); },
                      {"not filled in"});
}

TEST(Occupancy, OtherArchitectures) {
  // sm_86: 48 warps, 16 blocks. 64 threads -> 16 blocks = 32 warps = 2/3.
  const auto o86 = gnm::cuda::occupancy(gnm::cuda::sm_limits_for(8, 6), {64, 32, 0, 0});
  EXPECT_EQ(o86.blocks_per_sm, 16);
  EXPECT_DOUBLE_EQ(o86.fraction, 32.0 / 48.0);
  // sm_89: 24 blocks. 64 threads -> 24 blocks = 48 warps = 100 %.
  EXPECT_EQ(gnm::cuda::occupancy(gnm::cuda::sm_limits_for(8, 9), {64, 32, 0, 0}).blocks_per_sm, 24);
  // sm_80: 164 KiB per SM; 48 KiB + 1 KiB per block -> 167936 / 50176 = 3.35 -> 3.
  EXPECT_EQ(gnm::cuda::occupancy(gnm::cuda::sm_limits_for(8, 0), {128, 32, 0, 48 * kKiB})
                .blocks_per_sm,
            3);
  // sm_75: no reservation, 256 B units. No shared memory never limits; 1 byte costs 256 B.
  const SmLimits t4 = gnm::cuda::sm_limits_for(7, 5);
  EXPECT_EQ(gnm::cuda::occupancy(t4, {32, 0, 0, 0}).blocks_by_shared, INT_MAX);
  EXPECT_EQ(gnm::cuda::occupancy(t4, {32, 0, 0, 1}).blocks_by_shared, 256);
  EXPECT_EQ(gnm::cuda::occupancy(t4, {32, 0, 0, 1}).blocks_per_sm, 16);
}

TEST(Occupancy, LimitsFromDevicePropertiesMatchThePublishedOnes) {
  gnm::cuda::DeviceOccupancyProperties p;  // what cudaGetDeviceProperties reports on an H100
  p.major = 9;
  p.minor = 0;
  p.warp_size = 32;
  p.max_threads_per_block = 1024;
  p.max_threads_per_sm = 2048;
  p.max_blocks_per_sm = 32;
  p.registers_per_sm = 65536;
  p.registers_per_block = 65536;
  p.shared_per_sm = 233472;
  p.shared_per_block = 49152;
  p.shared_per_block_optin = 232448;
  p.reserved_shared_per_block = 1024;
  const SmLimits a = gnm::cuda::sm_limits_from(p);
  const SmLimits b = gnm::cuda::sm_limits_for(9, 0);
  EXPECT_EQ(a.max_warps_per_sm, b.max_warps_per_sm);
  EXPECT_EQ(a.max_blocks_per_sm, b.max_blocks_per_sm);
  EXPECT_EQ(a.registers_per_sm, b.registers_per_sm);
  EXPECT_EQ(a.registers_per_block, b.registers_per_block);
  EXPECT_EQ(a.max_registers_per_thread, b.max_registers_per_thread);
  EXPECT_EQ(a.sub_partitions, b.sub_partitions);
  EXPECT_EQ(a.register_allocation_unit, b.register_allocation_unit);
  EXPECT_EQ(a.shared_per_sm, b.shared_per_sm);
  EXPECT_EQ(a.shared_per_block_static, b.shared_per_block_static);
  EXPECT_EQ(a.shared_per_block_optin, b.shared_per_block_optin);
  EXPECT_EQ(a.shared_allocation_unit, b.shared_allocation_unit);
  EXPECT_EQ(a.reserved_shared_per_block, b.reserved_shared_per_block);

  p.registers_per_sm = 0;
  expect_error_naming([&] { gnm::cuda::sm_limits_from(p); }, {"registers_per_sm = 0"});
  p.registers_per_sm = 65536;
  p.major = 6;
  expect_error_naming([&] { gnm::cuda::sm_limits_from(p); }, {"major = 6"});
}

TEST(OccupancySweep, RegisterHeavyKernelStopsLaunchingAbove896Threads) {
  // 72 regs = 2304 per warp: 28 warps (896 threads) use 64512 <= 65536; 29..32 warps are checked
  // as 32 warps = 73728 and cannot launch.
  const auto points = gnm::cuda::occupancy_sweep(gnm::cuda::sm_limits_for(9, 0), {0, 72, 0, 0});
  ASSERT_EQ(points.size(), 32u);
  for (const auto& p : points) {
    EXPECT_EQ(p.launchable, p.block_threads <= 896) << p.block_threads;
    if (!p.launchable) {
      EXPECT_NE(p.why.find("cannot launch"), std::string::npos);
    }
  }
  // 16384 / 2304 = 7 warps per sub-partition = 28 per SM: 32 threads -> 28 blocks (registers).
  EXPECT_EQ(points[0].occupancy.blocks_per_sm, 28);
  EXPECT_EQ(points[0].occupancy.limiter, Limiter::registers);
  // 896 threads = 28 warps -> 1 block, 28 / 64 warps.
  EXPECT_DOUBLE_EQ(points[27].occupancy.fraction, 28.0 / 64.0);
}

TEST(OccupancySweep, SharedMemoryPerThreadAndRange) {
  // 64 B per thread: 1024 threads need 64 KiB + 1 KiB = 66560 B -> 233472 / 66560 = 3 blocks
  // by shared memory, but warps allow only 2.
  gnm::cuda::SweepRange r;
  r.first = 256;
  r.last = 1024;
  r.step = 256;
  r.dynamic_shared_per_thread = 64;
  const auto points = gnm::cuda::occupancy_sweep(gnm::cuda::sm_limits_for(9, 0), {0, 32, 0, 0}, r);
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[3].block_threads, 1024);
  EXPECT_EQ(points[3].occupancy.blocks_by_shared, 3);
  EXPECT_EQ(points[3].occupancy.blocks_per_sm, 2);
  // 256 threads: 16 KiB + 1 KiB = 17408 B -> 13 blocks by shared memory; warps allow 8.
  EXPECT_EQ(points[0].occupancy.blocks_by_shared, 13);
  EXPECT_EQ(points[0].occupancy.blocks_per_sm, 8);

  r.step = 0;
  EXPECT_THROW(gnm::cuda::occupancy_sweep(gnm::cuda::sm_limits_for(9, 0), {}, r), gnm::Error);
  r.step = 32;
  r.first = 64;
  r.last = 32;
  EXPECT_THROW(gnm::cuda::occupancy_sweep(gnm::cuda::sm_limits_for(9, 0), {}, r), gnm::Error);
}

TEST(OccupancySweep, LimiterNames) {
  EXPECT_STREQ(gnm::cuda::limiter_name(Limiter::warps), "warps");
  EXPECT_STREQ(gnm::cuda::limiter_name(Limiter::blocks), "blocks");
  EXPECT_STREQ(gnm::cuda::limiter_name(Limiter::registers), "registers");
  EXPECT_STREQ(gnm::cuda::limiter_name(Limiter::shared_memory), "shared_memory");
}

}  // namespace
