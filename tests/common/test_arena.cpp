// gnm::Arena and gnm::PoolAllocator: alignment, reuse, rewind with destructors, accounting,
// misuse reported as gnm::Error.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "gnm/core/arena.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/philox.hpp"

namespace {

bool aligned(const void* p, std::size_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }

struct Counted {
  explicit Counted(std::vector<int>* log, int id) : log_(log), id_(id) {}
  ~Counted() { log_->push_back(id_); }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  std::vector<int>* log_;
  int id_;
};

TEST(Arena, AllocationsAreAlignedDistinctAndWritable) {
  gnm::Arena arena(256);
  std::vector<std::pair<std::byte*, std::size_t>> got;
  const gnm::PhiloxRng rng(7);
  std::uint64_t counter = 0;
  auto next = [&] { return rng.bits(counter++); };
  for (int i = 0; i < 500; ++i) {
    const std::size_t bytes = next() % 300;  // some bigger than a block
    const std::size_t align = std::size_t{1} << (next() % 8);
    auto* p = static_cast<std::byte*>(arena.allocate(bytes, align));
    ASSERT_TRUE(aligned(p, align)) << "align " << align;
    std::memset(p, i & 0xff, bytes);
    got.emplace_back(p, bytes);
  }
  // No overlap: every byte still holds what its own allocation wrote.
  for (std::size_t i = 0; i < got.size(); ++i) {
    for (std::size_t k = 0; k < got[i].second; ++k) {
      ASSERT_EQ(static_cast<int>(got[i].first[k]), static_cast<int>(i & 0xff)) << "allocation " << i;
    }
  }
  EXPECT_GE(arena.bytes_reserved(), arena.bytes_used());
  EXPECT_GT(arena.block_count(), 1u);
}

TEST(Arena, ZeroByteRequestsAreDistinct) {
  gnm::Arena arena;
  std::set<void*> seen;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(seen.insert(arena.allocate(0)).second);
}

TEST(Arena, RewindFreesAndReusesBlocksAndRunsDestructorsNewestFirst) {
  std::vector<int> log;
  gnm::Arena arena(1024);
  arena.create<Counted>(&log, 1);
  const auto m = arena.mark();
  const std::size_t used_at_mark = arena.bytes_used();
  arena.create<Counted>(&log, 2);
  auto span = arena.allocate_array<float>(1000);  // spills into a second block
  span[999] = 1.0f;
  arena.create<Counted>(&log, 3);
  const std::size_t blocks = arena.block_count();
  arena.rewind(m);
  EXPECT_EQ(log, (std::vector<int>{3, 2}));
  EXPECT_EQ(arena.bytes_used(), used_at_mark);
  // The same work again takes no new blocks.
  arena.create<Counted>(&log, 4);
  (void)arena.allocate_array<float>(1000);
  EXPECT_EQ(arena.block_count(), blocks);
  EXPECT_GE(arena.peak_bytes_used(), 4000u);
  arena.reset();
  EXPECT_EQ(log, (std::vector<int>{3, 2, 4, 1}));
  EXPECT_EQ(arena.bytes_used(), 0u);
}

TEST(Arena, DestructorRunsAtDestructionAndMoveTransfersOwnership) {
  std::vector<int> log;
  {
    gnm::Arena a;
    a.create<Counted>(&log, 1);
    gnm::Arena b = std::move(a);
    EXPECT_EQ(a.block_count(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_TRUE(log.empty());
  }
  EXPECT_EQ(log, (std::vector<int>{1}));
}

TEST(Arena, MisuseIsReported) {
  EXPECT_THROW(gnm::Arena(8), gnm::Error);
  gnm::Arena arena;
  EXPECT_THROW(arena.allocate(8, 3), gnm::Error);
  EXPECT_THROW(arena.allocate(8, 8192), gnm::Error);
  EXPECT_THROW((void)arena.allocate_array<double>(SIZE_MAX / 4), gnm::Error);
  (void)arena.allocate(100);
  const auto ahead = arena.mark();
  arena.reset();
  try {
    arena.rewind(ahead);
    FAIL() << "rewinding to a marker ahead of the position must throw";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("ahead of the current position"), std::string::npos) << e.what();
  }
}

TEST(PoolAllocator, SizeClassesArePowersOfTwoFrom64) {
  EXPECT_EQ(gnm::PoolAllocator::class_bytes(0), 64u);
  EXPECT_EQ(gnm::PoolAllocator::class_bytes(64), 64u);
  EXPECT_EQ(gnm::PoolAllocator::class_bytes(65), 128u);
  EXPECT_EQ(gnm::PoolAllocator::class_bytes(1000), 1024u);
  EXPECT_EQ(gnm::PoolAllocator::class_bytes(std::size_t{1} << 32), std::size_t{1} << 32);
  EXPECT_THROW(gnm::PoolAllocator::class_bytes((std::size_t{1} << 32) + 1), gnm::Error);
}

TEST(PoolAllocator, ReusesFreedBlocksOfTheSameClassAndCounts) {
  gnm::PoolAllocator pool;
  void* a = pool.allocate(100);  // class 128
  void* b = pool.allocate(3000);  // class 4096
  EXPECT_TRUE(aligned(a, 64));
  EXPECT_TRUE(aligned(b, 64));
  std::memset(a, 1, 100);
  std::memset(b, 2, 3000);
  EXPECT_EQ(pool.stats().live_bytes, 3100u);
  pool.deallocate(a, 100);
  EXPECT_EQ(pool.stats().cached_bytes, 128u);
  void* c = pool.allocate(120);  // same class: the same block
  EXPECT_EQ(c, a);
  EXPECT_EQ(pool.stats().reuses, 1u);
  EXPECT_EQ(pool.stats().system_allocations, 2u);
  EXPECT_EQ(pool.stats().peak_live_bytes, 3120u);
  pool.deallocate(b, 3000);
  pool.deallocate(c, 120);
  EXPECT_EQ(pool.stats().live_bytes, 0u);
  pool.release_cached();
  EXPECT_EQ(pool.stats().cached_bytes, 0u);
  void* d = pool.allocate(10);
  pool.deallocate(d, 10);  // and destruction frees whatever is left
}

TEST(PoolAllocator, RandomOrderFreesKeepPeakAccounting) {
  gnm::PoolAllocator pool;
  const gnm::PhiloxRng rng(11);
  std::uint64_t counter = 0;
  auto next = [&] { return rng.bits(counter++); };
  std::vector<std::pair<void*, std::size_t>> live;
  std::size_t expect_live = 0, expect_peak = 0;
  for (int step = 0; step < 2000; ++step) {
    if (live.empty() || next() % 3 != 0) {
      const std::size_t n = next() % 5000;
      live.emplace_back(pool.allocate(n), n);
      std::memset(live.back().first, 0x5a, n);
      expect_live += n;
      expect_peak = std::max(expect_peak, expect_live);
    } else {
      const std::size_t i = next() % live.size();
      pool.deallocate(live[i].first, live[i].second);
      expect_live -= live[i].second;
      live[i] = live.back();
      live.pop_back();
    }
    ASSERT_EQ(pool.stats().live_bytes, expect_live);
  }
  EXPECT_EQ(pool.stats().peak_live_bytes, expect_peak);
  EXPECT_GT(pool.stats().reuses, 0u);
}

TEST(PoolAllocator, BadFreesAreReportedNotCorrupting) {
  gnm::PoolAllocator pool, other;
  void* p = pool.allocate(200);
  void* q = other.allocate(200);
  EXPECT_THROW(pool.deallocate(q, 200), gnm::Error);             // from another pool
  EXPECT_THROW(pool.deallocate(p, 5000), gnm::Error);            // wrong size class
  EXPECT_THROW(pool.deallocate(static_cast<char*>(p) + 8, 200), gnm::Error);  // interior pointer
  pool.deallocate(p, 200);
  try {
    pool.deallocate(p, 200);
    FAIL() << "double free must throw";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("double free"), std::string::npos) << e.what();
  }
  pool.deallocate(nullptr, 10);  // ignored, like free(nullptr)
  other.deallocate(q, 200);
}

}  // namespace
