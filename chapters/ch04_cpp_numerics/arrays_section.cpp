// Section 4.2: the chapter's Array2D beside Eigen on matmul, axpy, row sums and transpose —
// every result checked against a higher-precision reference, then both timed on one thread.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "array2d.hpp"
#include "array_ops.hpp"
#include "eigen_ops.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/thread_pool.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/gemm.hpp"
#include "sections.hpp"

#if GNM_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace ch04 {
namespace {

using Index = std::int64_t;
using gnm::ch04::Array2D;
constexpr double kEps64 = std::numeric_limits<double>::epsilon();

struct Row {
  std::string op, dtype;
  Index n = 0;
  std::string ours;         // what runs on our side
  double ours_ms = 0, eigen_ms = 0;
  double work = 0;          // FLOPs (matmul) or bytes moved (the others) per call
  const char* unit = "";    // "GFLOP/s" or "GB/s"
  double ours_err = 0, eigen_err = 0;  // max |error| / bound (≤ 1 passes)
  bool ok = false;
};

Array2D<float> random_array(Index rows, Index cols, std::uint64_t seed) {
  Array2D<float> a(rows, cols);
  gnm::fill_uniform(a.flat(), seed, -1.0f, 1.0f);
  return a;
}

template <class T>
void poison(Array2D<T>& a) {
  std::fill(a.flat().begin(), a.flat().end(), std::numeric_limits<T>::quiet_NaN());
}

// max over i of |got_i − ref_i| / bound_i; NaN or a non-zero error against a zero bound → inf.
template <class T>
double error_ratio(std::span<const T> got, const std::vector<double>& ref,
                   const std::vector<double>& bound) {
  double worst = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double err = std::fabs(static_cast<double>(got[i]) - ref[i]);
    if (!(err <= bound[i])) return std::numeric_limits<double>::infinity();
    if (bound[i] > 0) worst = std::max(worst, err / bound[i]);
  }
  return worst;
}

double time_ms(const Options& opt, const std::function<void()>& fn) {
  return gnm::median_time_ms(opt.quick ? 2 : opt.reps, fn, 1);
}

// Note [Matmul tolerance]: an fp32 K-term dot product errs by at most γ_K · Σ|a_ik·b_kj| with
// γ_K ≈ K·u, u = eps/2 (Higham, Thm 3.1), whatever the order of the additions. K·eps·mass is that
// bound with a factor 2 to spare; it holds for the engine's kernel and Eigen's alike.
Row matmul_f32(const Options& opt, Index n, gnm::ThreadPool& pool) {
  const auto a = random_array(n, n, 11), b = random_array(n, n, 12);
  Array2D<float> c(n, n), ce(n, n);
  std::vector<double> ref(static_cast<std::size_t>(n * n)), mass(ref.size()), bound(ref.size());
  gnm::cpu::sgemm_reference(n, n, n, a.data(), n, b.data(), n, ref, mass);
  for (std::size_t i = 0; i < ref.size(); ++i) bound[i] = double(n) * gnm::kEpsF32 * mass[i];

  Row r{"matmul", "f32", n, "gnm::cpu::sgemm"};
  poison(c);
  matmul(a.view(), b.view(), c.view(), &pool);
  r.ours_err = error_ratio<float>(c.flat(), ref, bound);
  r.ours_ms = time_ms(opt, [&] { matmul(a.view(), b.view(), c.view(), &pool); });
  if (eigen::available()) {
    poison(ce);
    eigen::matmul(a, b, ce);
    r.eigen_err = error_ratio<float>(ce.flat(), ref, bound);
    r.eigen_ms = time_ms(opt, [&] { eigen::matmul(a, b, ce); });
  }
  r.work = 2.0 * double(n) * double(n) * double(n);
  r.unit = "GFLOP/s";
  return r;
}

