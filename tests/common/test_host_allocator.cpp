// The host caching allocator: CachingAllocator over HostMemoryBackend (real, mapped memory), and
// CPU Storage routed through it (gnm/tensor/storage.hpp: host_allocator_stats, empty_host_cache,
// host_cache_max_bytes, GNM_HOST_CACHE_MAX_BYTES). Tests of the process-wide cache skip when it
// is off (AddressSanitizer builds, or GNM_HOST_CACHE_MAX_BYTES=0 in the environment).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gnm/core/philox.hpp"
#include "gnm/cuda/caching_allocator.hpp"
#include "gnm/tensor/storage.hpp"

namespace {

using gnm::cuda::CachingAllocator;
using gnm::cuda::HostMemoryBackend;
constexpr std::size_t kMiB = std::size_t{1} << 20;
const gnm::Device kCpu = gnm::Device::cpu();

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

#define SKIP_UNLESS_HOST_CACHE()                                                       \
  if (gnm::host_cache_max_bytes() < 64 * kMiB) {                                        \
    GTEST_SKIP() << "the host cache is off or small (ASan, or GNM_HOST_CACHE_MAX_BYTES)"; \
  }

CachingAllocator make_host_allocator() {
  return CachingAllocator(std::make_unique<HostMemoryBackend>());
}

// Writes `tag` into the first and last bytes of a block (a block handed out twice at once would
// have its tag overwritten by the other owner).
void stamp(void* p, std::size_t n, unsigned char tag) {
  const std::size_t edge = std::min<std::size_t>(n, 256);
  std::memset(p, tag, edge);
  std::memset(static_cast<unsigned char*>(p) + n - edge, tag, edge);
}
bool stamped(const void* p, std::size_t n, unsigned char tag) {
  const auto* b = static_cast<const unsigned char*>(p);
  const std::size_t edge = std::min<std::size_t>(n, 256);
  for (std::size_t i = 0; i < edge; ++i) {
    if (b[i] != tag || b[n - edge + i] != tag) return false;
  }
  return true;
}

}  // namespace

TEST(HostAllocator, BackendMapsAlignedZeroedMemoryWithCompleteEvents) {
  HostMemoryBackend backend;
  EXPECT_STREQ(backend.memory_kind(), "host");
  auto* p = static_cast<unsigned char*>(backend.malloc(3 * kMiB + 5));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 4096, 0u);
  EXPECT_EQ(p[0], 0);
  EXPECT_EQ(p[3 * kMiB + 4], 0);
  p[3 * kMiB + 4] = 7;  // writable to the last byte
  gnm::cuda::EventHandle e = backend.create_event();
  EXPECT_NE(e, nullptr);  // non-null: the allocator reads null as "no event"
  backend.record_event(e, nullptr);
  EXPECT_TRUE(backend.query_event(e));
  backend.synchronize_event(e);
  backend.destroy_event(e);
  backend.free(p);
  int not_mapped = 0;
  EXPECT_THROW(backend.free(&not_mapped), gnm::Error);
  (void)backend.malloc(100);  // left mapped: the destructor unmaps it
}

TEST(HostAllocator, AFreedBlockIsHandedOutAgain) {
  CachingAllocator alloc = make_host_allocator();
  void* a = alloc.allocate(3 * kMiB);
  stamp(a, 3 * kMiB, 1);
  alloc.deallocate(a);
  void* b = alloc.allocate(3 * kMiB + 1000);  // same class (4 MiB)
  EXPECT_EQ(a, b);
  void* small1 = alloc.allocate(5000);
  alloc.deallocate(small1);
  void* small2 = alloc.allocate(5100);  // same class (5 KiB), same slab block
  EXPECT_EQ(small1, small2);
  const auto s = alloc.stats();
  EXPECT_EQ(s.backend_mallocs, 2u);  // one large block, one slab
  EXPECT_EQ(s.cache_hits, 2u);
  EXPECT_EQ(s.cross_stream_reuses, 0u);  // the host has one "stream"
  alloc.deallocate(b);
  alloc.deallocate(small2);
}

TEST(HostAllocator, StorageReusesAFreedBlock) {
  SKIP_UNLESS_HOST_CACHE();
  const std::size_t n = 3 * kMiB + 123;
  void* first = nullptr;
  {
    gnm::Storage a(n, kCpu);
    first = a.data();
  }
  const auto before = gnm::host_allocator_stats();
  {
    gnm::Storage b(n, kCpu);
    EXPECT_EQ(b.data(), first);
  }
  const auto after = gnm::host_allocator_stats();
  EXPECT_EQ(after.backend_allocations, before.backend_allocations);
  EXPECT_EQ(after.allocations, before.allocations + 1);
  EXPECT_EQ(after.cache_hits, before.cache_hits + 1);
}

