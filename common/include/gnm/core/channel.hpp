/// \file
/// Channel<T>: a bounded, multi-producer multi-consumer queue with close semantics.
///
/// The engine's way for threads to hand work to each other (the prefetching data loader of
/// chapter 10 is a producer thread feeding the training loop through one). Ownership of each value
/// moves through the channel, so producer and consumer never share it (chapter 5.4).
///
/// Close semantics, as in Go: close() wakes every waiter. A closed channel accepts no more values
/// (send() returns false), while receivers still drain what was queued before the close; once it
/// is empty, receive() returns std::nullopt. So a consumer loop is simply
/// `while (auto v = ch.receive()) use(*v);`.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "gnm/core/check.hpp"

namespace gnm {

/// A bounded MPMC queue of `T` with blocking send/receive, non-blocking try variants and close().
template <class T>
class Channel {
 public:
  /// A channel that holds at most `capacity` values (>= 1; gnm::Error naming it otherwise).
  explicit Channel(std::size_t capacity) : capacity_(capacity) {
    GNM_CHECK(capacity >= 1, "a channel needs room for at least one value", capacity);
  }

  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  /// Waits for room, then enqueues `value`. Returns false (and drops `value`) when the channel
  /// is or becomes closed while waiting.
  bool send(T value) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return closed_ || queue_.size() < capacity_; });
    if (closed_) return false;
    queue_.push_back(std::move(value));
    lock.unlock();
    not_empty_.notify_one();
    return true;
  }

  /// Enqueues `value` only if there is room right now and the channel is open.
  bool try_send(T value) {
    {
      std::lock_guard lock(mutex_);
      if (closed_ || queue_.size() >= capacity_) return false;
      queue_.push_back(std::move(value));
    }
    not_empty_.notify_one();
    return true;
  }

  /// Waits for a value and dequeues it; std::nullopt once the channel is closed and drained.
  std::optional<T> receive() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !queue_.empty(); });
    if (queue_.empty()) return std::nullopt;  // closed and drained
    T value = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return value;
  }

  /// Dequeues a value if one is queued right now; std::nullopt otherwise.
  std::optional<T> try_receive() {
    std::optional<T> value;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) return std::nullopt;
      value.emplace(std::move(queue_.front()));
      queue_.pop_front();
    }
    not_full_.notify_one();
    return value;
  }

  /// Closes the channel and wakes every waiting sender and receiver. Idempotent.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  /// True once close() has been called.
  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }

  /// Values queued now (a snapshot: other threads may change it at once).
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
  }

  /// The most values the channel holds.
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<T> queue_;
  bool closed_ = false;
};

}  // namespace gnm