// The double reference in long double (64-bit mantissa), with the same K·eps·mass bound in eps64.
Row matmul_f64(const Options& opt, Index n) {
  const auto af = random_array(n, n, 21), bf = random_array(n, n, 22);
  Array2D<double> a(n, n), b(n, n), c(n, n), ce(n, n);
  std::copy(af.flat().begin(), af.flat().end(), a.flat().begin());
  std::copy(bf.flat().begin(), bf.flat().end(), b.flat().begin());
  std::vector<double> ref(static_cast<std::size_t>(n * n)), bound(ref.size());
  for (Index i = 0; i < n; ++i) {
    std::vector<long double> acc(static_cast<std::size_t>(n), 0.0L), m(acc.size(), 0.0L);
    for (Index k = 0; k < n; ++k) {
      const long double aik = a(i, k);
      for (Index j = 0; j < n; ++j) {
        acc[static_cast<std::size_t>(j)] += aik * b(k, j);
        m[static_cast<std::size_t>(j)] += std::fabs(aik * b(k, j));
      }
    }
    for (Index j = 0; j < n; ++j) {
      const auto at = static_cast<std::size_t>(i * n + j);
      ref[at] = static_cast<double>(acc[static_cast<std::size_t>(j)]);
      bound[at] = double(n) * kEps64 * static_cast<double>(m[static_cast<std::size_t>(j)]);
    }
  }
  Row r{"matmul", "f64", n, GNM_HAVE_OPENBLAS ? "OpenBLAS cblas_dgemm" : "i-k-j loop"};
  poison(c);
  matmul(a.view(), b.view(), c.view(), nullptr);
  r.ours_err = error_ratio<double>(c.flat(), ref, bound);
  r.ours_ms = time_ms(opt, [&] { matmul(a.view(), b.view(), c.view(), nullptr); });
  if (eigen::available()) {
    poison(ce);
    eigen::matmul(a, b, ce);
    r.eigen_err = error_ratio<double>(ce.flat(), ref, bound);
    r.eigen_ms = time_ms(opt, [&] { eigen::matmul(a, b, ce); });
  }
  r.work = 2.0 * double(n) * double(n) * double(n);
  r.unit = "GFLOP/s";
  return r;
}

// y ← αx + y: a product and a sum, each rounded once: |error| ≤ eps·(|αx| + |y|) (2u with u = eps/2
// per operation, also when they fuse into one FMA).
Row axpy_f32(const Options& opt, Index n) {
  const auto x = random_array(n, n, 31), y0 = random_array(n, n, 32);
  const float alpha = 0.75f;
  std::vector<double> ref(static_cast<std::size_t>(n * n)), bound(ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double ax = double(alpha) * double(x.flat()[i]), y = double(y0.flat()[i]);
    ref[i] = ax + y;
    bound[i] = gnm::kEpsF32 * (std::fabs(ax) + std::fabs(y));
  }
  Row r{"axpy y += a*x", "f32", n, "loop on views"};
  auto y = y0.clone();
  axpy(alpha, x.view(), y.view());
  r.ours_err = error_ratio<float>(y.flat(), ref, bound);
  r.ours_ms = time_ms(opt, [&] { axpy(alpha, x.view(), y.view()); });
  if (eigen::available()) {
    auto ye = y0.clone();
    eigen::axpy(alpha, x, ye);
    r.eigen_err = error_ratio<float>(ye.flat(), ref, bound);
    r.eigen_ms = time_ms(opt, [&] { eigen::axpy(alpha, x, ye); });
  }
  r.work = 12.0 * double(n) * double(n);  // read x and y, write y
  r.unit = "GB/s";
  return r;
}

// Any order of the n − 1 additions of a row errs by at most (n − 1)·u·Σ|x|: n·eps·Σ|x| holds for
// our 32 partial sums and for Eigen's vectorised reduction alike.
Row row_sums_f32(const Options& opt, Index n) {
  const auto a = random_array(n, n, 41);
  std::vector<double> ref(static_cast<std::size_t>(n)), bound(ref.size());
  for (Index i = 0; i < n; ++i) {
    double s = 0, abs_sum = 0;
    for (Index j = 0; j < n; ++j) {
      s += double(a(i, j));
      abs_sum += std::fabs(double(a(i, j)));
    }
    ref[static_cast<std::size_t>(i)] = s;
    bound[static_cast<std::size_t>(i)] = double(n) * gnm::kEpsF32 * abs_sum;
  }
  Row r{"row sums", "f32", n, "32 partial sums"};
  std::vector<float> out(static_cast<std::size_t>(n), std::numeric_limits<float>::quiet_NaN());
  row_sums(a.view(), std::span<float>(out));
  r.ours_err = error_ratio<float>(std::span<const float>(out), ref, bound);
  r.ours_ms = time_ms(opt, [&] { row_sums(a.view(), std::span<float>(out)); });
  if (eigen::available()) {
    std::vector<float> oe(out.size(), std::numeric_limits<float>::quiet_NaN());
    eigen::row_sums(a, oe);
    r.eigen_err = error_ratio<float>(std::span<const float>(oe), ref, bound);
    r.eigen_ms = time_ms(opt, [&] { eigen::row_sums(a, oe); });
  }
  r.work = 4.0 * double(n) * double(n);
  r.unit = "GB/s";
  return r;
}

