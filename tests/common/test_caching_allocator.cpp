// The caching allocator's bookkeeping on the CPU, with a fake backend whose "device memory" is
// address arithmetic (never dereferenced) and whose events complete when the test says so.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gnm/core/philox.hpp"
#include "gnm/cuda/caching_allocator.hpp"

namespace {

using gnm::cuda::CachingAllocator;
using gnm::cuda::EventHandle;
using gnm::cuda::StreamHandle;
constexpr std::size_t kMiB = std::size_t{1} << 20;

// Calls come under the allocator's mutex, so the fake needs no lock of its own.
class FakeBackend final : public gnm::cuda::DeviceMemoryBackend {
 public:
  explicit FakeBackend(std::size_t capacity = std::size_t{1} << 40) : capacity_(capacity) {}
  void* malloc(std::size_t bytes) override {
    if (used_ + bytes > capacity_) return nullptr;
    used_ += bytes;
    next_ += bytes + 4096;  // a gap, so adjacent segments are distinguishable
    const std::uintptr_t addr = next_;
    live_[addr] = bytes;
    return reinterpret_cast<void*>(addr);  // NOLINT(performance-no-int-to-ptr)
  }
  void free(void* ptr) override {
    const auto it = live_.find(reinterpret_cast<std::uintptr_t>(ptr));
    if (it == live_.end()) throw gnm::Error("fake backend: free of unknown pointer");
    used_ -= it->second;
    live_.erase(it);
  }
  EventHandle create_event() override {
    done_.push_back(true);
    return reinterpret_cast<EventHandle>(done_.size());  // NOLINT(performance-no-int-to-ptr)
  }
  void destroy_event(EventHandle) override { ++destroyed_; }
  void record_event(EventHandle e, StreamHandle) override { done_[index(e)] = false; }
  bool query_event(EventHandle e) override { return done_[index(e)]; }
  void synchronize_event(EventHandle e) override { done_[index(e)] = true; }

  void complete_all() { done_.assign(done_.size(), true); }
  std::size_t used() const { return used_; }
  std::size_t segments() const { return live_.size(); }
  std::size_t events() const { return done_.size(); }
  std::size_t destroyed() const { return destroyed_; }

 private:
  static std::size_t index(EventHandle e) { return reinterpret_cast<std::uintptr_t>(e) - 1; }
  std::size_t capacity_;
  std::size_t used_ = 0;
  std::uintptr_t next_ = 0x10000000;
  std::map<std::uintptr_t, std::size_t> live_;
  std::vector<bool> done_;
  std::size_t destroyed_ = 0;
};

struct Fixture {
  explicit Fixture(std::size_t cap = CachingAllocator::kNoCap, std::size_t capacity = std::size_t{1} << 40)
      : fake(new FakeBackend(capacity)), alloc(std::unique_ptr<FakeBackend>(fake), cap) {}
  FakeBackend* fake;  // owned by alloc
  CachingAllocator alloc;
};

StreamHandle stream(std::uintptr_t id) { return reinterpret_cast<StreamHandle>(id); }  // NOLINT

}  // namespace

