// Exercise 5.2: BoundedQueue's FIFO order, capacity, close semantics (close wakes every waiter)
// and exactly-once delivery with many producers and consumers. Every test first calls the queue
// on the test's own thread, so a stub fails there before any thread could wait on it forever.
// Run under the tsan preset too.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "bounded_queue.hpp"
#include "gnm/core/error.hpp"

namespace {

using gnm::ch05::BoundedQueue;

TEST(BoundedQueue, FifoOrderWithinCapacity) {
  BoundedQueue q(4);
  for (std::int64_t v : {5, 6, 7, 8}) ASSERT_TRUE(q.send(v));
  EXPECT_EQ(q.size(), 4u);
  for (std::int64_t v : {5, 6, 7, 8}) EXPECT_EQ(q.receive(), v);
  EXPECT_EQ(q.size(), 0u);
}

TEST(BoundedQueue, ZeroCapacityIsAnErrorNamingIt) {
  BoundedQueue q(1);
  ASSERT_TRUE(q.send(1));  // the exercise itself, so this test fails on the stub
  try {
    BoundedQueue bad(0);
    FAIL() << "capacity 0 must throw";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("capacity = 0"), std::string::npos) << e.what();
  }
}

TEST(BoundedQueue, CloseRejectsSendsButDrainsWhatWasQueued) {
  BoundedQueue q(3);
  ASSERT_TRUE(q.send(1));
  ASSERT_TRUE(q.send(2));
  q.close();
  q.close();  // idempotent
  EXPECT_FALSE(q.send(3));
  EXPECT_EQ(q.receive(), 1);
  EXPECT_EQ(q.receive(), 2);
  EXPECT_EQ(q.receive(), std::nullopt);
  EXPECT_EQ(q.receive(), std::nullopt);
}

TEST(BoundedQueue, ASenderWaitsWhileTheQueueIsFull) {
  BoundedQueue q(2);
  ASSERT_TRUE(q.send(0));
  ASSERT_TRUE(q.send(1));
  std::atomic<bool> sent{false};
  auto sender = std::async(std::launch::async, [&] {
    const bool ok = q.send(2);  // must block: the queue is full
    sent.store(true);
    return ok;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_FALSE(sent.load()) << "send() returned although the queue was full";
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.receive(), 0);  // makes room: the sender proceeds
  EXPECT_TRUE(sender.get());
  EXPECT_EQ(q.receive(), 1);
  EXPECT_EQ(q.receive(), 2);
}

TEST(BoundedQueue, CloseWakesEveryBlockedReceiverAndSender) {
  BoundedQueue empty(1);
  ASSERT_TRUE(empty.send(9));
  ASSERT_EQ(empty.receive(), 9);
  std::vector<std::future<std::optional<std::int64_t>>> receivers;
  for (int i = 0; i < 4; ++i) {
    receivers.push_back(std::async(std::launch::async, [&] { return empty.receive(); }));
  }
  BoundedQueue full(1);
  ASSERT_TRUE(full.send(1));
  std::vector<std::future<bool>> senders;
  for (int i = 0; i < 3; ++i) {
    senders.push_back(std::async(std::launch::async, [&] { return full.send(2); }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let them all block
  empty.close();
  full.close();
  // With notify_one instead of notify_all, all but one of each group would sleep forever and
  // these get() calls would hang (ctest's timeout would then fail the test).
  for (auto& r : receivers) EXPECT_EQ(r.get(), std::nullopt);
  for (auto& s : senders) EXPECT_FALSE(s.get());
  EXPECT_EQ(full.receive(), 1);  // the value queued before the close survives
}

// P producers send disjoint ranges; C consumers record what they got. Every value must arrive
// exactly once: checked with a count per value, not just a sum.
void exactly_once(int producers, int consumers, std::size_t capacity, std::int64_t per_producer) {
  BoundedQueue q(capacity);
  ASSERT_TRUE(q.send(-1));  // a sentinel, received below, so the stub fails on this thread
  ASSERT_EQ(q.receive(), -1);
  std::vector<std::future<void>> ps;
  for (int p = 0; p < producers; ++p) {
    ps.push_back(std::async(std::launch::async, [&, p] {
      for (std::int64_t i = 0; i < per_producer; ++i) ASSERT_TRUE(q.send(p * per_producer + i));
    }));
  }
  std::vector<std::future<std::vector<std::int64_t>>> cs;
  for (int c = 0; c < consumers; ++c) {
    cs.push_back(std::async(std::launch::async, [&] {
      std::vector<std::int64_t> got;
      while (auto v = q.receive()) got.push_back(*v);
      return got;
    }));
  }
  for (auto& p : ps) p.get();
  q.close();  // after the last send: consumers drain, then stop
  std::vector<int> seen(static_cast<std::size_t>(producers * per_producer), 0);
  for (auto& c : cs) {
    const auto got = c.get();
    // Per consumer, values from one producer arrive in the order sent (FIFO).
    std::vector<std::int64_t> last(static_cast<std::size_t>(producers), -1);
    for (std::int64_t v : got) {
      ASSERT_GE(v, 0);
      ASSERT_LT(v, producers * per_producer);
      ++seen[static_cast<std::size_t>(v)];
      auto& l = last[static_cast<std::size_t>(v / per_producer)];
      EXPECT_GT(v, l);
      l = v;
    }
  }
  const auto wrong = std::count_if(seen.begin(), seen.end(), [](int s) { return s != 1; });
  EXPECT_EQ(wrong, 0) << "values lost or duplicated";
}

TEST(BoundedQueue, OneProducerOneConsumerDeliversExactlyOnce) { exactly_once(1, 1, 4, 20000); }
TEST(BoundedQueue, ManyProducersManyConsumersDeliverExactlyOnce) { exactly_once(3, 3, 2, 10000); }
TEST(BoundedQueue, CapacityOneUnderContention) { exactly_once(2, 2, 1, 5000); }

}  // namespace
