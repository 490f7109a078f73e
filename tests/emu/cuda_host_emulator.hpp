// A host emulator for simple CUDA kernels: it compiles the REAL kernel text (a .cuh that includes
// no CUDA header) with g++ and runs it on the CPU, one std::thread per CUDA thread, so CI without
// a GPU checks index math, edge tiles and __syncthreads() placement on every run.
//
// How it works:
//  - __global__, __device__ and __host__ expand to nothing, __forceinline__ to inline;
//    __restrict__ is already a g++ keyword.
//  - threadIdx, blockIdx, blockDim and gridDim are thread_local uint3/dim3 variables that each
//    emulated thread sets before it calls the kernel.
//  - emu_launch(grid, block, kernel, args...) runs the blocks ONE AFTER ANOTHER on
//    blockDim.x·y·z std::threads of a process-wide pool (worker i is thread i of every block); a
//    gate barrier separates consecutive blocks.
//  - __syncthreads() is arrive_and_wait() on a std::barrier shared by the threads of the block.
//    A thread that returns from the kernel calls arrive_and_drop(), so a kernel where some threads
//    leave early (legal when they reach no later barrier) does not deadlock the others.
//  - __shared__ expands to `static`: one array per kernel function (per template instance),
//    shared by every thread that runs it. That is one array per BLOCK only because blocks run
//    sequentially (the gate barrier between blocks orders one block's accesses before the
//    next's); running two blocks at once would make them share it. `thread_local` would be
//    wrong: one array per thread.
//    Like real shared memory it is not cleared between blocks.
//
// What it catches: wrong indices, missed or extra elements at edge tiles, out-of-bounds writes
// (with guard zones, or AddressSanitizer), and a missing barrier — the threads really run
// concurrently, so ThreadSanitizer reports the shared-memory race (the emulated tests are in the
// TSan run of scripts/test.sh). What it cannot show: coalescing, bank conflicts, timing, and
// warp-synchronous behaviour (no warps, no shuffles, no lockstep: code that relies on implicit
// warp synchrony is simply racy here). Only what the transpose and copy kernels use is provided.
#pragma once

#if defined(__CUDACC__)
#error "cuda_host_emulator.hpp is for host compilers; nvcc has the real thing"
#endif

#define GNM_CUDA_HOST_EMULATOR 1

#include <barrier>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

/// Host stand-in for CUDA's uint3 (a thread or block index).
struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};

/// Host stand-in for CUDA's dim3 (grid and block sizes; unset sizes are 1).
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

/// Host stand-in for CUDA's float4 (16-byte aligned, like the device type).
struct alignas(16) float4 {
  float x, y, z, w;
};

inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;

namespace gnm::emu {
/// The barrier of the block the calling thread belongs to (set by emu_launch).
inline thread_local std::barrier<>* t_block_barrier = nullptr;
}  // namespace gnm::emu

/// Block-wide barrier: returns when every thread of the block still running has arrived.
inline void __syncthreads() { gnm::emu::t_block_barrier->arrive_and_wait(); }

namespace gnm::emu {

/// The emulated CUDA threads: worker i plays thread i of every block of every launch. Starting
/// std::threads is the expensive part (about a millisecond each under ThreadSanitizer), so they are
/// started once, as launches need them, and live until the program ends.
class ThreadPool {
 public:
  ThreadPool() = default;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  /// Runs job(i) on workers 0 … threads − 1 concurrently and returns when all have finished.
  void run(std::ptrdiff_t threads, const std::function<void(std::ptrdiff_t)>& job) {
    const std::lock_guard<std::mutex> one_launch_at_a_time(launch_);
    std::unique_lock<std::mutex> lock(mutex_);
    while (static_cast<std::ptrdiff_t>(workers_.size()) < threads) {
      const auto index = static_cast<std::ptrdiff_t>(workers_.size());
      workers_.emplace_back([this, index] { work(index); });
    }
    job_ = &job;
    active_ = threads;
    running_ = threads;
    ++generation_;
    wake_.notify_all();
    done_.wait(lock, [this] { return running_ == 0; });
    job_ = nullptr;
  }

 private:
  void work(std::ptrdiff_t index) {
    std::uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (index >= active_) continue;  // this launch has fewer threads a block
      const std::function<void(std::ptrdiff_t)>* job = job_;
      lock.unlock();
      (*job)(index);
      lock.lock();
      if (--running_ == 0) done_.notify_one();
    }
  }

  std::mutex launch_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  const std::function<void(std::ptrdiff_t)>* job_ = nullptr;
  std::ptrdiff_t active_ = 0;
  std::ptrdiff_t running_ = 0;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
};

/// The process-wide pool of emulated threads.
inline ThreadPool& thread_pool() {
  static ThreadPool pool;
  return pool;
}

/// Runs kernel<<<grid, block>>>(args...) on the CPU and returns when every block is done. The
/// blockDim.x·y·z pool threads run the blocks strictly one after another: a `gate` barrier of
/// those threads closes each block before the next opens, and each block has its own
/// std::barrier for __syncthreads() (a fresh one, since threads that leave early drop out of it).
template <typename Kernel, typename... Args>
void emu_launch(dim3 grid, dim3 block, Kernel kernel, Args... args) {
  const std::ptrdiff_t threads = std::ptrdiff_t{block.x} * block.y * block.z;
  const std::int64_t blocks = std::int64_t{grid.x} * grid.y * grid.z;
  if (threads == 0 || blocks == 0) return;
  std::barrier<> gate(threads);
  std::vector<std::unique_ptr<std::barrier<>>> block_barriers;
  block_barriers.reserve(static_cast<std::size_t>(blocks));
  for (std::int64_t b = 0; b < blocks; ++b) {
    block_barriers.push_back(std::make_unique<std::barrier<>>(threads));
  }
  thread_pool().run(threads, [&](std::ptrdiff_t i) {
    const auto u = static_cast<unsigned>(i);
    threadIdx = uint3{u % block.x, u / block.x % block.y, u / block.x / block.y};
    blockDim = block;
    gridDim = grid;
    for (std::int64_t b = 0; b < blocks; ++b) {
      blockIdx = uint3{static_cast<unsigned>(b % grid.x),
                       static_cast<unsigned>(b / grid.x % grid.y),
                       static_cast<unsigned>(b / grid.x / grid.y)};
      std::barrier<>& barrier = *block_barriers[static_cast<std::size_t>(b)];
      t_block_barrier = &barrier;
      kernel(args...);
      barrier.arrive_and_drop();  // a finished thread no longer holds the others back
      t_block_barrier = nullptr;
      gate.arrive_and_wait();  // the whole block is done before the next starts
    }
  });
}

}  // namespace gnm::emu
