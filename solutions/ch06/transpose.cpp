// Exercise 6.4a: the launch configuration of the padded transpose (see exercises/ch06/transpose.hpp).
// Plain host code, so that it is tested on every machine (the kernel of 6.4b needs a GPU).
#include "transpose.hpp"

#include <algorithm>
#include <climits>
#include <limits>

#include "gnm/core/check.hpp"

namespace gnm::ch06 {

//! [config]
TransposeConfig transpose_config(std::int64_t rows, std::int64_t cols) {
  TransposeConfig cfg;
  // BEGIN SOLUTION("ex 6.4", "block 32 x 8, shared_bytes = 32 * 33 floats; check the sizes (ShapeError for negative, or rows * cols > INT64_MAX / 4 without overflowing); zero size: grids 0; grid_x = ceil(cols / 32) (gnm::Error above INT_MAX), row_tiles = ceil(rows / 32), grid_y = min(row_tiles, 65535)")
  cfg.block_x = kTransposeTile;
  cfg.block_y = kTransposeBlockRows;
  cfg.shared_bytes = sizeof(float) * kTransposeTile * (kTransposeTile + 1);
  GNM_CHECK_SHAPE(rows >= 0 && cols >= 0, "transpose sizes must not be negative", rows, cols);
  if (rows == 0 || cols == 0) return cfg;
  GNM_CHECK_SHAPE(rows <= std::numeric_limits<std::int64_t>::max() / 4 / cols,
                  "rows * cols is too large (its byte count overflows)", rows, cols);
  // ceil(a / 32) without forming a + 31, which could overflow near INT64_MAX.
  const auto ceil_div = [](std::int64_t a) {
    return a / kTransposeTile + (a % kTransposeTile != 0 ? 1 : 0);
  };
  const std::int64_t col_tiles = ceil_div(cols);
  GNM_CHECK(col_tiles <= INT_MAX, "too many column tiles for one grid (gridDim.x < 2^31)", cols,
            col_tiles);
  cfg.grid_x = static_cast<int>(col_tiles);
  cfg.row_tiles = ceil_div(rows);
  cfg.grid_y = static_cast<int>(std::min<std::int64_t>(cfg.row_tiles, kTransposeMaxGridY));
  // END SOLUTION
  return cfg;
}
//! [config]

}  // namespace gnm::ch06
