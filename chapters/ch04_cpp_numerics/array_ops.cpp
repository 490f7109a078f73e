// Section 4.2: matmul through BLAS, axpy, row sums and a tiled transpose on strided views.
#include "array_ops.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "gnm/core/check.hpp"
#include "gnm/cpu/gemm.hpp"

#if GNM_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace ch04 {
namespace {

using Index = std::int64_t;

//! [as_blas]
// How a view reaches BLAS (section 2.1): row-major → (data, row stride, no transpose);
// column-major → (data, column stride, transpose); anything else → a packed copy, kept alive here.
template <class T>
struct BlasOperand {
  const T* data = nullptr;
  Index ld = 1;
  bool transposed = false;
  gnm::ch04::Array2D<T> packed;  // owns the copy when one was needed (moving it keeps `data`)
};

template <class T>
BlasOperand<T> as_blas(View<const T> v) {
  if (v.is_row_major()) return {v.data(), std::max<Index>(v.row_stride(), 1), false, {}};
  if (v.is_col_major()) return {v.data(), std::max<Index>(v.col_stride(), 1), true, {}};
  auto packed = gnm::ch04::Array2D<T>::from_view(v);
  const T* data = packed.data();
  return {data, std::max<Index>(v.cols(), 1), false, std::move(packed)};
}
//! [as_blas]

template <class T>
void check_matmul(View<const T> a, View<const T> b, View<T> c) {
  GNM_CHECK_SHAPE(a.cols() == b.rows() && c.rows() == a.rows() && c.cols() == b.cols(),
                  "matmul needs a (M×K), b (K×N), c (M×N)", a.rows(), a.cols(), b.rows(),
                  b.cols(), c.rows(), c.cols());
  GNM_CHECK_SHAPE(c.is_row_major(), "matmul writes a row-major c (unit column stride)",
                  c.row_stride(), c.col_stride());
}

#if !GNM_HAVE_OPENBLAS
// The fallback for double without OpenBLAS: the i-k-j loop of chapter 2 on views.
void matmul_loop(View<const double> a, View<const double> b, View<double> c) {
  for (Index i = 0; i < c.rows(); ++i) {
    for (Index j = 0; j < c.cols(); ++j) c(i, j) = 0.0;
    for (Index k = 0; k < a.cols(); ++k) {
      const double aik = a(i, k);
      for (Index j = 0; j < c.cols(); ++j) c(i, j) += aik * b(k, j);
    }
  }
}
#endif

// Σ p[0 .. n) with 32 independent partial sums. The additions of one sum form a dependency chain
// (4 cycles each); 32 lanes are four 8-wide vector chains, so two vector adds can start every
// cycle instead of one every four. (Eight chains would hide the latency completely; four already
// reach the L2 bandwidth here.)
template <class T>
T sum_contiguous(const T* p, Index n) {
  constexpr int kLanes = 32;
  T acc[kLanes] = {};
  Index j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int k = 0; k < kLanes; ++k) acc[k] += p[j + k];
  }
  T tail = T(0);
  for (; j < n; ++j) tail += p[j];
  for (int width = kLanes / 2; width > 0; width /= 2) {  // pairwise: 32 → 16 → … → 1
    for (int k = 0; k < width; ++k) acc[k] += acc[k + width];
  }
  return acc[0] + tail;
}

}  // namespace

//! [matmul]
void matmul(View<const float> a, View<const float> b, View<float> c,
                   gnm::ThreadPool* pool) {
  check_matmul(a, b, c);
  const BlasOperand<float> A = as_blas(a), B = as_blas(b);
  using gnm::cpu::Transpose;
  gnm::cpu::sgemm(A.transposed ? Transpose::Yes : Transpose::No,
                  B.transposed ? Transpose::Yes : Transpose::No, c.rows(), c.cols(), a.cols(),
                  1.0f, A.data, A.ld, B.data, B.ld, 0.0f, c.data(),
                  std::max<Index>(c.row_stride(), 1), pool);
}
//! [matmul]