TEST(HostAllocator, SmallRequestsBypassTheCache) {
  SKIP_UNLESS_HOST_CACHE();
  const auto s0 = gnm::host_allocator_stats();
  { gnm::Storage small(gnm::kHostCacheMinBytes - 1, kCpu); }
  const auto s1 = gnm::host_allocator_stats();
  EXPECT_EQ(s1.uncached_allocations, s0.uncached_allocations + 1);
  EXPECT_EQ(s1.allocations, s0.allocations);
  { gnm::Storage page(gnm::kHostCacheMinBytes, kCpu); }
  const auto s2 = gnm::host_allocator_stats();
  EXPECT_EQ(s2.uncached_allocations, s1.uncached_allocations);
  EXPECT_EQ(s2.allocations, s1.allocations + 1);
  { gnm::Storage none(0, kCpu); }  // no memory at all
  EXPECT_EQ(gnm::host_allocator_stats().uncached_allocations, s2.uncached_allocations);
}

TEST(HostAllocator, StatisticsFollowStorage) {
  SKIP_UNLESS_HOST_CACHE();
  gnm::empty_host_cache();
  // What is left cached now sits in slabs that other live tensors keep: it cannot be returned.
  const auto base = gnm::host_allocator_stats();
  EXPECT_EQ(base.reserved_bytes, base.in_use_bytes + base.cached_bytes);
  EXPECT_EQ(base.max_cached_bytes, gnm::host_cache_max_bytes());
  {
    gnm::Storage a(5 * kMiB, kCpu);  // class 6 MiB: its own mapping
    const auto s = gnm::host_allocator_stats();
    EXPECT_EQ(s.in_use_bytes, base.in_use_bytes + 6 * kMiB);
    EXPECT_EQ(s.reserved_bytes, base.reserved_bytes + 6 * kMiB);
    EXPECT_EQ(s.cached_bytes, base.cached_bytes);
    EXPECT_GE(s.peak_in_use_bytes, s.in_use_bytes);
    EXPECT_GE(s.peak_reserved_bytes, s.reserved_bytes);
    EXPECT_EQ(s.backend_allocations, base.backend_allocations + 1);
    EXPECT_EQ(s.allocations, base.allocations + 1);
    EXPECT_EQ(s.cache_hits, base.cache_hits);
  }
  const auto freed = gnm::host_allocator_stats();
  EXPECT_EQ(freed.in_use_bytes, base.in_use_bytes);
  EXPECT_EQ(freed.cached_bytes, base.cached_bytes + 6 * kMiB);  // kept for the next tensor
  EXPECT_EQ(freed.backend_frees, base.backend_frees);
}

TEST(HostAllocator, EmptyHostCacheReturnsMappings) {
  SKIP_UNLESS_HOST_CACHE();
  gnm::empty_host_cache();
  const auto base = gnm::host_allocator_stats();
  { gnm::Storage a(40 * kMiB, kCpu), b(9 * kMiB, kCpu); }
  EXPECT_EQ(gnm::host_allocator_stats().cached_bytes, base.cached_bytes + 40 * kMiB + 10 * kMiB);
  gnm::empty_host_cache();
  const auto s = gnm::host_allocator_stats();
  EXPECT_EQ(s.cached_bytes, base.cached_bytes);
  EXPECT_EQ(s.reserved_bytes, base.reserved_bytes);
  EXPECT_EQ(s.backend_frees, base.backend_frees + 2);
}

TEST(HostAllocator, CacheLimitReturnsLeastRecentlyFreedFirst) {
  CachingAllocator alloc = make_host_allocator();
  EXPECT_EQ(alloc.cache_limit(), CachingAllocator::kNoCap);
  alloc.set_cache_limit(8 * kMiB);
  void* a = alloc.allocate(4 * kMiB);
  void* b = alloc.allocate(4 * kMiB);
  void* c = alloc.allocate(4 * kMiB);
  alloc.deallocate(a);
  alloc.deallocate(b);  // 8 MiB cached: at the limit
  EXPECT_EQ(alloc.stats().limit_frees, 0u);
  alloc.deallocate(c);  // 12 MiB > 8: a, freed first, goes back
  auto s = alloc.stats();
  EXPECT_EQ(s.limit_frees, 1u);
  EXPECT_EQ(s.backend_frees, 1u);
  EXPECT_EQ(s.cached_bytes, 8 * kMiB);
  EXPECT_EQ(alloc.allocate(4 * kMiB), c);  // LIFO among what is left: c, then b
  EXPECT_EQ(alloc.allocate(4 * kMiB), b);
  alloc.deallocate(b);
  alloc.deallocate(c);
  alloc.set_cache_limit(0);  // lowering the limit trims at once
  s = alloc.stats();
  EXPECT_EQ(s.cached_bytes, 0u);
  EXPECT_EQ(s.reserved_bytes, 0u);
  EXPECT_EQ(s.backend_frees, s.backend_mallocs);
}

