/// \file
/// `gnm::MatrixView<T>`: a non-owning, strided view of a 2-D matrix (section 2.1).
///
/// Note [Strided views]: element (i, j) of a view lives at `data[i * row_stride + j * col_stride]`,
/// strides counted in elements. One formula covers every layout the book meets:
///
///     row-major  rows × cols, leading dimension ld ≥ cols:  row_stride = ld, col_stride = 1
///     col-major  rows × cols, leading dimension ld ≥ rows:  row_stride = 1,  col_stride = ld
///     transpose of either:                                   swap (rows, cols) and the strides
///     block (r0, c0, r, c) of either:                        data + r0·rs + c0·cs, same strides
///
/// so a transpose or a sub-block is a new view of the same memory, made in O(1) without a copy.
/// This is exactly what BLAS's (pointer, leading dimension, transpose flag) triple encodes, and
/// what the engine's Tensor generalises to N dimensions with an offset.
///
/// A view does not own its memory (like std::span): it must not outlive the buffer. Constness is
/// shallow, as in std::span: `MatrixView<float>` writes, `MatrixView<const float>` only reads, and
/// the first converts to the second.
///
///   std::vector<float> a(3 * 4);                                      // (3, 4) row-major
///   auto A  = gnm::MatrixView<float>::row_major(a.data(), 3, 4);
///   auto At = A.transposed();                                         // (4, 3), no copy
///   At(2, 1) = 5.0f;                                                  // writes a[1 * 4 + 2]
#pragma once

#include <cstdint>
#include <type_traits>

#include "gnm/core/check.hpp"

namespace gnm {

/// A non-owning strided view of a `rows` × `cols` matrix of `T` (see Note [Strided views]).
/// Strides may be any value (0 repeats an element, as in broadcasting); shapes are ≥ 0.
template <class T>
class MatrixView {
 public:
  /// The element type, `const` for a read-only view.
  using element_type = T;
  /// The element type without const.
  using value_type = std::remove_cv_t<T>;

  /// An empty 0 × 0 view.
  MatrixView() = default;

  /// A view of `rows` × `cols` elements at `data`, element (i, j) at
  /// `data[i * row_stride + j * col_stride]`. Throws ShapeError for a negative shape, and
  /// gnm::Error for a null `data` with a non-empty shape.
  MatrixView(T* data, std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
             std::int64_t col_stride)
      : data_(data), rows_(rows), cols_(cols), row_stride_(row_stride), col_stride_(col_stride) {
    GNM_CHECK_SHAPE(rows >= 0 && cols >= 0, "a matrix view cannot have a negative shape", rows,
                    cols);
    GNM_CHECK(data != nullptr || rows == 0 || cols == 0, "a non-empty view needs data", rows,
              cols);
  }

  /// A row-major view: rows of `cols` elements, each row `ld` elements after the previous one
  /// (ld = cols when packed). Throws ShapeError unless ld ≥ cols (ld ≥ 1 when cols is 0).
  static MatrixView row_major(T* data, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
    GNM_CHECK_SHAPE(ld >= cols && ld >= 1, "row-major leading dimension must be >= cols", rows,
                    cols, ld);
    return MatrixView(data, rows, cols, ld, 1);
  }
  /// A packed row-major view (leading dimension = cols).
  static MatrixView row_major(T* data, std::int64_t rows, std::int64_t cols) {
    return row_major(data, rows, cols, cols > 0 ? cols : 1);
  }

  /// A column-major view (Fortran, BLAS's native order): columns of `rows` elements, each column
  /// `ld` elements after the previous one. Throws ShapeError unless ld ≥ rows (and ld ≥ 1).
  static MatrixView col_major(T* data, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
    GNM_CHECK_SHAPE(ld >= rows && ld >= 1, "column-major leading dimension must be >= rows", rows,
                    cols, ld);
    return MatrixView(data, rows, cols, 1, ld);
  }
  /// A packed column-major view (leading dimension = rows).
  static MatrixView col_major(T* data, std::int64_t rows, std::int64_t cols) {
    return col_major(data, rows, cols, rows > 0 ? rows : 1);
  }

  /// A read-only view of the same elements (`MatrixView<float>` → `MatrixView<const float>`).
  operator MatrixView<const T>() const  // NOLINT(google-explicit-constructor): like std::span
    requires(!std::is_const_v<T>)
  {
    return MatrixView<const T>(data_, rows_, cols_, row_stride_, col_stride_);
  }

