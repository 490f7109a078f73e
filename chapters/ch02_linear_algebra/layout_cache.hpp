// Section 2.3 — memory layout and cache efficiency: the same GEMM in three loop orders and with
// cache blocking, timed at sizes that cross this machine's cache sizes (read from sysfs and
// printed beside the curve).
//
// Row-major C += A·B, n×n. What each inner loop touches:
//   ijk (sgemm_naive)   A row (contiguous), B column (stride n)    → a new cache line per FMA
//   ikj (sgemm_ikj)     B row and C row (contiguous)               → vectorised, streams rows
//   jki (sgemm_jki)     A column and C column (both stride n)      → the worst order
//   blocked             ikj on blocks that stay in L1/L2           → B is re-read from cache
// Once the three matrices outgrow a cache level, the strided orders fall off a cliff; blocking
// keeps the working set inside the cache whatever n is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chapter2 {

/// One cache of CPU 0, from /sys/devices/system/cpu/cpu0/cache/index*/.
struct CacheLevel {
  int level = 0;            // 1, 2, 3
  std::string type;         // "Data", "Instruction", "Unified"
  std::int64_t bytes = 0;   // size
  std::string shared_with;  // shared_cpu_list, e.g. "0-1"
};

/// The caches of CPU 0 in index order; empty when sysfs does not have them (never throws).
std::vector<CacheLevel> read_cache_levels();

/// One matrix size, every version timed.
struct LayoutRow {
  std::int64_t n = 0;
  double working_set = 0;  // bytes of A, B and C together
  std::string fits_in;     // smallest data cache that holds them: "L1", "L2", "L3" or "memory"
  double naive_gflops = 0, ikj_gflops = 0, jki_gflops = 0, blocked_gflops = 0;  // 0: not timed
  double engine_gflops = 0;  // gnm::cpu::sgemm on one thread: packed panels + micro-kernel
  double worst_error_ratio = 0;  // over the four versions, |C − C_engine| / bound (≤ 1 passes)
  bool ok = false;
};

/// Section 2.3's table.
struct LayoutTable {
  std::vector<CacheLevel> caches;
  std::vector<LayoutRow> rows;
  bool verified = false;
};

/// Times the versions at n = 32 … max_n (at most 2048; quick: 16 … 96). Each measurement is the
/// median of up to five runs, fewer when one run already takes long (the slow orders at
/// n = 1024 take seconds each; above 1024 they are skipped and reported as 0). Every result is
/// checked against the engine's GEMM. The default takes about half a minute.
LayoutTable run_layout_cache(bool quick = false, std::int64_t max_n = 1024);
void print(const LayoutTable& t);
std::string to_json(const LayoutTable& t);

}  // namespace chapter2
