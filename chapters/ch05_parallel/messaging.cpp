// Sections 5.4–5.5: memory-safe communication between threads; channels versus shared state.
#include "messaging.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <sstream>
#include <thread>

#include "bounded_queue.hpp"
#include "gnm/core/channel.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/timer.hpp"
#include "spsc_ring.hpp"

namespace chapter5 {
namespace {

// Runs fn(t) on `threads` new threads and joins them; returns the wall time in ms.
double run_threads(int threads, const std::function<void(int)>& fn) {
  gnm::HostTimer timer;
  {
    // jthread joins in its destructor, also when starting a later thread throws.
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(fn, t);
  }
  return timer.elapsed_ms();
}

// ---- 5.4: one counter, four ways ---------------------------------------------------------------

//! [counters]
// A race condition without a data race: every access is atomic (no undefined behaviour, TSan is
// silent), but load-then-store is not one step, so two threads can both read 41 and both store 42.
void add_load_store(std::atomic<std::int64_t>& c, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}
// One indivisible read-modify-write: correct, but every increment fights for the cache line.
void add_fetch_add(std::atomic<std::int64_t>& c, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) c.fetch_add(1, std::memory_order_relaxed);
}
// A mutex makes the plain ++ safe; the lock is the cost.
void add_locked(std::mutex& m, std::int64_t& c, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    std::lock_guard lock(m);
    ++c;
  }
}
// Ownership instead of sharing: each thread counts into its own variable, and the totals are
// combined after join() — which synchronises, so reading them needs nothing else.
std::int64_t add_owned(std::int64_t n) {
  std::int64_t mine = 0;
  for (std::int64_t i = 0; i < n; ++i) mine = mine + 1;
  return mine;
}
//! [counters]

// ---- 5.4: ownership through a channel ----------------------------------------------------------

//! [ownership]
struct Message {
  std::int64_t id = 0;
  std::vector<float> payload;  // filled by the producer, read by the consumer: never both at once
  float checksum = 0;
};

std::unique_ptr<Message> make_message(std::int64_t id) {
  auto m = std::make_unique<Message>();
  m->id = id;
  m->payload.resize(16);
  for (std::size_t k = 0; k < m->payload.size(); ++k) {
    m->payload[k] = static_cast<float>((id * 31 + static_cast<std::int64_t>(k)) % 1000);
  }
  m->checksum = std::accumulate(m->payload.begin(), m->payload.end(), 0.0f);
  return m;
}
//! [ownership]

}  // namespace

SafetyTable run_safety(bool quick, int threads) {
  SafetyTable t;
  const int n_threads = std::max(threads, 2);
  const std::int64_t per_thread = quick ? 20000 : 2000000;
  const std::int64_t expected = per_thread * n_threads;
  auto add = [&](const std::string& v, double ms, std::int64_t count, bool exact) {
    t.counters.push_back({v, n_threads, ms, count, expected, exact, !exact || count == expected});
  };
  {
    std::atomic<std::int64_t> c{0};
    const double ms = run_threads(n_threads, [&](int) { add_load_store(c, per_thread); });
    add("atomic load, then store (race condition)", ms, c.load(), false);
  }
  {
    std::atomic<std::int64_t> c{0};
    const double ms = run_threads(n_threads, [&](int) { add_fetch_add(c, per_thread); });
    add("atomic fetch_add", ms, c.load(), true);
  }
  {
    std::mutex m;
    std::int64_t c = 0;
    const double ms = run_threads(n_threads, [&](int) { add_locked(m, c, per_thread); });
    add("std::mutex around ++", ms, c, true);
  }
  {
    std::vector<std::int64_t> partial(static_cast<std::size_t>(n_threads));
    const double ms = run_threads(n_threads, [&](int i) {
      partial[static_cast<std::size_t>(i)] = add_owned(per_thread);  // one writer per element
    });
    add("per-thread counters, summed after join", ms,
        std::accumulate(partial.begin(), partial.end(), std::int64_t{0}), true);
  }

  // Ownership: 2 producers and 2 consumers move unique_ptr<Message> through a Channel.
  t.messages = quick ? 2000 : 200000;
  gnm::Channel<std::unique_ptr<Message>> channel(64);
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(t.messages));
  std::atomic<std::int64_t> intact{0};
  std::atomic<bool> moved_from_empty{true};
  std::atomic<int> producers_left{2};
  gnm::HostTimer timer;
  run_threads(4, [&](int role) {
    if (role < 2) {  // producers: ids role, role + 2, role + 4, …
      for (std::int64_t id = role; id < t.messages; id += 2) {
        //! [send_ownership]
        auto m = make_message(id);
        channel.send(std::move(m));  // the channel owns it now…
        // …and `m` is an empty unique_ptr: this thread can no longer reach the message. C++
        // does not forbid touching `m` again (it would be a null dereference, not a race); Rust
        // would reject the use after move at compile time.
        if (m) moved_from_empty.store(false);
        //! [send_ownership]
      }
      if (producers_left.fetch_sub(1) == 1) channel.close();  // the last producer closes
    } else {  // consumers
      while (auto m = channel.receive()) {
        const Message& msg = **m;
        const float sum = std::accumulate(msg.payload.begin(), msg.payload.end(), 0.0f);
        if (sum == msg.checksum && msg.id >= 0 && msg.id < t.messages) {
          if (seen[static_cast<std::size_t>(msg.id)].fetch_add(1) == 0) intact.fetch_add(1);
        }
      }
    }
  });
  t.ownership_ms = timer.elapsed_ms();
  const bool each_once = std::all_of(seen.begin(), seen.end(), [](const std::atomic<int>& s) { return s.load() == 1; });
  t.received_intact = each_once ? intact.load() : -1;
  t.moved_from_is_empty = moved_from_empty.load();
  t.verified = t.received_intact == t.messages && t.moved_from_is_empty;
  for (const auto& r : t.counters) t.verified = t.verified && r.ok;
  return t;
}

