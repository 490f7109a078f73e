/// \file
/// OwnedArray: the one move-only owner of a raw array, parameterised by where the memory lives.
///
/// AlignedBuffer (host), cuda::DeviceBuffer and cuda::PinnedBuffer are thin layers over it, so
/// the ownership rules (move-only, moved-from is empty, 0 elements allocate nothing) are written
/// once. An `Allocator` provides `static void* allocate(std::size_t bytes)` (throwing on failure)
/// and `static void release(void* p) noexcept`.
#pragma once

#include <cstddef>
#include <limits>
#include <utility>

#include "gnm/core/check.hpp"

namespace gnm {

/// A move-only array of `count` elements of `T` obtained from `Allocator`; elements start
/// uninitialised. Derived types add the views and copies that make sense for their memory.
template <class T, class Allocator>
class OwnedArray {
 public:
  /// An empty array (no allocation).
  OwnedArray() = default;

  /// Allocates `count` elements; a request whose byte count overflows throws gnm::Error naming
  /// the count, and the allocator's own error (std::bad_alloc, gnm::CudaError…) propagates.
  explicit OwnedArray(std::size_t count) {
    if (count == 0) return;
    GNM_CHECK(count <= std::numeric_limits<std::size_t>::max() / sizeof(T) / 2,
              "array size overflows the address space", count, sizeof(T));
    data_ = static_cast<T*>(Allocator::allocate(count * sizeof(T)));
    size_ = count;
  }

  OwnedArray(const OwnedArray&) = delete;
  OwnedArray& operator=(const OwnedArray&) = delete;

  /// Takes ownership from `other`, which becomes empty.
  OwnedArray(OwnedArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

  /// Frees this array's memory, then takes ownership from `other`.
  OwnedArray& operator=(OwnedArray&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  ~OwnedArray() { reset(); }

  /// Pointer to the first element (nullptr when empty).
  T* data() noexcept { return data_; }
  /// Pointer to the first element (nullptr when empty).
  const T* data() const noexcept { return data_; }
  /// Number of elements.
  std::size_t size() const noexcept { return size_; }
  /// Number of bytes.
  std::size_t bytes() const noexcept { return size_ * sizeof(T); }
  /// True when the array holds no elements.
  bool empty() const noexcept { return size_ == 0; }

  /// Frees the memory now; the array becomes empty.
  void reset() noexcept {
    if (data_) Allocator::release(data_);
    data_ = nullptr;
    size_ = 0;
  }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace gnm
