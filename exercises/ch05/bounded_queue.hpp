// Exercise 5.2 — a bounded blocking queue with close (sections 5.4–5.5 of the book).
//
// Write, in exercises/ch05/bounded_queue.cpp:
//   5.2  BoundedQueue::send(), receive() and close(): one mutex, two condition variables
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch05/exercise/BoundedQueue
//
// It is gnm::Channel<T> (common/include/gnm/core/channel.hpp) for one value type: write it
// yourself first, then compare.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace gnm::ch05 {

/// A bounded multi-producer multi-consumer FIFO of int64 values with close semantics.
///
/// Rules (the same as gnm::Channel):
///  - send() waits while the queue holds capacity() values; receive() waits while it is empty.
///  - close() wakes *every* waiting sender and receiver. After close, send() returns false and
///    stores nothing, while receive() still returns the values queued before the close, in order,
///    and std::nullopt once the queue is empty.
///  - Every value sent (send returned true) is received exactly once.
class BoundedQueue {
 public:
  /// Given. A queue holding at most `capacity` values (>= 1; gnm::Error naming it otherwise).
  explicit BoundedQueue(std::size_t capacity);

  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  /// Ex 5.2a. Waits on not_full_ until there is room or the queue is closed; returns false if
  /// closed, else appends `value`, and notifies one receiver (after unlocking, ideally).
  bool send(std::int64_t value);

  /// Ex 5.2b. Waits on not_empty_ until a value is queued or the queue is closed; returns
  /// std::nullopt if it is empty (so closed and drained), else pops the front value and
  /// notifies one sender.
  std::optional<std::int64_t> receive();

  /// Ex 5.2c. Marks the queue closed under the lock, then wakes all senders and all receivers.
  /// Calling it again does nothing more.
  void close();

  /// Given. Values queued now (a snapshot).
  std::size_t size() const;
  /// Given. The most values the queue holds.
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;            // guards items_ and closed_
  std::condition_variable not_full_;    // senders wait here
  std::condition_variable not_empty_;   // receivers wait here
  std::deque<std::int64_t> items_;
  bool closed_ = false;
};

}  // namespace gnm::ch05
