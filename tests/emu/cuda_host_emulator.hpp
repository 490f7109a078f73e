// A host emulator for simple CUDA kernels: it compiles the REAL kernel text (a .cuh that includes
// no CUDA header) with g++ and runs it on the CPU, one std::thread per CUDA thread, so CI without
// a GPU checks index math, edge tiles, __syncthreads() placement and warp shuffles on every run.
//
// How it works:
//  - __global__, __device__, __host__, __noinline__ and __launch_bounds__(...) expand to nothing,
//    __forceinline__ to inline, __align__(n) to a GNU aligned attribute; __restrict__ is already a
//    g++ keyword. __constant__ and __shared__ expand to `static` (see below).
//  - threadIdx, blockIdx, blockDim and gridDim are thread_local uint3/dim3 variables that each
//    emulated thread sets before it calls the kernel.
//  - emu_launch(grid, block, kernel, args...) runs the blocks ONE AFTER ANOTHER on
//    blockDim.x·y·z std::threads of a process-wide pool (worker i is thread i of every block); a
//    gate barrier separates consecutive blocks.
//  - __syncthreads() is arrive_and_wait() on a std::barrier shared by the threads of the block.
//    A thread that returns from the kernel calls arrive_and_drop(), so a kernel where some threads
//    leave early (legal when they reach no later barrier) does not deadlock the others.
//  - Warps are the 32 consecutive linear thread indices CUDA uses (x fastest, then y, then z).
//    __syncwarp() is a barrier of the warp's threads; __shfl_sync, __shfl_up_sync,
//    __shfl_down_sync and __shfl_xor_sync write the value to a per-thread slot, meet at the warp
//    barrier, read the source lane's slot, and meet again (so no slot is overwritten early). Width
//    segments follow the CUDA rules (a lane outside its segment gets its own value back). A
//    shuffle that reads a lane which does not exist (the short last warp of a block) or which has
//    already returned is undefined on a GPU; here emu_launch throws std::logic_error naming the
//    lanes (as it does for a width that is not a power of 2 in [1, 32]). Every shuffle must be
//    reached by all live lanes of the warp (the full-mask idiom); masks naming a subset are not
//    emulated.
//  - Dynamic shared memory, __trap() and launch serials: see the section at the end.
//  - atomicAdd/atomicMin/atomicMax are std::atomic_ref operations; floating-point math built-ins
//    (__fmul_rn, __expf, rsqrtf, …) are the host's IEEE operations. __ldg/__ldcg are plain loads.
//    Compile emulated tests with -ffp-contract=off: g++'s default would fuse
//    __fadd_rn(__fmul_rn(a, b), c) into one FMA, which the _rn intrinsics forbid on the GPU.
//  - __shared__ expands to `static`: one array per kernel function (per template instance),
//    shared by every thread that runs it. That is one array per BLOCK only because blocks run
//    sequentially (the gate barrier between blocks orders one block's accesses before the
//    next's); running two blocks at once would make them share it. `thread_local` would be
//    wrong: one array per thread.
//    Like real shared memory it is not cleared between blocks.
//
// What it catches: wrong indices, missed or extra elements at edge tiles, out-of-bounds writes
// (with guard zones, or AddressSanitizer), a missing barrier (the threads really run
// concurrently, so ThreadSanitizer reports the shared-memory race; the emulated tests are in the
// TSan run of scripts/test.sh), and wrong shuffle offsets or widths. What it cannot show:
// coalescing, bank conflicts, timing, the GPU's own rounding of its fast-math intrinsics, and
// implicit warp synchrony (no lockstep: code that relies on it without __syncwarp is racy here,
// as it is on Volta and later GPUs).
#pragma once

#if defined(__CUDACC__)
#error "cuda_host_emulator.hpp is for host compilers; nvcc has the real thing"
#endif

#define GNM_CUDA_HOST_EMULATOR 1

#include <math.h>  // the float overloads of exp, log, … in the global namespace, as CUDA has them

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __noinline__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ static
#define __constant__ static

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

/// The warp size, as in CUDA.
constexpr int warpSize = 32;

