/// \file
/// The engine's caching device allocator (chapter 8.6): size-class bins, stream-ordered reuse,
/// statistics and a memory cap that fails with an error naming the sizes.
///
/// `cudaMalloc` and `cudaFree` cost tens to hundreds of microseconds and `cudaFree` synchronizes
/// the device, so a training step that creates and frees hundreds of tensors must not call them.
/// CachingAllocator keeps freed blocks in bins by size class and hands them out again.
///
/// The bookkeeping is host code that talks to the device only through DeviceMemoryBackend, so the
/// CPU tests drive it with a fake backend (whose events complete when the test says so) and the
/// GPU tests with CudaMemoryBackend. This header includes no CUDA header.
///
/// \code
/// gnm::cuda::CachingAllocator alloc(std::make_unique<gnm::cuda::CudaMemoryBackend>());
/// void* d_x = alloc.allocate(n * sizeof(float), stream.get());
/// kernel<<<grid, block, 0, stream.get()>>>(static_cast<float*>(d_x), n);
/// alloc.deallocate(d_x);  // reusable at once by the next allocate(..., stream.get())
/// \endcode
///
/// Note [Size classes]: a request of n bytes is rounded up to a class with four classes per power
/// of two (n ≤ 2^k·{1, 1.25, 1.5, 1.75, 2}), so the rounding wastes at most 25% and on average
/// about 12% of a request, while a loop whose sizes vary a little (variable sequence lengths)
/// still hits the same class: there are only 4 classes per doubling, 40 between 1 MiB and 1 GiB.
/// Then:
/// - small requests (≤ kSmallMaxBytes = 1 MiB) are rounded up to a multiple of 512 B (every block
///   stays 512-B aligned, and the rounding costs < 512 B, ≤ 12.5% of a 4 KiB tensor) and carved
///   out of 2 MiB segments, one class per segment (a slab): one cudaMalloc serves 4096 blocks of
///   512 B. The unused tail of a slab is < one block: 0 for powers of two, worst 25% for the
///   768 KiB class (2 blocks in 2 MiB).
/// - large requests are rounded up to a multiple of 2 MiB and get a backend allocation each. The
///   driver maps device memory in 2 MiB pages anyway, so a 1.1 MiB cudaMalloc already occupies
///   2 MiB: the rounding costs nothing that cudaMalloc did not already cost.
///
/// Note [Stream-ordered reuse]: a block is used on the stream it was allocated on. When it is
/// freed, an event is recorded on that stream. A later allocation on the same stream may reuse it
/// at once: its kernels run after everything already queued on that stream, including the last
/// use of the block. Another stream may reuse it only after the event has completed.
///
/// Note [Cache limit]: set_cache_limit() bounds the bytes kept cached. Unlike the cap (a hard
/// limit on reserved bytes that makes allocate() fail), the limit never fails an allocation: when
/// a free or a new slab leaves more than the limit cached, wholly free segments go back to the
/// backend, least recently freed first, until the cache fits. Free blocks inside a slab that
/// still holds a live block cannot be returned, so the guarantee after every call is: cached ≤
/// limit, or no wholly free segment is left. The device allocators keep no limit (kNoCap).
///
/// Note [Host memory]: the same allocator serves host tensors (gnm::Storage on Device::cpu(),
/// see gnm/tensor/storage.hpp) through HostMemoryBackend. The host has no streams: every host
/// block is allocated with stream nullptr, so pass 1 of the reuse search always matches and a
/// freed block is reusable at once — which is right, because host code that freed a block has
/// finished with it (the free happens-after every use, through the allocator's mutex). The host
/// backend's events are therefore always complete, and recording one costs a virtual call. The
/// class keeps its gnm::cuda name: it was written for the device first (chapter 8.6).
///
/// Thread safety: one mutex guards all state, backend calls included (so two threads never call
/// cudaMalloc at once through one allocator). A cache hit holds it for well under a microsecond;
/// per-thread caches are not worth their complexity at the few thousand allocations per second
/// a training step makes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "gnm/core/error.hpp"

