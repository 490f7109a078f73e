// Exercise 6.4a: the launch configuration of the padded transpose (CPU-side; runs everywhere).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "gnm/core/error.hpp"
#include "transpose.hpp"

using gnm::ch06::transpose_config;
using gnm::ch06::TransposeConfig;

namespace {

// Expects `f` to throw exactly E (a stub's gnm::NotImplemented is also a gnm::Error: it must
// not count) with `needle` in its message.
template <class E, class F>
void expect_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning '" << needle << "'";
  } catch (const gnm::NotImplemented& e) {
    ADD_FAILURE() << "exercise not done yet: " << e.what();
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Ch06TransposeConfig, BlockAndPaddedTile) {
  const TransposeConfig cfg = transpose_config(100, 200);
  EXPECT_EQ(cfg.block_x, 32);
  EXPECT_EQ(cfg.block_y, 8);
  EXPECT_EQ(cfg.shared_bytes, 32u * 33u * sizeof(float)) << "the tile is 32 x 33 floats";
}

TEST(Ch06TransposeConfig, TilesCoverOddSizes) {
  struct Case {
    std::int64_t rows, cols;
    int grid_x;
    std::int64_t row_tiles;
  };
  for (const Case c : {Case{1, 1, 1, 1}, Case{32, 32, 1, 1}, Case{33, 31, 1, 2},
                       Case{31, 33, 2, 1}, Case{97, 101, 4, 4}, Case{1, 100003, 3126, 1},
                       Case{100003, 1, 1, 3126}, Case{8192, 8192, 256, 256}}) {
    const TransposeConfig cfg = transpose_config(c.rows, c.cols);
    EXPECT_EQ(cfg.grid_x, c.grid_x) << c.rows << " x " << c.cols;
    EXPECT_EQ(cfg.row_tiles, c.row_tiles) << c.rows << " x " << c.cols;
    EXPECT_EQ(cfg.grid_y, c.row_tiles) << c.rows << " x " << c.cols;
    // The defining property: the tiles cover the matrix, and one tile fewer would not.
    EXPECT_GE(std::int64_t{cfg.grid_x} * 32, c.cols);
    EXPECT_LT(std::int64_t{cfg.grid_x - 1} * 32, c.cols);
    EXPECT_GE(cfg.row_tiles * 32, c.rows);
    EXPECT_LT((cfg.row_tiles - 1) * 32, c.rows);
  }
}

TEST(Ch06TransposeConfig, GridYIsCappedAndBlocksLoopOverRowTiles) {
  // 65535 * 32 + 1 rows: one row tile more than gridDim.y may have.
  const TransposeConfig cfg = transpose_config(65535LL * 32 + 1, 3);
  EXPECT_EQ(cfg.row_tiles, 65536);
  EXPECT_EQ(cfg.grid_y, 65535);
  EXPECT_EQ(cfg.grid_x, 1);
  const TransposeConfig exact = transpose_config(65535LL * 32, 3);
  EXPECT_EQ(exact.row_tiles, 65535);
  EXPECT_EQ(exact.grid_y, 65535);
}

TEST(Ch06TransposeConfig, EmptyMatrixLaunchesNothing) {
  for (const auto& [rows, cols] : {std::pair<std::int64_t, std::int64_t>{0, 0}, {0, 7}, {7, 0}}) {
    const TransposeConfig cfg = transpose_config(rows, cols);
    EXPECT_EQ(cfg.grid_x, 0) << rows << " x " << cols;
    EXPECT_EQ(cfg.grid_y, 0) << rows << " x " << cols;
    EXPECT_EQ(cfg.row_tiles, 0) << rows << " x " << cols;
    EXPECT_EQ(cfg.block_x, 32);
    EXPECT_EQ(cfg.block_y, 8);
  }
}

TEST(Ch06TransposeConfig, NegativeOrOverflowingSizesAreShapeErrors) {
  expect_error<gnm::ShapeError>([] { (void)transpose_config(-3, 5); }, "rows = -3");
  expect_error<gnm::ShapeError>([] { (void)transpose_config(5, -1); }, "cols = -1");
  const std::int64_t big = std::int64_t{1} << 31;
  expect_error<gnm::ShapeError>([&] { (void)transpose_config(big, big); }, "rows = 2147483648");
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  expect_error<gnm::ShapeError>([&] { (void)transpose_config(max, 1); }, "rows");
  // The largest matrix whose bytes still fit: no overflow inside the ceil divisions.
  const TransposeConfig ok = transpose_config(max / 4, 1);
  EXPECT_EQ(ok.row_tiles, (max / 4) / 32 + 1);
  EXPECT_EQ(ok.grid_y, 65535);
}

TEST(Ch06TransposeConfig, TooManyColumnTilesIsAnError) {
  // 2^31 column tiles of 32 columns, one row: within INT64_MAX / 4 elements, but not one grid.
  const std::int64_t cols = (std::int64_t{1} << 31) * 32;
  expect_error<gnm::Error>([&] { (void)transpose_config(1, cols); }, "cols = 68719476736");
  const TransposeConfig last = transpose_config(1, cols - 32);
  EXPECT_EQ(last.grid_x, 2147483647);
}
