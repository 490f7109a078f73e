/// \file
/// A move-only host array aligned for SIMD loads and cache lines.
#pragma once

#include <cstddef>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "gnm/core/check.hpp"

namespace gnm {

/// Alignment used by default: one cache line, which also satisfies AVX2 and AVX-512 loads.
inline constexpr std::size_t kDefaultAlignment = 64;

/// `count` trivially-copyable elements in host memory aligned to `Alignment` bytes.
///
/// Elements are left uninitialised (like cudaMalloc); fill them before reading. Move-only.
template <class T, std::size_t Alignment = kDefaultAlignment>
class AlignedBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "AlignedBuffer holds plain numeric data");
  static_assert(Alignment >= alignof(T) && (Alignment & (Alignment - 1)) == 0,
                "alignment must be a power of two no smaller than alignof(T)");

 public:
  /// An empty buffer.
  AlignedBuffer() = default;

  /// Allocates `count` elements; throws gnm::Error naming the size when the request overflows
  /// and std::bad_alloc when the system has no memory.
  explicit AlignedBuffer(std::size_t count) : size_(count) {
    if (count == 0) return;
    GNM_CHECK(count <= (static_cast<std::size_t>(-1) - Alignment) / sizeof(T),
              "aligned buffer size overflows", count, sizeof(T));
    data_ = static_cast<T*>(::operator new(count * sizeof(T), std::align_val_t{Alignment}));
  }

  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  /// Takes ownership from `other`, which becomes empty.
  AlignedBuffer(AlignedBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

  /// Frees this buffer, then takes ownership from `other`.
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  ~AlignedBuffer() { release(); }

  /// Pointer to the first element (nullptr when empty).
  T* data() noexcept { return data_; }
  /// Pointer to the first element (nullptr when empty).
  const T* data() const noexcept { return data_; }
  /// Number of elements.
  std::size_t size() const noexcept { return size_; }
  /// True when the buffer holds no elements.
  bool empty() const noexcept { return size_ == 0; }
  /// Element `i` (unchecked, like std::vector::operator[]).
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  /// Element `i` (unchecked).
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  /// The elements as a span.
  std::span<T> span() noexcept { return {data_, size_}; }
  /// The elements as a read-only span.
  std::span<const T> span() const noexcept { return {data_, size_}; }
  /// Iterator to the first element.
  T* begin() noexcept { return data_; }
  /// Iterator past the last element.
  T* end() noexcept { return data_ + size_; }

 private:
  void release() noexcept {
    if (data_) ::operator delete(data_, std::align_val_t{Alignment});
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace gnm
