// Exercise 9.2 — broadcasting's backward reduction (section 9.6 of the book).
//
// When c = a + b broadcasts a of shape (3, 1) against b of shape (4) to c of shape (3, 4), every
// element of a was used 4 times and every element of b 3 times. The chain rule adds up those uses:
// dL/da sums dL/dc over the broadcast column, dL/db over the rows. gnm::sum_to(grad, shape) does
// this inside every broadcasting backward; here you write it on plain arrays.
//
// Write, in exercises/ch09/reduce_to_shape.cpp:
//   9.2  reduce_to_shape()  sum a row-major gradient down to the shape it was broadcast from
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch09/exercise/ReduceToShape
//
// broadcast_strides() is given.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace gnm::ch09 {

/// Given. The strides, in elements of a row-major array of shape `target`, with which to read it
/// as if broadcast to `full`: `full` has at least as many dimensions as `target`, the shapes are
/// aligned on the right, a dimension missing from `target` or of size 1 there gets stride 0.
/// Throws gnm::ShapeError naming both shapes when `target` does not broadcast to `full` (a size
/// that is neither equal nor 1, or more dimensions than `full`).
std::vector<std::int64_t> broadcast_strides(std::span<const std::int64_t> target,
                                            std::span<const std::int64_t> full);

/// Ex 9.2. The gradient `grad` (row-major, shape `grad_shape`) summed down to `target_shape`,
/// returned row-major: element j of the result is the sum of every grad element whose index maps
/// to j when `target_shape` is broadcast to `grad_shape` (NumPy's rules: align on the right; a
/// leading dimension that target lacks, or a size-1 dimension of target, is summed over).
///
/// Equal shapes return grad unchanged. Accumulate in double and round once to float: then each
/// result is the correctly rounded sum up to the double's own ~1e-16 error. Throws
/// gnm::ShapeError (from broadcast_strides) when target does not broadcast to grad_shape, and
/// gnm::ShapeError naming the sizes when grad.size() is not the product of grad_shape.
std::vector<float> reduce_to_shape(std::span<const float> grad,
                                   std::span<const std::int64_t> grad_shape,
                                   std::span<const std::int64_t> target_shape);

}  // namespace gnm::ch09
