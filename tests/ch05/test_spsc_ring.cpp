// Exercise 5.3: the SPSC ring's FIFO order, full and empty, wrap-around, and a producer and a
// consumer thread passing a million values in order. Under the tsan preset, a missing acquire or
// release shows up as a data race on the slots.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "gnm/core/error.hpp"
#include "spsc_ring.hpp"

namespace {

using gnm::ch05::SpscRing;

TEST(SpscRing, FullAndEmptyAreReportedNotOverwritten) {
  SpscRing ring(4);
  EXPECT_EQ(ring.try_pop(), std::nullopt);
  for (std::int64_t v = 10; v < 14; ++v) ASSERT_TRUE(ring.try_push(v));
  EXPECT_FALSE(ring.try_push(99));  // full: the oldest value must survive
  for (std::int64_t v = 10; v < 14; ++v) EXPECT_EQ(ring.try_pop(), v);
  EXPECT_EQ(ring.try_pop(), std::nullopt);
}

TEST(SpscRing, WrapsAroundManyTimes) {
  for (std::size_t capacity : {1u, 2u, 8u}) {
    SpscRing ring(capacity);
    std::int64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 1000; ++round) {
      // Fill a varying amount, drain a varying amount: every phase of the indices is visited.
      const auto fill = static_cast<std::int64_t>(round % (capacity + 1));
      for (std::int64_t k = 0; k < fill; ++k) {
        if (ring.try_push(next_in)) ++next_in;
      }
      const auto drain = static_cast<std::int64_t>((round * 7) % (capacity + 1));
      for (std::int64_t k = 0; k < drain; ++k) {
        if (auto v = ring.try_pop()) {
          EXPECT_EQ(*v, next_out++);
        }
      }
    }
    while (auto v = ring.try_pop()) EXPECT_EQ(*v, next_out++);
    EXPECT_EQ(next_in, next_out);
    EXPECT_GT(next_out, static_cast<std::int64_t>(100 * capacity));  // wrapped many times
  }
}

TEST(SpscRing, CapacityMustBeAPowerOfTwo) {
  SpscRing ok(2);
  ASSERT_TRUE(ok.try_push(1));  // the exercise itself, so this test fails on the stub
  EXPECT_EQ(ok.try_pop(), 1);
  EXPECT_THROW(SpscRing(0), gnm::Error);
  try {
    SpscRing bad(6);
    FAIL() << "capacity 6 must throw";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("capacity = 6"), std::string::npos) << e.what();
  }
}

TEST(SpscRing, TwoThreadsPassEveryValueInOrder) {
  for (std::size_t capacity : {1u, 64u}) {
    SpscRing ring(capacity);
    ASSERT_TRUE(ring.try_push(-1));  // on this thread first: the stub fails before any spinning
    ASSERT_EQ(ring.try_pop(), -1);
    constexpr std::int64_t kCount = 200000;
    auto producer = std::async(std::launch::async, [&] {
      for (std::int64_t i = 0; i < kCount; ++i) {
        while (!ring.try_push(i)) std::this_thread::yield();  // full: let the consumer run
      }
    });
    std::int64_t expected = 0;
    std::int64_t mismatches = 0;
    while (expected < kCount) {
      if (auto v = ring.try_pop()) {
        mismatches += (*v != expected);
        ++expected;
      } else {
        std::this_thread::yield();
      }
    }
    producer.get();
    EXPECT_EQ(mismatches, 0) << "capacity " << capacity;
    EXPECT_EQ(ring.try_pop(), std::nullopt);
  }
}

}  // namespace
