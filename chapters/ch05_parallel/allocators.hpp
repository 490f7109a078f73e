// Section 5.3: malloc/free, new/delete, gnm::Arena and gnm::PoolAllocator serving the tensors of a
// simulated training step (alloc_workload.hpp); ch05_bench measures the same with Google Benchmark.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace chapter5 {

struct AllocRow {
  std::string allocator;
  std::string pattern;          // "step-scoped" or "interleaved"
  double ns_per_alloc = 0;      // one allocate + its free, median over the steps
  double mallocs_per_s = 0;     // allocations per second
  std::size_t peak_held = 0;    // bytes the allocator holds at its peak (see allocators.cpp)
  bool ok = true;               // same checksum as malloc's, allocator-specific checks
};

struct AllocTable {
  std::size_t tensors_per_step = 0;
  std::size_t steps = 0;
  std::vector<AllocRow> rows;
  bool verified = false;
};

AllocTable run_allocators(bool quick);
void print(const AllocTable& t);
std::string to_json(const AllocTable& t);

}  // namespace chapter5