namespace gnm::emu {
/// The barrier of the block the calling thread belongs to (set by emu_launch).
inline thread_local std::barrier<>* t_block_barrier = nullptr;

/// What a shuffle needs to know about its warp; one per warp of the running block.
struct WarpState {
  std::barrier<>* barrier = nullptr;  ///< the threads of this warp still running
  int first_thread = 0;               ///< linear index of lane 0 in the block
  int lanes = 32;                     ///< 32, or fewer for the short last warp
};

/// Per-launch state shared by the emulated threads (set up by emu_launch).
struct LaunchState {
  std::vector<std::uint64_t> slots;  ///< one shuffle slot per thread of the block
  std::vector<unsigned char> exited;  ///< thread has returned from the kernel (this block)
  std::mutex error_mutex;
  std::string error;  ///< first misuse seen (shuffle from a missing lane), empty if none
  void fail(const std::string& what) {
    const std::lock_guard<std::mutex> lock(error_mutex);
    if (error.empty()) error = what;
  }
};

inline thread_local WarpState t_warp;
inline thread_local int t_linear = 0;  ///< linear thread index in the block
inline thread_local LaunchState* t_launch = nullptr;

/// Shared body of the four shuffles: `src` is the source lane (already width-adjusted), or −1
/// for "return my own value".
template <typename T>
T shuffle(T v, int src, const char* which) {
  static_assert(sizeof(T) <= sizeof(std::uint64_t), "shuffle of a type wider than 8 bytes");
  static_assert(std::is_trivially_copyable_v<T>, "shuffle of a non-trivially-copyable type");
  LaunchState& L = *t_launch;
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  L.slots[static_cast<std::size_t>(t_linear)] = bits;
  t_warp.barrier->arrive_and_wait();
  T result = v;
  if (src >= 0) {
    const int lane = t_linear - t_warp.first_thread;
    if (src >= t_warp.lanes) {
      L.fail(std::string(which) + ": lane " + std::to_string(lane) + " reads lane " +
             std::to_string(src) + " of a warp that has only " + std::to_string(t_warp.lanes) +
             " threads");
    } else if (L.exited[static_cast<std::size_t>(t_warp.first_thread + src)] != 0) {
      L.fail(std::string(which) + ": lane " + std::to_string(lane) + " reads lane " +
             std::to_string(src) + ", which has already returned");
    } else {
      const std::uint64_t got = L.slots[static_cast<std::size_t>(t_warp.first_thread + src)];
      std::memcpy(&result, &got, sizeof(T));
    }
  }
  t_warp.barrier->arrive_and_wait();  // nobody overwrites a slot before every lane has read it
  return result;
}

inline int lane_id() { return t_linear - t_warp.first_thread; }

/// `width` if it is a power of 2 in [1, 32] (CUDA's rule; anything else is undefined there);
/// otherwise records the misuse and returns 32, so the shuffle still ends.
inline int checked_width(int width, const char* which) {
  if (width >= 1 && width <= warpSize && (width & (width - 1)) == 0) return width;
  t_launch->fail(std::string(which) + ": width " + std::to_string(width) +
                 " is not a power of 2 in [1, 32]");
  return warpSize;
}
}  // namespace gnm::emu

/// Block-wide barrier: returns when every thread of the block still running has arrived.
inline void __syncthreads() { gnm::emu::t_block_barrier->arrive_and_wait(); }

/// Warp barrier: returns when every thread of the warp still running has arrived.
inline void __syncwarp(unsigned /*mask*/ = 0xffffffffu) {
  gnm::emu::t_warp.barrier->arrive_and_wait();
}

/// v of lane (src_lane mod width) of the caller's width-segment.
template <typename T>
T __shfl_sync(unsigned /*mask*/, T v, int src_lane, int width_ = warpSize) {
  const int width = gnm::emu::checked_width(width_, "__shfl_sync");
  const int lane = gnm::emu::lane_id();
  return gnm::emu::shuffle(v, lane / width * width + ((src_lane % width) + width) % width,
                           "__shfl_sync");
}

/// v of lane − delta; lanes whose source lies before their segment keep their own value.
template <typename T>
T __shfl_up_sync(unsigned /*mask*/, T v, unsigned delta, int width_ = warpSize) {
  const int width = gnm::emu::checked_width(width_, "__shfl_up_sync");
  const int lane = gnm::emu::lane_id();
  const int d = static_cast<int>(delta);
  return gnm::emu::shuffle(v, lane % width >= d ? lane - d : -1, "__shfl_up_sync");
}

/// v of lane + delta; lanes whose source lies past their segment keep their own value.
template <typename T>
T __shfl_down_sync(unsigned /*mask*/, T v, unsigned delta, int width_ = warpSize) {
  const int width = gnm::emu::checked_width(width_, "__shfl_down_sync");
  const int lane = gnm::emu::lane_id();
  const int d = static_cast<int>(delta);
  return gnm::emu::shuffle(v, lane % width + d < width ? lane + d : -1, "__shfl_down_sync");
}

/// v of lane ^ lane_mask; a source in a LATER segment gives the caller its own value (CUDA's rule).
template <typename T>
T __shfl_xor_sync(unsigned /*mask*/, T v, int lane_mask, int width_ = warpSize) {
  const int width = gnm::emu::checked_width(width_, "__shfl_xor_sync");
  const int lane = gnm::emu::lane_id();
  const int src = lane ^ lane_mask;
  return gnm::emu::shuffle(v, src / width > lane / width ? -1 : src, "__shfl_xor_sync");
}

