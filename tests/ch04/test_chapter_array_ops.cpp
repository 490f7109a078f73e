// Section 4.2's operations on views: matmul through BLAS for every kind of view (row-major,
// transposed, sliced, no unit stride), odd and empty shapes, float and double; axpy, row sums and
// the tiled transpose on contiguous and strided views; shape errors. Results are compared with
// loops in double within the error model of each operation.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "array2d.hpp"
#include "array_ops.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"

namespace {

using gnm::ch04::Array2D;
using gnm::ch04::slice;
using Index = std::int64_t;
template <class T>
using View = gnm::ch04::Array2DView<T>;

template <class T>
Array2D<T> random_array(Index rows, Index cols, std::uint64_t seed) {
  Array2D<float> f(rows, cols);
  gnm::fill_uniform(f.flat(), seed, -1.0f, 1.0f);
  Array2D<T> a(rows, cols);
  for (std::size_t i = 0; i < f.flat().size(); ++i) a.flat()[i] = static_cast<T>(f.flat()[i]);
  return a;
}

// c against Σ_k a(i,k)·b(k,j) in double, within K·eps(T)·Σ|a·b| (Note [Matmul tolerance]).
template <class T>
void expect_product(View<const T> a, View<const T> b, const Array2D<T>& c) {
  const double eps = std::numeric_limits<T>::epsilon();
  ASSERT_EQ(c.rows(), a.rows());
  ASSERT_EQ(c.cols(), b.cols());
  for (Index i = 0; i < a.rows(); ++i) {
    for (Index j = 0; j < b.cols(); ++j) {
      double s = 0, m = 0;
      for (Index k = 0; k < a.cols(); ++k) {
        s += double(a(i, k)) * double(b(k, j));
        m += std::fabs(double(a(i, k)) * double(b(k, j)));
      }
      ASSERT_LE(std::fabs(double(c(i, j)) - s), double(a.cols()) * eps * m)
          << "(" << i << ", " << j << ") of " << a.rows() << "×" << a.cols() << " · "
          << b.rows() << "×" << b.cols();
    }
  }
}

template <class T>
void poison(Array2D<T>& a) {
  for (T& v : a.flat()) v = std::numeric_limits<T>::quiet_NaN();
}

template <class T>
void check_matmul_shapes() {
  for (const auto& [m, k, n] : std::vector<std::array<Index, 3>>{
           {1, 1, 1}, {7, 13, 5}, {31, 1, 17}, {64, 67, 33}, {0, 4, 3}, {4, 0, 3}, {3, 4, 0}}) {
    const auto a = random_array<T>(m, k, 1), b = random_array<T>(k, n, 2);
    Array2D<T> c(m, n);
    poison(c);
    ch04::matmul(a.view(), b.view(), c.view(), nullptr);
    expect_product<T>(a.view(), b.view(), c);
  }
}

TEST(Ch04ArrayOps, MatmulOddAndEmptyShapesFloat) { check_matmul_shapes<float>(); }
TEST(Ch04ArrayOps, MatmulOddAndEmptyShapesDouble) { check_matmul_shapes<double>(); }

TEST(Ch04ArrayOps, MatmulOnTransposedSlicedAndStridedViews) {
  const auto big = random_array<float>(19, 23, 3);
  const View<const float> v = big.view();
  // Transposed (column-major: the BLAS flag), a row slice (leading dimension 2·23), and a slice
  // with steps in both dimensions (no unit stride: packed before the call).
  const View<const float> at = slice(v, {0, 19, 1}, {0, 11, 1}).transposed();  // (11, 19)
  const View<const float> rows = slice(v, {0, 19, 2}, {0, 23, 1});              // (10, 23)
  const View<const float> grid = slice(v, {1, 19, 2}, {0, 23, 2});              // (9, 12)
  Array2D<float> c1(11, 23), c2(12, 23);
  poison(c1);
  ch04::matmul(at, v, c1.view(), nullptr);
  expect_product<float>(at, v, c1);
  const auto b = random_array<float>(9, 23, 4);
  poison(c2);
  ch04::matmul(grid.transposed(), b.view(), c2.view(), nullptr);  // (12, 9) · (9, 23)
  expect_product<float>(grid.transposed(), b.view(), c2);
  Array2D<float> c3(10, 10);
  ch04::matmul(rows, rows.transposed(), c3.view(), nullptr);
  expect_product<float>(rows, rows.transposed(), c3);
}

TEST(Ch04ArrayOps, MatmulWritesIntoARowMajorSliceAndRejectsBadShapes) {
  const auto a = random_array<float>(4, 5, 5), b = random_array<float>(5, 3, 6);
  Array2D<float> wide(4, 8);
  poison(wide);
  auto c = slice(wide.view(), {0, 4, 1}, {2, 5, 1});  // row stride 8
  ch04::matmul(a.view(), b.view(), c, nullptr);
  expect_product<float>(a.view(), b.view(), Array2D<float>::from_view(c));
  EXPECT_TRUE(std::isnan(wide(0, 0))) << "columns outside the slice are untouched";
  Array2D<float> bad(4, 4);
  EXPECT_THROW(ch04::matmul(a.view(), b.view(), bad.view(), nullptr), gnm::ShapeError);
  EXPECT_THROW(ch04::matmul(a.view(), a.view(), bad.view(), nullptr), gnm::ShapeError);
  Array2D<float> ct(3, 4);
  EXPECT_THROW(ch04::matmul(a.view(), b.view(), ct.view().transposed(), nullptr), gnm::ShapeError)
      << "c must be row-major";
}

TEST(Ch04ArrayOps, AxpyContiguousAndStrided) {
  for (const auto& [rows, cols] : std::vector<std::array<Index, 2>>{{1, 1}, {7, 3}, {33, 65}}) {
    const auto x = random_array<float>(rows, cols, 7), y0 = random_array<float>(rows, cols, 8);
    auto y = y0.clone();
    ch04::axpy(0.5f, x.view(), y.view());
    auto yt = random_array<float>(cols, rows, 9);  // transposed destination: the strided path
    const auto yt0 = yt.clone();
    ch04::axpy(-2.0f, x.view(), yt.view().transposed());
    for (Index i = 0; i < rows; ++i) {
      for (Index j = 0; j < cols; ++j) {
        const double xij = double(x(i, j));
        const double want = 0.5 * xij + double(y0(i, j));
        EXPECT_LE(std::fabs(double(y(i, j)) - want),
                  gnm::kEpsF32 * (std::fabs(0.5 * xij) + std::fabs(double(y0(i, j)))));
        const double want_t = -2.0 * xij + double(yt0(j, i));
        EXPECT_LE(std::fabs(double(yt(j, i)) - want_t),
                  gnm::kEpsF32 * (std::fabs(2.0 * xij) + std::fabs(double(yt0(j, i)))));
      }
    }
  }
  Array2D<float> a(2, 3), b(3, 2);
  EXPECT_THROW(ch04::axpy(1.0f, a.view(), b.view()), gnm::ShapeError);
}

TEST(Ch04ArrayOps, RowSumsWithinTheSummationBound) {
  for (const auto& [rows, cols] :
       std::vector<std::array<Index, 2>>{{1, 1}, {3, 31}, {5, 32}, {4, 33}, {9, 1001}, {2, 0}}) {
    const auto a = random_array<float>(rows, cols, 10);
    std::vector<float> out(static_cast<std::size_t>(rows), NAN);
    std::vector<float> out_t(static_cast<std::size_t>(cols), NAN);
    ch04::row_sums(a.view(), std::span<float>(out));
    ch04::row_sums(a.view().transposed(), std::span<float>(out_t));  // column sums, strided
    for (Index i = 0; i < rows; ++i) {
      double s = 0, m = 0;
      for (Index j = 0; j < cols; ++j) {
        s += double(a(i, j));
        m += std::fabs(double(a(i, j)));
      }
      EXPECT_LE(std::fabs(double(out[static_cast<std::size_t>(i)]) - s), double(cols) * gnm::kEpsF32 * m);
    }
    for (Index j = 0; j < cols; ++j) {
      double s = 0, m = 0;
      for (Index i = 0; i < rows; ++i) {
        s += double(a(i, j));
        m += std::fabs(double(a(i, j)));
      }
      EXPECT_LE(std::fabs(double(out_t[static_cast<std::size_t>(j)]) - s), double(rows) * gnm::kEpsF32 * m);
    }
  }
  Array2D<float> a(3, 3);
  std::vector<float> wrong(2);
  EXPECT_THROW(ch04::row_sums(a.view(), std::span<float>(wrong)), gnm::ShapeError);
}

TEST(Ch04ArrayOps, TransposeCopyIsExactOnOddShapes) {
  for (const auto& [rows, cols] :
       std::vector<std::array<Index, 2>>{{1, 1}, {1, 40}, {33, 31}, {64, 64}, {65, 97}, {0, 5}}) {
    const auto a = random_array<double>(rows, cols, 11);
    Array2D<double> t(cols, rows);
    poison(t);
    ch04::transpose_copy(a.view(), t.view());
    for (Index i = 0; i < rows; ++i) {
      for (Index j = 0; j < cols; ++j) ASSERT_EQ(t(j, i), a(i, j));
    }
  }
  Array2D<float> a(2, 3), bad(2, 3);
  EXPECT_THROW(ch04::transpose_copy(a.view(), bad.view()), gnm::ShapeError);
}

}  // namespace
