// Section 4.2: BLAS-backed operations on the chapter's Array2D / Array2DView (the C++ side of
// ndarray's `a.dot(&b)`, `&x * alpha + &y`, `a.sum_axis(Axis(1))`, `a.t().to_owned()`).
//
// Every function takes views, so it works on whole arrays, slices and transposes alike. The rule
// of 2.1 decides how a view reaches BLAS: a view with one unit stride is a (pointer, leading
// dimension, transpose flag) triple; any other view is packed into a contiguous copy first.
#pragma once

#include <span>

#include "array2d.hpp"
#include "gnm/core/thread_pool.hpp"

namespace ch04 {

template <class T>
using View = gnm::ch04::Array2DView<T>;

/// c = a · b. a is M×K, b K×N, c M×N with unit column stride (row-major, any row stride).
/// float goes to the engine's gnm::cpu::sgemm on `pool`; gnm::ShapeError naming the shapes when
/// they do not fit or c is not row-major.
void matmul(View<const float> a, View<const float> b, View<float> c, gnm::ThreadPool* pool);
/// The same for double: OpenBLAS's cblas_dgemm when linked (its own threads; `pool` unused),
/// else the i-k-j loop of chapter 2.
void matmul(View<const double> a, View<const double> b, View<double> c, gnm::ThreadPool* pool);

/// y ← alpha · x + y element-wise; gnm::ShapeError unless the shapes are equal.
void axpy(float alpha, View<const float> x, View<float> y);
/// y ← alpha · x + y for double.
void axpy(double alpha, View<const double> x, View<double> y);

/// out[i] = Σ_j a(i, j); gnm::ShapeError unless out has a.rows() elements. 32 partial sums
/// per row, so the loop vectorises (the order of additions differs from a left-to-right sum,
/// within the same error bound).
void row_sums(View<const float> a, std::span<float> out);
/// Row sums for double.
void row_sums(View<const double> a, std::span<double> out);

/// out = aᵀ, copied in 32 × 32 tiles so that both the reads and the writes stay in cache;
/// gnm::ShapeError unless out is a.cols() × a.rows().
void transpose_copy(View<const float> a, View<float> out);
/// The transpose copy for double.
void transpose_copy(View<const double> a, View<double> out);

}  // namespace ch04