void matmul(View<const double> a, View<const double> b, View<double> c,
                    gnm::ThreadPool* /*pool*/) {
  check_matmul(a, b, c);
#if GNM_HAVE_OPENBLAS
  if (c.rows() == 0 || c.cols() == 0) return;
  if (a.cols() == 0) {
    for (Index i = 0; i < c.rows(); ++i) {
      for (Index j = 0; j < c.cols(); ++j) c(i, j) = 0.0;
    }
    return;
  }
  const BlasOperand<double> A = as_blas(a), B = as_blas(b);
  const auto blas = [](Index v) { return static_cast<blasint>(v); };
  cblas_dgemm(CblasRowMajor, A.transposed ? CblasTrans : CblasNoTrans,
              B.transposed ? CblasTrans : CblasNoTrans, blas(c.rows()), blas(c.cols()),
              blas(a.cols()), 1.0, A.data, blas(A.ld), B.data, blas(B.ld), 0.0, c.data(),
              blas(std::max<Index>(c.row_stride(), 1)));
#else
  matmul_loop(a, b, c);
#endif
}

namespace {

template <class T>
void axpy_impl(T alpha, View<const T> x, View<T> y) {
  GNM_CHECK_SHAPE(x.rows() == y.rows() && x.cols() == y.cols(), "axpy needs equal shapes",
                  x.rows(), x.cols(), y.rows(), y.cols());
  if (x.is_contiguous_row_major() && y.is_contiguous_row_major()) {
    const T* xs = x.data();
    T* ys = y.data();
    const Index n = x.size();
    for (Index i = 0; i < n; ++i) ys[i] = alpha * xs[i] + ys[i];  // one pass: 12 bytes/element
    return;
  }
  for (Index i = 0; i < x.rows(); ++i) {
    for (Index j = 0; j < x.cols(); ++j) y(i, j) = alpha * x(i, j) + y(i, j);
  }
}

template <class T>
void row_sums_impl(View<const T> a, std::span<T> out) {
  GNM_CHECK_SHAPE(static_cast<Index>(out.size()) == a.rows(), "row_sums needs one output per row",
                  out.size(), a.rows(), a.cols());
  for (Index i = 0; i < a.rows(); ++i) {
    if (a.cols() == 0) {
      out[static_cast<std::size_t>(i)] = T(0);  // an empty row has no element to point at
    } else if (a.col_stride() == 1 || a.cols() == 1) {
      out[static_cast<std::size_t>(i)] = sum_contiguous(&a(i, 0), a.cols());
    } else {
      T s = T(0);
      for (Index j = 0; j < a.cols(); ++j) s += a(i, j);
      out[static_cast<std::size_t>(i)] = s;
    }
  }
}

//! [transpose_copy]
template <class T>
void transpose_copy_impl(View<const T> a, View<T> out) {
  GNM_CHECK_SHAPE(out.rows() == a.cols() && out.cols() == a.rows(),
                  "transpose_copy needs out of shape (a.cols, a.rows)", a.rows(), a.cols(),
                  out.rows(), out.cols());
  // Element by element, one of the two matrices is walked down a column: a new cache line per
  // element. In 32 × 32 tiles (4 KiB each in fp32) both tiles stay in L1, so each line that is
  // loaded is used 32 times. Inside a tile the inner loop writes a row of `out` contiguously.
  constexpr Index kTile = 32;
  const bool unit = a.col_stride() == 1 && out.col_stride() == 1;
  for (Index i0 = 0; i0 < a.rows(); i0 += kTile) {
    for (Index j0 = 0; j0 < a.cols(); j0 += kTile) {
      const Index i1 = std::min(i0 + kTile, a.rows()), j1 = std::min(j0 + kTile, a.cols());
      if (unit) {  // the common case, with the strides the compiler can see
        const T* src = a.data();
        T* dst = out.data();
        const Index lda = a.row_stride(), ldo = out.row_stride();
        for (Index j = j0; j < j1; ++j) {
          for (Index i = i0; i < i1; ++i) dst[j * ldo + i] = src[i * lda + j];
        }
      } else {
        for (Index j = j0; j < j1; ++j) {
          for (Index i = i0; i < i1; ++i) out(j, i) = a(i, j);
        }
      }
    }
  }
}
//! [transpose_copy]

}  // namespace

void axpy(float alpha, View<const float> x, View<float> y) { axpy_impl(alpha, x, y); }
void axpy(double alpha, View<const double> x, View<double> y) { axpy_impl(alpha, x, y); }
void row_sums(View<const float> a, std::span<float> out) { row_sums_impl(a, out); }
void row_sums(View<const double> a, std::span<double> out) { row_sums_impl(a, out); }
void transpose_copy(View<const float> a, View<float> out) { transpose_copy_impl(a, out); }
void transpose_copy(View<const double> a, View<double> out) { transpose_copy_impl(a, out); }

}  // namespace ch04
