// Channel<T>: FIFO order, capacity, close semantics, and many producers and consumers under
// contention (this file also runs under ThreadSanitizer in scripts/test.sh).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <numeric>
#include <thread>
#include <vector>

#include "gnm/core/channel.hpp"
#include "gnm/core/error.hpp"

TEST(Channel, FifoWithinCapacityAndTryVariants) {
  gnm::Channel<int> ch(3);
  EXPECT_EQ(ch.capacity(), 3u);
  EXPECT_TRUE(ch.try_send(1));
  EXPECT_TRUE(ch.send(2));
  EXPECT_TRUE(ch.try_send(3));
  EXPECT_FALSE(ch.try_send(4));  // full
  EXPECT_EQ(ch.size(), 3u);
  EXPECT_EQ(ch.receive(), 1);
  EXPECT_EQ(ch.try_receive(), 2);
  EXPECT_EQ(ch.receive(), 3);
  EXPECT_EQ(ch.try_receive(), std::nullopt);  // empty, not closed
}

TEST(Channel, ZeroCapacityIsAnError) { EXPECT_THROW(gnm::Channel<int>(0), gnm::Error); }

TEST(Channel, MoveOnlyValuesTransferOwnership) {
  gnm::Channel<std::unique_ptr<int>> ch(1);
  auto p = std::make_unique<int>(42);
  int* raw = p.get();
  ASSERT_TRUE(ch.send(std::move(p)));
  auto got = ch.receive();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->get(), raw);
  EXPECT_EQ(**got, 42);
}

TEST(Channel, CloseDrainsQueuedValuesThenEnds) {
  gnm::Channel<int> ch(4);
  ASSERT_TRUE(ch.send(7));
  ASSERT_TRUE(ch.send(8));
  ch.close();
  ch.close();  // idempotent
  EXPECT_TRUE(ch.closed());
  EXPECT_FALSE(ch.send(9));
  EXPECT_FALSE(ch.try_send(9));
  EXPECT_EQ(ch.receive(), 7);
  EXPECT_EQ(ch.receive(), 8);
  EXPECT_EQ(ch.receive(), std::nullopt);
}

TEST(Channel, CloseWakesEveryBlockedReceiverAndSender) {
  gnm::Channel<int> empty(1);
  std::atomic<int> woken{0};
  std::vector<std::thread> receivers;
  for (int i = 0; i < 3; ++i) {
    receivers.emplace_back([&] {
      if (!empty.receive().has_value()) ++woken;
    });
  }
  gnm::Channel<int> full(1);
  ASSERT_TRUE(full.send(0));
  std::vector<std::thread> senders;
  for (int i = 0; i < 3; ++i) {
    senders.emplace_back([&] {
      if (!full.send(1)) ++woken;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let them block (not required)
  empty.close();
  full.close();
  for (auto& t : receivers) t.join();
  for (auto& t : senders) t.join();
  EXPECT_EQ(woken.load(), 6);
}

TEST(Channel, ManyProducersAndConsumersDeliverEveryValueExactlyOnce) {
  constexpr int kProducers = 4, kConsumers = 3, kPerProducer = 20000;
  gnm::Channel<std::int64_t> ch(8);  // small: forces blocking on both sides
  std::vector<std::atomic<int>> seen(kProducers * kPerProducer);
  std::atomic<std::int64_t> sum{0};
  std::vector<std::thread> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&] {
      while (auto v = ch.receive()) {
        seen[static_cast<std::size_t>(*v)].fetch_add(1, std::memory_order_relaxed);
        sum.fetch_add(*v, std::memory_order_relaxed);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) ASSERT_TRUE(ch.send(p * kPerProducer + i));
    });
  }
  for (auto& t : producers) t.join();
  ch.close();
  for (auto& t : consumers) t.join();
  const std::int64_t n = kProducers * kPerProducer;
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
  for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i].load(), 1) << "value " << i;
}
