// The thread pool: exact coverage of every index, exceptions, nesting, inline single thread,
// clean shutdown. Run under the tsan preset too (data races in the pool would show there).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/thread_pool.hpp"

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Runs parallel_for over [begin, end) and checks: every index exactly once, chunks inside the
// range and non-empty, and each chunk at least `grain` long unless it is the whole range.
void check_coverage(gnm::ThreadPool& pool, std::int64_t begin, std::int64_t end,
                    std::int64_t grain) {
  const std::int64_t n = std::max<std::int64_t>(end - begin, 0);
  std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
  std::atomic<int> calls{0};
  std::atomic<bool> bad_chunk{false};
  pool.parallel_for(begin, end, grain, [&](std::int64_t lo, std::int64_t hi) {
    calls.fetch_add(1);
    const bool whole = lo == begin && hi == end;
    if (lo < begin || hi > end || lo >= hi || (hi - lo < grain && !whole)) bad_chunk = true;
    for (std::int64_t i = lo; i < hi && i >= begin && i < end; ++i) {
      hits[static_cast<std::size_t>(i - begin)].fetch_add(1);
    }
  });
  const std::string where = "threads " + std::to_string(pool.size()) + ", [" +
                            std::to_string(begin) + ", " + std::to_string(end) + "), grain " +
                            std::to_string(grain);
  EXPECT_FALSE(bad_chunk.load()) << where;
  if (n == 0) {
    EXPECT_EQ(calls.load(), 0) << where;
  }
  for (std::int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(hits[static_cast<std::size_t>(i)].load(), 1) << where << ", index " << begin + i;
  }
}

}  // namespace

TEST(ThreadPool, ParallelForCoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 4, 7}) {
    gnm::ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (std::int64_t begin : {0, -5, 1000}) {
      for (std::int64_t length : {0, 1, 2, 3, 7, 16, 63, 64, 65, 1000, 4099}) {
        for (std::int64_t grain : {1, 2, 5, 64, 1000, 5000}) {
          check_coverage(pool, begin, begin + length, grain);
        }
      }
    }
  }
}

TEST(ThreadPool, EmptyOrReversedRangeMakesNoCall) {
  gnm::ThreadPool pool(2);
  int calls = 0;
  pool.parallel_for(5, 5, 1, [&](std::int64_t, std::int64_t) { ++calls; });
  pool.parallel_for(5, 2, 1, [&](std::int64_t, std::int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ThreadPool, WorkIsSpreadOverTheThreads) {
  // With chunks that take a while, more than one thread takes part.
  gnm::ThreadPool pool(2);
  std::mutex m;
  std::set<std::thread::id> ids;
  pool.parallel_for(0, 64, 1, [&](std::int64_t, std::int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard lock(m);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_GE(ids.size(), 1u);
  EXPECT_LE(ids.size(), 2u);
}

TEST(ThreadPool, RunOnAllRunsEachIndexOnceCallerIsZero) {
  for (int threads : {1, 2, 5}) {
    gnm::ThreadPool pool(threads);
    for (int rep = 0; rep < 50; ++rep) {
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(threads));
      std::vector<std::thread::id> ids(static_cast<std::size_t>(threads));
      pool.run_on_all([&](int index) {
        hits[static_cast<std::size_t>(index)].fetch_add(1);
        ids[static_cast<std::size_t>(index)] = std::this_thread::get_id();
      });
      for (int i = 0; i < threads; ++i) ASSERT_EQ(hits[static_cast<std::size_t>(i)].load(), 1);
      EXPECT_EQ(ids[0], std::this_thread::get_id());
      EXPECT_EQ(std::set<std::thread::id>(ids.begin(), ids.end()).size(),
                static_cast<std::size_t>(threads));
    }
  }
}

TEST(ThreadPool, OneThreadRunsInlineOnTheCaller) {
  gnm::ThreadPool pool(1);
  const auto caller = std::this_thread::get_id();
  int calls = 0;
  pool.parallel_for(0, 1000, 1, [&](std::int64_t lo, std::int64_t hi) {
    ++calls;  // no synchronisation needed: everything runs on this thread
    EXPECT_EQ(std::this_thread::get_id(), caller);
    EXPECT_EQ(lo, 0);
    EXPECT_EQ(hi, 1000);
  });
  EXPECT_EQ(calls, 1);
  pool.run_on_all([&](int index) {
    EXPECT_EQ(index, 0);
    EXPECT_EQ(std::this_thread::get_id(), caller);
  });
}

TEST(ThreadPool, ExceptionsPropagateAfterEveryChunkHasStopped) {
  for (int threads : {1, 2, 4}) {
    gnm::ThreadPool pool(threads);
    std::atomic<int> running{0};
    try {
      pool.parallel_for(0, 100, 1, [&](std::int64_t lo, std::int64_t) {
        running.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        running.fetch_sub(1);
        if (lo % 3 == 0) throw std::runtime_error("chunk " + std::to_string(lo) + " failed");
      });
      FAIL() << "expected the chunk's exception";
    } catch (const std::runtime_error& e) {
      EXPECT_TRUE(contains(e.what(), "failed")) << e.what();
      EXPECT_EQ(running.load(), 0) << "rethrown while a chunk was still running";
    }
    // The pool stays usable after a failed job.
    check_coverage(pool, 0, 1000, 7);
  }
}

TEST(ThreadPool, RunOnAllRethrowsAfterAllParticipantsFinished) {
  gnm::ThreadPool pool(3);
  std::atomic<int> finished{0};
  EXPECT_THROW(pool.run_on_all([&](int index) {
                 if (index == 1) throw gnm::ShapeError("participant 1");
                 std::this_thread::sleep_for(std::chrono::milliseconds(2));
                 finished.fetch_add(1);
               }),
               gnm::ShapeError);
  EXPECT_EQ(finished.load(), 2);
}

TEST(ThreadPool, NestedCallsRunInlineWithoutDeadlock) {
  gnm::ThreadPool pool(2);
  constexpr std::int64_t kOuter = 16;
  constexpr std::int64_t kInner = 100;
  std::vector<std::atomic<int>> hits(kOuter * kInner);
  pool.parallel_for(0, kOuter, 1, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t o = lo; o < hi; ++o) {
      pool.parallel_for(0, kInner, 1, [&](std::int64_t a, std::int64_t b) {
        for (std::int64_t i = a; i < b; ++i) hits[static_cast<std::size_t>(o * kInner + i)]++;
      });
    }
  });
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);

  std::atomic<int> inner_calls{0};
  pool.run_on_all([&](int) { pool.run_on_all([&](int) { inner_calls.fetch_add(1); }); });
  EXPECT_EQ(inner_calls.load(), 4);  // 2 outer participants × 2 inline inner indices
}

