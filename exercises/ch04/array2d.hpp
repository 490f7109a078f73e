// Exercise 4.2 — slicing a strided 2-D view (section 4.2 of the book).
//
// This header also holds the chapter's teaching array type: Array2D<T> owns a row-major matrix
// (the C++ counterpart of ndarray's Array2 or nalgebra's DMatrix) and Array2DView<T> is a
// non-owning strided view of one (ndarray's ArrayView2). The view type is the engine's
// gnm::MatrixView from chapter 2; this chapter adds ownership around it.
//
// Write, in exercises/ch04/array2d.cpp:
//   4.2  slice()   a[r.begin:r.end:r.step, c.begin:c.end:c.step] as a view, no copy
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch04
#pragma once

#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>

#include "gnm/core/aligned_buffer.hpp"
#include "gnm/core/check.hpp"
#include "gnm/core/matrix_view.hpp"

namespace gnm::ch04 {

/// A non-owning strided view (Rust: ndarray's ArrayView2 / ArrayViewMut2). It borrows: it must
/// not outlive the array or buffer it points into (section 4.1).
template <class T>
using Array2DView = gnm::MatrixView<T>;

/// A row-major `rows` × `cols` matrix that owns its elements (64-byte aligned).
///
/// Ownership follows Rust's rules: Array2D is move-only, a moved-from array is empty (0 × 0, no
/// memory), and a deep copy is spelled out with clone(), as `.clone()` is in Rust, so no
/// megabyte-sized copy ever happens by accident in `auto b = a;`.
template <class T>
class Array2D {
  static_assert(std::is_floating_point_v<T>, "Array2D holds float or double");

 public:
  /// An empty 0 × 0 array.
  Array2D() = default;

  /// A `rows` × `cols` array of zeros. Throws gnm::ShapeError for a negative size.
  Array2D(std::int64_t rows, std::int64_t cols) : rows_(rows), cols_(cols) {
    GNM_CHECK_SHAPE(rows >= 0 && cols >= 0, "an array cannot have a negative size", rows, cols);
    GNM_CHECK_SHAPE(cols == 0 || rows <= INT64_MAX / cols, "rows * cols overflows", rows, cols);
    buffer_ = AlignedBuffer<T>(static_cast<std::size_t>(rows * cols));
    for (T& v : buffer_.span()) v = T(0);
  }

  /// A packed copy of any view (a transposed or sliced view becomes a contiguous array).
  static Array2D from_view(Array2DView<const T> v) {
    Array2D out(v.rows(), v.cols());
    gnm::copy(v, out.view());
    return out;
  }

  //! [array2d_ownership]
  Array2D(const Array2D&) = delete;
  Array2D& operator=(const Array2D&) = delete;

  /// Takes the elements of `other`, which becomes 0 × 0.
  Array2D(Array2D&& other) noexcept
      : buffer_(std::move(other.buffer_)),
        rows_(std::exchange(other.rows_, 0)),
        cols_(std::exchange(other.cols_, 0)) {}

  /// Frees this array's elements and takes those of `other`, which becomes 0 × 0.
  Array2D& operator=(Array2D&& other) noexcept {
    if (this != &other) {
      buffer_ = std::move(other.buffer_);
      rows_ = std::exchange(other.rows_, 0);
      cols_ = std::exchange(other.cols_, 0);
    }
    return *this;
  }

  ~Array2D() = default;

  /// A deep copy (the only way to copy an Array2D).
  Array2D clone() const { return from_view(view()); }
  //! [array2d_ownership]

  /// Number of rows.
  std::int64_t rows() const noexcept { return rows_; }
  /// Number of columns.
  std::int64_t cols() const noexcept { return cols_; }
  /// rows × cols.
  std::int64_t size() const noexcept { return rows_ * cols_; }
  /// True for an array with no elements (also a moved-from one).
  bool empty() const noexcept { return size() == 0; }

  /// The first element (nullptr when empty).
  T* data() noexcept { return buffer_.data(); }
  /// The first element (nullptr when empty).
  const T* data() const noexcept { return buffer_.data(); }
  /// All elements in row-major order.
  std::span<T> flat() noexcept { return buffer_.span(); }
  /// All elements in row-major order.
  std::span<const T> flat() const noexcept { return buffer_.span(); }

  /// Element (i, j), unchecked.
  T& operator()(std::int64_t i, std::int64_t j) noexcept { return data()[i * cols_ + j]; }
  /// Element (i, j), unchecked.
  const T& operator()(std::int64_t i, std::int64_t j) const noexcept {
    return data()[i * cols_ + j];
  }
  /// Element (i, j); gnm::ShapeError naming the index and the shape when it is out of range,
  /// which is also what reading a moved-from (0 × 0) array gives.
  T& at(std::int64_t i, std::int64_t j) { return view().at(i, j); }

  /// A mutable view of the whole array, strides (cols, 1) (row stride 1 when cols is 0, as BLAS
  /// wants a leading dimension of at least 1).
  Array2DView<T> view() noexcept { return {data(), rows_, cols_, ld(), 1}; }
  /// A read-only view of the whole array.
  Array2DView<const T> view() const noexcept { return {data(), rows_, cols_, ld(), 1}; }

 private:
  std::int64_t ld() const noexcept { return cols_ > 0 ? cols_ : 1; }

  AlignedBuffer<T> buffer_;
  std::int64_t rows_ = 0;
  std::int64_t cols_ = 0;
};

/// A half-open range of indices with a step: begin, begin + step, … while < end (Python's
/// `begin:end:step`, positive steps only).
struct Range {
  std::int64_t begin = 0;  ///< First index.
  std::int64_t end = 0;    ///< One past the last index that may be taken.
  std::int64_t step = 1;   ///< Distance between taken indices, ≥ 1.
};

/// Ex 4.2. The view `v[rows.begin:rows.end:rows.step, cols.begin:cols.end:cols.step]`, made in
/// O(1) without copying: element (i, j) of the result is v(rows.begin + i·rows.step,
/// cols.begin + j·cols.step).
///
/// - Shape: ⌈(end − begin) / step⌉ in each dimension (0 when begin == end).
/// - Strides: the view's strides times the steps. Pointer: the address of v(rows.begin,
///   cols.begin); for an empty result keep v.data() (an empty view is never dereferenced, and
///   begin may then be one past the end).
/// - Throws gnm::ShapeError naming the values unless 0 ≤ begin ≤ end ≤ extent and step ≥ 1 in
///   both dimensions (extent = v.rows() for `rows`, v.cols() for `cols`).
///
/// slice(a.view(), {0, n, 2}, {0, n, 1}) is every other row; slicing the transpose of a view
/// works the same, since only the strides differ.
Array2DView<float> slice(Array2DView<float> v, Range rows, Range cols);
/// Ex 4.2 for double (the same code).
Array2DView<double> slice(Array2DView<double> v, Range rows, Range cols);
/// Ex 4.2 for read-only views (the same code).
Array2DView<const float> slice(Array2DView<const float> v, Range rows, Range cols);

}  // namespace gnm::ch04
