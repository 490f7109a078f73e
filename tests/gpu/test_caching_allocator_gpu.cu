// The caching allocator with the real CUDA backend: reuse, cross-stream ordering, OOM, stats.
// (The timing against cudaMalloc/cudaFree belongs in a benchmark, not here.)
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "gnm/cuda/caching_allocator.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "gpu_test.hpp"

namespace {
using gnm::cuda::CachingAllocator;
constexpr std::size_t kMiB = std::size_t{1} << 20;

__global__ void fill(int* y, int n, int value) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = value;
}

CachingAllocator make(std::size_t cap = CachingAllocator::kNoCap) {
  return CachingAllocator(std::make_unique<gnm::cuda::CudaMemoryBackend>(), cap);
}
}  // namespace

TEST(CachingAllocatorGpu, BlocksAreUsableAndReusedOnTheSameStream) {
  GNM_GPU_TEST_OR_SKIP();
  CachingAllocator alloc = make();
  gnm::cuda::Stream s;
  const int n = 3 * 1024 * 1024 + 7;  // ~12 MiB: a large block
  auto* d = static_cast<int*>(alloc.allocate(n * sizeof(int), s.get()));
  fill<<<(n + 255) / 256, 256, 0, s.get()>>>(d, n, 41);
  GNM_CUDA_CHECK_LAUNCH();
  alloc.deallocate(d);
  auto* d2 = static_cast<int*>(alloc.allocate(n * sizeof(int), s.get()));
  EXPECT_EQ(d2, d);  // same stream: at once, without waiting
  fill<<<(n + 255) / 256, 256, 0, s.get()>>>(d2, n, 42);
  GNM_CUDA_CHECK_LAUNCH();
  std::vector<int> h(n);
  GNM_CUDA_CHECK(cudaMemcpyAsync(h.data(), d2, n * sizeof(int), cudaMemcpyDeviceToHost, s.get()));
  s.synchronize();
  for (int i = 0; i < n; i += 9973) ASSERT_EQ(h[i], 42) << i;
  alloc.deallocate(d2);
  const auto st = alloc.stats();
  EXPECT_EQ(st.backend_mallocs, 1u);
  EXPECT_EQ(st.cache_hits, 1u);
}

TEST(CachingAllocatorGpu, AnotherStreamReusesOnlyAfterTheEvent) {
  GNM_GPU_TEST_OR_SKIP();
  CachingAllocator alloc = make();
  gnm::cuda::Stream s1, s2;
  void* a = alloc.allocate(4 * kMiB, s1.get());
  alloc.deallocate(a);
  s1.synchronize();  // the free-time event has now completed
  void* b = alloc.allocate(4 * kMiB, s2.get());
  EXPECT_EQ(b, a);
  EXPECT_EQ(alloc.stats().cross_stream_reuses, 1u);
  alloc.deallocate(b);
}

TEST(CachingAllocatorGpu, CapGivesAnOutOfMemoryErrorNamingSizes) {
  GNM_GPU_TEST_OR_SKIP();
  CachingAllocator alloc = make(64 * kMiB);
  void* a = alloc.allocate(48 * kMiB);
  try {
    (void)alloc.allocate(32 * kMiB);
    FAIL() << "expected OutOfMemoryError";
  } catch (const gnm::cuda::OutOfMemoryError& e) {
    EXPECT_NE(std::string(e.what()).find("requested = 33554432 B"), std::string::npos) << e.what();
    EXPECT_EQ(e.in_use_bytes(), 48 * kMiB);
  }
  alloc.deallocate(a);
  EXPECT_NE(alloc.allocate(60 * kMiB), nullptr);  // flushes the 48 MiB block, then fits
  EXPECT_EQ(alloc.stats().cache_flushes, 2u);
}

TEST(CachingAllocatorGpu, DeviceOutOfMemoryIsAnOutOfMemoryError) {
  GNM_GPU_TEST_OR_SKIP();
  CachingAllocator alloc = make();
  std::size_t free_bytes = 0, total_bytes = 0;
  GNM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  EXPECT_THROW((void)alloc.allocate(total_bytes * 2), gnm::cuda::OutOfMemoryError);
  // The failed cudaMalloc must not poison later calls.
  void* p = alloc.allocate(1000);
  EXPECT_NE(p, nullptr);
  alloc.deallocate(p);
  alloc.empty_cache();
  EXPECT_EQ(alloc.stats().reserved_bytes, 0u);
}
