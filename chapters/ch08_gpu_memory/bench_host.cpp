// ch08_bench — section 8.6 with Google Benchmark: 256 live blocks of mixed sizes (256 B – 8 MiB,
// log-uniform) allocated and freed per iteration by malloc, by an mmap per block, and by the
// engine's CachingAllocator over the host backend; with a GPU (bench_gpu.cu) the same on the
// device against cudaMalloc and cudaMallocAsync, and the host ⇔ device copies of 8.1.
// Counter pairs/s: allocate + free pairs per second.
//
//   ch08_bench --benchmark_out=book/results/ch08_bench.json --benchmark_out_format=json
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "alloc_pattern.hpp"
#include "gnm/cuda/caching_allocator.hpp"

namespace {

constexpr std::size_t kBlocks = 256;

const std::vector<std::size_t>& host_sizes() {
  static const std::vector<std::size_t> s = chapter08::mixed_sizes(kBlocks, 256, 8 << 20, 8);
  return s;
}

// One iteration: allocate every size, write its first byte, free them all.
template <class Alloc, class Free>
void run(benchmark::State& state, Alloc&& alloc, Free&& release) {
  const auto& sizes = host_sizes();
  std::vector<void*> ptrs(sizes.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      ptrs[i] = alloc(sizes[i]);
      static_cast<volatile unsigned char*>(ptrs[i])[0] = 1;
    }
    for (std::size_t i = 0; i < sizes.size(); ++i) release(ptrs[i]);
  }
  state.counters["pairs/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * sizes.size()), benchmark::Counter::kIsRate);
}

void BM_HostMalloc(benchmark::State& state) {
  run(state, [](std::size_t b) { return std::malloc(b); }, [](void* p) { std::free(p); });
}
BENCHMARK(BM_HostMalloc)->UseRealTime();

void BM_HostMmapPerBlock(benchmark::State& state) {
  gnm::cuda::HostMemoryBackend backend;
  run(state, [&](std::size_t b) { return backend.malloc(b); },
      [&](void* p) { backend.free(p); });
}
BENCHMARK(BM_HostMmapPerBlock)->UseRealTime();

void BM_HostCachingAllocator(benchmark::State& state) {
  gnm::cuda::CachingAllocator alloc(std::make_unique<gnm::cuda::HostMemoryBackend>());
  run(state, [&](std::size_t b) { return alloc.allocate(b); },
      [&](void* p) { alloc.deallocate(p); });
}
BENCHMARK(BM_HostCachingAllocator)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
