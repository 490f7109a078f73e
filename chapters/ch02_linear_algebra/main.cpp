// Chapter 2 — Linear algebra and numerical computing basics.
//
//   2.1 strided 2-D views: transposes and blocks without copies, and how BLAS sees them
//   2.2 cost of GEMM and convolution: direct convolution vs im2col + GEMM, measured
//   2.3 layout and cache: loop orders and blocking against this machine's cache sizes
//   ladder: the GEMM ladder (naive → reordered → blocked → packed → threaded) beside the engine
//       and OpenBLAS at one size (ch02_bench sweeps 256…2048 with Google Benchmark)
//   2.4 BLAS levels 1/2/3 and LAPACK (least squares, linear solve) through LAPACKE
//   2.5 numerics: summation, softmax/log-sum-exp, fp16/bf16, cancellation
//
//   ch02_linear_algebra [--section all|2.1|2.2|2.3|ladder|2.4|2.5] [--quick] [--threads N]
//                       [--gemm-n 512] [--json FILE]
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "blas_lapack.hpp"
#include "conv_cost.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/matrix_view.hpp"
#include "gnm/core/program_report.hpp"
#include "gnm/core/thread_pool.hpp"
#include "gnm/cpu/gemm.hpp"
#include "ladder_table.hpp"
#include "layout_cache.hpp"
#include "numerics_demo.hpp"

