// Sections 5.4 and 5.5: communication between threads.
//   5.4 memory safety — a counter shared four ways (a race condition that is not a data race,
//       fetch_add, a mutex, per-thread counters), and ownership moving through a Channel of
//       unique_ptr messages, each checked to arrive exactly once and intact;
//   5.5 channels versus shared state — producer/consumer throughput (1P1C, 2P2C) of gnm::Channel,
//       the exercise's BoundedQueue, a mutex-guarded deque drained in one go, a channel of batches,
//       the lock-free SPSC ring of exercise 5.3, and an atomic index over a filled array.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chapter5 {

struct CounterRow {
  std::string variant;
  int threads = 2;
  double ms = 0;
  std::int64_t count = 0;
  std::int64_t expected = 0;
  bool must_be_exact = true;  // false for the racy variant, which is shown, not required
  bool ok = true;
};

struct SafetyTable {
  std::vector<CounterRow> counters;
  // Ownership through a channel: messages sent, received intact exactly once, moved-from empty.
  std::int64_t messages = 0;
  std::int64_t received_intact = 0;
  bool moved_from_is_empty = false;
  double ownership_ms = 0;
  bool verified = false;
};

struct ThroughputRow {
  std::string mechanism;
  int producers = 1;
  int consumers = 1;
  double ms = 0;
  double msgs_per_s = 0;
  bool exactly_once = true;   // count, sum and sum of squares of the values received match
};

struct ThroughputTable {
  std::int64_t per_producer = 0;
  int runs = 1;  // each row is the median of this many runs
  std::vector<ThroughputRow> rows;
  bool verified = false;
};

SafetyTable run_safety(bool quick, int threads);
void print(const SafetyTable& t);
std::string to_json(const SafetyTable& t);

ThroughputTable run_throughput(bool quick);
void print(const ThroughputTable& t);
std::string to_json(const ThroughputTable& t);

}  // namespace chapter5
