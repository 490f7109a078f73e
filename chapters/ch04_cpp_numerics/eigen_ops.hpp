// Section 4.2's comparison: the same four operations written with Eigen (Debian libeigen3-dev),
// on the same packed row-major arrays (Eigen::Map: no copy). Without Eigen the build defines
// GNM_CH04_HAVE_EIGEN=0, eigen_available() is false and the section skips the comparison.
#pragma once

#include <span>

#include "array2d.hpp"

namespace ch04::eigen {

/// Whether this build has Eigen.
bool available();
/// Eigen's version, e.g. "3.4.0" ("none" without it).
const char* version();

/// c = a · b with Eigen's own GEMM (`c.noalias() = a * b`); packed arrays of fitting shapes.
void matmul(const gnm::ch04::Array2D<float>& a, const gnm::ch04::Array2D<float>& b,
            gnm::ch04::Array2D<float>& c);
/// The same in double.
void matmul(const gnm::ch04::Array2D<double>& a, const gnm::ch04::Array2D<double>& b,
            gnm::ch04::Array2D<double>& c);
/// y += alpha · x (`y.array() += alpha * x.array()`).
void axpy(float alpha, const gnm::ch04::Array2D<float>& x, gnm::ch04::Array2D<float>& y);
/// out = a.rowwise().sum().
void row_sums(const gnm::ch04::Array2D<float>& a, std::span<float> out);
/// out = a.transpose() (out packed, a.cols() × a.rows()).
void transpose_copy(const gnm::ch04::Array2D<float>& a, gnm::ch04::Array2D<float>& out);

}  // namespace ch04::eigen