// Random large blocks (each its own mapping, so the limit is exact) and small ones (slabs: free
// blocks of a slab that holds a live block may stay above the limit). After every call:
// cached ≤ limit + 2 MiB per small class with a live block.
TEST(HostAllocator, CacheLimitHoldsOverARandomSequence) {
  constexpr std::size_t kLimit = 24 * kMiB;
  CachingAllocator alloc = make_host_allocator();
  alloc.set_cache_limit(kLimit);
  const gnm::PhiloxRng rng(99);
  struct Live { void* p; std::size_t bytes; unsigned char tag; };
  std::vector<Live> live;
  for (std::uint64_t i = 0; i < 3000; ++i) {
    const std::uint32_t r = rng.bits(2 * i);
    if (live.size() < 12 && (live.empty() || r % 2 == 0)) {
      const std::uint32_t r2 = rng.bits(2 * i + 1);
      const std::size_t bytes = r2 % 4 == 0 ? 1 + r2 % (256 * 1024) : kMiB + r2 % (12 * kMiB);
      void* p = alloc.allocate(bytes);
      ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % 512, 0u);
      const auto tag = static_cast<unsigned char>(i);
      stamp(p, bytes, tag);
      live.push_back({p, bytes, tag});
    } else {
      const std::size_t k = r % live.size();
      ASSERT_TRUE(stamped(live[k].p, live[k].bytes, live[k].tag)) << "block shared by two owners";
      alloc.deallocate(live[k].p);
      live[k] = live.back();
      live.pop_back();
    }
    std::set<std::size_t> small_classes;
    for (const Live& l : live) {
      const std::size_t c = CachingAllocator::round_size(l.bytes);
      if (c <= CachingAllocator::kSmallMaxBytes) small_classes.insert(c);
    }
    const auto s = alloc.stats();
    ASSERT_LE(s.cached_bytes, kLimit + small_classes.size() * CachingAllocator::kSegmentBytes) << i;
    ASSERT_EQ(s.reserved_bytes, s.allocated_bytes + s.cached_bytes);
  }
  for (const Live& l : live) alloc.deallocate(l.p);
  EXPECT_LE(alloc.stats().cached_bytes, kLimit);
  EXPECT_GT(alloc.stats().limit_frees, 0u) << "the limit never bound";
}

TEST(HostAllocator, ProcessWideLimitAndSwitchingOff) {
  SKIP_UNLESS_HOST_CACHE();
  const std::size_t old_limit = gnm::host_cache_max_bytes();
  gnm::empty_host_cache();
  const auto base = gnm::host_allocator_stats();
  gnm::set_host_cache_max_bytes(base.cached_bytes + 8 * kMiB);
  { gnm::Storage a(4 * kMiB, kCpu), b(4 * kMiB, kCpu), c(4 * kMiB, kCpu); }
  auto s = gnm::host_allocator_stats();
  EXPECT_EQ(s.cached_bytes, base.cached_bytes + 8 * kMiB);
  EXPECT_EQ(s.backend_frees, base.backend_frees + 1);
  // 0 switches the cache off: a block handed out before goes back to the OS when freed, and
  // new blocks come from aligned_alloc.
  {
    gnm::Storage before_off(4 * kMiB, kCpu);
    gnm::set_host_cache_max_bytes(0);
    EXPECT_EQ(gnm::host_cache_max_bytes(), 0u);
    const auto off = gnm::host_allocator_stats();
    EXPECT_EQ(off.cached_bytes, base.cached_bytes);
    gnm::Storage after_off(4 * kMiB, kCpu);
    EXPECT_EQ(gnm::host_allocator_stats().uncached_allocations, off.uncached_allocations + 1);
    EXPECT_EQ(gnm::host_allocator_stats().allocations, off.allocations);
  }
  EXPECT_EQ(gnm::host_allocator_stats().cached_bytes, base.cached_bytes);
  gnm::set_host_cache_max_bytes(old_limit);
}

