// gnm::PrefetchLoader: order whatever the timing, early stop without a hang, producer errors
// delivered in order with the batch index, depth 1, zero batches, many epochs. Also run under the
// tsan preset (scripts/test.sh), where a missing synchronisation would be reported.
#include "gnm/core/prefetch_loader.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gnm/core/error.hpp"

namespace {

// A batch whose contents are a pure function of (epoch, index), so any mix-up shows.
struct Batch {
  std::int64_t epoch = -1;
  std::int64_t index = -1;
  std::vector<int> data;
};

Batch make_batch(std::int64_t epoch, std::int64_t index) {
  Batch b{epoch, index, std::vector<int>(16)};
  for (std::size_t k = 0; k < b.data.size(); ++k) {
    b.data[k] = static_cast<int>(epoch * 100003 + index * 31 + static_cast<std::int64_t>(k));
  }
  return b;
}

void expect_batch(const std::optional<Batch>& b, std::int64_t epoch, std::int64_t index) {
  ASSERT_TRUE(b.has_value()) << "epoch " << epoch << " batch " << index;
  const Batch want = make_batch(epoch, index);
  EXPECT_EQ(b->epoch, epoch);
  EXPECT_EQ(b->index, index);
  EXPECT_EQ(b->data, want.data);
}

// Sleeps a pseudo-random 0–200 µs, so producer and consumer overtake each other both ways.
void jitter(std::int64_t i) {
  std::this_thread::sleep_for(std::chrono::microseconds((i * 7919) % 5 * 50));
}

TEST(PrefetchLoader, DeliversEveryBatchInOrderWhateverTheTiming) {
  for (std::size_t depth : {1u, 2u, 7u}) {
    gnm::PrefetchLoader<Batch> loader(60, depth, [](std::int64_t epoch, std::int64_t i) {
      jitter(i);
      return make_batch(epoch, i);
    });
    loader.start_epoch(3);
    for (std::int64_t i = 0; i < 60; ++i) {
      expect_batch(loader.next(), 3, i);
      jitter(i + 1);
    }
    EXPECT_FALSE(loader.next().has_value());
    EXPECT_FALSE(loader.next().has_value());  // stays at the end
    EXPECT_EQ(loader.delivered(), 60);
    EXPECT_GE(loader.wait_ms(), 0.0);
  }
}

TEST(PrefetchLoader, AcceptsAProducerOfTheIndexAloneAndMoveOnlyBatches) {
  gnm::PrefetchLoader<std::unique_ptr<std::int64_t>> loader(
      5, 2, [](std::int64_t i) { return std::make_unique<std::int64_t>(i * i); });
  loader.start_epoch(0);
  for (std::int64_t i = 0; i < 5; ++i) {
    auto b = loader.next();
    ASSERT_TRUE(b.has_value() && *b);
    EXPECT_EQ(**b, i * i);
  }
  EXPECT_FALSE(loader.next().has_value());
}

TEST(PrefetchLoader, ProducerRunsOnTheLoaderThread) {
  const auto consumer = std::this_thread::get_id();
  gnm::PrefetchLoader<std::thread::id> loader(3, 1, [](std::int64_t) {
    return std::this_thread::get_id();
  });
  loader.start_epoch(0);
  while (auto id = loader.next()) EXPECT_NE(*id, consumer);
}

TEST(PrefetchLoader, EarlyStopNeitherHangsNorMakesMoreThanItMayQueue) {
  constexpr std::size_t kDepth = 3;
  std::atomic<std::int64_t> made{0};
  {
    gnm::PrefetchLoader<Batch> loader(100000, kDepth, [&](std::int64_t epoch, std::int64_t i) {
      made.fetch_add(1, std::memory_order_relaxed);
      return make_batch(epoch, i);
    });
    loader.start_epoch(0);
    expect_batch(loader.next(), 0, 0);
    expect_batch(loader.next(), 0, 1);
    // Let the loader fill the queue and block on it, then leave: the destructor must close the
    // channel, wake the blocked send and join.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Two delivered, at most kDepth queued and one blocked in send().
  EXPECT_LE(made.load(), 2 + static_cast<std::int64_t>(kDepth) + 1);
}

TEST(PrefetchLoader, StopIsIdempotentAndEndsTheEpoch) {
  gnm::PrefetchLoader<Batch> loader(10, 2, make_batch);
  loader.stop();  // nothing started: a no-op
  loader.start_epoch(1);
  expect_batch(loader.next(), 1, 0);
  loader.stop();
  loader.stop();
  EXPECT_FALSE(loader.next().has_value());  // queued batches were dropped
}

TEST(PrefetchLoader, RestartingAnEpochBeginsAgainAtBatchZero) {
  gnm::PrefetchLoader<Batch> loader(8, 4, make_batch);
  loader.start_epoch(0);
  expect_batch(loader.next(), 0, 0);
  expect_batch(loader.next(), 0, 1);
  loader.start_epoch(0);  // abandon the rest, start over
  for (std::int64_t i = 0; i < 8; ++i) expect_batch(loader.next(), 0, i);
  EXPECT_FALSE(loader.next().has_value());
}

TEST(PrefetchLoader, ProducerErrorArrivesAfterTheBatchesBeforeItAndNamesTheBatch) {
  gnm::PrefetchLoader<Batch> loader(20, 4, [](std::int64_t epoch, std::int64_t i) {
    if (i == 5) throw gnm::IoError("corrupt record in shard 2");
    return make_batch(epoch, i);
  });
  loader.start_epoch(2);
  for (std::int64_t i = 0; i < 5; ++i) expect_batch(loader.next(), 2, i);
  try {
    (void)loader.next();
    FAIL() << "next() should have thrown";
  } catch (const gnm::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("batch 5 of epoch 2"), std::string::npos) << what;
    EXPECT_NE(what.find("corrupt record in shard 2"), std::string::npos) << what;
    // The producer's own exception, with its type, is nested inside.
    EXPECT_THROW(std::rethrow_if_nested(e), gnm::IoError);
  }
  EXPECT_FALSE(loader.next().has_value());  // the epoch is over
  loader.start_epoch(3);                    // and the loader is usable again
  for (std::int64_t i = 0; i < 5; ++i) expect_batch(loader.next(), 3, i);
}

TEST(PrefetchLoader, NonStandardExceptionsAreReportedToo) {
  gnm::PrefetchLoader<int> loader(3, 1, [](std::int64_t i) -> int {
    if (i == 0) throw 42;
    return 0;
  });
  loader.start_epoch(0);
  try {
    (void)loader.next();
    FAIL() << "next() should have thrown";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("batch 0 of epoch 0"), std::string::npos) << e.what();
    EXPECT_THROW(std::rethrow_if_nested(e), int);
  }
}

