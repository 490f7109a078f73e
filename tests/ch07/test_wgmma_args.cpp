// 7.5's Hopper GEMM on the CPU: everything wgmma_gemm_bf16 decides before it touches CUDA — the
// argument checks (they throw before any CUDA call, so fake, never-dereferenced pointers are
// enough), the launch arithmetic and the order in which blocks take tiles. Runs without a GPU.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/cuda/device.hpp"
#include "test_basics.hpp"
#include "wgmma_gemm.hpp"

namespace {

using gnm::ch07::check_wgmma_args;
using gnm::testing::message_of;

// Plausible device addresses that are never dereferenced: the checks throw first.
const __nv_bfloat16* fake_bf16(std::uintptr_t address) {
  return reinterpret_cast<const __nv_bfloat16*>(address);
}
float* fake_f32(std::uintptr_t address) { return reinterpret_cast<float*>(address); }

const __nv_bfloat16* const kA = fake_bf16(0x7f0000000000);
const __nv_bfloat16* const kB = fake_bf16(0x7f0000100000);
float* const kC = fake_f32(0x7f0000200000);

}  // namespace

TEST(Ch07WgmmaArgs, ValidArgumentsPass) {
  EXPECT_NO_THROW(check_wgmma_args(kA, kB, kC, 128, 256, 64));
  EXPECT_NO_THROW(check_wgmma_args(kA, kB, kC, 1, 1, 8));         // the smallest product
  EXPECT_NO_THROW(check_wgmma_args(kA, kB, kC, 1000, 333, 520));  // not multiples of the tile
  EXPECT_NO_THROW(check_wgmma_args(nullptr, nullptr, nullptr, 0, 7, 64));  // empty: no pointers
  EXPECT_NO_THROW(check_wgmma_args(nullptr, nullptr, kC, 5, 7, 0));        // K = 0: C = 0
}

TEST(Ch07WgmmaArgs, KThatIsNotAMultipleOf8IsRejectedByName) {
  for (int k : {1, 7, 12, 65, 1001}) {
    EXPECT_THROW(check_wgmma_args(kA, kB, kC, 128, 256, k), gnm::ShapeError) << "K = " << k;
  }
  const std::string msg = message_of([] { check_wgmma_args(kA, kB, kC, 128, 256, 12); });
  EXPECT_NE(msg.find("multiple of 8"), std::string::npos) << msg;
  EXPECT_NE(msg.find("K = 12"), std::string::npos) << msg;
  // The public entry point checks first, so the same error comes out without any device.
  EXPECT_THROW(gnm::ch07::wgmma_gemm_bf16(kA, kB, kC, 128, 256, 12), gnm::ShapeError);
}

TEST(Ch07WgmmaArgs, NegativeOrHugeSizesAreRejected) {
  EXPECT_THROW(check_wgmma_args(kA, kB, kC, -1, 256, 64), gnm::ShapeError);
  EXPECT_THROW(check_wgmma_args(kA, kB, kC, 128, -5, 64), gnm::ShapeError);
  EXPECT_THROW(check_wgmma_args(kA, kB, kC, 128, 256, -8), gnm::ShapeError);
  EXPECT_THROW(check_wgmma_args(kA, kB, kC, INT_MAX, 256, 64), gnm::ShapeError);
  const std::string msg = message_of([] { check_wgmma_args(kA, kB, kC, 128, -5, 64); });
  EXPECT_NE(msg.find("N = -5"), std::string::npos) << msg;
  EXPECT_THROW(gnm::ch07::cublas_gemm_bf16(kA, kB, kC, -1, 2, 8), gnm::ShapeError);
  EXPECT_THROW(gnm::ch07::naive_gemm_bf16(kA, kB, kC, 2, 2, -8), gnm::ShapeError);
}

TEST(Ch07WgmmaArgs, MisalignedOrNullPointersAreRejected) {
  // TMA reads global memory from 16-byte aligned addresses only.
  const std::string a =
      message_of([] { check_wgmma_args(fake_bf16(0x7f0000000002), kB, kC, 8, 8, 8); });
  EXPECT_NE(a.find("A must be 16-byte aligned"), std::string::npos) << a;
  const std::string b =
      message_of([] { check_wgmma_args(kA, fake_bf16(0x7f0000100008), kC, 8, 8, 8); });
  EXPECT_NE(b.find("B must be 16-byte aligned"), std::string::npos) << b;
  EXPECT_THROW(check_wgmma_args(kA, kB, fake_f32(0x7f0000200002), 8, 8, 8), gnm::Error);
  EXPECT_THROW(check_wgmma_args(nullptr, kB, kC, 8, 8, 8), gnm::Error);
  EXPECT_THROW(check_wgmma_args(kA, nullptr, kC, 8, 8, 8), gnm::Error);
  EXPECT_THROW(check_wgmma_args(kA, kB, nullptr, 8, 8, 8), gnm::Error);
  EXPECT_THROW(gnm::ch07::wgmma_gemm_bf16(fake_bf16(0x7f0000000002), kB, kC, 8, 8, 8), gnm::Error);
  EXPECT_THROW(gnm::ch07::cublas_gemm_bf16(kA, kB, nullptr, 8, 8, 8), gnm::Error);
}