TEST(HostAllocator, BlocksAre64ByteAlignedOnBothPaths) {
  const std::size_t old_limit = gnm::host_cache_max_bytes();
  for (const std::size_t limit : {old_limit, std::size_t{0}}) {
    gnm::set_host_cache_max_bytes(limit);
    for (const std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{97}, std::size_t{4095},
                                std::size_t{4096}, std::size_t{4097}, std::size_t{65537},
                                kMiB + 3, 5 * kMiB + 1}) {
      gnm::Storage s(n, kCpu);
      ASSERT_NE(s.data(), nullptr);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(s.data()) % 64, 0u) << n << " limit " << limit;
      stamp(s.data(), n, 0x5a);
      EXPECT_TRUE(stamped(s.data(), n, 0x5a));
    }
  }
  gnm::set_host_cache_max_bytes(old_limit);
}

TEST(HostAllocator, OutOfMemoryIsBadAllocNamingTheSizes) {
  if (kAsan) GTEST_SKIP() << "ASan aborts on huge allocations";
  SKIP_UNLESS_HOST_CACHE();
  const auto before = gnm::host_allocator_stats();
  try {
    gnm::Storage s(std::size_t{1} << 50, kCpu);  // 1 PiB: more than the address space
    FAIL() << "expected std::bad_alloc";
  } catch (const std::bad_alloc& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("out of host memory: the host is out of memory"), std::string::npos) << msg;
    EXPECT_NE(msg.find("requested = 1125899906842624 B"), std::string::npos) << msg;
  }
  const auto after = gnm::host_allocator_stats();
  EXPECT_EQ(after.in_use_bytes, before.in_use_bytes);  // the books still balance
  EXPECT_EQ(after.allocations, before.allocations);
}

// The reason the cache is off under ASan: a freed tensor's memory must stay poisoned.
TEST(HostAllocator, AddressSanitizerStillSeesUseAfterFree) {
  if (!kAsan) GTEST_SKIP() << "an AddressSanitizer build checks this";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        const volatile unsigned char* p = nullptr;
        {
          gnm::Storage s(3 * kMiB, kCpu);
          p = static_cast<const unsigned char*>(s.data());
        }
        std::fprintf(stderr, "read %d\n", static_cast<int>(p[100]));
      },
      "heap-use-after-free");
}

// storage_stats() measures tensors (requested bytes), whichever allocator serves them.
TEST(HostAllocator, StorageStatsCountRequestedBytes) {
  const std::size_t old_limit = gnm::host_cache_max_bytes();
  for (const std::size_t limit : {old_limit, std::size_t{0}}) {
    gnm::set_host_cache_max_bytes(limit);
    gnm::reset_storage_peak();
    const auto base = gnm::storage_stats();
    {
      gnm::Storage small(1000, kCpu);
      gnm::Storage big(3 * kMiB + 7, kCpu);  // class 4 MiB, counted as requested
      const auto s = gnm::storage_stats();
      EXPECT_EQ(s.live_bytes, base.live_bytes + 1000 + 3 * kMiB + 7);
      EXPECT_EQ(s.peak_bytes, s.live_bytes);
      EXPECT_EQ(s.allocations, base.allocations + 2);
    }
    { gnm::Storage empty(0, kCpu); }
    const auto s = gnm::storage_stats();
    EXPECT_EQ(s.live_bytes, base.live_bytes);
    EXPECT_EQ(s.peak_bytes, base.live_bytes + 1000 + 3 * kMiB + 7);
    EXPECT_EQ(s.allocations, base.allocations + 2);  // size 0 is not counted
  }
  gnm::set_host_cache_max_bytes(old_limit);
}

