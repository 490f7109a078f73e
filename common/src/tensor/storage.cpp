#include "gnm/tensor/storage.hpp"

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "gnm/core/check.hpp"
#include "host_memory.hpp"

#if GNM_HAVE_CUDA
#include <cuda_runtime_api.h>

#include <array>
#include <mutex>

#include "gnm/cuda/caching_allocator.hpp"
#include "gnm/cuda/check.hpp"
#endif

namespace gnm {

namespace {

std::atomic<std::size_t> g_live{0};
std::atomic<std::size_t> g_peak{0};
std::atomic<std::size_t> g_allocations{0};

void count_alloc(std::size_t n) {
  const std::size_t now = g_live.fetch_add(n, std::memory_order_relaxed) + n;
  std::size_t peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
  g_allocations.fetch_add(1, std::memory_order_relaxed);
}

#if GNM_HAVE_CUDA
// One caching allocator per device ordinal, created on first use and never destroyed: tensors
// may outlive main()'s locals, and freeing into a destroyed allocator would be worse than the
// process exit releasing the memory.
cuda::CachingAllocator& allocator_for(int index) {
  static std::mutex mutex;
  static std::array<cuda::CachingAllocator*, 64> allocators{};
  GNM_CHECK(index >= 0 && index < static_cast<int>(allocators.size()), "CUDA device index out of range",
            index);
  std::lock_guard lock(mutex);
  if (allocators[static_cast<std::size_t>(index)] == nullptr) {
    int count = 0;
    GNM_CUDA_CHECK(cudaGetDeviceCount(&count));
    GNM_CHECK(index < count, "no such CUDA device", index, count);
    allocators[static_cast<std::size_t>(index)] =
        new cuda::CachingAllocator(std::make_unique<cuda::CudaMemoryBackend>());
  }
  return *allocators[static_cast<std::size_t>(index)];
}
#endif

}  // namespace

Storage::Storage(std::size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device.is_cpu()) {
    if (nbytes == 0) return;
    // Counted in requested bytes whichever allocator serves the block: storage_stats() measures
    // tensors, host_allocator_stats() the allocator.
    data_ = detail::host_allocate(nbytes, host_cached_);
    count_alloc(nbytes);
    return;
  }
#if GNM_HAVE_CUDA
  if (nbytes == 0) return;
  cuda::CachingAllocator& alloc = allocator_for(device.index);
  GNM_CUDA_CHECK(cudaSetDevice(device.index));
  data_ = alloc.allocate(nbytes);
#else
  GNM_CHECK(false, "this build of gnm has no CUDA support; cannot allocate on the device",
            device.str(), nbytes);
#endif
}

Storage::~Storage() {
  if (data_ == nullptr) return;
  if (device_.is_cpu()) {
    detail::host_deallocate(data_, host_cached_);
    g_live.fetch_sub(nbytes_, std::memory_order_relaxed);
    return;
  }
#if GNM_HAVE_CUDA
  allocator_for(device_.index).deallocate(data_);
#endif
}

StorageStats storage_stats() {
  return {g_live.load(std::memory_order_relaxed), g_peak.load(std::memory_order_relaxed),
          g_allocations.load(std::memory_order_relaxed)};
}

void reset_storage_peak() { g_peak.store(g_live.load(std::memory_order_relaxed), std::memory_order_relaxed); }

std::shared_ptr<Storage> make_storage(std::size_t nbytes, Device device) {
  return std::make_shared<Storage>(nbytes, device);
}

}  // namespace gnm
