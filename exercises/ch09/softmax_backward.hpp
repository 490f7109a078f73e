// Exercise 9.3 — the backward of softmax (section 9.5 of the book).
//
// For one row, y = softmax(x) has the Jacobian ∂y_i/∂x_j = y_i (δ_ij − y_j). Multiplying by the
// incoming gradient dy gives, without ever forming the C × C Jacobian,
//
//     dx_i = Σ_j dy_j · y_j (δ_ij − y_i) = y_i · (dy_i − Σ_j dy_j y_j).
//
// Only the forward's *output* is needed, not its input: the engine's SoftmaxBackward saves y.
//
// Write, in exercises/ch09/softmax_backward.cpp:
//   9.3  softmax_backward()  dx from y and dy, row by row
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch09/exercise/SoftmaxBackward
#pragma once

#include <cstdint>
#include <span>

namespace gnm::ch09 {

/// Ex 9.3. For `rows` rows of `cols` values (row-major), with y = softmax(x) along each row and
/// dy = dL/dy, writes dx = dL/dx = y ⊙ (dy − s) into `dx`, where s = Σ_j dy_j·y_j is one number
/// per row. Accumulate s in double (its terms have mixed signs, and a C-term float sum would lose
/// up to C·2⁻²⁴ of Σ|dy_j·y_j| to rounding); the rest in float.
///
/// Throws gnm::ShapeError naming the sizes when rows or cols is negative or a span does not hold
/// rows·cols values. rows or cols 0 is valid and writes nothing.
void softmax_backward(std::span<const float> y, std::span<const float> dy, std::int64_t rows,
                      std::int64_t cols, std::span<float> dx);

}  // namespace gnm::ch09
