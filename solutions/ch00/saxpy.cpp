// Exercise 0.4a: the launch configuration of a 1-D kernel (see exercises/ch00/saxpy.hpp).
#include "saxpy.hpp"

#include <algorithm>

#include "gnm/core/check.hpp"

namespace gnm::ch00 {

//! [launch_config]
LaunchConfig saxpy_launch_config(std::int64_t n, int block, std::int64_t max_grid) {
  // BEGIN SOLUTION("ex 0.4", "validate n (ShapeError), block (multiple of 32 in [32, 1024]) and max_grid (>= 1), then grid = min(ceil(n / block), max_grid)")
  GNM_CHECK_SHAPE(n >= 0, "the number of elements cannot be negative", n);
  GNM_CHECK(block >= 32 && block <= 1024 && block % 32 == 0,
            "threads per block must be a multiple of the warp size (32) in [32, 1024]", block);
  GNM_CHECK(max_grid >= 1, "the grid limit must be at least one block", max_grid);
  // Ceil-divide without overflow: (n + block - 1) could wrap for n near INT64_MAX.
  const std::int64_t blocks = n / block + (n % block != 0 ? 1 : 0);
  return LaunchConfig{std::min(blocks, max_grid), block};
  // END SOLUTION
}
//! [launch_config]

}  // namespace gnm::ch00
