// Exercise 4.2: slice() — NumPy's a[r0:r1:rs, c0:c1:cs] as a view without a copy. Checked
// element by element against the index formula, on odd shapes, empty ranges, transposed views,
// slices of slices, writes through the view, and bad ranges (gnm::ShapeError). Every test calls
// slice(), so each fails on the stub.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "array2d.hpp"
#include "gnm/core/error.hpp"

namespace {

using gnm::ch04::Array2D;
using gnm::ch04::Array2DView;
using gnm::ch04::Range;
using gnm::ch04::slice;
using Index = std::int64_t;

// a(i, j) = 100·i + j: every value names its own position.
Array2D<float> numbered(Index rows, Index cols) {
  Array2D<float> a(rows, cols);
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < cols; ++j) a(i, j) = static_cast<float>(100 * i + j);
  }
  return a;
}

Index count(Range r) { return r.end > r.begin ? (r.end - r.begin + r.step - 1) / r.step : 0; }

// The slice against the definition: element (i, j) is v(r.begin + i·r.step, c.begin + j·c.step).
template <class T>
void expect_slice(Array2DView<T> v, Range r, Range c) {
  const auto s = slice(v, r, c);
  ASSERT_EQ(s.rows(), count(r));
  ASSERT_EQ(s.cols(), count(c));
  for (Index i = 0; i < s.rows(); ++i) {
    for (Index j = 0; j < s.cols(); ++j) {
      ASSERT_EQ(&s(i, j), &v(r.begin + i * r.step, c.begin + j * c.step))
          << "element (" << i << ", " << j << ") of slice [" << r.begin << ":" << r.end << ":"
          << r.step << ", " << c.begin << ":" << c.end << ":" << c.step << "]";
    }
  }
}

TEST(Ch04Slice, EveryOtherRowHasDoubledRowStride) {
  auto a = numbered(5, 7);
  const auto s = slice(a.view(), {0, 5, 2}, {0, 7, 1});
  EXPECT_EQ(s.rows(), 3);
  EXPECT_EQ(s.cols(), 7);
  EXPECT_EQ(s.row_stride(), 14);
  EXPECT_EQ(s.col_stride(), 1);
  EXPECT_EQ(s.data(), a.data()) << "a view: no copy";
  EXPECT_EQ(s(2, 3), 403.0f);
}

TEST(Ch04Slice, StepsInBothDimensionsOnOddShapes) {
  auto a = numbered(11, 13);
  for (Index rs : {1, 2, 3, 5, 11, 20}) {
    for (Index cs : {1, 2, 4, 13}) {
      expect_slice(a.view(), {1, 11, rs}, {2, 13, cs});
      expect_slice(a.view(), {0, 7, rs}, {3, 4, cs});
    }
  }
  const auto s = slice(a.view(), {1, 7, 3}, {2, 13, 4});  // rows 1, 4; columns 2, 6, 10
  EXPECT_EQ(s.rows(), 2);
  EXPECT_EQ(s.cols(), 3);
  EXPECT_EQ(s(1, 2), 410.0f);
}

TEST(Ch04Slice, WholeRangeIsTheSameView) {
  auto a = numbered(4, 6);
  const auto s = slice(a.view(), {0, 4, 1}, {0, 6, 1});
  EXPECT_EQ(s.data(), a.data());
  EXPECT_EQ(s.rows(), 4);
  EXPECT_EQ(s.cols(), 6);
  EXPECT_EQ(s.row_stride(), 6);
  EXPECT_EQ(s.col_stride(), 1);
}

TEST(Ch04Slice, EmptyRangesGiveEmptyViews) {
  auto a = numbered(3, 3);
  const auto rows_empty = slice(a.view(), {3, 3, 1}, {0, 3, 1});  // begin == end == extent
  EXPECT_EQ(rows_empty.rows(), 0);
  EXPECT_TRUE(rows_empty.empty());
  const auto cols_empty = slice(a.view(), {0, 3, 1}, {1, 1, 2});
  EXPECT_EQ(cols_empty.cols(), 0);
  EXPECT_EQ(cols_empty.rows(), 3);
  Array2D<float> none;  // 0 × 0
  const auto s = slice(none.view(), {0, 0, 1}, {0, 0, 1});
  EXPECT_TRUE(s.empty());
}

