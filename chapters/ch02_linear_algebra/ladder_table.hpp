// The GEMM ladder at one size, beside the engine and OpenBLAS: every version verified against a
// double-precision reference, then timed. ch02_bench is the full sweep (256…2048).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gnm/core/thread_pool.hpp"

namespace chapter2 {

struct LadderRow {
  std::string version;   // "v2 ikj", "engine (2 threads)", "OpenBLAS (1 thread)"
  int threads = 1;
  double ms = 0;         // median time
  double gflops = 0;     // 2·n³ / time
  double error_ratio = 0;  // max |C − ref| / bound over the elements (≤ 1 passes)
  bool ok = false;
};

struct LadderTable {
  std::int64_t n = 0;
  std::vector<LadderRow> rows;
  bool verified = false;
};

// Runs every ladder version on n×n×n (naive and jki only up to n = 1024), the engine with 1 and
// pool.size() threads, and OpenBLAS likewise when linked.
LadderTable run_ladder(std::int64_t n, gnm::ThreadPool& pool);
void print(const LadderTable& t);
std::string to_json(const LadderTable& t);

}  // namespace chapter2