TEST(CachingAllocator, SizeClassRounding) {
  EXPECT_EQ(CachingAllocator::round_size(0), 0u);
  EXPECT_EQ(CachingAllocator::round_size(1), 512u);
  EXPECT_EQ(CachingAllocator::round_size(512), 512u);
  EXPECT_EQ(CachingAllocator::round_size(513), 1024u);
  EXPECT_EQ(CachingAllocator::round_size(1100), 1536u);  // quarter octave 1280 → 512-B multiple
  EXPECT_EQ(CachingAllocator::round_size(4097), 5120u);  // 4 KiB · 1.25
  EXPECT_EQ(CachingAllocator::round_size(100'000), 114'688u);  // 64 KiB · 1.75
  EXPECT_EQ(CachingAllocator::round_size(kMiB), kMiB);
  EXPECT_EQ(CachingAllocator::round_size(kMiB + 1), 2 * kMiB);  // large: 2 MiB multiples
  EXPECT_EQ(CachingAllocator::round_size(5 * kMiB), 6 * kMiB);
  EXPECT_EQ(CachingAllocator::round_size(17 * kMiB), 20 * kMiB);  // 16 MiB · 1.25
  EXPECT_EQ(CachingAllocator::round_size(300 * kMiB), 320 * kMiB);  // 256 MiB · 1.25
  EXPECT_THROW(CachingAllocator::round_size(CachingAllocator::kMaxBytes + 1), gnm::Error);
  // Waste ≤ 25% above 2 KiB, and every class is a multiple of 512 B, over a sweep of sizes.
  for (std::size_t n = 1; n < (std::size_t{1} << 34); n = n * 3 / 2 + 7) {
    const std::size_t c = CachingAllocator::round_size(n);
    ASSERT_GE(c, n);
    ASSERT_EQ(c % 512, 0u) << n;
    const double bound = n > kMiB ? 1.25 * static_cast<double>(n) + 2.0 * kMiB
                                  : 1.25 * static_cast<double>(n) + 512.0;
    ASSERT_LE(static_cast<double>(c), bound) << n;
  }
  EXPECT_EQ(CachingAllocator::segment_bytes_for(512), CachingAllocator::kSegmentBytes);
  EXPECT_EQ(CachingAllocator::segment_bytes_for(6 * kMiB), 6 * kMiB);
}

TEST(CachingAllocator, ZeroSizeAndNullAreValid) {
  Fixture f;
  EXPECT_EQ(f.alloc.allocate(0), nullptr);
  f.alloc.deallocate(nullptr);
  EXPECT_EQ(f.alloc.stats().allocations, 0u);
  EXPECT_EQ(f.fake->segments(), 0u);
}

TEST(CachingAllocator, SmallBlocksShareASlabAndAreAligned) {
  Fixture f;
  void* a = f.alloc.allocate(100);
  void* b = f.alloc.allocate(200);
  EXPECT_NE(a, b);
  EXPECT_EQ(static_cast<std::byte*>(b) - static_cast<std::byte*>(a), 512);
  EXPECT_EQ(f.fake->segments(), 1u);  // one 2 MiB segment serves 4096 blocks of 512 B
  const auto s = f.alloc.stats();
  EXPECT_EQ(s.reserved_bytes, 2 * kMiB);
  EXPECT_EQ(s.allocated_bytes, 1024u);
  EXPECT_EQ(s.requested_bytes, 300u);
  EXPECT_EQ(s.cache_misses, 1u);
  EXPECT_EQ(s.cache_hits, 1u);  // the second came from the slab's ready blocks
  EXPECT_EQ(s.backend_mallocs, 1u);
  f.alloc.deallocate(a);
  f.alloc.deallocate(b);
}

TEST(CachingAllocator, SameStreamReusesAtOnce) {
  Fixture f;
  void* a = f.alloc.allocate(3 * kMiB, stream(1));
  f.alloc.deallocate(a);  // its event is pending: the "kernel" may still run
  void* b = f.alloc.allocate(3 * kMiB + 5, stream(1));
  EXPECT_EQ(a, b);
  const auto s = f.alloc.stats();
  EXPECT_EQ(s.backend_mallocs, 1u);
  EXPECT_EQ(s.cache_hits, 1u);
  EXPECT_EQ(s.cross_stream_reuses, 0u);
  f.alloc.deallocate(b);
}

TEST(CachingAllocator, OtherStreamWaitsForTheEvent) {
  Fixture f;
  void* a = f.alloc.allocate(4 * kMiB, stream(1));
  f.alloc.deallocate(a);
  void* b = f.alloc.allocate(4 * kMiB, stream(2));  // event pending → a fresh block
  EXPECT_NE(a, b);
  EXPECT_EQ(f.alloc.stats().backend_mallocs, 2u);
  f.fake->complete_all();
  void* c = f.alloc.allocate(4 * kMiB, stream(2));  // now a's event is done
  EXPECT_EQ(c, a);
  EXPECT_EQ(f.alloc.stats().cross_stream_reuses, 1u);
  f.alloc.deallocate(b);
  f.alloc.deallocate(c);
  // Events are recycled: two frees pending at once needed two events, no more.
  void* d = f.alloc.allocate(4 * kMiB, stream(2));
  f.alloc.deallocate(d);
  EXPECT_LE(f.fake->events(), 2u);
}

TEST(CachingAllocator, CapEmptiesTheCacheThenRetries) {
  Fixture f(10 * kMiB);
  void* a = f.alloc.allocate(6 * kMiB);
  f.alloc.deallocate(a);  // 6 MiB cached
  void* b = f.alloc.allocate(8 * kMiB);  // 6 + 8 > 10: flush the cache, then fits
  ASSERT_NE(b, nullptr);
  const auto s = f.alloc.stats();
  EXPECT_EQ(s.cache_flushes, 1u);
  EXPECT_EQ(s.backend_frees, 1u);
  EXPECT_EQ(s.reserved_bytes, 8 * kMiB);
  EXPECT_EQ(f.fake->used(), 8 * kMiB);
  f.alloc.deallocate(b);
}

TEST(CachingAllocator, OutOfMemoryNamesTheSizes) {
  Fixture f(16 * kMiB);
  void* live = f.alloc.allocate(10 * kMiB);       // 10 MiB in use
  void* small = f.alloc.allocate(1000);           // a 2 MiB slab, 1 KiB in use
  try {
    (void)f.alloc.allocate(5 * kMiB);  // class 6 MiB: 12 + 6 > 16 even after the flush
    FAIL() << "expected OutOfMemoryError";
  } catch (const gnm::cuda::OutOfMemoryError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("memory cap"), std::string::npos) << msg;
    EXPECT_NE(msg.find("requested = 5242880 B"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cap = 16777216 B"), std::string::npos) << msg;
    EXPECT_NE(msg.find("in use = 10486784 B"), std::string::npos) << msg;  // 10 MiB + 1 KiB
    EXPECT_NE(msg.find("cached = 2096128 B"), std::string::npos) << msg;   // rest of the slab
    EXPECT_EQ(e.requested_bytes(), 5 * kMiB);
    EXPECT_EQ(e.cap_bytes(), 16 * kMiB);
    EXPECT_EQ(e.in_use_bytes(), 10 * kMiB + 1024);
    EXPECT_EQ(e.cached_bytes(), 2 * kMiB - 1024);
  }
  // A failed allocation leaves the allocator usable and the books balanced.
  f.alloc.deallocate(live);
  f.alloc.deallocate(small);
  EXPECT_EQ(f.alloc.stats().allocated_bytes, 0u);
  EXPECT_NE(f.alloc.allocate(12 * kMiB), nullptr);
}

TEST(CachingAllocator, BackendOutOfMemoryFlushesThenThrows) {
  Fixture f(CachingAllocator::kNoCap, 8 * kMiB);  // the "device" has 8 MiB
  void* a = f.alloc.allocate(6 * kMiB);
  f.alloc.deallocate(a);
  void* b = f.alloc.allocate(4 * kMiB);  // 6 + 4 > 8 on the device: flush, retry
  EXPECT_EQ(f.alloc.stats().cache_flushes, 1u);
  EXPECT_THROW((void)f.alloc.allocate(6 * kMiB), gnm::cuda::OutOfMemoryError);
  try {
    (void)f.alloc.allocate(6 * kMiB);
  } catch (const gnm::cuda::OutOfMemoryError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("device is out of memory"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cap = none"), std::string::npos) << msg;
    EXPECT_NE(msg.find("in use = 4194304 B"), std::string::npos) << msg;
  }
  f.alloc.deallocate(b);
  EXPECT_THROW((void)f.alloc.allocate(CachingAllocator::kMaxBytes + 1), gnm::cuda::OutOfMemoryError);
}

TEST(CachingAllocator, BadFreesAreErrors) {
  Fixture f;
  void* a = f.alloc.allocate(64);
  f.alloc.deallocate(a);
  try {
    f.alloc.deallocate(a);
    FAIL() << "expected gnm::Error";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("double free"), std::string::npos) << e.what();
  }
  int host = 0;
  try {
    f.alloc.deallocate(&host);
    FAIL() << "expected gnm::Error";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not allocated by this allocator"), std::string::npos);
  }
  void* inside = static_cast<std::byte*>(f.alloc.allocate(4096)) + 8;  // not a block start
  EXPECT_THROW(f.alloc.deallocate(inside), gnm::Error);
}

TEST(CachingAllocator, EmptyCacheKeepsSlabsWithLiveBlocks) {
  Fixture f;
  void* a = f.alloc.allocate(100);
  void* b = f.alloc.allocate(200);
  void* big = f.alloc.allocate(3 * kMiB);
  f.alloc.deallocate(b);
  f.alloc.deallocate(big);
  f.alloc.empty_cache();  // big's event is pending: the allocator waits for it, then frees
  EXPECT_EQ(f.fake->segments(), 1u);  // the slab still holds a
  EXPECT_EQ(f.alloc.stats().reserved_bytes, 2 * kMiB);
  f.alloc.deallocate(a);
  f.alloc.empty_cache();
  EXPECT_EQ(f.fake->segments(), 0u);
  const auto s = f.alloc.stats();
  EXPECT_EQ(s.reserved_bytes, 0u);
  EXPECT_EQ(s.backend_mallocs, s.backend_frees);
  EXPECT_EQ(s.peak_reserved_bytes, 2 * kMiB + 4 * kMiB);
}

// Random alloc/free over three streams; the stats must equal a model kept by the test.
TEST(CachingAllocator, StatsMatchAModelOverARandomSequence) {
  // 40 MiB live at most, plus up to ~44 small classes × 2 MiB of partly used slabs, plus cached
  // large blocks: a 96 MiB cap binds now and then, so the flush-and-retry path runs too.
  constexpr std::size_t kCap = 96 * kMiB;
  Fixture f(kCap);
  const gnm::PhiloxRng rng(2024);
  struct Live { void* p; std::size_t bytes; };
  std::vector<Live> live;
  std::size_t requested = 0, allocated = 0, peak = 0, calls = 0, ooms = 0;
  std::set<void*> addresses;
  for (std::uint64_t i = 0; i < 4000; ++i) {
    const std::uint32_t r = rng.bits(3 * i);
    if (i % 500 == 499) f.fake->complete_all();
    if (i % 1000 == 999) f.alloc.empty_cache();
    if (live.empty() || r % 3 != 0) {
      // Log-uniform-ish sizes from 1 B to 8 MiB, some zero.
      const std::size_t bytes = (rng.bits(3 * i + 1) % 50 == 0) ? 0 : 1 + rng.bits(3 * i + 1) % (std::size_t{1} << (rng.bits(3 * i + 2) % 24));
      if (allocated + CachingAllocator::round_size(bytes) > 40 * kMiB) continue;  // stay under the cap
      void* p = nullptr;
      try {
        p = f.alloc.allocate(bytes, stream(1 + r % 3));
      } catch (const gnm::cuda::OutOfMemoryError& e) {
        // Legitimate only if the new segment really did not fit: slabs with one live block each
        // cannot be returned (about 44 small classes × 2 MiB of slab), so this does happen.
        const auto s = f.alloc.stats();
        const std::size_t seg = CachingAllocator::segment_bytes_for(CachingAllocator::round_size(bytes));
        ASSERT_GT(s.reserved_bytes + seg, kCap) << e.what();
        ASSERT_EQ(e.in_use_bytes(), allocated);
        ++ooms;
        continue;
      }
      if (bytes == 0) { ASSERT_EQ(p, nullptr); continue; }
      ASSERT_TRUE(addresses.insert(p).second) << "block handed out twice";
      live.push_back({p, bytes});
      requested += bytes;
      allocated += CachingAllocator::round_size(bytes);
      peak = std::max(peak, allocated);
      ++calls;
    } else {
      const std::size_t k = r % live.size();
      f.alloc.deallocate(live[k].p);
      addresses.erase(live[k].p);
      requested -= live[k].bytes;
      allocated -= CachingAllocator::round_size(live[k].bytes);
      live[k] = live.back();
      live.pop_back();
    }
    const auto s = f.alloc.stats();
    ASSERT_EQ(s.requested_bytes, requested);
    ASSERT_EQ(s.allocated_bytes, allocated);
    ASSERT_EQ(s.cached_bytes, s.reserved_bytes - s.allocated_bytes);
    ASSERT_EQ(s.reserved_bytes, f.fake->used());
    ASSERT_LE(s.reserved_bytes, kCap);
  }
  const auto s = f.alloc.stats();
  EXPECT_EQ(s.peak_allocated_bytes, peak);
  EXPECT_EQ(s.allocations, calls);
  EXPECT_EQ(s.cache_hits + s.cache_misses, calls);
  EXPECT_GT(s.cache_hits, s.cache_misses);  // the point of a cache
  EXPECT_LT(ooms, calls / 10) << "the cap should bind only now and then";
  EXPECT_GT(s.cache_flushes, 0u) << "the cap never bound: the retry path went untested";
  EXPECT_EQ(s.backend_mallocs - s.backend_frees, f.fake->segments());
  EXPECT_GE(s.fragmentation(), 0.0);
  EXPECT_LT(s.fragmentation(), 1.0);
  for (const Live& l : live) f.alloc.deallocate(l.p);
  f.alloc.empty_cache();
  EXPECT_EQ(f.fake->used(), 0u);
  EXPECT_EQ(f.alloc.stats().fragmentation(), 0.0);
}

TEST(CachingAllocator, ManyThreadsAllocateConcurrently) {
  Fixture f;
  constexpr int kThreads = 8;
  constexpr int kIters = 2000;
  std::vector<std::vector<void*>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const gnm::PhiloxRng rng(7, static_cast<std::uint64_t>(t));
      std::vector<void*> mine;
      for (int i = 0; i < kIters; ++i) {
        const std::size_t bytes = 1 + rng.bits(static_cast<std::uint64_t>(i)) % (3 * kMiB);
        mine.push_back(f.alloc.allocate(bytes, stream(static_cast<std::uintptr_t>(t + 1))));
        if (mine.size() > 4) {
          f.alloc.deallocate(mine.front());
          mine.erase(mine.begin());
        }
        if (i % 10 == 0) seen[static_cast<std::size_t>(t)].push_back(mine.back());
      }
      for (void* p : mine) f.alloc.deallocate(p);
    });
  }
  for (auto& th : threads) th.join();
  const auto s = f.alloc.stats();
  EXPECT_EQ(s.allocations, std::size_t{kThreads} * kIters);
  EXPECT_EQ(s.allocated_bytes, 0u);
  EXPECT_EQ(s.requested_bytes, 0u);
  EXPECT_EQ(s.reserved_bytes, f.fake->used());
  f.alloc.empty_cache();
  EXPECT_EQ(f.fake->used(), 0u);
}

TEST(CachingAllocator, DestructorReturnsEverything) {
  auto fake = std::make_unique<FakeBackend>();
  FakeBackend* raw = fake.get();
  {
    CachingAllocator alloc(std::move(fake));
    void* a = alloc.allocate(10);
    (void)alloc.allocate(5 * kMiB);  // still live at destruction
    alloc.deallocate(a);
    EXPECT_EQ(raw->segments(), 2u);
    EXPECT_EQ(&alloc.backend(), raw);
  }
  // raw is gone with the allocator; nothing to inspect — the fake's free() would have thrown
  // on an unknown pointer. Constructing without a backend is an error:
  EXPECT_THROW(CachingAllocator(nullptr), gnm::Error);
}
