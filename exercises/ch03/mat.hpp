// Chapter 3's small dense matrices: an owning Matrix and the two views the autodiff code passes
// around (ConstMat to read, Mat to write). Given code, not an exercise.
//
// The chapter's autodiff is a teaching one: double precision (so that central differences can
// check every gradient to ~1e-9), row-major, at most two dimensions. The engine's autograd, on
// strided N-dimensional tensors on CPU and GPU, comes in chapter 9.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gnm/core/check.hpp"

namespace gnm::ch03 {

/// Row and column counts of a matrix; a scalar is (1, 1).
struct Shape2 {
  std::int64_t rows = 0;  ///< Number of rows.
  std::int64_t cols = 0;  ///< Number of columns.
  /// rows · cols.
  std::int64_t numel() const { return rows * cols; }
  /// Equal when both counts are.
  friend bool operator==(const Shape2&, const Shape2&) = default;
};

/// "(3, 4)": how every message and the DOT figure print a shape.
inline std::string shape_string(Shape2 s) {
  return "(" + std::to_string(s.rows) + ", " + std::to_string(s.cols) + ")";
}

/// A read-only row-major view: element (i, j) is data[i * cols + j]. A view with data == nullptr
/// and a shape means "not available" (a value that was not saved, a gradient nobody wants).
struct ConstMat {
  const double* data = nullptr;  ///< First element, or nullptr.
  std::int64_t rows = 0;         ///< Number of rows.
  std::int64_t cols = 0;         ///< Number of columns.
  /// The shape.
  Shape2 shape() const { return {rows, cols}; }
  /// rows · cols.
  std::int64_t numel() const { return rows * cols; }
  /// Element i of the flat row-major storage.
  double operator[](std::int64_t i) const { return data[i]; }
  /// Element (i, j).
  double operator()(std::int64_t i, std::int64_t j) const { return data[i * cols + j]; }
};

/// A writable row-major view; data == nullptr means "nobody wants this output" (a gradient of an
/// input that does not require one), and the code that would write it must skip it.
struct Mat {
  double* data = nullptr;  ///< First element, or nullptr.
  std::int64_t rows = 0;   ///< Number of rows.
  std::int64_t cols = 0;   ///< Number of columns.
  /// The shape.
  Shape2 shape() const { return {rows, cols}; }
  /// rows · cols.
  std::int64_t numel() const { return rows * cols; }
  /// Element i of the flat row-major storage.
  double& operator[](std::int64_t i) const { return data[i]; }
  /// Element (i, j).
  double& operator()(std::int64_t i, std::int64_t j) const { return data[i * cols + j]; }
  /// The same memory, read-only.
  operator ConstMat() const { return {data, rows, cols}; }  // NOLINT: a view widens implicitly
};

/// An owning row-major matrix of doubles (a std::vector with a shape).
class Matrix {
 public:
  Matrix() = default;
  /// rows × cols, every element `fill`.
  Matrix(std::int64_t rows, std::int64_t cols, double fill = 0.0) : rows_(rows), cols_(cols) {
    GNM_CHECK_SHAPE(rows >= 0 && cols >= 0, "Matrix: negative shape", rows, cols);
    values_.assign(static_cast<std::size_t>(rows * cols), fill);
  }
  /// rows × cols from row-major values (values.size() must be rows · cols; ShapeError otherwise).
  Matrix(std::int64_t rows, std::int64_t cols, std::vector<double> values)
      : rows_(rows), cols_(cols), values_(std::move(values)) {
    GNM_CHECK_SHAPE(rows >= 0 && cols >= 0 &&
                        static_cast<std::int64_t>(values_.size()) == rows * cols,
                    "Matrix: the values do not fill the shape", rows, cols, values_.size());
  }

  /// Number of rows.
  std::int64_t rows() const { return rows_; }
  /// Number of columns.
  std::int64_t cols() const { return cols_; }
  /// The shape.
  Shape2 shape() const { return {rows_, cols_}; }
  /// rows · cols.
  std::int64_t numel() const { return rows_ * cols_; }
  /// Element (i, j).
  double& operator()(std::int64_t i, std::int64_t j) { return values_[index(i, j)]; }
  /// Element (i, j).
  double operator()(std::int64_t i, std::int64_t j) const { return values_[index(i, j)]; }
  /// The row-major values.
  std::vector<double>& values() { return values_; }
  /// The row-major values.
  const std::vector<double>& values() const { return values_; }
  /// A writable view of the whole matrix.
  Mat view() { return {values_.data(), rows_, cols_}; }
  /// A read-only view of the whole matrix.
  ConstMat view() const { return {values_.data(), rows_, cols_}; }

 private:
  std::size_t index(std::int64_t i, std::int64_t j) const {
    return static_cast<std::size_t>(i * cols_ + j);
  }
  std::int64_t rows_ = 0;
  std::int64_t cols_ = 0;
  std::vector<double> values_;
};

}  // namespace gnm::ch03