namespace {

// ---- 5.5: producer/consumer throughput ---------------------------------------------------------

// What the consumers got: count, sum and sum of squares (mod 2^64) of the values. Producer p
// sends p·n … p·n + n − 1, so the expected totals are known; a lost or duplicated value changes
// the count or the sums.
struct Tally {
  std::atomic<std::uint64_t> count{0}, sum{0}, squares{0};
  void add(std::uint64_t c, std::uint64_t s, std::uint64_t q) {
    count.fetch_add(c, std::memory_order_relaxed);
    sum.fetch_add(s, std::memory_order_relaxed);
    squares.fetch_add(q, std::memory_order_relaxed);
  }
};

struct Local {  // a consumer's private running totals, added to the Tally once at the end
  std::uint64_t count = 0, sum = 0, squares = 0;
  void take(std::int64_t v) {
    const auto u = static_cast<std::uint64_t>(v);
    ++count;
    sum += u;
    squares += u * u;
  }
};

bool tally_ok(const Tally& t, std::uint64_t total) {
  std::uint64_t sum = 0, squares = 0;
  for (std::uint64_t v = 0; v < total; ++v) {
    sum += v;
    squares += v * v;
  }
  return t.count.load() == total && t.sum.load() == sum && t.squares.load() == squares;
}

using Mechanism = std::function<void(int producers, int consumers, std::int64_t n, Tally& tally)>;

//! [channel_pc]
void via_channel(int producers, int consumers, std::int64_t n, Tally& tally) {
  gnm::Channel<std::int64_t> ch(1024);
  std::atomic<int> left{producers};
  run_threads(producers + consumers, [&](int role) {
    if (role < producers) {
      for (std::int64_t i = 0; i < n; ++i) ch.send(role * n + i);
      if (left.fetch_sub(1) == 1) ch.close();  // the last producer out closes the channel
    } else {
      Local mine;
      while (auto v = ch.receive()) mine.take(*v);  // ends when closed and drained
      tally.add(mine.count, mine.sum, mine.squares);
    }
  });
}
//! [channel_pc]

void via_bounded_queue(int producers, int consumers, std::int64_t n, Tally& tally) {
  gnm::ch05::BoundedQueue q(1024);
  std::atomic<int> left{producers};
  run_threads(producers + consumers, [&](int role) {
    if (role < producers) {
      for (std::int64_t i = 0; i < n; ++i) q.send(role * n + i);
      if (left.fetch_sub(1) == 1) q.close();
    } else {
      Local mine;
      while (auto v = q.receive()) mine.take(*v);
      tally.add(mine.count, mine.sum, mine.squares);
    }
  });
}

//! [shared_deque]
// Shared state: one deque behind one mutex. Consumers take *everything* queued in one lock
// (swap), so under load the lock is taken once per burst instead of once per value. Unbounded:
// nothing slows a producer down if the consumers fall behind (no back-pressure).
void via_shared_deque(int producers, int consumers, std::int64_t n, Tally& tally) {
  std::mutex m;
  std::condition_variable ready;
  std::deque<std::int64_t> queue;
  int producing = producers;
  run_threads(producers + consumers, [&](int role) {
    if (role < producers) {
      for (std::int64_t i = 0; i < n; ++i) {
        {
          std::lock_guard lock(m);
          queue.push_back(role * n + i);
        }
        ready.notify_one();
      }
      std::lock_guard lock(m);
      if (--producing == 0) ready.notify_all();
    } else {
      Local mine;
      std::deque<std::int64_t> taken;
      for (;;) {
        {
          std::unique_lock lock(m);
          ready.wait(lock, [&] { return producing == 0 || !queue.empty(); });
          if (queue.empty()) break;  // no producers left and nothing queued
          taken.swap(queue);
        }
        for (std::int64_t v : taken) mine.take(v);
        taken.clear();
      }
      tally.add(mine.count, mine.sum, mine.squares);
    }
  });
}
//! [shared_deque]

void via_channel_of_batches(int producers, int consumers, std::int64_t n, Tally& tally) {
  constexpr std::int64_t kBatch = 256;
  gnm::Channel<std::vector<std::int64_t>> ch(16);
  std::atomic<int> left{producers};
  run_threads(producers + consumers, [&](int role) {
    if (role < producers) {
      std::vector<std::int64_t> batch;
      for (std::int64_t i = 0; i < n; ++i) {
        batch.push_back(role * n + i);
        if (static_cast<std::int64_t>(batch.size()) == kBatch || i + 1 == n) {
          ch.send(std::move(batch));
          batch = {};
          batch.reserve(kBatch);
        }
      }
      if (left.fetch_sub(1) == 1) ch.close();
    } else {
      Local mine;
      while (auto b = ch.receive()) {
        for (std::int64_t v : *b) mine.take(v);
      }
      tally.add(mine.count, mine.sum, mine.squares);
    }
  });
}

//! [spsc_pairs]
// Lock-free: one SPSC ring per producer/consumer pair (the ring allows exactly one of each), so
// 2P2C means two independent rings. A full or empty ring yields the core instead of spinning:
// on a 2-core machine the other side needs it to make progress.
void via_spsc_rings(int producers, int consumers, std::int64_t n, Tally& tally) {
  const int pairs = std::min(producers, consumers);
  std::vector<std::unique_ptr<gnm::ch05::SpscRing>> rings;
  for (int p = 0; p < pairs; ++p) rings.push_back(std::make_unique<gnm::ch05::SpscRing>(1024));
  run_threads(2 * pairs, [&](int role) {
    gnm::ch05::SpscRing& ring = *rings[static_cast<std::size_t>(role % pairs)];
    if (role < pairs) {
      for (std::int64_t i = 0; i < n; ++i) {
        while (!ring.try_push(role * n + i)) std::this_thread::yield();
      }
    } else {
      Local mine;
      for (std::int64_t got = 0; got < n;) {  // the count is known: no close needed
        if (auto v = ring.try_pop()) {
          mine.take(*v);
          ++got;
        } else {
          std::this_thread::yield();
        }
      }
      tally.add(mine.count, mine.sum, mine.squares);
    }
  });
}
//! [spsc_pairs]

//! [atomic_claim]
// No producers at all: when the work is known in advance, consumers claim it from a filled
// array with one fetch_add per item (or per `grab` items).
void via_atomic_claim(int producers, int consumers, std::int64_t n, Tally& tally, std::int64_t grab) {
  const std::int64_t total = producers * n;
  std::vector<std::int64_t> work(static_cast<std::size_t>(total));
  std::iota(work.begin(), work.end(), std::int64_t{0});
  std::atomic<std::int64_t> next{0};
  run_threads(consumers, [&](int) {
    Local mine;
    for (;;) {
      const std::int64_t first = next.fetch_add(grab, std::memory_order_relaxed);
      if (first >= total) break;
      const std::int64_t last = std::min(first + grab, total);
      for (std::int64_t i = first; i < last; ++i) mine.take(work[static_cast<std::size_t>(i)]);
    }
    tally.add(mine.count, mine.sum, mine.squares);
  });
}
//! [atomic_claim]

}  // namespace