  /// Pointer to element (0, 0).
  T* data() const noexcept { return data_; }
  /// Number of rows.
  std::int64_t rows() const noexcept { return rows_; }
  /// Number of columns.
  std::int64_t cols() const noexcept { return cols_; }
  /// Elements from (i, j) to (i + 1, j).
  std::int64_t row_stride() const noexcept { return row_stride_; }
  /// Elements from (i, j) to (i, j + 1).
  std::int64_t col_stride() const noexcept { return col_stride_; }
  /// rows × cols.
  std::int64_t size() const noexcept { return rows_ * cols_; }
  /// True when the view has no elements.
  bool empty() const noexcept { return rows_ == 0 || cols_ == 0; }

  /// Element (i, j), unchecked (use at() while debugging).
  T& operator()(std::int64_t i, std::int64_t j) const noexcept {
    return data_[i * row_stride_ + j * col_stride_];
  }

  /// Element (i, j); throws ShapeError naming the index and the shape when it is out of range.
  T& at(std::int64_t i, std::int64_t j) const {
    GNM_CHECK_SHAPE(i >= 0 && i < rows_ && j >= 0 && j < cols_,
                    "matrix index out of range", i, j, rows(), cols());
    return (*this)(i, j);
  }

  /// The transpose as a view of the same memory: shape and strides swapped, nothing copied.
  MatrixView transposed() const noexcept {
    MatrixView t = *this;
    t.rows_ = cols_;
    t.cols_ = rows_;
    t.row_stride_ = col_stride_;
    t.col_stride_ = row_stride_;
    return t;
  }

  /// The `nrows` × `ncols` sub-matrix whose element (0, 0) is this view's (r0, c0). Throws
  /// ShapeError, naming the block and this view's shape, unless it lies inside this view.
  MatrixView block(std::int64_t r0, std::int64_t c0, std::int64_t nrows, std::int64_t ncols) const {
    GNM_CHECK_SHAPE(r0 >= 0 && c0 >= 0 && nrows >= 0 && ncols >= 0 && r0 <= rows_ - nrows &&
                        c0 <= cols_ - ncols,
                    "block does not fit in the matrix", r0, c0, nrows, ncols, rows(), cols());
    MatrixView b = *this;
    // An empty block may start one past the end; it never dereferences, so keep data as is.
    if (nrows > 0 && ncols > 0) b.data_ = data_ + r0 * row_stride_ + c0 * col_stride_;
    b.rows_ = nrows;
    b.cols_ = ncols;
    return b;
  }

  /// Row i as a 1 × cols view (ShapeError when out of range).
  MatrixView row(std::int64_t i) const { return block(i, 0, 1, cols_); }
  /// Column j as a rows × 1 view (ShapeError when out of range).
  MatrixView col(std::int64_t j) const { return block(0, j, rows_, 1); }

  /// True when the elements are packed row after row with no gaps: the view is the whole of a
  /// plain C array, so one memcpy or one loop over size() elements visits it in order.
  bool is_contiguous_row_major() const noexcept {
    if (empty()) return true;
    return (cols_ == 1 || col_stride_ == 1) && (rows_ == 1 || row_stride_ == cols_);
  }
  /// True when consecutive columns are adjacent (col_stride 1, or a single column): what a
  /// row-major BLAS call accepts with lda = row_stride().
  bool is_row_major() const noexcept {
    return (cols_ <= 1 || col_stride_ == 1) && row_stride_ >= (cols_ > 1 ? cols_ : 1);
  }
  /// True when consecutive rows are adjacent (row_stride 1, or a single row): column-major with
  /// lda = col_stride(); the transpose of a row-major view is one.
  bool is_col_major() const noexcept { return transposed().is_row_major(); }

 private:
  T* data_ = nullptr;
  std::int64_t rows_ = 0;
  std::int64_t cols_ = 0;
  std::int64_t row_stride_ = 0;
  std::int64_t col_stride_ = 0;
};

/// Copies `src` into `dst` element by element, whatever their layouts (a transposed view in, a
/// row-major view out: a materialised transpose). Throws ShapeError naming both shapes unless
/// they are equal. The two views must not overlap.
template <class T, class U>
void copy(MatrixView<T> src, MatrixView<U> dst) {
  static_assert(!std::is_const_v<U>, "the destination view must be writable");
  GNM_CHECK_SHAPE(src.rows() == dst.rows() && src.cols() == dst.cols(),
                  "copy between views of different shapes", src.rows(), src.cols(), dst.rows(),
                  dst.cols());
  for (std::int64_t i = 0; i < src.rows(); ++i) {
    for (std::int64_t j = 0; j < src.cols(); ++j) dst(i, j) = static_cast<U>(src(i, j));
  }
}

}  // namespace gnm