namespace {

struct Options {
  std::string section = "all";
  bool quick = false;
  int threads = 0;  // 0: all cores
  std::int64_t gemm_n = 512;
  std::string json;
};

// One section's outcome: did its checks pass, and its tables as JSON.
struct SectionResult {
  bool ok = true;
  std::string json;  // a JSON value for the results file's "tables"
};

//! [views]
// 2.1: a 3×4 row-major matrix seen four ways without copying a single element.
SectionResult run_views() {
  std::vector<float> storage(12);
  for (std::size_t i = 0; i < storage.size(); ++i) storage[i] = static_cast<float>(i);
  const auto a = gnm::MatrixView<float>::row_major(storage.data(), 3, 4);  // (3, 4), strides (4, 1)
  const auto at = a.transposed();                                          // (4, 3), strides (1, 4)
  const auto blk = a.block(1, 1, 2, 2);                                    // rows 1-2, cols 1-2
  // The same 12 floats read as a column-major 4×3 matrix is exactly aᵀ.
  const auto cm = gnm::MatrixView<float>::col_major(storage.data(), 4, 3);

  bool ok = at.data() == a.data() && blk.data() == a.data() + 5;
  for (std::int64_t i = 0; i < 4; ++i) {
    for (std::int64_t j = 0; j < 3; ++j) ok = ok && at(i, j) == a(j, i) && cm(i, j) == at(i, j);
  }
  ok = ok && blk(0, 0) == 5.0f && blk(1, 1) == 10.0f && !at.is_contiguous_row_major();
//! [views]

  std::printf("== 2.1 Strided views ==\n");
  std::printf("  a     (3, 4) strides (%lld, %lld)\n", static_cast<long long>(a.row_stride()),
              static_cast<long long>(a.col_stride()));
  std::printf("  aᵀ    (4, 3) strides (%lld, %lld), same pointer: %s\n",
              static_cast<long long>(at.row_stride()), static_cast<long long>(at.col_stride()),
              at.data() == a.data() ? "yes" : "no");
  std::printf("  block (2, 2) at (1, 1): first element %g, pointer offset %lld\n",
              static_cast<double>(blk(0, 0)), static_cast<long long>(blk.data() - a.data()));

  //! [views_blas]
  // A transposed view is what BLAS's Transpose flag means: C = aᵀ · a with no copy of aᵀ.
  std::vector<float> c_flag(16, 0.0f), c_copy(16, 0.0f), at_copy(12);
  gnm::cpu::sgemm(gnm::cpu::Transpose::Yes, gnm::cpu::Transpose::No, 4, 4, 3, 1.0f, a.data(), 4,
                  a.data(), 4, 0.0f, c_flag.data(), 4);
  for (std::int64_t i = 0; i < 4; ++i) {
    for (std::int64_t j = 0; j < 3; ++j) at_copy[static_cast<std::size_t>(i * 3 + j)] = at(i, j);
  }
  gnm::cpu::sgemm(gnm::cpu::Transpose::No, gnm::cpu::Transpose::No, 4, 4, 3, 1.0f, at_copy.data(),
                  3, a.data(), 4, 0.0f, c_copy.data(), 4);
  //! [views_blas]
  // Small integers: every product and sum is exact in fp32, so the two must agree exactly.
  ok = ok && c_flag == c_copy;
  std::printf("  aᵀ·a with Transpose::Yes equals aᵀ copied then multiplied: %s\n",
              c_flag == c_copy ? "yes" : "NO");
  std::printf("  views: %s\n\n", ok ? "ok" : "FAILED");

  SectionResult r;
  r.ok = ok;
  std::ostringstream j;
  j << "{\"rows\": [{\"view\": \"a\", \"shape\": [3, 4], \"strides\": [4, 1]}, "
    << "{\"view\": \"a.transposed()\", \"shape\": [4, 3], \"strides\": [1, 4]}, "
    << "{\"view\": \"a.block(1, 1, 2, 2)\", \"shape\": [2, 2], \"strides\": [4, 1]}, "
    << "{\"view\": \"col_major(4, 3)\", \"shape\": [4, 3], \"strides\": [1, 4]}], \"verified\": "
    << (ok ? "true" : "false") << "}";
  r.json = j.str();
  return r;
}

int run(const Options& opt) {
  gnm::require_choice("--section", opt.section,
                      {"all", "2.1", "2.2", "2.3", "ladder", "2.4", "2.5"});
  if (opt.threads < 0) throw gnm::Error("--threads must be >= 0, got " + std::to_string(opt.threads));
  if (opt.gemm_n < 1 || opt.gemm_n > 8192) {
    throw gnm::Error("--gemm-n must be in [1, 8192], got " + std::to_string(opt.gemm_n));
  }
  const int threads = opt.threads > 0 ? opt.threads : gnm::default_thread_pool().size();
  gnm::ThreadPool pool(threads);
  auto want = [&](const char* s) { return opt.section == "all" || opt.section == s; };

  gnm::ProgramReport report("ch02_linear_algebra");
  // "threads": the pool the parallel GEMMs actually used (--threads, or every core).
  report.parameter("section", opt.section)
      .parameter("quick", opt.quick)
      .parameter("threads", threads)
      .parameter("gemm_n", opt.gemm_n);
  if (want("2.1")) {
    const auto r = run_views();
    report.add_section("2.1 strided views", r.ok, r.json);
  }
  if (want("2.2")) {
    const auto t = chapter2::run_conv_cost(opt.quick, threads);
    chapter2::print(t);
    report.add_section("2.2 convolution: direct vs im2col + GEMM", t.verified, chapter2::to_json(t));
  }
  if (want("2.3")) {
    const auto t = chapter2::run_layout_cache(opt.quick);
    chapter2::print(t);
    report.add_section("2.3 loop orders and blocking", t.verified, chapter2::to_json(t));
  }
  if (want("ladder")) {
    const auto t = chapter2::run_ladder(opt.quick ? 128 : opt.gemm_n, pool);
    chapter2::print(t);
    report.add_section("GEMM ladder", t.verified, chapter2::to_json(t));
  }
  if (want("2.4")) {
    const auto r = chapter2::run_blas_lapack(opt.quick);
    chapter2::print(r);
    report.add_section("2.4 BLAS and LAPACK", r.verified, chapter2::to_json(r));
  }
  if (want("2.5")) {
    const auto r = chapter2::run_numerics(opt.quick);
    chapter2::print(r);
    report.add_section("2.5 numerics", r.verified, chapter2::to_json(r));
  }
  return report.finish(opt.json);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 2: linear algebra and numerical computing basics"};
  Options opt;
  app.add_option("--section", opt.section, "all, 2.1, 2.2, 2.3, ladder, 2.4 or 2.5")
      ->capture_default_str();
  app.add_flag("--quick", opt.quick, "small sizes (seconds instead of minutes)");
  app.add_option("--threads", opt.threads, "threads for the parallel GEMMs (0: all cores)")
      ->capture_default_str();
  app.add_option("--gemm-n", opt.gemm_n, "matrix size of the GEMM ladder table")
      ->capture_default_str();
  app.add_option("--json", opt.json, "also write every table to this JSON file");
  return gnm::run_cli<CLI::ParseError>(app, argc, argv, [&] { return run(opt); });
}
