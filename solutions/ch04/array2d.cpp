// Exercise 4.2: NumPy-style slicing of a strided view (see exercises/ch04/array2d.hpp).
#include "array2d.hpp"

#include "gnm/core/check.hpp"

namespace gnm::ch04 {
namespace {

//! [slice]
template <class T>
Array2DView<T> slice_impl(Array2DView<T> v, Range rows, Range cols) {
  // BEGIN SOLUTION("ex 4.2", "check 0 <= begin <= end <= extent and step >= 1 for both ranges; count = (end - begin + step - 1) / step; pointer = &v(rows.begin, cols.begin) unless empty; strides times steps")
  GNM_CHECK_SHAPE(rows.step >= 1 && cols.step >= 1, "slice steps must be >= 1", rows.step,
                  cols.step);
  GNM_CHECK_SHAPE(0 <= rows.begin && rows.begin <= rows.end && rows.end <= v.rows(),
                  "row range outside the view", rows.begin, rows.end, v.rows());
  GNM_CHECK_SHAPE(0 <= cols.begin && cols.begin <= cols.end && cols.end <= v.cols(),
                  "column range outside the view", cols.begin, cols.end, v.cols());
  // ⌈(end − begin) / step⌉ without floating point; 0 when the range is empty.
  const std::int64_t n_rows = (rows.end - rows.begin + rows.step - 1) / rows.step;
  const std::int64_t n_cols = (cols.end - cols.begin + cols.step - 1) / cols.step;
  T* first = v.data();
  // Moving the pointer to (begin, begin) is only defined when that element exists.
  if (n_rows > 0 && n_cols > 0) first = &v(rows.begin, cols.begin);
  return Array2DView<T>(first, n_rows, n_cols, v.row_stride() * rows.step,
                        v.col_stride() * cols.step);
  // END SOLUTION
}
//! [slice]

}  // namespace

Array2DView<float> slice(Array2DView<float> v, Range rows, Range cols) {
  return slice_impl(v, rows, cols);
}
Array2DView<double> slice(Array2DView<double> v, Range rows, Range cols) {
  return slice_impl(v, rows, cols);
}
Array2DView<const float> slice(Array2DView<const float> v, Range rows, Range cols) {
  return slice_impl(v, rows, cols);
}

}  // namespace gnm::ch04
