// Exercise 8.2: size classes and free-list bins, against the engine's CachingAllocator where the
// two share a rule (CPU; runs everywhere).
#include <gtest/gtest.h>

#include <cstddef>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bins.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/cuda/caching_allocator.hpp"

using gnm::ch08::BinCache;
using gnm::ch08::FreeBlock;
using gnm::ch08::size_class;
using gnm::cuda::CachingAllocator;

namespace {

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = 1024 * 1024;

template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const gnm::NotImplemented&) {
    return "exercise not written yet";
  } catch (const gnm::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Ch08SizeClass, DocumentedExamples) {
  EXPECT_EQ(size_class(0), 0u);
  EXPECT_EQ(size_class(1), 512u);
  EXPECT_EQ(size_class(512), 512u);
  EXPECT_EQ(size_class(513), 1024u);
  EXPECT_EQ(size_class(1000), 1024u);
  EXPECT_EQ(size_class(5000), 5120u);
  EXPECT_EQ(size_class(kMiB), kMiB);
  EXPECT_EQ(size_class(kMiB + 1), 2 * kMiB);
  EXPECT_EQ(size_class(5 * kMiB), 6 * kMiB);
  EXPECT_EQ(size_class(9 * kMiB), 10 * kMiB);
  EXPECT_EQ(size_class(100 * kMiB), 112 * kMiB);  // 64 MiB octave: steps of 16 MiB
}

