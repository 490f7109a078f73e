// Section 4.2: the Eigen side of the comparison (see eigen_ops.hpp).
#include "eigen_ops.hpp"

#include "gnm/core/check.hpp"

#if GNM_CH04_HAVE_EIGEN
#include <Eigen/Dense>
#endif

namespace ch04::eigen {

#if GNM_CH04_HAVE_EIGEN

namespace {

//! [eigen_map]
// Eigen::Map puts Eigen's expression types over memory it does not own (a borrow): here the
// chapter's 64-byte-aligned row-major arrays, so both libraries read the very same bytes.
template <class T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMap = Eigen::Map<const RowMajor<T>, Eigen::Aligned64>;
template <class T>
using MutMap = Eigen::Map<RowMajor<T>, Eigen::Aligned64>;

template <class T>
ConstMap<T> map(const gnm::ch04::Array2D<T>& a) {
  return ConstMap<T>(a.data(), a.rows(), a.cols());
}
template <class T>
MutMap<T> map(gnm::ch04::Array2D<T>& a) {
  return MutMap<T>(a.data(), a.rows(), a.cols());
}
//! [eigen_map]

template <class T>
void matmul_impl(const gnm::ch04::Array2D<T>& a, const gnm::ch04::Array2D<T>& b,
                 gnm::ch04::Array2D<T>& c) {
  GNM_CHECK_SHAPE(a.cols() == b.rows() && c.rows() == a.rows() && c.cols() == b.cols(),
                  "matmul shapes do not fit", a.rows(), a.cols(), b.rows(), b.cols(), c.rows(),
                  c.cols());
  auto C = map(c);
  C.noalias() = map(a) * map(b);  // noalias: C is not an operand, no temporary needed
}

}  // namespace

bool available() { return true; }
const char* version() {
#define GNM_CH04_STR_(x) #x
#define GNM_CH04_STR(x) GNM_CH04_STR_(x)
  return GNM_CH04_STR(EIGEN_WORLD_VERSION) "." GNM_CH04_STR(EIGEN_MAJOR_VERSION) "." GNM_CH04_STR(
      EIGEN_MINOR_VERSION);
#undef GNM_CH04_STR
#undef GNM_CH04_STR_
}

void matmul(const gnm::ch04::Array2D<float>& a, const gnm::ch04::Array2D<float>& b,
            gnm::ch04::Array2D<float>& c) {
  matmul_impl(a, b, c);
}
void matmul(const gnm::ch04::Array2D<double>& a, const gnm::ch04::Array2D<double>& b,
            gnm::ch04::Array2D<double>& c) {
  matmul_impl(a, b, c);
}

//! [eigen_ops]
void axpy(float alpha, const gnm::ch04::Array2D<float>& x, gnm::ch04::Array2D<float>& y) {
  GNM_CHECK_SHAPE(x.rows() == y.rows() && x.cols() == y.cols(), "axpy needs equal shapes",
                  x.rows(), x.cols(), y.rows(), y.cols());
  map(y).array() += alpha * map(x).array();
}

void row_sums(const gnm::ch04::Array2D<float>& a, std::span<float> out) {
  GNM_CHECK_SHAPE(static_cast<std::int64_t>(out.size()) == a.rows(), "one output per row",
                  out.size(), a.rows());
  Eigen::Map<Eigen::VectorXf>(out.data(), a.rows()) = map(a).rowwise().sum();
}

void transpose_copy(const gnm::ch04::Array2D<float>& a, gnm::ch04::Array2D<float>& out) {
  GNM_CHECK_SHAPE(out.rows() == a.cols() && out.cols() == a.rows(), "out must be (a.cols, a.rows)",
                  a.rows(), a.cols(), out.rows(), out.cols());
  map(out) = map(a).transpose();
}
//! [eigen_ops]

#else  // no Eigen in this build

namespace {
[[noreturn]] void missing() {
  throw gnm::NotImplemented("Eigen was not found when this program was built "
                            "(Debian: apt-get install libeigen3-dev, then re-run cmake)");
}
}  // namespace

bool available() { return false; }
const char* version() { return "none"; }
void matmul(const gnm::ch04::Array2D<float>&, const gnm::ch04::Array2D<float>&,
            gnm::ch04::Array2D<float>&) {
  missing();
}
void matmul(const gnm::ch04::Array2D<double>&, const gnm::ch04::Array2D<double>&,
            gnm::ch04::Array2D<double>&) {
  missing();
}
void axpy(float, const gnm::ch04::Array2D<float>&, gnm::ch04::Array2D<float>&) { missing(); }
void row_sums(const gnm::ch04::Array2D<float>&, std::span<float>) { missing(); }
void transpose_copy(const gnm::ch04::Array2D<float>&, gnm::ch04::Array2D<float>&) { missing(); }

#endif

}  // namespace ch04::eigen