// A transpose only moves values: exact equality, bound 0.
Row transpose_f32(const Options& opt, Index n) {
  const auto a = random_array(n, n, 51);
  std::vector<double> ref(static_cast<std::size_t>(n * n)), bound(ref.size(), 0.0);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < n; ++j) ref[static_cast<std::size_t>(j * n + i)] = double(a(i, j));
  }
  Row r{"transpose copy", "f32", n, "32x32 tiles"};
  Array2D<float> t(n, n), te(n, n);
  poison(t);
  transpose_copy(a.view(), t.view());
  r.ours_err = error_ratio<float>(t.flat(), ref, bound);
  r.ours_ms = time_ms(opt, [&] { transpose_copy(a.view(), t.view()); });
  if (eigen::available()) {
    poison(te);
    eigen::transpose_copy(a, te);
    r.eigen_err = error_ratio<float>(te.flat(), ref, bound);
    r.eigen_ms = time_ms(opt, [&] { eigen::transpose_copy(a, te); });
  }
  r.work = 8.0 * double(n) * double(n);
  r.unit = "GB/s";
  return r;
}

// Views into BLAS: a transpose is a flag, a row slice a leading dimension, a slice with steps in
// both dimensions a packed copy. Checked against a double loop over the same views.
bool run_view_demo() {
  //! [array_views]
  Array2D<float> a(6, 8);
  for (Index i = 0; i < 6; ++i) {
    for (Index j = 0; j < 8; ++j) a(i, j) = float(i * 8 + j) / 16.0f;
  }
  using gnm::ch04::slice;
  const View<const float> at = a.view().transposed();         // (8, 6), strides (1, 8)
  const View<const float> rows = slice(a.view(), {0, 6, 2}, {0, 8, 1});  // (3, 8), strides (16, 1)
  const View<const float> grid = slice(a.view(), {0, 6, 2}, {0, 8, 2});  // (3, 4), strides (16, 2)
  Array2D<float> c1(3, 6), c2(4, 8);
  matmul(rows, at, c1.view(), nullptr);               // BLAS: A with lda 16, B with the flag
  matmul(grid.transposed(), rows, c2.view(), nullptr);  // (4, 3) strides (2, 16): packed first
  //! [array_views]
  bool ok = true;
  const auto check = [&](View<const float> x, View<const float> y, const Array2D<float>& c) {
    for (Index i = 0; i < c.rows(); ++i) {
      for (Index j = 0; j < c.cols(); ++j) {
        double s = 0, m = 0;
        for (Index k = 0; k < x.cols(); ++k) {
          s += double(x(i, k)) * double(y(k, j));
          m += std::fabs(double(x(i, k)) * double(y(k, j)));
        }
        ok = ok && std::fabs(double(c(i, j)) - s) <= double(x.cols()) * gnm::kEpsF32 * m;
      }
    }
  };
  check(rows, at, c1);
  check(grid.transposed(), rows, c2);
  std::printf("  views: aᵀ strides (%lld, %lld), every other row (%lld, %lld), grid (%lld, %lld)\n",
              static_cast<long long>(at.row_stride()), static_cast<long long>(at.col_stride()),
              static_cast<long long>(rows.row_stride()), static_cast<long long>(rows.col_stride()),
              static_cast<long long>(grid.row_stride()), static_cast<long long>(grid.col_stride()));
  return ok;
}

}  // namespace

