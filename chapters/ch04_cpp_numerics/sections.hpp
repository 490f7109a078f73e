// The chapter's sections, each a function that prints its part, checks it and returns its table.
#pragma once

#include <string>

namespace ch04 {

/// The program's options (main.cpp parses and checks them).
struct Options {
  std::string section = "all";
  bool quick = false;  // small sizes: seconds instead of a minute
  int max_n = 1024;    // largest matrix size of 4.2's matmul table
  int reps = 5;        // timed repetitions per measurement (the median is reported)
  std::string json;    // results file, or empty
};

/// One section's outcome: whether its checks passed, and its tables as a JSON value.
struct SectionResult {
  bool ok = true;
  std::string json;
};

SectionResult run_ownership(const Options& opt);  // 4.1
SectionResult run_arrays(const Options& opt);     // 4.2
SectionResult run_raii(const Options& opt);       // 4.3
SectionResult run_ffi(const Options& opt);        // 4.4
SectionResult run_zero_cost(const Options& opt);  // 4.5

/// Keeps the compiler from deleting a computation whose result is otherwise unused (the same
/// trick as benchmark::DoNotOptimize): the empty asm claims to read `value` and touch memory.
template <class T>
inline void keep(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

}  // namespace ch04
