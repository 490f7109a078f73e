// MatrixView: layouts, transposed views without copies, blocks, and checked access.
#include "gnm/core/matrix_view.hpp"

#include <gtest/gtest.h>

#include <array>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using gnm::MatrixView;

// 0, 1, 2, ... so that a value names its offset in the buffer.
std::vector<float> iota(std::size_t n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}

TEST(MatrixView, RowMajorAndColumnMajorAddressing) {
  auto buf = iota(12);
  const auto r = MatrixView<float>::row_major(buf.data(), 3, 4);
  const auto c = MatrixView<float>::col_major(buf.data(), 3, 4);
  for (std::int64_t i = 0; i < 3; ++i) {
    for (std::int64_t j = 0; j < 4; ++j) {
      EXPECT_EQ(r(i, j), static_cast<float>(i * 4 + j));
      EXPECT_EQ(c(i, j), static_cast<float>(j * 3 + i));
    }
  }
  EXPECT_EQ(r.row_stride(), 4);
  EXPECT_EQ(r.col_stride(), 1);
  EXPECT_EQ(c.row_stride(), 1);
  EXPECT_EQ(c.col_stride(), 3);
  EXPECT_EQ(r.size(), 12);
  EXPECT_TRUE(r.is_contiguous_row_major());
  EXPECT_TRUE(r.is_row_major());
  EXPECT_FALSE(r.is_col_major());
  EXPECT_FALSE(c.is_contiguous_row_major());
  EXPECT_TRUE(c.is_col_major());
  EXPECT_FALSE(c.is_row_major());
}

TEST(MatrixView, LeadingDimensionLeavesGaps) {
  auto buf = iota(3 * 6);
  const auto a = MatrixView<float>::row_major(buf.data(), 3, 4, /*ld=*/6);
  EXPECT_EQ(a(2, 3), 15.0f);
  EXPECT_FALSE(a.is_contiguous_row_major());  // two unused floats after each row
  EXPECT_TRUE(a.is_row_major());              // but BLAS can take it with lda = 6
  const auto b = MatrixView<float>::col_major(buf.data(), 4, 3, /*ld=*/6);
  EXPECT_EQ(b(3, 2), 15.0f);
  EXPECT_TRUE(b.is_col_major());
  EXPECT_THROW((void)MatrixView<float>::row_major(buf.data(), 3, 4, 3), gnm::ShapeError);
  EXPECT_THROW((void)MatrixView<float>::col_major(buf.data(), 4, 3, 3), gnm::ShapeError);
}

TEST(MatrixView, TransposeIsAViewOfTheSameMemory) {
  auto buf = iota(12);
  const auto a = MatrixView<float>::row_major(buf.data(), 3, 4);
  const auto t = a.transposed();
  EXPECT_EQ(t.rows(), 4);
  EXPECT_EQ(t.cols(), 3);
  EXPECT_EQ(t.data(), a.data());
  for (std::int64_t i = 0; i < 3; ++i) {
    for (std::int64_t j = 0; j < 4; ++j) EXPECT_EQ(&t(j, i), &a(i, j));
  }
  // The transpose of a row-major matrix is column-major: BLAS's "transpose" flag.
  EXPECT_TRUE(t.is_col_major());
  EXPECT_FALSE(t.is_contiguous_row_major());
  t(3, 1) = -1.0f;
  EXPECT_EQ(buf[1 * 4 + 3], -1.0f);
  // Transposing twice gives the original view back.
  const auto tt = t.transposed();
  EXPECT_EQ(tt.rows(), a.rows());
  EXPECT_EQ(tt.row_stride(), a.row_stride());
  EXPECT_EQ(tt.col_stride(), a.col_stride());
}

