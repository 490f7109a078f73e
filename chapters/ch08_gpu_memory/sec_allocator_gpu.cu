// 8.6 on the device: the engine's CachingAllocator over CudaMemoryBackend against cudaMalloc /
// cudaFree and against CUDA's own stream-ordered pool (cudaMallocAsync), on a pattern of mixed
// sizes; its statistics; the memory cap's out-of-memory error.
//
// Napkin math: cudaMalloc asks the driver to map pages (tens of µs for large sizes) and cudaFree
// synchronizes the whole device first; a cache hit is a hash lookup and a vector pop under a
// mutex, plus a cudaEventRecord at the free (about a microsecond). Goal: ≥ 10× faster.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "alloc_pattern.hpp"
#include "gnm/core/host_info.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/cuda/caching_allocator.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "sections.hpp"

namespace chapter08 {

namespace {

using namespace gnm::cells;
using gnm::cuda::CachingAllocator;

constexpr std::size_t kMiB = std::size_t{1} << 20;

std::string bytes(std::size_t b) { return gnm::format_bytes(static_cast<double>(b)); }

// Median milliseconds of `rounds` timed calls of `round` after one warm-up call.
template <class F>
double median_round_ms(int rounds, F&& round) {
  round();
  std::vector<double> ms;
  for (int r = 0; r < rounds; ++r) {
    gnm::HostTimer t;
    round();
    ms.push_back(t.elapsed_ms());
  }
  return gnm::summarize(ms).median_ms;
}

// Every live block gets its own byte value over its whole length; reading back both ends of each
// shows that no block overlaps another and that every byte is writable.
bool blocks_hold_their_bytes(const std::vector<void*>& ptrs, const std::vector<std::size_t>& sizes,
                             cudaStream_t s) {
  for (std::size_t i = 0; i < ptrs.size(); ++i) {
    GNM_CUDA_CHECK(cudaMemsetAsync(ptrs[i], static_cast<int>(i % 251 + 1), sizes[i], s));
  }
  GNM_CUDA_CHECK(cudaStreamSynchronize(s));
  for (std::size_t i = 0; i < ptrs.size(); ++i) {
    unsigned char ends[2] = {0, 0};
    const auto* p = static_cast<const unsigned char*>(ptrs[i]);
    GNM_CUDA_CHECK(cudaMemcpy(&ends[0], p, 1, cudaMemcpyDeviceToHost));
    GNM_CUDA_CHECK(cudaMemcpy(&ends[1], p + sizes[i] - 1, 1, cudaMemcpyDeviceToHost));
    const auto want = static_cast<unsigned char>(i % 251 + 1);
    if (ends[0] != want || ends[1] != want) return false;
  }
  return true;
}

}  // namespace

Section run_allocator_device(const Config& cfg) {
  if (auto skip = skip_without_gpu("8.6 (device)")) return *skip;
  Section section;
  std::printf("== 8.6 on the device: CachingAllocator vs cudaMalloc vs cudaMallocAsync ==\n");
  int device = 0, pools = 0;
  GNM_CUDA_CHECK(cudaGetDevice(&device));
  GNM_CUDA_CHECK(cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, device));
  gnm::cuda::Stream stream;
  const cudaStream_t s = stream.get();

  const std::size_t count = cfg.quick ? 64 : 256;
  const int rounds = cfg.repeats(10, 3);
  const std::vector<std::size_t> sizes = mixed_sizes(count, 256, 16 * kMiB, cfg.seed + 6);
  std::size_t total = 0;
  for (std::size_t b : sizes) total += b;
  std::vector<void*> ptrs(count);