namespace gnm::cuda {

/// An opaque stream handle (a cudaStream_t converts to it; nullptr is the default stream).
using StreamHandle = void*;
/// An opaque event handle created by a DeviceMemoryBackend.
using EventHandle = void*;

/// Allocation failed: the memory cap or the device's memory is exhausted even after the cache
/// was emptied. The message names the request, the cap, the bytes in use and the bytes cached.
class OutOfMemoryError : public Error {
 public:
  /// Creates the error; the sizes are in bytes (`cap_bytes` = SIZE_MAX when there is no cap).
  OutOfMemoryError(const std::string& message, std::size_t requested_bytes, std::size_t cap_bytes,
                   std::size_t in_use_bytes, std::size_t cached_bytes);
  /// The size passed to allocate().
  std::size_t requested_bytes() const noexcept { return requested_; }
  /// The memory cap at the time of the failure.
  std::size_t cap_bytes() const noexcept { return cap_; }
  /// Bytes in live blocks (class sizes) at the time of the failure.
  std::size_t in_use_bytes() const noexcept { return in_use_; }
  /// Bytes reserved from the device but not in live blocks, after emptying the cache.
  std::size_t cached_bytes() const noexcept { return cached_; }

 private:
  std::size_t requested_, cap_, in_use_, cached_;
};

/// What CachingAllocator needs from a device: memory and events. Calls come under the
/// allocator's mutex, so an implementation need not be thread-safe itself.
class DeviceMemoryBackend {
 public:
  virtual ~DeviceMemoryBackend() = default;
  /// What the memory is called in error messages ("device" unless overridden, "host" for
  /// HostMemoryBackend).
  virtual const char* memory_kind() const noexcept { return "device"; }
  /// `bytes` (> 0) of device memory, or nullptr when the device is out of memory; any other
  /// failure throws.
  virtual void* malloc(std::size_t bytes) = 0;
  /// Returns memory from malloc(). Must be safe while work may still use it on some stream
  /// (cudaFree synchronizes the device); the allocator waits for a block's event first anyway.
  virtual void free(void* ptr) = 0;
  /// A new event, not yet recorded.
  virtual EventHandle create_event() = 0;
  /// Destroys an event from create_event().
  virtual void destroy_event(EventHandle event) = 0;
  /// Records `event` on `stream`: it completes when the work queued there so far has finished.
  virtual void record_event(EventHandle event, StreamHandle stream) = 0;
  /// True when the work captured by the last record_event(event, ...) has completed.
  virtual bool query_event(EventHandle event) = 0;
  /// Blocks until `event` has completed.
  virtual void synchronize_event(EventHandle event) = 0;
};

/// The real backend: cudaMalloc/cudaFree and CUDA events, errors through GNM_CUDA_CHECK. Defined
/// only in builds with CUDA (GNM_HAVE_CUDA = 1).
class CudaMemoryBackend final : public DeviceMemoryBackend {
 public:
  /// cudaMalloc; nullptr on cudaErrorMemoryAllocation (the error is cleared), CudaError otherwise.
  void* malloc(std::size_t bytes) override;
  /// cudaFree.
  void free(void* ptr) override;
  /// cudaEventCreateWithFlags(cudaEventDisableTiming): a light event for ordering only.
  EventHandle create_event() override;
  /// cudaEventDestroy.
  void destroy_event(EventHandle event) override;
  /// cudaEventRecord.
  void record_event(EventHandle event, StreamHandle stream) override;
  /// cudaEventQuery: true on cudaSuccess, false on cudaErrorNotReady, CudaError otherwise.
  bool query_event(EventHandle event) override;
  /// cudaEventSynchronize.
  void synchronize_event(EventHandle event) override;
};

/// Host memory for CachingAllocator (Note [Host memory]): page-aligned anonymous mappings (mmap),
/// so that empty_cache() really gives pages back to the operating system and glibc's own
/// thresholds are not involved; events are always complete (the host has no streams). Defined in
/// every build.
class HostMemoryBackend final : public DeviceMemoryBackend {
 public:
  /// Unmaps whatever is still mapped.
  ~HostMemoryBackend() override;
  /// "host".
  const char* memory_kind() const noexcept override { return "host"; }
  /// `bytes` of zeroed, 4096-B aligned memory; nullptr when the system has none (ENOMEM),
  /// gnm::Error naming the size and errno otherwise.
  void* malloc(std::size_t bytes) override;
  /// Unmaps memory from malloc(); gnm::Error for a pointer it did not map.
  void free(void* ptr) override;
  /// A handle to a static tag: host events need no state.
  EventHandle create_event() override;
  /// Nothing to destroy.
  void destroy_event(EventHandle event) override;
  /// Nothing to record: the host has finished with a block when it frees it.
  void record_event(EventHandle event, StreamHandle stream) override;
  /// Always true.
  bool query_event(EventHandle event) override;
  /// Returns at once.
  void synchronize_event(EventHandle event) override;

