// Section 5.1: the engine's ThreadPool::parallel_for against OpenMP on a reduction and on GEMM,
// the cost of one fork-join, and an exception thrown on a worker arriving at the caller.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chapter5 {

struct ReduceRow {
  std::string variant;      // "pool: fixed blocks (ex 5.1)", "OpenMP: reduction(+)", …
  int threads = 1;
  double ms = 0;            // median time of one sum
  double gbps = 0;          // 4·n bytes / time
  float result = 0;
  double error_units = 0;   // |result − Σx| / (u·Σ|x|): the error in units of its natural scale
  bool same_bits_as_one_thread = true;
  bool must_be_deterministic = false;  // fixed blocks: bits may not depend on the thread count
  bool ok = true;
};

struct GemmRow {
  std::string variant;
  int threads = 1;
  double ms = 0;
  double gflops = 0;
  double speedup = 1;       // against the same variant on 1 thread
  bool core_busy = false;   // measured while another thread kept one core busy
  double error_ratio = 0;   // max |C − ref| / (K·eps·Σ|a||b|) over the elements (≤ 1 passes)
  bool ok = true;
};

struct ForkJoinRow {
  std::string runtime;      // "ThreadPool::parallel_for", "OpenMP parallel for"
  int threads = 1;
  double us = 0;            // one empty parallel loop: wake, run, join
};

struct ParallelTable {
  std::int64_t sum_n = 0;
  std::int64_t gemm_n = 0;
  std::string openmp;       // openmp_version()
  double bound_units = 0;   // parallel_sum's worst-case bound in units of u·Σ|x|
  std::vector<ReduceRow> reduce;
  std::vector<GemmRow> gemm;
  std::vector<ForkJoinRow> fork_join;
  std::string exception_message;  // what the caller caught from a worker thread
  bool exception_ok = false;
  bool verified = false;
};

// Runs every variant with 1 and `threads` threads (just 1 when threads == 1).
ParallelTable run_parallel(std::int64_t sum_n, std::int64_t gemm_n, int threads, bool quick);
void print(const ParallelTable& t);
std::string to_json(const ParallelTable& t);

}  // namespace chapter5
