// ch05_bench — section 5.3 with Google Benchmark: one simulated training step's tensor
// allocations (alloc_workload.hpp) served by malloc/free, new/delete, gnm::Arena and
// gnm::PoolAllocator, step-scoped and interleaved (backward-like) frees, on 1 and 2 threads.
// With 2 threads each thread has its own arena or pool (neither is thread-safe, by design),
// while malloc is shared by both (glibc gives each thread an arena of its own behind the scenes).
//
//   ch05_bench --benchmark_out=book/results/ch05_bench.json --benchmark_out_format=json
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "alloc_workload.hpp"

namespace {

using namespace chapter5;

constexpr std::size_t kTensorsPerStep = 256;

const std::vector<std::size_t>& sizes() {
  static const std::vector<std::size_t> s = tensor_sizes(kTensorsPerStep, 53);  // as in 5.3
  return s;
}

template <class Alloc>
void step(benchmark::State& state, Pattern pattern) {
  Alloc alloc;  // one per benchmark thread
  std::vector<void*> ptrs;
  std::size_t allocations = 0;
  std::size_t peak = 0;
  for (auto _ : state) {
    const StepStats s = run_step(alloc, sizes(), pattern, ptrs);
    benchmark::DoNotOptimize(s.checksum);
    allocations += s.allocations;
    peak = s.peak_live_bytes;
  }
  // Summed over threads and divided by the wall time: allocations per second of the process.
  state.counters["allocs/s"] = benchmark::Counter(static_cast<double>(allocations),
                                                  benchmark::Counter::kIsRate);
  state.counters["peak_live_KiB"] = benchmark::Counter(static_cast<double>(peak) / 1024.0,
                                                       benchmark::Counter::kAvgThreads);
}

template <class Alloc>
void register_allocator(const std::string& name) {
  for (Pattern pattern : {Pattern::StepScoped, Pattern::Interleaved}) {
    const std::string p = pattern == Pattern::StepScoped ? "step_scoped" : "interleaved";
    benchmark::RegisterBenchmark(("alloc/" + p + "/" + name).c_str(),
                                 [pattern](benchmark::State& s) { step<Alloc>(s, pattern); })
        ->ThreadRange(1, 2)
        ->UseRealTime();
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_allocator<MallocAlloc>("malloc");
  register_allocator<NewDeleteAlloc>("new_delete");
  register_allocator<ArenaAlloc>("arena");
  register_allocator<PoolAlloc>("pool");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