 private:
  std::unordered_map<void*, std::size_t> mapped_;  // address → length, for munmap
};

/// A caching, stream-ordered device allocator; see the file description and the Notes there.
class CachingAllocator {
 public:
  /// Counters since construction (or reset_peaks() for the peaks).
  struct Stats {
    std::size_t requested_bytes = 0;       ///< Bytes asked for by live allocations.
    std::size_t allocated_bytes = 0;       ///< Class bytes of live blocks (≥ requested_bytes).
    std::size_t reserved_bytes = 0;        ///< Bytes held from the backend (live + cached).
    std::size_t cached_bytes = 0;          ///< reserved_bytes − allocated_bytes.
    std::size_t peak_allocated_bytes = 0;  ///< Largest allocated_bytes seen.
    std::size_t peak_reserved_bytes = 0;   ///< Largest reserved_bytes seen.
    std::size_t allocations = 0;           ///< Non-zero-size allocate() calls that succeeded.
    std::size_t cache_hits = 0;            ///< Of those, served by a cached block.
    std::size_t cache_misses = 0;          ///< Of those, that needed a new segment.
    std::size_t cross_stream_reuses = 0;   ///< Cache hits on a block last used on another stream.
    std::size_t backend_mallocs = 0;       ///< Successful backend malloc() calls.
    std::size_t backend_frees = 0;         ///< Backend free() calls.
    std::size_t cache_flushes = 0;         ///< empty_cache() runs forced by the cap or an OOM.
    std::size_t limit_frees = 0;           ///< Backend free() calls made by the cache limit.
    /// Fraction of reserved memory that holds no requested byte: 1 − requested/reserved (0 when
    /// nothing is reserved). Counts rounding, slab tails and cached blocks.
    double fragmentation() const noexcept;
  };

  /// Largest request served from a 2 MiB slab segment.
  static constexpr std::size_t kSmallMaxBytes = std::size_t{1} << 20;
  /// Size of a slab segment.
  static constexpr std::size_t kSegmentBytes = std::size_t{2} << 20;
  /// Granularity of small classes (and the alignment of every block).
  static constexpr std::size_t kSmallRoundBytes = 512;
  /// Granularity of large classes.
  static constexpr std::size_t kLargeRoundBytes = std::size_t{2} << 20;
  /// Largest request accepted (1 PiB; far above any device, and no rounding can overflow).
  static constexpr std::size_t kMaxBytes = std::size_t{1} << 50;
  /// "No cap".
  static constexpr std::size_t kNoCap = static_cast<std::size_t>(-1);

