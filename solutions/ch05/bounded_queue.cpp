// Exercise 5.2: a bounded blocking queue with close (task statement in
// exercises/ch05/bounded_queue.hpp).
#include "bounded_queue.hpp"

#include "gnm/core/check.hpp"

namespace gnm::ch05 {

BoundedQueue::BoundedQueue(std::size_t capacity) : capacity_(capacity) {
  GNM_CHECK(capacity >= 1, "a bounded queue needs room for at least one value", capacity);
}

//! [send]
bool BoundedQueue::send(std::int64_t value) {
  // BEGIN SOLUTION("ex 5.2", "std::unique_lock the mutex; not_full_.wait(lock, predicate: closed_ or room); if closed_ return false; push_back; unlock; not_empty_.notify_one(); return true")
  std::unique_lock lock(mutex_);
  // The predicate form re-checks after every wake-up: condition variables wake spuriously, and
  // another sender may have taken the room between the notify and this thread running.
  not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
  if (closed_) return false;
  items_.push_back(value);
  lock.unlock();  // the woken receiver would otherwise block at once on the mutex we still hold
  not_empty_.notify_one();
  return true;
  // END SOLUTION
}
//! [send]

//! [receive]
std::optional<std::int64_t> BoundedQueue::receive() {
  // BEGIN SOLUTION("ex 5.2", "wait on not_empty_ until closed_ or !items_.empty(); empty means closed and drained: nullopt; else pop_front, unlock, not_full_.notify_one()")
  std::unique_lock lock(mutex_);
  not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
  if (items_.empty()) return std::nullopt;  // closed, and everything sent before was received
  const std::int64_t value = items_.front();
  items_.pop_front();
  lock.unlock();
  not_full_.notify_one();
  return value;
  // END SOLUTION
}
//! [receive]

//! [close]
void BoundedQueue::close() {
  // BEGIN SOLUTION("ex 5.2", "set closed_ = true while holding the mutex, then notify_all on both condition variables")
  {
    // Setting the flag under the mutex matters: a waiter checks the predicate under the same
    // mutex, so it either sees closed_ or is already asleep when notify_all comes (no lost wake-up).
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  not_full_.notify_all();  // every sender and every receiver must re-check: notify_one would
  not_empty_.notify_all();  // leave the others asleep forever
  // END SOLUTION
}
//! [close]

std::size_t BoundedQueue::size() const {
  std::lock_guard lock(mutex_);
  return items_.size();
}

}  // namespace gnm::ch05