TEST(PrefetchLoader, DepthOneStillOverlapsAndDeliversEverything) {
  gnm::PrefetchLoader<Batch> loader(500, 1, make_batch);
  loader.start_epoch(0);
  std::int64_t i = 0;
  while (auto b = loader.next()) expect_batch(b, 0, i++);
  EXPECT_EQ(i, 500);
}

TEST(PrefetchLoader, ZeroBatchesEndAtOnce) {
  std::atomic<int> calls{0};
  gnm::PrefetchLoader<Batch> loader(0, 2, [&](std::int64_t e, std::int64_t i) {
    calls.fetch_add(1);
    return make_batch(e, i);
  });
  for (std::int64_t epoch = 0; epoch < 3; ++epoch) {
    loader.start_epoch(epoch);
    EXPECT_FALSE(loader.next().has_value());
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(PrefetchLoader, ManyEpochsEachSeeTheirOwnBatches) {
  gnm::PrefetchLoader<Batch> loader(7, 3, make_batch);
  for (std::int64_t epoch = 0; epoch < 200; ++epoch) {
    loader.start_epoch(epoch);
    for (std::int64_t i = 0; i < 7; ++i) expect_batch(loader.next(), epoch, i);
    EXPECT_FALSE(loader.next().has_value());
  }
  EXPECT_EQ(loader.epoch(), 199);
}

TEST(PrefetchLoader, MisuseIsReportedWithTheValues) {
  EXPECT_THROW(gnm::PrefetchLoader<Batch>(-1, 2, make_batch), gnm::Error);
  EXPECT_THROW(gnm::PrefetchLoader<Batch>(4, 0, make_batch), gnm::Error);
  gnm::PrefetchLoader<Batch> loader(4, 2, make_batch);
  EXPECT_THROW((void)loader.next(), gnm::Error);  // no epoch started
  EXPECT_THROW(loader.start_epoch(-1), gnm::Error);
  try {
    gnm::PrefetchLoader<Batch> bad(4, 0, make_batch);
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("depth = 0"), std::string::npos) << e.what();
  }
}

}  // namespace