TEST(MatrixView, BlocksAndTheirBounds) {
  auto buf = iota(5 * 7);
  const auto a = MatrixView<float>::row_major(buf.data(), 5, 7);
  const auto b = a.block(1, 2, 3, 4);
  EXPECT_EQ(b.rows(), 3);
  EXPECT_EQ(b.cols(), 4);
  EXPECT_EQ(b(0, 0), a(1, 2));
  EXPECT_EQ(b(2, 3), a(3, 5));
  EXPECT_EQ(b.row_stride(), 7);
  EXPECT_FALSE(b.is_contiguous_row_major());
  EXPECT_TRUE(a.block(2, 0, 2, 7).is_contiguous_row_major());  // whole rows stay contiguous
  // A block of a transposed view is the transpose of the corresponding block.
  const auto tb = a.transposed().block(2, 1, 4, 3);
  EXPECT_EQ(&tb(3, 2), &b(2, 3));
  // Rows, columns, the whole matrix and empty blocks at the edges are all in range.
  EXPECT_EQ(a.row(4)(0, 6), a(4, 6));
  EXPECT_EQ(a.col(6)(4, 0), a(4, 6));
  EXPECT_NO_THROW((void)a.block(0, 0, 5, 7));
  EXPECT_TRUE(a.block(5, 7, 0, 0).empty());
  EXPECT_TRUE(a.block(0, 3, 5, 0).empty());
  for (auto [r0, c0, r, c] : {std::array<std::int64_t, 4>{-1, 0, 1, 1}, {0, -1, 1, 1},
                              {4, 0, 2, 1}, {0, 6, 1, 2}, {0, 0, 6, 7}, {0, 0, 5, 8},
                              {0, 0, -1, 2}, {6, 0, 0, 0}}) {
    EXPECT_THROW((void)a.block(r0, c0, r, c), gnm::ShapeError)
        << r0 << "," << c0 << " " << r << "x" << c;
  }
  try {
    (void)a.block(4, 0, 2, 1);
    FAIL() << "expected ShapeError";
  } catch (const gnm::ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("r0 = 4"), std::string::npos) << msg;
    EXPECT_NE(msg.find("nrows = 2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("rows() = 5"), std::string::npos) << msg;
  }
}

TEST(MatrixView, CheckedAccessNamesIndexAndShape) {
  auto buf = iota(6);
  const auto a = MatrixView<float>::row_major(buf.data(), 2, 3);
  EXPECT_EQ(a.at(1, 2), 5.0f);
  EXPECT_THROW((void)a.at(2, 0), gnm::ShapeError);
  EXPECT_THROW((void)a.at(0, 3), gnm::ShapeError);
  EXPECT_THROW((void)a.at(-1, 0), gnm::ShapeError);
  EXPECT_THROW((void)a.transposed().at(0, 2), gnm::ShapeError);  // (3, 2) now
  EXPECT_EQ(a.transposed().at(2, 1), 5.0f);
  try {
    (void)a.at(1, 7);
    FAIL() << "expected ShapeError";
  } catch (const gnm::ShapeError& e) {
    const std::string msg = e.what();
    for (const char* part : {"i = 1", "j = 7", "rows() = 2", "cols() = 3"}) {
      EXPECT_NE(msg.find(part), std::string::npos) << msg;
    }
  }
}

TEST(MatrixView, ConstViewsAndConversions) {
  static_assert(std::is_convertible_v<MatrixView<float>, MatrixView<const float>>);
  static_assert(!std::is_convertible_v<MatrixView<const float>, MatrixView<float>>);
  using ConstElement = decltype(std::declval<MatrixView<const float>>()(0, 0));
  static_assert(std::is_same_v<ConstElement, const float&>);
  static_assert(std::is_trivially_copyable_v<MatrixView<float>>);
  const std::vector<float> buf = iota(6);
  const auto c = MatrixView<const float>::row_major(buf.data(), 2, 3);
  EXPECT_EQ(c(1, 0), 3.0f);
  std::vector<float> w = iota(6);
  const MatrixView<const float> from_mutable = MatrixView<float>::row_major(w.data(), 3, 2);
  EXPECT_EQ(from_mutable(2, 1), 5.0f);
}

TEST(MatrixView, CopyMaterialisesATranspose) {
  auto src = iota(6);
  std::vector<float> dst(6, -7.0f);
  const auto a = MatrixView<const float>::row_major(src.data(), 2, 3);
  const auto d = MatrixView<float>::row_major(dst.data(), 3, 2);
  gnm::copy(a.transposed(), d);
  EXPECT_EQ(dst, (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_THROW(gnm::copy(a, d), gnm::ShapeError);
}

TEST(MatrixView, EmptyAndInvalidShapes) {
  const MatrixView<float> e;
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(e.size(), 0);
  EXPECT_TRUE(e.is_contiguous_row_major());
  EXPECT_TRUE(e.transposed().empty());
  const auto z = MatrixView<float>::row_major(nullptr, 0, 5);  // no data needed for no elements
  EXPECT_TRUE(z.empty());
  EXPECT_EQ(z.cols(), 5);
  float x = 1.0f;
  EXPECT_THROW((MatrixView<float>(&x, -1, 2, 2, 1)), gnm::ShapeError);
  EXPECT_THROW((MatrixView<float>(nullptr, 2, 2, 2, 1)), gnm::Error);
  // A zero stride repeats one element: a broadcast row.
  const MatrixView<float> bcast(&x, 4, 3, 0, 0);
  EXPECT_EQ(&bcast(3, 2), &x);
}

}  // namespace
