// Chapter 5 — Parallel computation and asynchronous processing.
//
//   5.1 data parallelism: ThreadPool::parallel_for (rayon's par_iter in the seed) against OpenMP
//       on a reduction (deterministic fixed blocks vs thread-dependent chunking) and on GEMM;
//       the cost of a fork-join; an exception thrown on a worker caught by the caller
//   5.2 asynchronous loading: gnm::PrefetchLoader decodes and augments batches on its own thread
//       while an MLP trains; epoch time against max(load, compute) and load + compute
//   5.3 allocators: malloc/free, new/delete, gnm::Arena, gnm::PoolAllocator for small tensors
//       (ch05_bench measures the same with Google Benchmark)
//   5.4 memory-safe communication: one counter four ways; ownership through a Channel
//   5.5 channels versus shared state: producer/consumer throughput, 1P1C and 2P2C
//
//   ch05_parallel [--section all|5.1|5.2|5.3|5.4|5.5] [--quick] [--threads N] [--sum-n N]
//                 [--gemm-n N] [--json FILE]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "allocators.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/program_report.hpp"
#include "messaging.hpp"
#include "omp_kernels.hpp"
#include "parallel_loops.hpp"
#include "prefetch_demo.hpp"

namespace {

struct Options {
  std::string section = "all";
  bool quick = false;
  int threads = 0;                  // 0: every core
  std::int64_t sum_n = 100000000;   // 10^8 floats = 400 MB: far beyond every cache
  std::int64_t gemm_n = 1024;
  std::string json;
};

int run(Options opt) {
  gnm::require_choice("--section", opt.section, {"all", "5.1", "5.2", "5.3", "5.4", "5.5"});
  if (opt.threads < 0 || opt.threads > 256) {
    throw gnm::Error("--threads must be in [0, 256], got " + std::to_string(opt.threads));
  }
  if (opt.sum_n < 1 || opt.sum_n > (std::int64_t{1} << 28)) {  // 2^28 floats = 1 GiB
    throw gnm::Error("--sum-n must be in [1, 2^28], got " + std::to_string(opt.sum_n));
  }
  if (opt.gemm_n < 1 || opt.gemm_n > 4096) {
    throw gnm::Error("--gemm-n must be in [1, 4096], got " + std::to_string(opt.gemm_n));
  }
  if (opt.quick) {
    opt.sum_n = std::min<std::int64_t>(opt.sum_n, 1 << 20);
    opt.gemm_n = std::min<std::int64_t>(opt.gemm_n, 192);
  }
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = opt.threads > 0 ? opt.threads : hw;
  auto want = [&](const char* s) { return opt.section == "all" || opt.section == s; };
  std::printf("Chapter 5: %d threads (1 and %d are compared), %s\n\n", threads, threads,
              chapter5::openmp_version().c_str());

  gnm::ProgramReport report("ch05_parallel");
  report.parameter("section", opt.section)
      .parameter("quick", opt.quick)
      .parameter("threads", threads)
      .parameter("sum_n", opt.sum_n)
      .parameter("gemm_n", opt.gemm_n)
      .parameter("openmp", chapter5::openmp_version());
  if (want("5.1")) {
    const auto t = chapter5::run_parallel(opt.sum_n, opt.gemm_n, threads, opt.quick);
    chapter5::print(t);
    report.add_section("5.1 parallel_for and OpenMP", t.verified, chapter5::to_json(t));
  }
  if (want("5.2")) {
    const auto t = chapter5::run_prefetch(opt.quick, threads);
    chapter5::print(t);
    report.add_section("5.2 prefetching loader", t.verified, chapter5::to_json(t));
  }
  if (want("5.3")) {
    const auto t = chapter5::run_allocators(opt.quick);
    chapter5::print(t);
    report.add_section("5.3 allocators", t.verified, chapter5::to_json(t));
  }
  if (want("5.4")) {
    const auto t = chapter5::run_safety(opt.quick, threads);
    chapter5::print(t);
    report.add_section("5.4 shared counters and ownership", t.verified, chapter5::to_json(t));
  }
  if (want("5.5")) {
    const auto t = chapter5::run_throughput(opt.quick);
    chapter5::print(t);
    report.add_section("5.5 producer-consumer throughput", t.verified, chapter5::to_json(t));
  }
  return report.finish(opt.json);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 5: parallel computation and asynchronous processing"};
  Options opt;
  app.add_option("--section", opt.section, "all, 5.1, 5.2, 5.3, 5.4 or 5.5")->capture_default_str();
  app.add_flag("--quick", opt.quick, "small sizes (seconds instead of a minute)");
  app.add_option("--threads", opt.threads, "threads compared with 1 (0: every core)")
      ->capture_default_str();
  app.add_option("--sum-n", opt.sum_n, "floats in the 5.1 reduction")->capture_default_str();
  app.add_option("--gemm-n", opt.gemm_n, "matrix size of the 5.1 GEMM")->capture_default_str();
  app.add_option("--json", opt.json, "also write every table to this JSON file");
  return gnm::run_cli<CLI::ParseError>(app, argc, argv, [&] { return run(opt); });
}