TEST(Ch08SizeClass, EqualsTheEnginesRoundingEverywhereItIsTried) {
  std::vector<std::size_t> sizes;
  for (std::size_t b = 0; b <= 20000; ++b) sizes.push_back(b);
  for (int k = 1; k <= 50; ++k) {
    const std::size_t p = std::size_t{1} << k;
    for (std::size_t q :
         {p - 1, p, p + 1, p + p / 4, p + p / 4 + 1, p + p / 2 - 1, p + 3 * p / 4 + 1}) {
      if (q <= gnm::ch08::kMaxBytes) sizes.push_back(q);
    }
  }
  // Log-uniform random sizes up to 2^44 (16 TiB).
  const gnm::PhiloxRng rng(/*seed=*/8, /*subsequence=*/2);
  for (std::uint64_t i = 0; i < 20000; ++i) {
    const double e = static_cast<double>(rng.uniform(i, 0.0f, 44.0f));
    sizes.push_back(static_cast<std::size_t>(std::exp2(e)));
  }
  std::size_t mismatches = 0;
  for (std::size_t b : sizes) {
    const std::size_t mine = size_class(b);
    const std::size_t engine = CachingAllocator::round_size(b);
    if (mine != engine && ++mismatches <= 5) {
      ADD_FAILURE() << "size_class(" << b << ") = " << mine << ", the engine rounds to " << engine;
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << sizes.size() << " sizes";
}

TEST(Ch08SizeClass, ClassesAreAlignedAndWasteAtMostAQuarter) {
  for (std::size_t b : {std::size_t{1}, std::size_t{600}, 3 * kKiB + 7, 700 * kKiB, kMiB + 5,
                        3 * kMiB + 1, 77 * kMiB, std::size_t{1} << 40}) {
    const std::size_t c = size_class(b);
    EXPECT_GE(c, b);
    EXPECT_EQ(c % 512, 0u) << b;
    if (c > kMiB) {
      EXPECT_EQ(c % (2 * kMiB), 0u) << b;
    }
    // From 8 MiB up the 2 MiB rounding is a no-op on a quarter step, so the waste is < 25 %;
    // below that the 2 MiB granularity dominates (5 MiB → 6 MiB).
    if (b >= 8 * kMiB) {
      EXPECT_LE(static_cast<double>(c - b), 0.25 * static_cast<double>(b)) << b;
    }
  }
}

TEST(Ch08SizeClass, TooLargeIsAnErrorNamingTheValues) {
  EXPECT_EQ(size_class(gnm::ch08::kMaxBytes), gnm::ch08::kMaxBytes);
  const std::string m = message_of([] { (void)size_class(gnm::ch08::kMaxBytes + 1); });
  EXPECT_NE(m.find("bytes = 1125899906842625"), std::string::npos) << m;
  EXPECT_NE(m.find("1125899906842624"), std::string::npos) << m;  // the limit
  const std::string huge = message_of([] { (void)size_class(~std::size_t{0}); });
  EXPECT_NE(huge.find("bytes = 18446744073709551615"), std::string::npos) << huge;
}

TEST(Ch08Bins, ExactSizeReuseIsLastInFirstOut) {
  BinCache bins;
  bins.give({0, 1024});
  bins.give({1024, 1024});
  bins.give({2048, 1024});
  EXPECT_EQ(bins.free_blocks(), 3u);
  EXPECT_EQ(bins.free_bytes(), 3072u);
  EXPECT_EQ(bins.take(1000), (FreeBlock{2048, 1024}));
  EXPECT_EQ(bins.take(1024), (FreeBlock{1024, 1024}));
  EXPECT_EQ(bins.take(513), (FreeBlock{0, 1024}));
  EXPECT_EQ(bins.take(513), std::nullopt);
  EXPECT_EQ(bins.free_blocks(), 0u);
  EXPECT_EQ(bins.free_bytes(), 0u);
}

TEST(Ch08Bins, ReuseOrderMatchesTheEngine) {
  // The engine: three 4 KiB blocks from one slab, freed a, b, c, come back c, b, a. The bins,
  // given the same blocks (as offsets into the slab) in the same order, must agree.
  CachingAllocator engine(std::make_unique<gnm::cuda::HostMemoryBackend>());
  std::vector<std::byte*> ptrs;
  for (int i = 0; i < 3; ++i) ptrs.push_back(static_cast<std::byte*>(engine.allocate(4096)));
  std::byte* base = ptrs[0];
  BinCache bins;
  for (std::byte* p : ptrs) {
    engine.deallocate(p);
    bins.give({static_cast<std::size_t>(p - base), size_class(4096)});
  }
  std::vector<std::byte*> again;
  for (int i = 0; i < 3; ++i) {
    auto* p = static_cast<std::byte*>(engine.allocate(4000));  // same class as 4096
    again.push_back(p);
    const auto mine = bins.take(4000);
    ASSERT_TRUE(mine.has_value()) << "take " << i;
    EXPECT_EQ(mine->offset, static_cast<std::size_t>(p - base)) << "take " << i;
    EXPECT_EQ(mine->bytes, CachingAllocator::round_size(4000));
  }
  EXPECT_EQ(again[0], ptrs[2]);  // the engine's order, spelled out: c, b, a
  EXPECT_EQ(again[2], ptrs[0]);
  for (std::byte* p : again) engine.deallocate(p);
}

TEST(Ch08Bins, SmallRequestsNeverTakeLargeBlocksLikeTheEngine) {
  // The engine: a freed 4 MiB block does not serve a 512-B request (a new slab is made).
  CachingAllocator engine(std::make_unique<gnm::cuda::HostMemoryBackend>());
  engine.deallocate(engine.allocate(4 * kMiB));
  const auto misses = engine.stats().cache_misses;
  engine.deallocate(engine.allocate(512));
  EXPECT_EQ(engine.stats().cache_misses, misses + 1);

  BinCache bins;
  bins.give({0, 4 * kMiB});
  EXPECT_EQ(bins.take(512), std::nullopt);
  EXPECT_EQ(bins.take(kMiB), std::nullopt);  // 1 MiB is still small
  EXPECT_EQ(bins.free_bytes(), 4 * kMiB);    // a miss takes nothing
  EXPECT_EQ(bins.take(kMiB + 1), (FreeBlock{0, 2 * kMiB}));  // large: best fit, split
  EXPECT_EQ(bins.free_bytes(), 2 * kMiB);
}

TEST(Ch08Bins, BestFitPicksTheSmallestBlockThatFits) {
  BinCache bins;
  bins.give({0, 8 * kKiB});
  bins.give({8 * kKiB, 2 * kKiB});
  bins.give({10 * kKiB, 64 * kKiB});
  bins.give({74 * kKiB, 4 * kKiB});
  // 3000 B → class 3072: the smallest block ≥ 3072 is the 4 KiB one; the 1 KiB rest is split off.
  EXPECT_EQ(bins.take(3000), (FreeBlock{74 * kKiB, 3 * kKiB}));
  EXPECT_EQ(bins.free_blocks(), 4u);
  EXPECT_EQ(bins.take(1024), (FreeBlock{77 * kKiB, kKiB}));  // the split-off rest fits exactly
  EXPECT_EQ(bins.take(2 * kKiB), (FreeBlock{8 * kKiB, 2 * kKiB}));
  EXPECT_EQ(bins.take(40 * kKiB), (FreeBlock{10 * kKiB, 40 * kKiB}));
  EXPECT_EQ(bins.free_bytes(), 8 * kKiB + 24 * kKiB);
  EXPECT_EQ(bins.take(100 * kKiB), std::nullopt);
}

TEST(Ch08Bins, LargeBlocksSplitOnlyWhenTheRestIsAtLeastTwoMiB) {
  BinCache bins;
  bins.give({0, 8 * kMiB});
  EXPECT_EQ(bins.take(2 * kMiB), (FreeBlock{0, 2 * kMiB}));
  EXPECT_EQ(bins.take(3 * kMiB), (FreeBlock{2 * kMiB, 4 * kMiB}));  // class 4 MiB
  EXPECT_EQ(bins.take(2 * kMiB - 100), (FreeBlock{6 * kMiB, 2 * kMiB}));
  EXPECT_EQ(bins.free_blocks(), 0u);
  // A rest below 2 MiB stays with the block: 3 MiB for a 2 MiB class is handed out whole.
  bins.give({32 * kMiB, 3 * kMiB});
  EXPECT_EQ(bins.take(2 * kMiB), (FreeBlock{32 * kMiB, 3 * kMiB}));
  EXPECT_EQ(bins.free_bytes(), 0u);
}

TEST(Ch08Bins, SmallBlocksSplitDownToFiveHundredTwelveBytes) {
  BinCache bins;
  bins.give({0, kMiB});
  EXPECT_EQ(bins.take(1), (FreeBlock{0, 512}));
  EXPECT_EQ(bins.free_bytes(), kMiB - 512);
  // 1 MiB − 512 B rounds up to the 1 MiB class, which no free block holds any more.
  EXPECT_EQ(bins.take(kMiB - 512), std::nullopt);
  EXPECT_EQ(bins.take(768 * kKiB), (FreeBlock{512, 768 * kKiB}));
  EXPECT_EQ(bins.free_blocks(), 1u);
  EXPECT_EQ(bins.take(1000), (FreeBlock{512 + 768 * kKiB, 1024}));
  EXPECT_EQ(bins.free_bytes(), kMiB - 512 - 768 * kKiB - 1024);
}

TEST(Ch08Bins, BadBlocksAndRequestsAreErrorsNamingTheValues) {
  BinCache bins;
  std::string m = message_of([&] { bins.give({0, 0}); });
  EXPECT_NE(m.find("block.bytes = 0"), std::string::npos) << m;
  m = message_of([&] { bins.give({0, 1000}); });
  EXPECT_NE(m.find("block.bytes = 1000"), std::string::npos) << m;
  m = message_of([&] { bins.give({100, 512}); });
  EXPECT_NE(m.find("block.offset = 100"), std::string::npos) << m;
  m = message_of([&] { bins.give({~std::size_t{0} - 511, 1024}); });
  EXPECT_NE(m.find("block.bytes = 1024"), std::string::npos) << m;
  m = message_of([&] { (void)bins.take(0); });
  EXPECT_NE(m.find("bytes = 0"), std::string::npos) << m;
  m = message_of([&] { (void)bins.take(gnm::ch08::kMaxBytes + 1); });
  EXPECT_NE(m.find("bytes = 1125899906842625"), std::string::npos) << m;
  EXPECT_EQ(bins.free_blocks(), 0u);  // nothing bad was kept
}
