// Exercise 5.3: a lock-free SPSC ring buffer (task statement in exercises/ch05/spsc_ring.hpp).
#include "spsc_ring.hpp"

#include "gnm/core/check.hpp"

namespace gnm::ch05 {

SpscRing::SpscRing(std::size_t capacity) {
  GNM_CHECK(capacity >= 1 && (capacity & (capacity - 1)) == 0,
            "an SPSC ring needs a power-of-two capacity", capacity);
  slots_.resize(capacity);
  mask_ = capacity - 1;
}

//! [spsc]
bool SpscRing::try_push(std::int64_t value) {
  // BEGIN SOLUTION("ex 5.3", "t = tail_ (relaxed: only you write it); if t - cached_head_ == capacity, refresh cached_head_ = head_.load(acquire) and return false if still full; write slots_[t & mask_]; tail_.store(t + 1, release)")
  const std::size_t t = tail_.load(std::memory_order_relaxed);  // our own index
  if (t - cached_head_ == capacity()) {
    // Looks full: ask the consumer how far it has got. Acquire pairs with its release in try_pop,
    // so its read of the slot we are about to overwrite has finished.
    cached_head_ = head_.load(std::memory_order_acquire);
    if (t - cached_head_ == capacity()) return false;
  }
  slots_[t & mask_] = value;
  tail_.store(t + 1, std::memory_order_release);  // publish: the slot write happens-before this
  return true;
  // END SOLUTION
}

std::optional<std::int64_t> SpscRing::try_pop() {
  // BEGIN SOLUTION("ex 5.3", "h = head_ (relaxed); if h == cached_tail_, refresh cached_tail_ = tail_.load(acquire) and return nullopt if still equal; read slots_[h & mask_]; head_.store(h + 1, release)")
  const std::size_t h = head_.load(std::memory_order_relaxed);  // our own index
  if (h == cached_tail_) {
    // Looks empty: acquire pairs with the producer's release, so the slot's value is visible.
    cached_tail_ = tail_.load(std::memory_order_acquire);
    if (h == cached_tail_) return std::nullopt;
  }
  const std::int64_t value = slots_[h & mask_];
  head_.store(h + 1, std::memory_order_release);  // hand the slot back only after reading it
  return value;
  // END SOLUTION
}
//! [spsc]

}  // namespace gnm::ch05
