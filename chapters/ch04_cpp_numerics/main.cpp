// Chapter 4 — Numerical computing in C++ (the seed book's "Rust numerics basics").
//
//   4.1 ownership: move-only buffers, shared and weak views, what each view costs
//   4.2 a 2-D array type with BLAS-backed matmul, axpy, row sums, transpose — beside Eigen
//   4.3 unsafe code kept local: file descriptors, mmap and FILE* inside small RAII types
//   4.4 FFI: the engine's C API (gnm/capi/gnm.h) from C++, its errors and struct layouts
//       (capi_demo.c calls it from C, tests/ch04/test_capi_ctypes.py from Python)
//   4.5 zero-cost abstraction: expression templates vs naive operators vs a hand loop;
//       constexpr shape maths (ch04_bench is the Google Benchmark sweep)
//
//   ch04_cpp_numerics [--section all|4.1|4.2|4.3|4.4|4.5] [--quick] [--max-n 1024] [--reps 5]
//                     [--json FILE]
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "eigen_ops.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/host_info.hpp"
#include "gnm/core/program_report.hpp"
#include "sections.hpp"

namespace {

int run(const ch04::Options& opt) {
  gnm::require_choice("--section", opt.section, {"all", "4.1", "4.2", "4.3", "4.4", "4.5"});
  if (opt.max_n < 16 || opt.max_n > 4096) {
    throw gnm::Error("--max-n must be in [16, 4096], got " + std::to_string(opt.max_n));
  }
  if (opt.reps < 1 || opt.reps > 1000) {
    throw gnm::Error("--reps must be in [1, 1000], got " + std::to_string(opt.reps));
  }
  const auto want = [&](const char* s) { return opt.section == "all" || opt.section == s; };

  gnm::ProgramReport report("ch04_cpp_numerics");
  report.backend("cpu (1 thread)")
      .parameter("section", opt.section)
      .parameter("quick", opt.quick)
      .parameter("max_n", opt.max_n)
      .parameter("reps", opt.reps)
      .parameter("compiler", gnm::host_info().compiler)
      .parameter("eigen", ch04::eigen::version());
  const auto add = [&](const std::string& title, const ch04::SectionResult& s) {
    report.add_section(title, s.ok, s.json);
  };
  if (want("4.1")) add("4.1 ownership", ch04::run_ownership(opt));
  if (want("4.2")) add("4.2 Array2D vs Eigen", ch04::run_arrays(opt));
  if (want("4.3")) add("4.3 RAII wrappers", ch04::run_raii(opt));
  if (want("4.4")) add("4.4 C API", ch04::run_ffi(opt));
  if (want("4.5")) add("4.5 zero-cost abstraction", ch04::run_zero_cost(opt));
  return report.finish(opt.json);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 4: numerical computing in C++ (ownership, arrays, RAII, FFI, zero cost)"};
  ch04::Options opt;
  app.add_option("--section", opt.section, "all, 4.1, 4.2, 4.3, 4.4 or 4.5")->capture_default_str();
  app.add_flag("--quick", opt.quick, "small sizes (seconds instead of a minute)");
  app.add_option("--max-n", opt.max_n, "largest matrix size of the 4.2 matmul table")
      ->capture_default_str();
  app.add_option("--reps", opt.reps, "timed repetitions per measurement (median reported)")
      ->capture_default_str();
  app.add_option("--json", opt.json, "also write every table to this JSON file");
  return gnm::run_cli<CLI::ParseError>(app, argc, argv, [&] { return run(opt); });
}
