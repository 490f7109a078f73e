// Exercise 0.4a: the launch configuration (CPU-side; runs everywhere).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "gnm/core/error.hpp"
#include "saxpy.hpp"

using gnm::ch00::saxpy_launch_config;

TEST(Ch00LaunchConfig, CoversEveryElementWithCeilDivision) {
  struct Case {
    std::int64_t n;
    int block;
    std::int64_t grid;
  };
  for (const Case c : {Case{1, 256, 1}, Case{255, 256, 1}, Case{256, 256, 1}, Case{257, 256, 2},
                       Case{1000003, 256, 3907}, Case{97, 32, 4}, Case{1024, 1024, 1},
                       Case{1025, 1024, 2}}) {
    const auto cfg = saxpy_launch_config(c.n, c.block, std::int64_t{1} << 40);
    EXPECT_EQ(cfg.grid, c.grid) << "n = " << c.n << ", block = " << c.block;
    EXPECT_EQ(cfg.block, c.block);
    // The defining property: the grid covers n, and one block fewer would not.
    EXPECT_GE(cfg.grid * c.block, c.n);
    EXPECT_LT((cfg.grid - 1) * c.block, c.n);
  }
}

TEST(Ch00LaunchConfig, EmptyInputLaunchesNothing) {
  const auto cfg = saxpy_launch_config(0, 128, 100);
  EXPECT_EQ(cfg.grid, 0);
  EXPECT_EQ(cfg.block, 128);
}

TEST(Ch00LaunchConfig, GridIsCappedForGridStrideLoops) {
  EXPECT_EQ(saxpy_launch_config(1'000'000, 256, 100).grid, 100);
  EXPECT_EQ(saxpy_launch_config(std::int64_t{1} << 30, 256).grid, gnm::ch00::kDefaultMaxGrid);
  EXPECT_EQ(saxpy_launch_config(512, 256, 1).grid, 1);
}

TEST(Ch00LaunchConfig, HugeSizesDoNotOverflow) {
  const std::int64_t n = std::numeric_limits<std::int64_t>::max();
  const auto cfg = saxpy_launch_config(n, 1024, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(cfg.grid, n / 1024 + 1);
}

TEST(Ch00LaunchConfig, NegativeSizeIsAShapeErrorNamingN) {
  try {
    (void)saxpy_launch_config(-5, 256, 100);
    FAIL() << "expected gnm::ShapeError";
  } catch (const gnm::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("n = -5"), std::string::npos) << e.what();
  }
}

TEST(Ch00LaunchConfig, BadBlockOrGridLimitIsAnError) {
  for (int block : {0, -32, 16, 33, 1056, 2048}) {
    EXPECT_THROW((void)saxpy_launch_config(100, block, 100), gnm::Error) << "block = " << block;
  }
  EXPECT_THROW((void)saxpy_launch_config(100, 256, 0), gnm::Error);
  try {
    (void)saxpy_launch_config(100, 48, 100);
    FAIL() << "expected gnm::Error";
  } catch (const gnm::ShapeError&) {
    FAIL() << "a bad block size is not a shape error";
  } catch (const gnm::NotImplemented&) {
    FAIL() << "exercise not written yet";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("block = 48"), std::string::npos) << e.what();
  }
}
