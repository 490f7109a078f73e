/// \file
/// Storage: the reference-counted block of memory behind one or more tensors (chapter 9.1). Views
/// share a Storage; it is freed when the last tensor using it goes away.
#pragma once

#include <cstddef>
#include <memory>

#include "gnm/tensor/device.hpp"

namespace gnm {

/// A block of bytes on one device. CPU blocks are 64-byte aligned host memory; CUDA blocks come
/// from the engine's caching allocator (gnm::cuda::CachingAllocator, chapter 8.6), so freeing and
/// reallocating a tensor of the same size in a training loop costs no cudaMalloc. CPU blocks of
/// kHostCacheMinBytes or more come from the same allocator over host memory, so they cost no
/// page faults either; see host_allocator_stats().
class Storage {
 public:
  /// Allocates `nbytes` (0 is allowed: data() is then null) on `device`. CUDA storage in a build
  /// without CUDA, or with no such device, throws gnm::Error / CudaError.
  Storage(std::size_t nbytes, Device device);
  /// Frees the block (CUDA blocks go back to the caching allocator).
  ~Storage();
  Storage(const Storage&) = delete;             ///< Owns memory.
  Storage& operator=(const Storage&) = delete;  ///< Owns memory.

  /// The first byte (a device pointer for CUDA storage).
  void* data() noexcept { return data_; }
  /// The first byte (a device pointer for CUDA storage).
  const void* data() const noexcept { return data_; }
  /// Size in bytes.
  std::size_t nbytes() const noexcept { return nbytes_; }
  /// The device the bytes live on.
  Device device() const noexcept { return device_; }

 private:
  void* data_ = nullptr;
  std::size_t nbytes_ = 0;
  Device device_;
  bool host_cached_ = false;  // a CPU block from the host caching allocator (else aligned_alloc)
};

/// Live and peak bytes of tensor storage on the host (chapter 10.5 measures activation memory with
/// it). CUDA storage is counted by the caching allocator's own statistics.
struct StorageStats {
  std::size_t live_bytes = 0;   ///< Bytes of CPU Storage alive now.
  std::size_t peak_bytes = 0;   ///< Highest live_bytes since the last reset_storage_peak().
  std::size_t allocations = 0;  ///< CPU Storage objects created with a non-zero size.
};
/// The host storage counters (thread-safe).
StorageStats storage_stats();
/// Sets the peak to the current live bytes.
void reset_storage_peak();

/// CPU requests of at least this many bytes (one page) go through the host caching allocator;
/// smaller ones go to std::aligned_alloc: they cannot cost a page fault each, and glibc packs
/// them tighter than the cache's smallest class (512 B).
inline constexpr std::size_t kHostCacheMinBytes = 4096;

/// Statistics of the host caching allocator: the caching allocator of chapter 8.6
/// (gnm::cuda::CachingAllocator, Note [Host memory]) serving CPU Storage. Byte counts are in size
/// classes (a request rounded up, ≤ 25 % more), so in_use_bytes ≥ storage_stats().live_bytes
/// for the cached part; storage_stats() stays the measure of tensor bytes.
struct HostAllocatorStats {
  std::size_t in_use_bytes = 0;          ///< Bytes in live blocks from the cache.
  std::size_t cached_bytes = 0;          ///< Bytes held for reuse (mapped, in no live block).
  std::size_t reserved_bytes = 0;        ///< in_use_bytes + cached_bytes: mapped from the OS.
  std::size_t peak_in_use_bytes = 0;     ///< Largest in_use_bytes seen.
  std::size_t peak_reserved_bytes = 0;   ///< Largest reserved_bytes seen.
  std::size_t allocations = 0;           ///< Allocations served by the cache.
  std::size_t cache_hits = 0;            ///< Of those, served without asking the OS.
  std::size_t backend_allocations = 0;   ///< Mappings made (a 2 MiB slab or one large block).
  std::size_t backend_frees = 0;         ///< Mappings returned (empty_host_cache(), the bound).
  std::size_t uncached_allocations = 0;  ///< CPU allocations that bypassed the cache (small, or
                                         ///< the cache is off).
  std::size_t max_cached_bytes = 0;      ///< The bound on cached_bytes (host_cache_max_bytes()).
};
/// The host allocator's counters (thread-safe). All zero under AddressSanitizer, where the cache
/// is off so that ASan still sees every allocation and free.
HostAllocatorStats host_allocator_stats();
/// Returns every cached host mapping that holds no live block to the operating system.
void empty_host_cache();
/// The bound on cached host bytes: when a free leaves more cached, whole free mappings go back
/// to the OS, least recently freed first (free blocks inside a 2 MiB slab that still holds a live
/// block cannot be returned). Default min(1 GiB, physical memory / 8), or the environment
/// variable GNM_HOST_CACHE_MAX_BYTES read at the first CPU allocation ("0" turns the cache off;
/// bytes, or a number with K, M or G for KiB, MiB, GiB; anything else makes that allocation
/// throw gnm::Error naming the value). Always 0 under AddressSanitizer.
std::size_t host_cache_max_bytes();
/// Changes the bound and trims the cache to it at once; 0 turns the cache off for later
/// allocations (blocks already handed out still return to it, and are then released). Ignored
/// under AddressSanitizer.
void set_host_cache_max_bytes(std::size_t bytes);

/// A new Storage of `nbytes` on `device`, shared.
std::shared_ptr<Storage> make_storage(std::size_t nbytes, Device device);

}  // namespace gnm
