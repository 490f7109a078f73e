#include "gnm/core/thread_pool.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "gnm/core/check.hpp"

namespace gnm {
namespace {

// The pool whose job the current thread is running (nullptr outside any job): a call into the
// same pool from there runs inline, since every other participant is busy with the outer job.
thread_local const ThreadPool* tls_current_pool = nullptr;

// Note [Spin then sleep]: waking a thread blocked on a condition variable costs 5–50 µs (a futex
// wake, a context switch, on a VM more). Kernels such as GEMM submit jobs back to back, so a
// worker that has just finished polls for the next job for a short while before it sleeps; the
// caller polls for the workers' completion the same way. The poll is bounded (kSpinTime), so an
// idle pool sleeps and costs nothing: on a 2-core machine shared with other processes, spinning
// for long would steal the very core we wait for.
constexpr auto kSpinTime = std::chrono::microseconds(50);

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls `ready` for at most kSpinTime; returns whether it became true.
template <class Ready>
bool spin_until(Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

// Sets the "inside a job of `pool`" mark for the current thread; restores the previous one.
class JobScope {
 public:
  explicit JobScope(const ThreadPool* pool) : saved_(tls_current_pool) { tls_current_pool = pool; }
  ~JobScope() { tls_current_pool = saved_; }
  JobScope(const JobScope&) = delete;
  JobScope& operator=(const JobScope&) = delete;

 private:
  const ThreadPool* saved_;
};

// Start of chunk `c` of `chunks` near-equal chunks covering n elements, without overflow: the
// first n % chunks chunks get one extra element.
std::int64_t chunk_start(std::int64_t n, std::int64_t chunks, std::int64_t c) {
  return (n / chunks) * c + std::min(c, n % chunks);
}

}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  GNM_CHECK(num_threads >= 1 && num_threads <= kMaxThreads,
            "a thread pool needs between 1 and ThreadPool::kMaxThreads threads", num_threads,
            kMaxThreads);
  workers_.reserve(static_cast<std::size_t>(num_threads - 1));
  try {
    for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
  } catch (...) {
    // std::thread can fail (system limits): join the threads already started, then report.
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    throw;
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

bool ThreadPool::inside_own_job() const noexcept { return tls_current_pool == this; }

void ThreadPool::run_participant(const std::function<void(int)>& fn, int index) {
  JobScope scope(this);
  try {
    fn(index);
  } catch (...) {
    std::lock_guard lock(mutex_);
    if (!first_error_) first_error_ = std::current_exception();
  }
}

void ThreadPool::worker_loop(int index) {
  std::uint64_t seen = 0;
  for (;;) {
    spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
    const std::function<void(int)>* job = nullptr;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_relaxed) != seen; });
      // A job is only submitted after every worker finished the previous one, and the destructor
      // runs when no job is in flight, so stop_ never discards work.
      if (stop_) return;
      seen = generation_.load(std::memory_order_relaxed);
      job = job_;
    }
    run_participant(*job, index);
    std::lock_guard lock(mutex_);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_.notify_one();
  }
}

void ThreadPool::run_on_all(const std::function<void(int)>& fn) {
  if (workers_.empty() || inside_own_job()) {
    // Inline: each index once, in order; the first exception is rethrown after all ran.
    std::exception_ptr first;
    for (int i = 0; i < size(); ++i) {
      try {
        fn(i);
      } catch (...) {
        if (!first) first = std::current_exception();
      }
    }
    if (first) std::rethrow_exception(first);
    return;
  }
  std::lock_guard submit(submit_mutex_);
  {
    std::lock_guard lock(mutex_);
    job_ = &fn;
    first_error_ = nullptr;
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  run_participant(fn, 0);
  std::exception_ptr error;
  if (!spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; })) {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return pending_.load(std::memory_order_relaxed) == 0; });
  }
  {
    std::lock_guard lock(mutex_);
    job_ = nullptr;
    error = std::exchange(first_error_, nullptr);
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain,
                              const std::function<void(std::int64_t, std::int64_t)>& fn) {
  GNM_CHECK(grain >= 1, "parallel_for: the grain must be at least one element", grain);
  if (end <= begin) return;
  std::int64_t n = 0;
  GNM_CHECK(!__builtin_sub_overflow(end, begin, &n),
            "parallel_for: the range is longer than INT64_MAX elements", begin, end);
  // A few chunks per thread balance the load when one core is slowed down by another process;
  // more would only add claiming overhead.
  constexpr std::int64_t kChunksPerThread = 4;
  const std::int64_t chunks = std::min(std::max<std::int64_t>(n / grain, 1),
                                       kChunksPerThread * static_cast<std::int64_t>(size()));
  if (chunks == 1 || workers_.empty() || inside_own_job()) {
    fn(begin, end);
    return;
  }
  std::atomic<std::int64_t> next{0};
  std::atomic<bool> failed{false};
  run_on_all([&](int) {
    for (;;) {
      const std::int64_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks || failed.load(std::memory_order_relaxed)) return;
      try {
        fn(begin + chunk_start(n, chunks, c), begin + chunk_start(n, chunks, c + 1));
      } catch (...) {
        failed.store(true, std::memory_order_relaxed);
        throw;
      }
    }
  });
}

int parse_thread_count(const char* variable, const char* text) {
  const std::string value = text ? text : "";
  int count = 0;
  const char* first = value.data();
  const char* last = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(first, last, count);
  if (value.empty() || ec != std::errc() || ptr != last || count < 1 ||
      count > ThreadPool::kMaxThreads) {
    throw Error(std::string(variable) + " must be an integer between 1 and " +
                    std::to_string(ThreadPool::kMaxThreads) + ", got '" + value + "'",
                __FILE__, __LINE__);
  }
  return count;
}

ThreadPool& default_thread_pool() {
  // A throwing initialiser leaves the static uninitialised: the next call tries again and
  // reports the same error.
  static ThreadPool pool([] {
    const char* env = std::getenv("GNM_NUM_THREADS");
    if (env && *env) return parse_thread_count("GNM_NUM_THREADS", env);
    const unsigned hw = std::thread::hardware_concurrency();
    return static_cast<int>(std::clamp(hw, 1u, static_cast<unsigned>(ThreadPool::kMaxThreads)));
  }());
  return pool;
}

}  // namespace gnm