TEST(Ch04Slice, SliceOfATransposedView) {
  auto a = numbered(6, 4);
  const auto t = a.view().transposed();  // (4, 6), strides (1, 4)
  expect_slice(t, {1, 4, 2}, {0, 6, 3});
  const auto s = slice(t, {1, 4, 2}, {0, 6, 3});  // tᵀ rows 1, 3; columns 0, 3
  EXPECT_EQ(s.row_stride(), 2);
  EXPECT_EQ(s.col_stride(), 12);
  EXPECT_EQ(s(1, 1), 303.0f);  // t(3, 3) = a(3, 3)
}

TEST(Ch04Slice, SliceOfASliceComposes) {
  auto a = numbered(17, 9);
  const auto twice = slice(slice(a.view(), {0, 17, 2}, {1, 9, 1}), {0, 9, 2}, {0, 8, 2});
  const auto once = slice(a.view(), {0, 17, 4}, {1, 9, 2});
  ASSERT_EQ(twice.rows(), once.rows());
  ASSERT_EQ(twice.cols(), once.cols());
  for (Index i = 0; i < once.rows(); ++i) {
    for (Index j = 0; j < once.cols(); ++j) EXPECT_EQ(&twice(i, j), &once(i, j));
  }
}

TEST(Ch04Slice, WritesGoThroughToTheArray) {
  auto a = numbered(4, 4);
  auto corners = slice(a.view(), {0, 4, 3}, {0, 4, 3});
  for (Index i = 0; i < 2; ++i) {
    for (Index j = 0; j < 2; ++j) corners(i, j) = -1.0f;
  }
  EXPECT_EQ(a(0, 0), -1.0f);
  EXPECT_EQ(a(0, 3), -1.0f);
  EXPECT_EQ(a(3, 0), -1.0f);
  EXPECT_EQ(a(3, 3), -1.0f);
  EXPECT_EQ(a(1, 1), 101.0f);
}

TEST(Ch04Slice, DoubleAndReadOnlyViews) {
  Array2D<double> d(5, 5);
  d(4, 4) = 7.0;
  EXPECT_EQ(slice(d.view(), {4, 5, 1}, {2, 5, 2})(0, 1), 7.0);
  const auto a = numbered(5, 5);
  const Array2DView<const float> ro = a.view();
  expect_slice(ro, {0, 5, 2}, {1, 5, 3});
}

TEST(Ch04Slice, BadRangesThrowShapeError) {
  auto a = numbered(4, 5);
  EXPECT_NO_THROW(slice(a.view(), {0, 4, 1}, {0, 5, 1}));
  EXPECT_THROW(slice(a.view(), {0, 4, 0}, {0, 5, 1}), gnm::ShapeError);   // step 0
  EXPECT_THROW(slice(a.view(), {0, 4, 1}, {0, 5, -1}), gnm::ShapeError);  // negative step
  EXPECT_THROW(slice(a.view(), {0, 5, 1}, {0, 5, 1}), gnm::ShapeError);   // end > rows
  EXPECT_THROW(slice(a.view(), {0, 4, 1}, {0, 6, 1}), gnm::ShapeError);   // end > cols
  EXPECT_THROW(slice(a.view(), {-1, 4, 1}, {0, 5, 1}), gnm::ShapeError);  // negative begin
  EXPECT_THROW(slice(a.view(), {3, 2, 1}, {0, 5, 1}), gnm::ShapeError);   // begin > end
  try {
    slice(a.view(), {0, 9, 1}, {0, 5, 1});
    FAIL() << "expected gnm::ShapeError";
  } catch (const gnm::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find('9'), std::string::npos) << "names the bad end: " << e.what();
  }
}

}  // namespace
