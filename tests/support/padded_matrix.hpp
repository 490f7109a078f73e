// Test operands for GEMM-like routines: a row-major fp32 matrix with a leading dimension larger
// than its width, whose padding holds NaN, so a kernel that reads or writes past a row's end
// poisons the result and the comparison fails.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "gnm/core/random.hpp"

namespace gnm::test {

/// rows × cols uniform values in [−1, 1) (Philox stream `seed`) with row stride
/// ld = max(1, cols + pad); the padding, and every element of an empty matrix's one-slot buffer,
/// is NaN.
struct PaddedMatrix {
  std::int64_t rows = 0;  ///< Rows.
  std::int64_t cols = 0;  ///< Columns.
  std::int64_t ld = 1;    ///< Row stride in elements.
  std::vector<float> v;   ///< rows · ld values (at least one).

  /// Fills the matrix as described above.
  PaddedMatrix(std::int64_t r, std::int64_t c, std::int64_t pad, std::uint64_t seed)
      : rows(r), cols(c), ld(std::max<std::int64_t>(1, c + pad)),
        v(static_cast<std::size_t>(std::max<std::int64_t>(1, r * ld)),
          std::numeric_limits<float>::quiet_NaN()) {
    std::vector<float> vals(static_cast<std::size_t>(r * c));
    if (!vals.empty()) gnm::fill_uniform(vals, seed, -1.0f, 1.0f);
    for (std::int64_t i = 0; i < r; ++i) {
      for (std::int64_t j = 0; j < c; ++j) {
        v[static_cast<std::size_t>(i * ld + j)] = vals[static_cast<std::size_t>(i * c + j)];
      }
    }
  }
  /// Element (i, j).
  float at(std::int64_t i, std::int64_t j) const { return v[static_cast<std::size_t>(i * ld + j)]; }
};

}  // namespace gnm::test
