/// \file
/// Shapes, strides and NumPy broadcasting (chapters 9.2 and 9.6). Strides count elements, not
/// bytes, as in PyTorch.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <span>
#include <string>
#include <vector>

namespace gnm {

/// A tensor's sizes (or strides), outermost dimension first.
using Shape = std::vector<std::int64_t>;

/// The most dimensions a tensor may have: CUDA kernels take shapes by value in fixed arrays.
inline constexpr int kMaxDims = 8;

/// Product of the sizes (1 for a 0-d shape); ShapeError on a negative size or an overflow.
std::int64_t shape_numel(std::span<const std::int64_t> shape);

/// Row-major ("C-contiguous") strides for `shape`: the last dimension has stride 1.
Shape contiguous_strides(std::span<const std::int64_t> shape);

/// "[2, 3, 4]": the form used in every shape error.
std::string shape_str(std::span<const std::int64_t> shape);

/// Maps a possibly negative dimension index into [0, ndim); ShapeError naming `dim` and `ndim`
/// otherwise. `ndim` 0 accepts -1 and 0 (PyTorch treats a scalar as one-dimensional here).
std::int64_t wrap_dim(std::int64_t dim, std::int64_t ndim);

/// The NumPy broadcast of two shapes: align on the right; each pair of sizes must be equal or
/// one of them 1. ShapeError naming both shapes otherwise.
Shape broadcast_shapes(std::span<const std::int64_t> a, std::span<const std::int64_t> b);

/// Validates a shape given by a user: every size ≥ 0 and at most kMaxDims dimensions
/// (ShapeError naming the shape and `what` otherwise).
void check_shape(std::span<const std::int64_t> shape, const char* what);

}  // namespace gnm
