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
/// reallocating a tensor of the same size in a training loop costs no cudaMalloc.
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

/// A new Storage of `nbytes` on `device`, shared.
std::shared_ptr<Storage> make_storage(std::size_t nbytes, Device device);

}  // namespace gnm
