// Reading Google Benchmark JSON into GEMM points for the roofline figure.
#include <gtest/gtest.h>

#include <string>

#include "bench_points.hpp"
#include "gnm/core/error.hpp"
#include "op_cost.hpp"

using namespace gnm::ch01;

namespace {

// Shaped like `ch02_bench --benchmark_format=json`: chapter 2's names, counters as top-level keys,
// plus the variants the reader must cope with (BM_ prefixes, named and M/N/K arguments, rate
// counters in FLOP/s, repetitions with and without aggregates, entries to skip).
constexpr const char* kJson = R"({
  "context": {"date": "2026-11-24T08:00:00+00:00", "num_cpus": 2},
  "benchmarks": [
    {"name": "ladder_v3_blocked/1024", "run_name": "ladder_v3_blocked/1024",
     "run_type": "iteration", "iterations": 3, "real_time": 30.1, "time_unit": "ms",
     "GFLOP/s": 71.5, "%peak": 62.0},
    {"name": "engine_sgemm/threads:2/2048", "run_name": "engine_sgemm/threads:2/2048",
     "run_type": "iteration", "GFLOP/s": 180.0},
    {"name": "BM_sgemm_openblas/512/threads:1", "run_type": "iteration", "FLOPS": 9.0e10},
    {"name": "BM_rect/m:64/n:128/k:256", "TFLOP/s": 0.05},
    {"name": "BM_mnk/64/128/256/real_time", "GFLOPS": 40},
    {"name": "conv_direct/32", "GFLOP/s": 10},
    {"name": "no_counter/256", "real_time": 1.0},
    {"name": "two_args/1/2", "GFLOP/s": 1},
    {"name": "rep/256", "run_name": "rep/256", "run_type": "iteration", "GFLOP/s": 10},
    {"name": "rep/256", "run_name": "rep/256", "run_type": "iteration", "GFLOP/s": 30},
    {"name": "rep/256", "run_name": "rep/256", "run_type": "iteration", "GFLOP/s": 20},
    {"name": "agg/256", "run_name": "agg/256", "run_type": "iteration", "GFLOP/s": 1},
    {"name": "agg/256_mean", "run_name": "agg/256", "run_type": "aggregate",
     "aggregate_name": "mean", "GFLOP/s": 100},
    {"name": "agg/256_median", "run_name": "agg/256", "run_type": "aggregate",
     "aggregate_name": "median", "GFLOP/s": 7}
  ]
})";

}  // namespace

TEST(BenchPoints, CounterNamesThatAreFlopRates) {
  EXPECT_EQ(flop_rate_scale("GFLOP/s"), 1.0);
  EXPECT_EQ(flop_rate_scale("GFLOPS"), 1.0);
  EXPECT_EQ(flop_rate_scale("gflops"), 1.0);
  EXPECT_EQ(flop_rate_scale("TFLOP/s"), 1e3);
  EXPECT_EQ(flop_rate_scale("FLOPS"), 1e-9);
  EXPECT_EQ(flop_rate_scale("MFLOP/s"), 1e-3);
  EXPECT_EQ(flop_rate_scale("%peak"), 0.0);
  EXPECT_EQ(flop_rate_scale("GB/s"), 0.0);
  EXPECT_EQ(flop_rate_scale("real_time"), 0.0);
}

TEST(BenchPoints, ReadsGemmPointsFromGoogleBenchmarkJson) {
  if (!bench_json_supported()) GTEST_SKIP() << "built without nlohmann_json";
  const BenchFile f = parse_gemm_benchmarks(kJson, "test.json");
  EXPECT_EQ(f.skipped, 3);  // the convolution, the entry without a rate, the two-argument name
  ASSERT_EQ(f.points.size(), 7u);
  // Sorted by kernel name.
  const BenchPoint& agg = f.points[0];
  EXPECT_EQ(agg.kernel, "agg");
  EXPECT_EQ(agg.gflops, 7);  // the median aggregate, not the mean or the runs
  const BenchPoint& engine = f.points[1];
  EXPECT_EQ(engine.kernel, "engine_sgemm");
  EXPECT_EQ(engine.threads, 2);
  EXPECT_EQ(engine.m, 2048);
  EXPECT_EQ(engine.gflops, 180);
  EXPECT_DOUBLE_EQ(engine.intensity(), 2048.0 / 6.0);
  const BenchPoint& ladder = f.points[2];
  EXPECT_EQ(ladder.kernel, "ladder_v3_blocked");
  EXPECT_EQ(ladder.threads, 1);
  EXPECT_EQ(ladder.gflops, 71.5);
  const BenchPoint& mnk = f.points[3];
  EXPECT_EQ(mnk.kernel, "mnk");
  EXPECT_EQ(mnk.m, 64);
  EXPECT_EQ(mnk.n, 128);
  EXPECT_EQ(mnk.k, 256);
  EXPECT_DOUBLE_EQ(mnk.intensity(), gemm_intensity(64, 128, 256));
  const BenchPoint& rect = f.points[4];
  EXPECT_EQ(rect.kernel, "rect");
  EXPECT_EQ(rect.n, 128);
  EXPECT_DOUBLE_EQ(rect.gflops, 50);  // 0.05 TFLOP/s
  const BenchPoint& rep = f.points[5];
  EXPECT_EQ(rep.kernel, "rep");
  EXPECT_EQ(rep.gflops, 20);  // median of 10, 30, 20
  const BenchPoint& blas = f.points[6];
  EXPECT_EQ(blas.kernel, "sgemm_openblas");
  EXPECT_EQ(blas.m, 512);
  EXPECT_DOUBLE_EQ(blas.gflops, 90);  // 9e10 FLOP/s
}

TEST(BenchPoints, BadFilesAreIoErrorsNamingTheFile) {
  if (!bench_json_supported()) {
    EXPECT_THROW(parse_gemm_benchmarks("{}", "x.json"), gnm::NotImplemented);
    return;
  }
  try {
    parse_gemm_benchmarks("{ \"benchmarks\": [", "broken.json");
    FAIL() << "truncated JSON was accepted";
  } catch (const gnm::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("'broken.json' is not valid JSON"), std::string::npos)
        << e.what();
  }
  try {
    parse_gemm_benchmarks(R"({"results": []})", "other.json");
    FAIL() << "JSON without a benchmarks array was accepted";
  } catch (const gnm::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("no \"benchmarks\" array"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(parse_gemm_benchmarks("[1, 2]", "array.json"), gnm::IoError);
  // An empty run is not an error: there is simply nothing to place.
  EXPECT_TRUE(parse_gemm_benchmarks(R"({"benchmarks": []})", "empty.json").points.empty());
}
