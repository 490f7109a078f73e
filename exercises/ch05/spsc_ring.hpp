// Exercise 5.3 — a lock-free single-producer single-consumer ring buffer (section 5.5).
//
// Write, in exercises/ch05/spsc_ring.cpp:
//   5.3  SpscRing::try_push() and try_pop() with acquire/release atomics
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch05/exercise/SpscRing
// and run the same tests in the tsan build: a missing acquire or release is a data race on the
// slots, and ThreadSanitizer reports it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace gnm::ch05 {

/// A bounded FIFO between exactly one producer thread (try_push) and one consumer thread
/// (try_pop), with no lock: each index is written by one thread only.
///
/// head_ counts the values popped so far, tail_ the values pushed so far; both only grow (a
/// 64-bit counter does not wrap in practice), value number k lives in slots_[k & mask_], and the
/// ring holds tail_ − head_ values (full when that equals capacity()).
///
/// The memory-ordering contract is the whole exercise:
///  - The producer writes the slot, *then* publishes it with tail_.store(t + 1, release).
///    A consumer that reads that tail with an acquire load is guaranteed to see the slot's value.
///  - The consumer reads the slot, *then* frees it with head_.store(h + 1, release). A producer
///    that reads that head with an acquire load may overwrite the slot safely.
///  - A thread reads its own index with a relaxed load (nobody else writes it).
///
/// To keep the two cores from bouncing the cache lines of head_ and tail_ on every call, each
/// side keeps a private copy of the other side's index (cached_head_, cached_tail_) and re-reads
/// the shared one only when the copy says "full" or "empty".
class SpscRing {
 public:
  /// Given. A ring of `capacity` slots: a power of two >= 1 (gnm::Error naming it otherwise).
  explicit SpscRing(std::size_t capacity);

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  /// Ex 5.3a. Producer only. Stores `value` and returns true, or returns false when full.
  bool try_push(std::int64_t value);

  /// Ex 5.3b. Consumer only. Takes the oldest value, or std::nullopt when empty.
  std::optional<std::int64_t> try_pop();

  /// Given. Number of slots.
  std::size_t capacity() const noexcept { return mask_ + 1; }

 private:
  std::vector<std::int64_t> slots_;
  std::size_t mask_ = 0;  // capacity − 1
  // Each index on its own 64-byte cache line, away from the other side's (no false sharing).
  alignas(64) std::atomic<std::size_t> head_{0};  // written by the consumer
  alignas(64) std::size_t cached_tail_ = 0;       // the consumer's copy of tail_
  alignas(64) std::atomic<std::size_t> tail_{0};  // written by the producer
  alignas(64) std::size_t cached_head_ = 0;       // the producer's copy of head_
};

}  // namespace gnm::ch05
