/// \file
/// A fixed pool of worker threads for data-parallel loops on the CPU.
///
/// The engine's CPU kernels (GEMM first) split their loops over a ThreadPool. The pool starts its
/// threads once and keeps them: starting a thread costs tens of microseconds, which a 256×256
/// GEMM (about 0.3 ms) cannot afford on every call.
///
/// \code
/// gnm::ThreadPool pool(2);
/// pool.parallel_for(0, n, /*grain=*/1024, [&](std::int64_t lo, std::int64_t hi) {
///   for (std::int64_t i = lo; i < hi; ++i) y[i] += a * x[i];
/// });
/// \endcode
///
/// The calling thread takes part in the work (it is thread index 0), so `ThreadPool(1)` starts
/// no thread at all and runs everything inline. A call made from inside a job of the same pool
/// runs inline on that thread instead of waiting for workers that are all busy (no deadlock).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gnm {

/// A fixed set of worker threads; see the file comment for the execution model.
///
/// Jobs from different calling threads are serialised (one job runs at a time). The destructor
/// wakes and joins every worker; destroying a pool from inside one of its own jobs is an error.
class ThreadPool {
 public:
  /// Starts `num_threads - 1` workers (the caller is the last participant). Throws gnm::Error
  /// naming the value unless 1 <= num_threads <= kMaxThreads.
  explicit ThreadPool(int num_threads);
  /// Wakes and joins every worker.
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;             ///< Not copyable: it owns threads.
  ThreadPool& operator=(const ThreadPool&) = delete;  ///< Not copyable: it owns threads.

  /// Upper bound accepted by the constructor (and by GNM_NUM_THREADS).
  static constexpr int kMaxThreads = 1024;

  /// Number of participants in a job: the workers plus the calling thread.
  int size() const noexcept { return static_cast<int>(workers_.size()) + 1; }

  /// Calls `fn(lo, hi)` on contiguous chunks that exactly cover [begin, end), in parallel, and
  /// returns when every chunk is done.
  ///
  /// Each chunk holds at least `grain` elements (unless the whole range is shorter, which makes
  /// one chunk); an empty range makes no call. Chunks are claimed dynamically, a few per thread,
  /// so a thread slowed down by another process does not hold the others back. Once a chunk has
  /// thrown, chunks not yet started are skipped; the first exception is rethrown here after every
  /// participant has stopped. Throws gnm::Error when grain < 1. Called from inside a job of this
  /// pool, it runs `fn(begin, end)` inline.
  void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain,
                    const std::function<void(std::int64_t, std::int64_t)>& fn);

  /// Runs `fn(thread_index)` once on each of the size() participants (the caller is index 0) and
  /// returns when all are done; rethrows the first exception after all are done. Called from
  /// inside a job of this pool, it runs fn(0), fn(1), … one after the other on the calling thread,
  /// so `fn` must not wait for its siblings (no barriers).
  void run_on_all(const std::function<void(int thread_index)>& fn);

 private:
  void worker_loop(int index);
  // Runs fn(index) with the "inside this pool" mark set; records the first exception.
  void run_participant(const std::function<void(int)>& fn, int index);
  bool inside_own_job() const noexcept;

  std::vector<std::thread> workers_;
  std::mutex submit_mutex_;  // one job at a time across calling threads
  std::mutex mutex_;         // guards job_, stop_, first_error_ and every change of the atomics
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int)>* job_ = nullptr;
  // Read without the lock by the short spin before sleeping (see Note [Spin then sleep]).
  std::atomic<std::uint64_t> generation_{0};  // incremented for every job
  std::atomic<int> pending_{0};               // workers that have not finished the current job
  bool stop_ = false;
  std::exception_ptr first_error_;
};

/// The process-wide pool used when a kernel is given no pool. Sized by the environment variable
/// `GNM_NUM_THREADS` (an integer in [1, ThreadPool::kMaxThreads]; anything else throws gnm::Error
/// naming the text) or, when it is unset or empty, by std::thread::hardware_concurrency(). Created
/// on first use; thread-safe.
ThreadPool& default_thread_pool();

/// Parses a thread count as GNM_NUM_THREADS does: a decimal integer in [1, ThreadPool::kMaxThreads]
/// with no other characters. Throws gnm::Error naming `variable` and `text` otherwise.
int parse_thread_count(const char* variable, const char* text);

}  // namespace gnm