// Four threads allocate, stamp and free storages; a quarter of them are freed by the next
// thread (as the DataLoader's prefetch thread makes batches that the training thread frees).
TEST(HostAllocator, ManyThreadsAllocateAndFreeAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kIters = 4000;
  const auto base = gnm::storage_stats();
  std::mutex handoff_mutex;
  std::vector<std::deque<std::shared_ptr<gnm::Storage>>> handoff(kThreads);
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const gnm::PhiloxRng rng(5, static_cast<std::uint64_t>(t));
      std::vector<std::pair<std::shared_ptr<gnm::Storage>, unsigned char>> mine;
      for (int i = 0; i < kIters; ++i) {
        const std::uint32_t r = rng.bits(static_cast<std::uint64_t>(i));
        const std::size_t n = r % 3 == 0 ? 1 + r % 4000 : 4096 + r % (3 * kMiB);
        auto s = gnm::make_storage(n, kCpu);
        const auto tag = static_cast<unsigned char>(t * 61 + i);
        stamp(s->data(), n, tag);
        mine.emplace_back(std::move(s), tag);
        if (mine.size() > 6) {
          auto& [old, old_tag] = mine.front();
          if (!stamped(old->data(), old->nbytes(), old_tag)) {
            ++failures[static_cast<std::size_t>(t)];
          }
          if (i % 4 == 0) {
            const std::lock_guard lock(handoff_mutex);
            handoff[static_cast<std::size_t>((t + 1) % kThreads)].push_back(std::move(old));
          }
          mine.erase(mine.begin());  // frees it here unless handed off
        }
        if (i % 8 == 0) {
          std::deque<std::shared_ptr<gnm::Storage>> theirs;
          {
            const std::lock_guard lock(handoff_mutex);
            theirs.swap(handoff[static_cast<std::size_t>(t)]);
          }
          theirs.clear();  // freed on this thread
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[static_cast<std::size_t>(t)], 0) << t;
  handoff.clear();
  EXPECT_EQ(gnm::storage_stats().live_bytes, base.live_bytes);
  const auto s = gnm::host_allocator_stats();
  EXPECT_EQ(s.reserved_bytes, s.in_use_bytes + s.cached_bytes);
}

// GNM_HOST_CACHE_MAX_BYTES is read at the first CPU allocation of a process, so these tests run
// their check in a fresh process: a "threadsafe" death test re-executes this binary, which
// inherits the variable and runs only this test up to the check.
namespace {

class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~EnvVar() { ::unsetenv(name_); }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  const char* name_;
};

[[noreturn]] void exit_with(bool ok, const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(ok ? 0 : 1);
}

void check_cache_off_in_this_process() {
  const std::size_t max_bytes = gnm::host_cache_max_bytes();
  const auto before = gnm::host_allocator_stats();
  { gnm::Storage s(8 * kMiB, kCpu); }
  const auto after = gnm::host_allocator_stats();
  const bool ok = max_bytes == 0 && after.allocations == before.allocations &&
                  after.reserved_bytes == 0;
  exit_with(ok, "max " + std::to_string(max_bytes) + ", allocations " +
                    std::to_string(after.allocations) + ", reserved " +
                    std::to_string(after.reserved_bytes));
}

void check_max_bytes_in_this_process(std::size_t expected) {
  const std::size_t got = gnm::host_cache_max_bytes();
  exit_with(got == expected, "max " + std::to_string(got));
}

void check_bad_value_throws_in_this_process() {
  try {
    gnm::Storage s(8 * kMiB, kCpu);
  } catch (const gnm::Error& e) {
    const std::string msg = e.what();
    exit_with(msg.find("GNM_HOST_CACHE_MAX_BYTES") != std::string::npos &&
                  msg.find("12X") != std::string::npos,
              msg);
  }
  exit_with(false, "no error for GNM_HOST_CACHE_MAX_BYTES=12X");
}

}  // namespace

TEST(HostAllocatorEnv, ZeroTurnsTheCacheOff) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const EnvVar env("GNM_HOST_CACHE_MAX_BYTES", "0");
  EXPECT_EXIT(check_cache_off_in_this_process(), ::testing::ExitedWithCode(0), "");
}

TEST(HostAllocatorEnv, SizesWithSuffixes) {
  if (kAsan) GTEST_SKIP() << "the host cache is always off under AddressSanitizer";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  {
    const EnvVar env("GNM_HOST_CACHE_MAX_BYTES", "64M");
    EXPECT_EXIT(check_max_bytes_in_this_process(64 * kMiB), ::testing::ExitedWithCode(0), "");
  }
  {
    const EnvVar env("GNM_HOST_CACHE_MAX_BYTES", "2g");
    EXPECT_EXIT(check_max_bytes_in_this_process(2048 * kMiB), ::testing::ExitedWithCode(0), "");
  }
  {
    const EnvVar env("GNM_HOST_CACHE_MAX_BYTES", "1000000");
    EXPECT_EXIT(check_max_bytes_in_this_process(1000000), ::testing::ExitedWithCode(0), "");
  }
}

TEST(HostAllocatorEnv, BadValueIsAnErrorNamingIt) {
  if (kAsan) GTEST_SKIP() << "the variable is not read under AddressSanitizer";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const EnvVar env("GNM_HOST_CACHE_MAX_BYTES", "12X");
  EXPECT_EXIT(check_bad_value_throws_in_this_process(), ::testing::ExitedWithCode(0), "");
}