TEST(Ch07WgmmaArgs, LaunchConfigurationArithmetic) {
  const auto l = gnm::ch07::wgmma_launch_config(8192, 8192, 8192);
  EXPECT_EQ(l.tiles_m, 64);
  EXPECT_EQ(l.tiles_n, 32);
  EXPECT_EQ(l.k_tiles, 128);
  EXPECT_EQ(l.blocks, 2048);
  EXPECT_EQ(l.threads, 384);
  // Four stages of 128×64 + 256×64 bf16, eight 8-byte barriers, 1 KiB of alignment slack; an
  // H100 block may have at most 227 KiB.
  EXPECT_EQ(l.shared_bytes, 4u * (16384u + 32768u) + 64u + 1024u);
  EXPECT_LE(l.shared_bytes, 227u * 1024u);

  const auto edge = gnm::ch07::wgmma_launch_config(129, 257, 72);
  EXPECT_EQ(edge.tiles_m, 2);
  EXPECT_EQ(edge.tiles_n, 2);
  EXPECT_EQ(edge.k_tiles, 2);
  const auto tiny = gnm::ch07::wgmma_launch_config(1, 1, 8);
  EXPECT_EQ(tiny.blocks, 1);
  EXPECT_EQ(tiny.k_tiles, 1);
  EXPECT_THROW(gnm::ch07::wgmma_launch_config(INT_MAX - 600, INT_MAX - 600, 8), gnm::ShapeError);
}

TEST(Ch07WgmmaArgs, BlockOrderVisitsEveryTileOnce) {
  for (int tiles_m : {1, 2, 15, 16, 17, 64, 67}) {
    for (int tiles_n : {1, 3, 32, 33}) {
      std::vector<int> seen(static_cast<std::size_t>(tiles_m * tiles_n), 0);
      for (int block = 0; block < tiles_m * tiles_n; ++block) {
        const auto t = gnm::ch07::wgmma_tile_of_block(block, tiles_m, tiles_n,
                                                      gnm::ch07::kWgmmaGroupM);
        ASSERT_TRUE(t.m >= 0 && t.m < tiles_m && t.n >= 0 && t.n < tiles_n)
            << "block " << block << " of " << tiles_m << "x" << tiles_n << " -> (" << t.m << ", "
            << t.n << ")";
        ++seen[static_cast<std::size_t>(t.m * tiles_n + t.n)];
      }
      for (int count : seen) ASSERT_EQ(count, 1) << tiles_m << "x" << tiles_n;
    }
  }
  // Consecutive blocks walk down a column of 16 tile rows before moving right (L2 reuse of B).
  const auto first = gnm::ch07::wgmma_tile_of_block(0, 64, 32, 16);
  const auto next = gnm::ch07::wgmma_tile_of_block(1, 64, 32, 16);
  const auto wrap = gnm::ch07::wgmma_tile_of_block(16, 64, 32, 16);
  EXPECT_EQ(first.m, 0);
  EXPECT_EQ(next.m, 1);
  EXPECT_EQ(next.n, 0);
  EXPECT_EQ(wrap.m, 0);
  EXPECT_EQ(wrap.n, 1);
}

TEST(Ch07WgmmaArgs, ErrorBoundFollowsTheModel) {
  // K · 2^-22 · ‖a‖ · ‖b‖: linear in K and in each norm.
  EXPECT_DOUBLE_EQ(gnm::ch07::gemm_bf16_error_bound(1024, 2.0, 3.0), 1024.0 * 0x1p-22 * 6.0);
  EXPECT_DOUBLE_EQ(gnm::ch07::gemm_bf16_error_bound(0, 2.0, 3.0), 0.0);
  const std::vector<__nv_bfloat16> m = {__float2bfloat16(3.0f), __float2bfloat16(4.0f),
                                        __float2bfloat16(1.0f), __float2bfloat16(0.0f)};
  EXPECT_DOUBLE_EQ(gnm::ch07::max_row_norm(m.data(), 2, 2), 5.0);
}

TEST(Ch07WgmmaArgs, WithoutADeviceValidCallsGiveACudaError) {
  if (!gnm::cuda::query_devices().devices.empty()) {
    GTEST_SKIP() << "a CUDA device is present: this test is about machines without one";
  }
  // Valid arguments get past the checks; the device query then fails cleanly (no crash).
  EXPECT_THROW(gnm::ch07::wgmma_gemm_bf16(kA, kB, kC, 128, 256, 64), gnm::CudaError);
  EXPECT_THROW(static_cast<void>(gnm::ch07::wgmma_device_supported()), gnm::CudaError);
}