  //! [device_rounds]
  const double malloc_ms = median_round_ms(rounds, [&] {
    for (std::size_t i = 0; i < count; ++i) GNM_CUDA_CHECK(cudaMalloc(&ptrs[i], sizes[i]));
    for (std::size_t i = 0; i < count; ++i) GNM_CUDA_CHECK(cudaFree(ptrs[i]));
  });
  double async_ms = 0;
  if (pools) {
    // The default pool keeps freed memory only up to its release threshold (0 by default: it
    // gives memory back at every synchronization). Keep all of it, as a cache would.
    cudaMemPool_t pool = nullptr;
    GNM_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
    std::uint64_t keep = std::numeric_limits<std::uint64_t>::max();
    GNM_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
    async_ms = median_round_ms(rounds, [&] {
      for (std::size_t i = 0; i < count; ++i) {
        GNM_CUDA_CHECK(cudaMallocAsync(&ptrs[i], sizes[i], s));
      }
      for (std::size_t i = 0; i < count; ++i) GNM_CUDA_CHECK(cudaFreeAsync(ptrs[i], s));
      GNM_CUDA_CHECK(cudaStreamSynchronize(s));
    });
    std::uint64_t release = 0;  // back to the default, and give the memory back for what follows
    GNM_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &release));
    GNM_CUDA_CHECK(cudaMemPoolTrimTo(pool, 0));
  }
  CachingAllocator caching(std::make_unique<gnm::cuda::CudaMemoryBackend>());
  const auto caching_round = [&] {
    for (std::size_t i = 0; i < count; ++i) ptrs[i] = caching.allocate(sizes[i], s);
    for (std::size_t i = 0; i < count; ++i) caching.deallocate(ptrs[i]);
    GNM_CUDA_CHECK(cudaStreamSynchronize(s));
  };
  caching_round();  // warm: every class has its blocks
  const auto warm = caching.stats();
  const double caching_ms = median_round_ms(rounds, caching_round);
  //! [device_rounds]
  const auto st = caching.stats();

  // Correctness: one more round with every block written and read back.
  for (std::size_t i = 0; i < count; ++i) ptrs[i] = caching.allocate(sizes[i], s);
  const bool disjoint = blocks_hold_their_bytes(ptrs, sizes, s);
  for (std::size_t i = 0; i < count; ++i) caching.deallocate(ptrs[i]);
  const bool no_misses = st.cache_misses == warm.cache_misses;
  section.verified = section.verified && disjoint && no_misses &&
                     caching.stats().allocated_bytes == 0;

  const double per = 1e3 / static_cast<double>(count);  // ms per round → µs per pair
  Table t("8.6 device allocator: " + std::to_string(count) + " live blocks of 256 B-16 MiB (" +
              bytes(total) + ")",
          {"allocator", "µs per alloc+free", "speed-up vs cudaMalloc"});
  t.add({str("cudaMalloc / cudaFree"), num(malloc_ms * per), num(1.0)});
  if (pools) {
    t.add({str("cudaMallocAsync / cudaFreeAsync (pool, keep all)"), num(async_ms * per),
           num(malloc_ms / async_ms)});
  }
  t.add({str("gnm::cuda::CachingAllocator"), num(caching_ms * per), num(malloc_ms / caching_ms)});
  section.add(t);

  Table stats("8.6 device allocator statistics", {"counter", "value"});
  stats.add({str("allocations (timed rounds)"),
             integer(static_cast<std::int64_t>(st.allocations - warm.allocations))});
  stats.add({str("cache misses (timed rounds)"),
             integer(static_cast<std::int64_t>(st.cache_misses - warm.cache_misses))});
  stats.add({str("cudaMalloc calls since construction"),
             integer(static_cast<std::int64_t>(st.backend_mallocs))});
  stats.add({str("reserved"), str(bytes(st.reserved_bytes))});
  stats.add({str("requested per round"), str(bytes(total))});
  stats.add({str("fragmentation (reserved not requested)"),
             num(1.0 - static_cast<double>(total) / static_cast<double>(st.reserved_bytes))});
  stats.add({str("blocks disjoint, every byte written and read"), flag(disjoint)});
  section.add(stats);

  const double speedup = malloc_ms / caching_ms;
  Table goal("8.6 goal", {"figure", "value", "verdict"});
  goal.add({str("CachingAllocator vs cudaMalloc/cudaFree"), num(speedup),
            str(speedup >= 10.0 ? "PASS (goal >= 10x)" : "short (goal >= 10x)")});
  section.add(goal);
  section.figures.emplace_back("device_alloc_speedup", speedup);

  // The cap on the device: two 24 MiB blocks fit in 64 MiB, the third does not.
  CachingAllocator capped(std::make_unique<gnm::cuda::CudaMemoryBackend>(), 64 * kMiB);
  Table cap("8.6 memory cap (64 MiB, device)", {"request", "result"});
  std::vector<void*> held;
  bool threw = false;
  for (int i = 1; i <= 3; ++i) {
    try {
      held.push_back(capped.allocate(24 * kMiB, s));
      cap.add({str("24 MiB #" + std::to_string(i)), str("ok")});
    } catch (const gnm::cuda::OutOfMemoryError& e) {
      threw = e.requested_bytes() == 24 * kMiB;
      cap.add({str("24 MiB #" + std::to_string(i)), str(e.what())});
    }
  }
  for (void* p : held) capped.deallocate(p);
  section.add(cap);
  section.verified = section.verified && threw && held.size() == 2;
  std::printf("\n");
  return section;
}

}  // namespace chapter08
