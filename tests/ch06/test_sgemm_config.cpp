// Exercises 6.1 and 6.2, host side: the launch configurations of the shared-memory tiled and the
// register-tiled SGEMM (tiled_config, reg2d_config), and the launchers' argument checks, which run
// before any CUDA call and so are tested here, without a GPU. Every test calls an exercise
// function, so every test fails on the stubs.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>

#include "gnm/core/error.hpp"
#include "sgemm_ladder.hpp"

namespace {

using gnm::ch06::ceil_div;
using gnm::ch06::TiledConfig;

struct Size {
  std::int64_t M, N, K;
};

// Odd sizes, tile multiples, the benchmark sizes, and empty problems.
const Size kSizes[] = {{1, 1, 1},       {1, 77, 1},       {17, 31, 13},    {127, 129, 65},
                       {128, 128, 128}, {1000, 4097, 3},  {4096, 4096, 4096}, {8192, 8192, 8192},
                       {5, 5, 0},       {0, 5, 5},        {5, 0, 5},       {0, 0, 0}};

// What every rung's launch must satisfy for an M × N × K problem.
void expect_fits(const std::string& what, const TiledConfig& c, Size s) {
  SCOPED_TRACE(what + " at M = " + std::to_string(s.M) + ", N = " + std::to_string(s.N) +
               ", K = " + std::to_string(s.K));
  // The grid covers C exactly: no missing tile, no block that is wholly outside.
  const std::int64_t blocks_m = c.grid_x_along_m ? c.grid_x : c.grid_y;
  const std::int64_t blocks_n = c.grid_x_along_m ? c.grid_y : c.grid_x;
  ASSERT_GT(c.tile_m, 0);
  ASSERT_GT(c.tile_n, 0);
  EXPECT_EQ(blocks_m, ceil_div(s.M, c.tile_m));
  EXPECT_EQ(blocks_n, ceil_div(s.N, c.tile_n));
  EXPECT_EQ(c.empty(), s.M == 0 || s.N == 0);
  // Threads: whole warps, within the hardware limit, and exactly enough for the tile.
  EXPECT_GE(c.threads(), 32);
  EXPECT_LE(c.threads(), gnm::ch06::kMaxThreadsPerBlock);
  EXPECT_EQ(c.threads() % 32, 0);
  EXPECT_EQ(static_cast<std::int64_t>(c.threads()) * c.thread_m * c.thread_n,
            static_cast<std::int64_t>(c.tile_m) * c.tile_n);
  EXPECT_LE(c.grid_x, gnm::ch06::kMaxGridX);
  EXPECT_LE(c.grid_y, gnm::ch06::kMaxGridY);
  EXPECT_LE(c.smem_bytes, gnm::ch06::kMaxStaticSmemBytes);
}

// Expects `f` to throw exactly `Expected` (not the stub's NotImplemented) with `needle` in its
// message.
template <class Expected>
void expect_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one naming '" << needle << "'";
  } catch (const gnm::NotImplemented& e) {
    ADD_FAILURE() << "exercise not written yet: " << e.what();
  } catch (const Expected& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message '" << e.what() << "' does not name '" << needle << "'";
  }
}

}  // namespace

TEST(Ch06SgemmConfig, TiledConfigIsOneThreadPerElementOf32x32Tiles) {
  for (const Size s : kSizes) {
    const TiledConfig c = gnm::ch06::tiled_config(s.M, s.N, s.K);
    expect_fits("tiled_config", c, s);
    EXPECT_FALSE(c.grid_x_along_m);
    EXPECT_EQ(c.grid_x, ceil_div(s.N, 32));  // x along N: a warp reads a row of the B tile
    EXPECT_EQ(c.grid_y, ceil_div(s.M, 32));
    EXPECT_EQ(c.block_x, 32);
    EXPECT_EQ(c.block_y, 32);
    EXPECT_EQ(c.tile_m, 32);
    EXPECT_EQ(c.tile_n, 32);
    EXPECT_EQ(c.tile_k, 32);
    EXPECT_EQ(c.thread_m, 1);
    EXPECT_EQ(c.thread_n, 1);
    EXPECT_EQ(c.smem_bytes, 2 * 32 * 32 * 4);
  }
}