// ---- atomics, loads and floating-point built-ins ----

/// atomicAdd: returns the old value, like CUDA.
template <typename T>
T atomicAdd(T* address, T value) {
  return std::atomic_ref<T>(*address).fetch_add(value);
}

/// atomicMin for integers: returns the old value.
template <typename T>
T atomicMin(T* address, T value) {
  std::atomic_ref<T> a(*address);
  T old = a.load();
  while (value < old && !a.compare_exchange_weak(old, value)) {
  }
  return old;
}

/// atomicMax for integers: returns the old value.
template <typename T>
T atomicMax(T* address, T value) {
  std::atomic_ref<T> a(*address);
  T old = a.load();
  while (value > old && !a.compare_exchange_weak(old, value)) {
  }
  return old;
}

/// Read-only-cache and L2-only loads are plain loads on the host.
template <typename T>
T __ldg(const T* p) {
  return *p;
}
/// \copydoc __ldg
template <typename T>
T __ldcg(const T* p) {
  return *p;
}

// IEEE round-to-nearest operations: the host's own arithmetic is exactly that.
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
// The GPU's fast approximations: the host's accurate functions stand in (tests compare with a
// tolerance, so they must allow the GPU's few-ulp error, not rely on this exactness).
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }

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
/// those threads closes each block before the next opens, and each block gets fresh barriers for
/// __syncthreads() and for each warp (fresh, since threads that leave early drop out of them;
/// the gate's completion step makes the next block's). Throws std::logic_error when a shuffle
/// read a lane that does not exist or has returned.
template <typename Kernel, typename... Args>
void emu_launch(dim3 grid, dim3 block, Kernel kernel, Args... args) {
  const std::ptrdiff_t threads = std::ptrdiff_t{block.x} * block.y * block.z;
  const std::int64_t blocks = std::int64_t{grid.x} * grid.y * grid.z;
  if (threads == 0 || blocks == 0) return;
  const std::ptrdiff_t warps = (threads + warpSize - 1) / warpSize;
  std::unique_ptr<std::barrier<>> block_barrier;
  std::vector<std::unique_ptr<std::barrier<>>> warp_barriers(static_cast<std::size_t>(warps));
  auto fresh_barriers = [&]() noexcept {
    block_barrier = std::make_unique<std::barrier<>>(threads);
    for (std::ptrdiff_t w = 0; w < warps; ++w) {
      warp_barriers[static_cast<std::size_t>(w)] =
          std::make_unique<std::barrier<>>(std::min<std::ptrdiff_t>(warpSize, threads - w * warpSize));
    }
  };
  fresh_barriers();
  std::barrier gate(threads, fresh_barriers);  // the last arrival makes the next block's barriers
  LaunchState launch;
  launch.slots.assign(static_cast<std::size_t>(threads), 0);
  launch.exited.assign(static_cast<std::size_t>(threads), 0);
  thread_pool().run(threads, [&](std::ptrdiff_t i) {
    const auto u = static_cast<unsigned>(i);
    threadIdx = uint3{u % block.x, u / block.x % block.y, u / block.x / block.y};
    blockDim = block;
    gridDim = grid;
    t_linear = static_cast<int>(i);
    t_launch = &launch;
    const std::ptrdiff_t warp = i / warpSize;
    for (std::int64_t b = 0; b < blocks; ++b) {
      blockIdx = uint3{static_cast<unsigned>(b % grid.x),
                       static_cast<unsigned>(b / grid.x % grid.y),
                       static_cast<unsigned>(b / grid.x / grid.y)};
      std::barrier<>& barrier = *block_barrier;
      t_block_barrier = &barrier;
      t_warp = WarpState{warp_barriers[static_cast<std::size_t>(warp)].get(),
                         static_cast<int>(warp * warpSize),
                         static_cast<int>(std::min<std::ptrdiff_t>(warpSize, threads - warp * warpSize))};
      launch.exited[static_cast<std::size_t>(i)] = 0;
      kernel(args...);
      launch.exited[static_cast<std::size_t>(i)] = 1;
      t_warp.barrier->arrive_and_drop();  // a finished thread no longer holds its warp back
      barrier.arrive_and_drop();          // … nor its block
      t_block_barrier = nullptr;
      t_warp = WarpState{};
      gate.arrive_and_wait();  // the whole block is done before the next starts
    }
    t_launch = nullptr;
  });
  if (!launch.error.empty()) throw std::logic_error("emulated kernel: " + launch.error);
}

}  // namespace gnm::emu