  /// An allocator over `backend` (not null) that keeps reserved bytes ≤ `cap_bytes`.
  explicit CachingAllocator(std::unique_ptr<DeviceMemoryBackend> backend,
                            std::size_t cap_bytes = kNoCap);
  /// Returns every segment to the backend, cached or not: pointers still held become invalid.
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;             ///< Owns device memory.
  CachingAllocator& operator=(const CachingAllocator&) = delete;  ///< Owns device memory.

  /// At least `bytes` of device memory, 512-B aligned, for use on `stream`; nullptr for 0 bytes.
  /// OutOfMemoryError when neither the cache, the cap nor the device can provide it.
  void* allocate(std::size_t bytes, StreamHandle stream = nullptr);
  /// Returns a block from allocate() to the cache (records its stream's event); nullptr is
  /// ignored. gnm::Error naming the pointer for a double free or a pointer it did not allocate.
  void deallocate(void* ptr);
  /// Returns every cached segment that holds no live block to the backend (waiting for pending
  /// events first).
  void empty_cache();

  /// The counters.
  Stats stats() const;
  /// Sets the peaks to the current values.
  void reset_peaks();
  /// The memory cap in bytes (kNoCap for none).
  std::size_t memory_cap() const;
  /// Changes the cap; it applies to later allocations only.
  void set_memory_cap(std::size_t cap_bytes);
  /// The cache limit in bytes (kNoCap, the default, for none); Note [Cache limit].
  std::size_t cache_limit() const;
  /// Changes the cache limit and returns wholly free segments at once until the cache fits.
  void set_cache_limit(std::size_t limit_bytes);
  /// The backend, e.g. for a test to complete its fake events.
  DeviceMemoryBackend& backend() noexcept { return *backend_; }

  /// The class size for a request of `bytes` (0 → 0); gnm::Error above kMaxBytes.
  static std::size_t round_size(std::size_t bytes);
  /// Bytes the backend is asked for when a class has no cached block: kSegmentBytes for small
  /// classes, the class itself for large ones.
  static std::size_t segment_bytes_for(std::size_t class_bytes);

 private:
  struct Segment;
  struct Block {
    std::byte* ptr = nullptr;
    std::size_t class_bytes = 0;
    std::size_t requested_bytes = 0;
    StreamHandle stream = nullptr;  // the stream of its last allocation
    EventHandle event = nullptr;    // recorded at free; null = never used or known complete
    bool live = false;
    Segment* segment = nullptr;
  };
  struct Segment {
    void* base = nullptr;
    std::size_t bytes = 0;
    std::size_t live_blocks = 0;
    std::uint64_t freed_at = 0;  // tick at which live_blocks last became 0 (for the limit's LRU)
    bool doomed = false;         // being returned to the backend
    std::vector<Block> blocks;   // sized once: Block pointers stay valid
  };

  Block* take_cached(std::size_t class_bytes, StreamHandle stream);
  Block* new_segment(std::size_t class_bytes, std::size_t requested);
  void* backend_malloc_or_throw(std::size_t bytes, std::size_t class_bytes, std::size_t requested);
  void empty_cache_locked();
  void enforce_cache_limit_locked();
  void free_doomed_segments_locked();
  void release_event(Block& block);
  [[noreturn]] void throw_oom(const char* why, std::size_t requested, std::size_t class_bytes,
                              std::size_t segment_bytes) const;

  mutable std::mutex mutex_;
  std::unique_ptr<DeviceMemoryBackend> backend_;
  std::size_t cap_;
  std::size_t cache_limit_ = kNoCap;
  std::size_t free_segment_bytes_ = 0;  // bytes of segments with no live block
  std::uint64_t tick_ = 0;              // counts deallocations: the clock of Segment::freed_at
  Stats stats_;
  std::vector<std::unique_ptr<Segment>> segments_;
  std::unordered_map<std::size_t, std::vector<Block*>> bins_;  // class → free blocks, LIFO
  std::unordered_map<const void*, Block*> blocks_;             // every block, by address
  std::vector<EventHandle> spare_events_;                      // recycled: no create per free
};

}  // namespace gnm::cuda