TEST(Ch06SgemmConfig, Reg2dConfigIsAn8x8ThreadTileOf128x128Blocks) {
  for (const Size s : kSizes) {
    const TiledConfig c = gnm::ch06::reg2d_config(s.M, s.N, s.K);
    expect_fits("reg2d_config", c, s);
    EXPECT_FALSE(c.grid_x_along_m);
    EXPECT_EQ(c.grid_x, ceil_div(s.N, 128));
    EXPECT_EQ(c.grid_y, ceil_div(s.M, 128));
    EXPECT_EQ(c.block_x, 256);
    EXPECT_EQ(c.block_y, 1);
    EXPECT_EQ(c.tile_m, 128);
    EXPECT_EQ(c.tile_n, 128);
    EXPECT_EQ(c.tile_k, 8);
    EXPECT_EQ(c.thread_m, 8);
    EXPECT_EQ(c.thread_n, 8);
    EXPECT_EQ(c.smem_bytes, (128 * 8 + 8 * 128) * 4);
  }
}

TEST(Ch06SgemmConfig, ConfigsRejectNegativeAndHugeSizesNamingThem) {
  using gnm::ShapeError;
  for (auto config : {&gnm::ch06::tiled_config, &gnm::ch06::reg2d_config}) {
    expect_error<ShapeError>([&] { config(-1, 4, 4); }, "M = -1");
    expect_error<ShapeError>([&] { config(4, -7, 4); }, "N = -7");
    expect_error<ShapeError>([&] { config(4, 4, -2); }, "K = -2");
    expect_error<ShapeError>([&] { config(4, 4, gnm::ch06::kMaxGemmDim + 1); },
                             "K = 1073741825");
  }
}

TEST(Ch06SgemmConfig, ConfigsRejectGridsTallerThanTheHardwareAllows) {
  // 65536 rows of blocks: one more than blockIdx.y can count.
  expect_error<gnm::Error>([] { gnm::ch06::tiled_config(32 * 65536, 1, 1); }, "65535");
  expect_error<gnm::Error>([] { gnm::ch06::reg2d_config(128 * 65536, 1, 1); }, "65535");
  // One row fewer fits.
  EXPECT_EQ(gnm::ch06::tiled_config(32 * 65535, 1, 1).grid_y, 65535);
  EXPECT_EQ(gnm::ch06::reg2d_config(128 * 65535, 1, 1).grid_y, 65535);
}

TEST(Ch06SgemmConfig, EveryRungsConfigCoversCAndFitsTheHardware) {
  for (const gnm::ch06::Rung& r : gnm::ch06::ladder()) {
    for (const Size s : kSizes) expect_fits(r.name, r.config(s.M, s.N, s.K), s);
  }
}

#if GNM_HAVE_CUDA
TEST(Ch06SgemmConfig, LaunchersCheckArgumentsBeforeAnyCudaCall) {
  // Host pointers stand in for device pointers: each call must throw (or return, for an empty
  // problem) before it launches anything, so nothing is dereferenced and no driver is needed.
  float dummy[4] = {};
  float* p = dummy;
  for (const gnm::ch06::Rung& r : gnm::ch06::ladder()) {
    SCOPED_TRACE(r.name);
    expect_error<gnm::ShapeError>([&] { r.launch(-1, 4, 4, 1.0f, p, p, 0.0f, p, nullptr); },
                                  "M = -1");
    expect_error<gnm::ShapeError>([&] { r.launch(4, 4, -3, 1.0f, p, p, 0.0f, p, nullptr); },
                                  "K = -3");
    expect_error<gnm::Error>([&] { r.launch(4, 4, 4, 1.0f, nullptr, p, 0.0f, p, nullptr); },
                             "A is null");
    expect_error<gnm::Error>([&] { r.launch(4, 4, 4, 1.0f, p, nullptr, 0.0f, p, nullptr); },
                             "B is null");
    expect_error<gnm::Error>([&] { r.launch(4, 4, 4, 1.0f, p, p, 0.0f, nullptr, nullptr); },
                             "C is null");
    // Empty C: nothing to do, null pointers allowed, no CUDA call.
    EXPECT_NO_THROW(r.launch(0, 4, 4, 1.0f, nullptr, p, 0.0f, nullptr, nullptr));
    EXPECT_NO_THROW(r.launch(4, 0, 4, 1.0f, p, nullptr, 0.0f, nullptr, nullptr));
    EXPECT_NO_THROW(r.launch(0, 0, 0, 1.0f, nullptr, nullptr, 0.0f, nullptr, nullptr));
  }
}
#endif