// ==== Dynamic shared memory, __trap() and launch serials (added for chapter 7.5's wgmma GEMM) ====
//
// `extern __shared__ T buf[]` cannot be emulated by a macro (it is a declaration of an unsized
// array), so a kernel that uses dynamic shared memory takes its pointer through one `#if`:
//     #if defined(GNM_CUDA_HOST_EMULATOR)
//       unsigned char* const buf = gnm::emu::dynamic_shared();
//     #else
//       extern __shared__ unsigned char buf[];
//     #endif
// and is launched with emu_launch_dynamic(grid, block, bytes, kernel, args...), the third launch
// parameter of <<<grid, block, bytes>>>. The buffer is 1024-byte aligned, filled with 0xA5 (real
// shared memory starts with whatever the last block left, never zeros) and, as with static
// __shared__ here, one buffer serves the blocks one after another. One launch at a time.
//
// __trap() records an error (emu_launch then throws std::logic_error) and raises trapped(): on a
// GPU a trap aborts the whole grid, here the other threads must still reach the end of the
// kernel, so models of blocking instructions (an mbarrier wait) check trapped() and give up.
#include <new>

namespace gnm::emu {

/// State of the current emu_launch_dynamic (see above).
struct DynamicLaunchState {
  unsigned char* shared = nullptr;   ///< the dynamic shared memory of the running launch
  std::size_t shared_bytes = 0;      ///< its size
  std::atomic<bool> trapped{false};  ///< a thread executed __trap() in this launch
  std::atomic<std::uint64_t> serial{0};  ///< incremented by every emu_launch_dynamic
};

/// The process-wide state behind dynamic_shared(), trapped() and launch_serial().
inline DynamicLaunchState& dynamic_launch_state() {
  static DynamicLaunchState state;
  return state;
}

/// The dynamic shared memory of the running emu_launch_dynamic (nullptr outside one).
inline unsigned char* dynamic_shared() { return dynamic_launch_state().shared; }

/// Bytes of dynamic_shared().
inline std::size_t dynamic_shared_bytes() { return dynamic_launch_state().shared_bytes; }

/// True once a thread of the running launch executed __trap().
inline bool trapped() { return dynamic_launch_state().trapped.load(std::memory_order_acquire); }

/// Serial number of the running (or last) emu_launch_dynamic: models keeping per-thread state
/// across calls use it to drop what a previous launch left behind.
inline std::uint64_t launch_serial() {
  return dynamic_launch_state().serial.load(std::memory_order_acquire);
}

/// Owns a 1024-aligned, 0xA5-filled buffer that is dynamic_shared() while it lives.
class DynamicSharedScope {
 public:
  explicit DynamicSharedScope(std::size_t bytes)
      : bytes_(bytes), data_(static_cast<unsigned char*>(
                           ::operator new(round_up(bytes), std::align_val_t{1024}))) {
    std::memset(data_, 0xA5, round_up(bytes));
    DynamicLaunchState& s = dynamic_launch_state();
    s.shared = data_;
    s.shared_bytes = bytes_;
    s.trapped.store(false, std::memory_order_release);
    s.serial.fetch_add(1, std::memory_order_acq_rel);
  }
  DynamicSharedScope(const DynamicSharedScope&) = delete;
  DynamicSharedScope& operator=(const DynamicSharedScope&) = delete;
  ~DynamicSharedScope() {
    DynamicLaunchState& s = dynamic_launch_state();
    s.shared = nullptr;
    s.shared_bytes = 0;
    ::operator delete(data_, std::align_val_t{1024});
  }

 private:
  static std::size_t round_up(std::size_t bytes) { return (bytes + 1023) / 1024 * 1024 + 1024; }
  std::size_t bytes_;
  unsigned char* data_;
};

/// kernel<<<grid, block, shared_bytes>>>(args...) on the CPU: emu_launch with a dynamic shared
/// memory buffer of `shared_bytes` (see above).
template <typename Kernel, typename... Args>
void emu_launch_dynamic(dim3 grid, dim3 block, std::size_t shared_bytes, Kernel kernel,
                        Args... args) {
  const DynamicSharedScope scope(shared_bytes);
  emu_launch(grid, block, kernel, args...);
}

}  // namespace gnm::emu

/// Aborts the grid on a GPU; here it records the error and raises gnm::emu::trapped() (see above).
inline void __trap() {
  gnm::emu::dynamic_launch_state().trapped.store(true, std::memory_order_release);
  if (gnm::emu::t_launch != nullptr) {
    gnm::emu::t_launch->fail("__trap() in thread " + std::to_string(gnm::emu::t_linear) +
                             " of block " + std::to_string(blockIdx.x));
  }
}