SectionResult run_arrays(const Options& opt) {
  std::printf("== 4.2 A 2-D array type with BLAS-backed operations, beside Eigen %s ==\n",
              eigen::version());
  if (!eigen::available()) {
    std::printf("  Eigen was not found at build time: only our side is run "
                "(Debian: apt-get install libeigen3-dev, then re-run cmake)\n");
  }
  bool ok = run_view_demo();
  // One thread for everyone: Eigen is built without OpenMP here, so it is single-threaded.
  gnm::ThreadPool pool(1);
#if GNM_HAVE_OPENBLAS
  openblas_set_num_threads(1);
#endif
  std::vector<Row> rows;
  std::vector<Index> sizes;
  for (Index n : {256, 512, 1024}) {
    if (n <= opt.max_n) sizes.push_back(n);
  }
  if (sizes.empty()) sizes.push_back(opt.max_n);
  if (opt.quick) sizes = {64, 128};
  for (Index n : sizes) rows.push_back(matmul_f32(opt, n, pool));
  for (Index n : sizes) {
    if (n <= 512) rows.push_back(matmul_f64(opt, n));  // the long double reference is O(n³)
  }
  for (Index n : opt.quick ? std::vector<Index>{100, 257} : std::vector<Index>{512, 2048}) {
    rows.push_back(axpy_f32(opt, n));
    rows.push_back(row_sums_f32(opt, n));
    rows.push_back(transpose_f32(opt, n));
  }

  std::printf("  %-15s %-4s %5s %-22s %9s %9s %8s %9s %9s %9s\n", "op", "type", "n", "ours",
              "ours ms", "Eigen ms", "speed-up", "ours rate", "err ours", "err Eigen");
  for (Row& r : rows) {
    r.ok = r.ours_err <= 1.0 && (!eigen::available() || r.eigen_err <= 1.0);
    ok = ok && r.ok;
    const double rate = r.work / (r.ours_ms * 1e-3) * 1e-9;
    std::printf("  %-15s %-4s %5lld %-22s %9.3f %9.3f %8.2f %6.1f %-2s %9.3f %9.3f%s\n",
                r.op.c_str(), r.dtype.c_str(), static_cast<long long>(r.n), r.ours.c_str(),
                r.ours_ms, r.eigen_ms, r.eigen_ms > 0 ? r.eigen_ms / r.ours_ms : 0.0, rate,
                r.unit[0] == 'G' && r.unit[1] == 'F' ? "GF" : "GB", r.ours_err, r.eigen_err,
                r.ok ? "" : "  FAILED");
  }
  std::printf("  (speed-up = Eigen time / our time; err = max |error| / bound, ≤ 1 passes)\n");
  std::printf("  arrays: %s\n\n", ok ? "ok" : "FAILED");

  std::ostringstream j;
  j << "{\"eigen\": " << gnm::json_quote(eigen::version()) << ", \"threads\": 1, \"rows\": [";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const double rate = r.work / (r.ours_ms * 1e-3) * 1e-9;
    const double eigen_rate = r.eigen_ms > 0 ? r.work / (r.eigen_ms * 1e-3) * 1e-9 : 0.0;
    j << (i ? ", " : "") << "{\"op\": " << gnm::json_quote(r.op) << ", \"dtype\": \"" << r.dtype
      << "\", \"n\": " << r.n << ", \"ours\": " << gnm::json_quote(r.ours)
      << ", \"ours_ms\": " << gnm::json_number(r.ours_ms)
      << ", \"eigen_ms\": " << gnm::json_number(r.eigen_ms)
      << ", \"speedup_vs_eigen\": " << gnm::json_number(r.eigen_ms > 0 ? r.eigen_ms / r.ours_ms : 0)
      << ", \"unit\": \"" << r.unit << "\", \"ours_rate\": " << gnm::json_number(rate)
      << ", \"eigen_rate\": " << gnm::json_number(eigen_rate)
      << ", \"err_ratio_ours\": " << gnm::json_number(r.ours_err)
      << ", \"err_ratio_eigen\": " << gnm::json_number(r.eigen_err)
      << ", \"verified\": " << (r.ok ? "true" : "false") << "}";
  }
  j << "], \"verified\": " << (ok ? "true" : "false") << "}";
  return {ok, j.str()};
}

}  // namespace ch04
