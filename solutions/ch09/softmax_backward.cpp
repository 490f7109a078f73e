// Exercise 9.3: softmax's backward from its output (task statement in
// exercises/ch09/softmax_backward.hpp).
#include "softmax_backward.hpp"

#include "gnm/core/check.hpp"

namespace gnm::ch09 {

//! [softmax_backward]
void softmax_backward(std::span<const float> y, std::span<const float> dy, std::int64_t rows,
                      std::int64_t cols, std::span<float> dx) {
  GNM_CHECK_SHAPE(rows >= 0 && cols >= 0, "softmax_backward: negative size", rows, cols);
  const auto n = static_cast<std::size_t>(rows * cols);
  GNM_CHECK_SHAPE(y.size() == n && dy.size() == n && dx.size() == n,
                  "softmax_backward: spans do not hold rows * cols values", rows, cols, y.size(),
                  dy.size(), dx.size());
  // BEGIN SOLUTION("ex 9.3", "for each row r (offset r * cols): s = sum over j of double(dy[j]) * double(y[j]); then dx[j] = y[j] * (dy[j] - float(s))")
  const auto c = static_cast<std::size_t>(cols);
  for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r) {
    const std::size_t base = r * c;
    double s = 0.0;  // Σ dy_j·y_j: the gradient's component along y itself
    for (std::size_t j = 0; j < c; ++j) {
      s += static_cast<double>(dy[base + j]) * static_cast<double>(y[base + j]);
    }
    const auto sf = static_cast<float>(s);
    for (std::size_t j = 0; j < c; ++j) dx[base + j] = y[base + j] * (dy[base + j] - sf);
  }
  // END SOLUTION
}
//! [softmax_backward]

}  // namespace gnm::ch09