TEST(ThreadPool, ConcurrentCallersAreSerialised) {
  gnm::ThreadPool pool(2);
  std::atomic<std::int64_t> sum{0};
  auto submit = [&] {
    for (int rep = 0; rep < 50; ++rep) {
      pool.parallel_for(0, 100, 3, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t i = lo; i < hi; ++i) sum.fetch_add(i);
      });
    }
  };
  std::thread other(submit);
  submit();
  other.join();
  EXPECT_EQ(sum.load(), 2 * 50 * (99 * 100 / 2));
}

TEST(ThreadPool, DestructionJoinsIdleAndUsedPools) {
  for (int rep = 0; rep < 20; ++rep) {
    std::vector<int> out(64, 0);
    {
      gnm::ThreadPool idle(3);  // never used
      gnm::ThreadPool pool(3);
      pool.parallel_for(0, 64, 1, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t i = lo; i < hi; ++i) out[static_cast<std::size_t>(i)] = 1;
      });
    }
    for (int v : out) ASSERT_EQ(v, 1);
  }
}

TEST(ThreadPool, BadArgumentsAreErrorsNamingTheValue) {
  for (int n : {0, -1, gnm::ThreadPool::kMaxThreads + 1}) {
    try {
      gnm::ThreadPool pool(n);
      FAIL() << "expected gnm::Error for " << n << " threads";
    } catch (const gnm::Error& e) {
      EXPECT_TRUE(contains(e.what(), "num_threads = " + std::to_string(n))) << e.what();
    }
  }
  gnm::ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(0, 10, 0, [](std::int64_t, std::int64_t) {}), gnm::Error);
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_THROW(pool.parallel_for(kMin, kMax, 1, [](std::int64_t, std::int64_t) {}), gnm::Error);
  check_coverage(pool, kMax - 100, kMax, 7);  // near the end of the range: no overflow
}

TEST(ThreadPool, ThreadCountParsing) {
  EXPECT_EQ(gnm::parse_thread_count("GNM_NUM_THREADS", "4"), 4);
  EXPECT_EQ(gnm::parse_thread_count("GNM_NUM_THREADS", "1"), 1);
  for (const char* bad : {"", "0", "-2", "abc", "3x", " 3", "2.5", "99999999999", "1025"}) {
    try {
      (void)gnm::parse_thread_count("GNM_NUM_THREADS", bad);
      FAIL() << "expected gnm::Error for '" << bad << "'";
    } catch (const gnm::Error& e) {
      EXPECT_TRUE(contains(e.what(), "GNM_NUM_THREADS")) << e.what();
      EXPECT_TRUE(contains(e.what(), std::string("got '") + bad + "'")) << e.what();
    }
  }
}

TEST(ThreadPool, DefaultPoolIsOneSharedPool) {
  gnm::ThreadPool& a = gnm::default_thread_pool();
  gnm::ThreadPool& b = gnm::default_thread_pool();
  EXPECT_EQ(&a, &b);
  EXPECT_GE(a.size(), 1);
  check_coverage(a, 0, 777, 10);
}
