// ch08_bench's device half (see bench_host.cpp): CachingAllocator vs cudaMalloc/cudaFree vs
// cudaMallocAsync on 256 live blocks of 256 B – 16 MiB, and 8.1's host ⇔ device copies (pageable
// and pinned, CUDA events, manual time). Without a device every benchmark here reports an error
// and runs nothing.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "alloc_pattern.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/caching_allocator.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/device.hpp"
#include "gnm/cuda/stream.hpp"

namespace {

constexpr std::size_t kBlocks = 256;

bool skip_without_device(benchmark::State& state) {
  static const gnm::cuda::DeviceReport report = gnm::cuda::query_devices();
  if (!report.devices.empty()) return false;
  state.SkipWithError(("no CUDA device: " + report.status).c_str());
  return true;
}

const std::vector<std::size_t>& device_sizes() {
  static const std::vector<std::size_t> s = chapter08::mixed_sizes(kBlocks, 256, 16 << 20, 14);
  return s;
}

void pairs_counter(benchmark::State& state) {
  state.counters["pairs/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * device_sizes().size()), benchmark::Counter::kIsRate);
}

void BM_CudaMallocFree(benchmark::State& state) {
  if (skip_without_device(state)) return;
  const auto& sizes = device_sizes();
  std::vector<void*> ptrs(sizes.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < sizes.size(); ++i) GNM_CUDA_CHECK(cudaMalloc(&ptrs[i], sizes[i]));
    for (std::size_t i = 0; i < sizes.size(); ++i) GNM_CUDA_CHECK(cudaFree(ptrs[i]));
  }
  pairs_counter(state);
}
BENCHMARK(BM_CudaMallocFree)->UseRealTime();

void BM_CudaMallocAsync(benchmark::State& state) {
  if (skip_without_device(state)) return;
  int device = 0, pools = 0;
  GNM_CUDA_CHECK(cudaGetDevice(&device));
  GNM_CUDA_CHECK(cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, device));
  if (!pools) {
    state.SkipWithError("this device has no stream-ordered memory pools");
    return;
  }
  cudaMemPool_t pool = nullptr;
  GNM_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
  std::uint64_t keep = std::numeric_limits<std::uint64_t>::max();  // cache, as the others do
  GNM_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
  gnm::cuda::Stream stream;
  const auto& sizes = device_sizes();
  std::vector<void*> ptrs(sizes.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      GNM_CUDA_CHECK(cudaMallocAsync(&ptrs[i], sizes[i], stream.get()));
    }
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      GNM_CUDA_CHECK(cudaFreeAsync(ptrs[i], stream.get()));
    }
    stream.synchronize();
  }
  std::uint64_t release = 0;
  GNM_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &release));
  GNM_CUDA_CHECK(cudaMemPoolTrimTo(pool, 0));
  pairs_counter(state);
}
BENCHMARK(BM_CudaMallocAsync)->UseRealTime();

void BM_DeviceCachingAllocator(benchmark::State& state) {
  if (skip_without_device(state)) return;
  gnm::cuda::CachingAllocator alloc(std::make_unique<gnm::cuda::CudaMemoryBackend>());
  gnm::cuda::Stream stream;
  const auto& sizes = device_sizes();
  std::vector<void*> ptrs(sizes.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < sizes.size(); ++i) ptrs[i] = alloc.allocate(sizes[i], stream.get());
    for (std::size_t i = 0; i < sizes.size(); ++i) alloc.deallocate(ptrs[i]);
    stream.synchronize();
  }
  pairs_counter(state);
}
BENCHMARK(BM_DeviceCachingAllocator)->UseRealTime();

// One copy per iteration, timed by CUDA events (manual time): state.range(0) bytes,
// state.range(1): 0 = host to device, 1 = device to host; `pinned` picks the host memory.
void copy_benchmark(benchmark::State& state, bool pinned) {
  if (skip_without_device(state)) return;
  const auto bytes = static_cast<std::size_t>(state.range(0));
  const bool to_host = state.range(1) == 1;
  const std::size_t n = bytes / sizeof(float);
  gnm::cuda::PinnedBuffer<float> pinned_host(pinned ? n : 0);
  std::vector<float> pageable_host(pinned ? 0 : n);
  float* host = pinned ? pinned_host.data() : pageable_host.data();
  for (std::size_t i = 0; i < n; ++i) host[i] = static_cast<float>(i % 1000) * 0.5f;
  gnm::cuda::DeviceBuffer<float> device(n);
  gnm::cuda::Stream stream;
  gnm::cuda::EventTimer timer(stream.get());
  const auto kind = to_host ? cudaMemcpyDeviceToHost : cudaMemcpyHostToDevice;
  void* dst = to_host ? static_cast<void*>(host) : static_cast<void*>(device.data());
  const void* src = to_host ? static_cast<const void*>(device.data()) : host;
  GNM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, stream.get()));  // warm-up
  stream.synchronize();
  for (auto _ : state) {
    timer.start();
    GNM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, stream.get()));
    state.SetIterationTime(static_cast<double>(timer.stop()) * 1e-3);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
}

void copy_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t bytes : {std::int64_t{4} << 10, std::int64_t{64} << 10, std::int64_t{1} << 20,
                             std::int64_t{16} << 20, std::int64_t{256} << 20}) {
    b->Args({bytes, 0});
    b->Args({bytes, 1});
  }
  b->ArgNames({"bytes", "d2h"})->UseManualTime();
}

void BM_CopyPinned(benchmark::State& state) { copy_benchmark(state, true); }
BENCHMARK(BM_CopyPinned)->Apply(copy_args);
void BM_CopyPageable(benchmark::State& state) { copy_benchmark(state, false); }
BENCHMARK(BM_CopyPageable)->Apply(copy_args);

}  // namespace