ThroughputTable run_throughput(bool quick) {
  ThroughputTable t;
  t.per_producer = quick ? 20000 : 1000000;
  const int repeat = quick ? 1 : 3;
  t.runs = repeat;
  const std::vector<std::pair<std::string, Mechanism>> mechanisms = {
      {"gnm::Channel (per value)", via_channel},
      {"BoundedQueue (ex 5.2, per value)", via_bounded_queue},
      {"mutex + deque, drained in one go", via_shared_deque},
      {"gnm::Channel of 256-value batches", via_channel_of_batches},
      {"SPSC ring (ex 5.3), one per pair", via_spsc_rings},
      {"atomic index over a filled array, 1", [](int p, int c, std::int64_t n, Tally& tl) { via_atomic_claim(p, c, n, tl, 1); }},
      {"atomic index over a filled array, 256", [](int p, int c, std::int64_t n, Tally& tl) { via_atomic_claim(p, c, n, tl, 256); }},
  };
  for (const auto& [producers, consumers] : {std::pair{1, 1}, std::pair{2, 2}}) {
    for (const auto& [name, run] : mechanisms) {
      ThroughputRow r;
      r.mechanism = name;
      r.producers = producers;
      r.consumers = consumers;
      const auto total = static_cast<std::uint64_t>(producers * t.per_producer);
      // Contended locks are erratic (who wakes whom, and when, varies): median of a few runs.
      std::vector<double> ms;
      for (int rep = 0; rep < repeat; ++rep) {
        Tally tally;
        gnm::HostTimer timer;
        run(producers, consumers, t.per_producer, tally);
        ms.push_back(timer.elapsed_ms());
        r.exactly_once = r.exactly_once && tally_ok(tally, total);
      }
      r.ms = gnm::summarize(ms).median_ms;
      r.msgs_per_s = static_cast<double>(total) / (r.ms * 1e-3);
      t.rows.push_back(r);
    }
  }
  t.verified = std::all_of(t.rows.begin(), t.rows.end(), [](const ThroughputRow& r) { return r.exactly_once; });
  return t;
}

