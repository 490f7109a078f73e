// Reading chapter 2's GEMM benchmark results (Google Benchmark's --benchmark_format=json output)
// so that the measured kernels can be placed on this machine's roofline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gnm::ch01 {

/// One measured GEMM: which kernel, its shape, its thread count and its speed.
struct BenchPoint {
  std::string kernel;  // benchmark name without "BM_" and arguments: "sgemm_engine"
  int threads = 1;     // from a "threads:N" argument, 1 when absent
  std::int64_t m = 0, n = 0, k = 0;
  double gflops = 0;   // median over repetitions when there are several
  /// 2MNK / (4(MK + KN + MN)) FLOP/byte.
  double intensity() const;
};

/// The GEMM points found in a benchmark file, and what was left out and why.
struct BenchFile {
  std::vector<BenchPoint> points;  // sorted by kernel, threads, size
  int skipped = 0;                 // entries without a FLOP/s counter, or not a GEMM shape
};

/// True when this build can read JSON (it needs nlohmann_json, Debian nlohmann-json3-dev).
bool bench_json_supported();

/// Parses Google Benchmark JSON text of GEMM benchmarks. Keeps entries that have a counter whose
/// name is a FLOP rate ("GFLOPS", "GFLOP/s", "TFLOP/s", "FLOPS" = per second…) and whose name
/// gives the size: "BM_x/1024" is a square GEMM, "BM_x/M/N/K" is not; named arguments "m:", "n:",
/// "k:" and "threads:" are understood. Names with "conv" or "im2col" are skipped (a convolution's
/// intensity is not the GEMM formula). With repetitions, the "median"
/// aggregate is used, else the median of the runs. Throws gnm::IoError naming `source` when the
/// text is not JSON or has no "benchmarks" array; gnm::NotImplemented without JSON support.
BenchFile parse_gemm_benchmarks(std::string_view json_text, const std::string& source);

/// Scale from a counter name to GFLOP/s (1e-9 for "FLOPS", 1 for "GFLOP/s", 1000 for "TFLOPS"),
/// or 0 when the name is not a FLOP rate. Case and punctuation are ignored.
double flop_rate_scale(std::string_view counter_name);

}  // namespace gnm::ch01