void print(const SafetyTable& t) {
  std::printf("== 5.4 Memory-safe communication ==\n");
  std::printf("  %-42s %7s %9s %12s %12s\n", "shared counter", "threads", "ms", "count", "expected");
  for (const auto& r : t.counters) {
    std::printf("  %-42s %7d %9.2f %12lld %12lld%s%s\n", r.variant.c_str(), r.threads, r.ms,
                static_cast<long long>(r.count), static_cast<long long>(r.expected),
                r.count != r.expected ? "  (lost updates)" : "", r.ok ? "" : "  FAILED");
  }
  std::printf("  unique_ptr messages through a Channel (2P2C): %lld sent, %lld received intact "
              "exactly once, moved-from pointers empty: %s, %.1f ms\n",
              static_cast<long long>(t.messages), static_cast<long long>(t.received_intact),
              t.moved_from_is_empty ? "yes" : "NO", t.ownership_ms);
  std::printf("  5.4: %s\n\n", t.verified ? "ok" : "FAILED");
}

std::string to_json(const SafetyTable& t) {
  std::ostringstream j;
  j << "{\"rows\": [";
  for (std::size_t i = 0; i < t.counters.size(); ++i) {
    const auto& r = t.counters[i];
    j << (i ? ", " : "") << "{\"counter\": " << gnm::json_quote(r.variant)
      << ", \"threads\": " << r.threads << ", \"ms\": " << gnm::json_number(r.ms)
      << ", \"count\": " << r.count << ", \"expected\": " << r.expected
      << ", \"ok\": " << (r.ok ? "true" : "false") << "}";
  }
  j << "], \"ownership messages\": " << t.messages << ", \"received intact once\": " << t.received_intact
    << ", \"moved-from empty\": " << (t.moved_from_is_empty ? "true" : "false")
    << ", \"ownership ms\": " << gnm::json_number(t.ownership_ms)
    << ", \"verified\": " << (t.verified ? "true" : "false") << "}";
  return j.str();
}

void print(const ThroughputTable& t) {
  std::printf("== 5.5 Channels versus shared state: producer/consumer throughput ==\n");
  std::printf("  %lld values per producer, median of %d runs; every run checks count, sum and sum "
              "of squares\n", static_cast<long long>(t.per_producer), t.runs);
  std::printf("  %-40s %5s %9s %14s %13s\n", "mechanism", "P×C", "ms", "values/s", "exactly once");
  for (const auto& r : t.rows) {
    std::printf("  %-40s %2d×%-2d %9.2f %14.3g %13s%s\n", r.mechanism.c_str(), r.producers,
                r.consumers, r.ms, r.msgs_per_s, r.exactly_once ? "yes" : "NO",
                r.exactly_once ? "" : "  FAILED");
  }
  std::printf("  5.5: %s\n\n", t.verified ? "ok" : "FAILED");
}

std::string to_json(const ThroughputTable& t) {
  std::ostringstream j;
  j << "{\"per_producer\": " << t.per_producer << ", \"runs\": " << t.runs << ", \"rows\": [";
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    j << (i ? ", " : "") << "{\"mechanism\": " << gnm::json_quote(r.mechanism)
      << ", \"producers\": " << r.producers << ", \"consumers\": " << r.consumers
      << ", \"ms\": " << gnm::json_number(r.ms) << ", \"values/s\": " << gnm::json_number(r.msgs_per_s)
      << ", \"exactly once\": " << (r.exactly_once ? "true" : "false") << "}";
  }
  j << "], \"verified\": " << (t.verified ? "true" : "false") << "}";
  return j.str();
}

}  // namespace chapter5
